"""SourceConnection: a Flow Service source connection of one of the catalog's kinds (providers/sources.py).

Adobe says source and target connections are not to be updated apart from their dataflow
(changes do not reach the flow), so every definition field forces a replacement, which
rebuilds the flow too. Only the name and description are patched in place.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Mapping

import pulumi
from pydantic import Field, model_validator

from . import sources
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
    Passive,
    spec_error,
)
from .resource import Resource


class SourceConnectionArgs(ConnectionArgs):
    _required: ClassVar[dict[str, str]] = {
        "connection_spec_id": f"use {PENDO_SPEC} (Pendo), {HTTP_STREAMING_SPEC} (HTTP API streaming), or "
                              "set source_kind (providers/sources.py lists the kinds)"}

    # Not part of the Flow Service DTO: AEP accepts it on create and does not echo it.
    provider_id: Annotated[str | None, Managed(replaces=True, observable=False)] = None
    data_format: Annotated[Name, Managed(replaces=True)] = "json"
    params: Annotated[dict[str, Any], Managed(replaces=True, default={})] = Field(default_factory=dict)
    base_connection_id: Annotated[str | None, Managed(replaces=True)] = None
    # The catalog kind (providers/sources.py), when the caller knows it: it picks the connection
    # spec and, for the HTTP API's two kinds, whether an account is needed.
    source_kind: Annotated[str | None, Passive()] = None

    @model_validator(mode="before")
    @classmethod
    def _spec_of_kind(cls, data: Any) -> Any:
        # Before the required-field check runs: a known kind stands for its connection spec.
        return sources.fill_spec(data)

    @model_validator(mode="after")
    def _defaults(self) -> "SourceConnectionArgs":
        kind = sources.KINDS.get(self.source_kind or "")
        # Every streaming tutorial sends the streaming provider id; fill it in the same way.
        if self.provider_id is None and self.connection_spec_id in STREAMING_SOURCE_SPECS:
            self.provider_id = kind.provider_id if kind else STREAMING_PROVIDER_ID
        return self

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs = []
        if self.source_kind is not None and "source_kind" not in unknown and self.source_kind not in sources.KINDS:
            return [InputError("source_kind", f"{self.source_kind!r} is not a source kind"
                               f"{sources.suggest(self.source_kind, sources.KINDS)}; use one of "
                               f"{', '.join(sources.KINDS)}")]
        spec = self.connection_spec_id
        if "connection_spec_id" in unknown or not spec:
            return errs
        if spec not in SOURCE_SPECS:
            return [spec_error("connection_spec_id", spec, SOURCE_SPECS)]
        kind = sources.KINDS.get(self.source_kind or "") or sources.by_spec(spec)[0]
        if kind.connection_spec_id != spec:
            return [InputError("connection_spec_id", f"{kind.label} sources use connection spec "
                               f"{kind.connection_spec_id}, not {spec}: drop connection_spec_id or source_kind")]
        if "params" not in unknown:
            fmt = None if "data_format" in unknown else self.data_format
            errs.extend(InputError(p.field, p.reason) for p in sources.param_problems(kind, self.params, fmt))
        if "base_connection_id" not in unknown:
            rules = (kind,) if self.source_kind else sources.by_spec(spec)
            errs.extend(InputError(p.field, p.reason)
                        for p in sources.account_problems(bool(self.base_connection_id), rules))
        return errs


class SourceConnectionProvider(ConnectionProvider):
    kind = "SourceConnection"
    name_prefix = "source"
    args_model = SourceConnectionArgs

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
    """A streaming source connection, selected by `connection_spec_id` or `source_kind` (the catalog's kinds)."""

    name: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(self, resource_name: str, *, connection_spec_id: pulumi.Input[str] | None = None,
                 source_kind: pulumi.Input[str] | None = None, name: pulumi.Input[str] | None = None,
                 description: pulumi.Input[str] | None = None,
                 connection_spec_version: pulumi.Input[str] | None = None,
                 provider_id: pulumi.Input[str] | None = None, data_format: pulumi.Input[str] | None = None,
                 params: pulumi.Input[Mapping[str, Any]] | None = None,
                 base_connection_id: pulumi.Input[str] | None = None, sandbox: pulumi.Input[str] | None = None,
                 adopt_id: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None):
        """A source connection; a change to its definition replaces it, and its flow with it.

        Args:
            resource_name: the Pulumi resource name.
            connection_spec_id: the source's connection spec, e.g. providers.models.PENDO_SPEC (or give source_kind).
            source_kind: its kind in the source catalog (providers/sources.py: "pendo", "kinesis", ...), which
                fills in connection_spec_id and checks params, data format and account against the catalog.
            name: its name in AEP (default `source-<7 random characters>`, kept across updates).
            description: its description (default "Managed by Pulumi (aep-pipelines)").
            connection_spec_version: the connection spec's version (default "1.0").
            provider_id: the provider id sent on create (default the streaming provider, for streaming specs).
            data_format: the format of the incoming data (default "json", the only one Pendo sends).
            params: the source's parameters, as its connection spec defines them (Kinesis `stream`, ...).
            base_connection_id: the BaseConnection (account) of a source that needs one; never for a webhook.
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the id of an existing source connection to manage instead of creating one.
            opts: Pulumi resource options.
        """
        super().__init__(SourceConnectionProvider(), resource_name,
                         *resource_args(SourceConnectionProvider, locals()))
