"""SourceConnection: a Flow Service source connection, Pendo or generic HTTP streaming.

Adobe says source and target connections are not to be updated apart from their dataflow
(changes do not reach the flow), so every definition field forces a replacement, which
rebuilds the flow too. Only the name and description are patched in place.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Mapping

import pulumi
from pulumi.dynamic import Resource
from pydantic import Field, model_validator

from .base import resource_args
from .connection import ConnectionArgs, ConnectionProvider
from .models import (
    HTTP_STREAMING_SPEC,
    PENDO_SPEC,
    SOURCE_SPECS,
    STREAMING_PROVIDER_ID,
    STREAMING_SOURCE_SPECS,
    InputError,
    Managed,
    Name,
    spec_error,
)


class SourceConnectionArgs(ConnectionArgs):
    _required: ClassVar[dict[str, str]] = {
        "connection_spec_id": f"use {PENDO_SPEC} (Pendo) or {HTTP_STREAMING_SPEC} (HTTP API streaming)"}

    # Not part of the Flow Service DTO: AEP accepts it on create and does not echo it.
    provider_id: Annotated[str | None, Managed(replaces=True, observable=False)] = None
    data_format: Annotated[Name, Managed(replaces=True)] = "json"
    params: Annotated[dict[str, Any], Managed(replaces=True, default={})] = Field(default_factory=dict)
    base_connection_id: Annotated[str | None, Managed(replaces=True)] = None

    @model_validator(mode="after")
    def _defaults(self) -> "SourceConnectionArgs":
        # Every streaming tutorial sends the streaming provider id; fill it in the same way.
        if self.provider_id is None and self.connection_spec_id in STREAMING_SOURCE_SPECS:
            self.provider_id = STREAMING_PROVIDER_ID
        return self

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs = []
        spec = self.connection_spec_id
        if "connection_spec_id" in unknown or not spec:
            return errs
        if spec not in SOURCE_SPECS:
            return [spec_error("connection_spec_id", spec, SOURCE_SPECS)]
        if spec == PENDO_SPEC and "data_format" not in unknown and self.data_format != "json":
            errs.append(InputError("data_format", f"Pendo sends JSON only; {self.data_format!r} is not "
                                   "supported: set data_format to json (or leave it out)"))
        if spec == PENDO_SPEC and "base_connection_id" not in unknown and self.base_connection_id:
            errs.append(InputError("base_connection_id", "Pendo sources take no base connection (AEP "
                                   "answers FLOW-1332-400): remove base_connection_id"))
        return errs


class SourceConnectionProvider(ConnectionProvider):
    kind = "SourceConnection"
    name_prefix = "source"
    args_model = SourceConnectionArgs
    api = "source_connection"

    def definition(self, args: SourceConnectionArgs) -> dict:
        """The data format, and the provider id, params and base connection when there are any."""
        body: dict[str, Any] = {"data": {"format": args.data_format}}
        if args.provider_id:
            body["providerId"] = args.provider_id
        if args.params:
            body["params"] = args.params
        if args.base_connection_id:
            body["baseConnectionId"] = args.base_connection_id
        return body

    def from_item(self, item: dict) -> dict:
        return {"data_format": (item.get("data") or {}).get("format"), "params": item.get("params") or {},
                "base_connection_id": item.get("baseConnectionId")}


class SourceConnection(Resource, module="aep", name="SourceConnection"):
    """A streaming source connection, selected by `connection_spec_id` (Pendo or HTTP API)."""

    name: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(self, resource_name: str, *, connection_spec_id: pulumi.Input[str],
                 name: pulumi.Input[str] | None = None, description: pulumi.Input[str] | None = None,
                 connection_spec_version: pulumi.Input[str] | None = None,
                 provider_id: pulumi.Input[str] | None = None, data_format: pulumi.Input[str] | None = None,
                 params: pulumi.Input[Mapping[str, Any]] | None = None,
                 base_connection_id: pulumi.Input[str] | None = None, sandbox: pulumi.Input[str] | None = None,
                 adopt_id: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None):
        """A source connection; a change to its definition replaces it, and its flow with it.

        Args:
            resource_name: the Pulumi resource name.
            connection_spec_id: the source's connection spec, providers.models.PENDO_SPEC or HTTP_STREAMING_SPEC.
            name: its name in AEP (default `source-<7 random characters>`, kept across updates).
            description: its description (default "Managed by Pulumi (aep-pipelines)").
            connection_spec_version: the connection spec's version (default "1.0").
            provider_id: the provider id sent on create (default the streaming provider, for streaming specs).
            data_format: the format of the incoming data (default "json", the only one Pendo sends).
            params: the source's parameters, as its connection spec defines them.
            base_connection_id: the BaseConnection (account) of a source that needs one; never for Pendo.
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the id of an existing source connection to manage instead of creating one.
            opts: Pulumi resource options.
        """
        super().__init__(SourceConnectionProvider(), resource_name,
                         *resource_args(SourceConnectionProvider, locals()))
