"""BaseConnection: the "account" some sources need, holding their credentials (`auth_params`).

`auth_params` are secrets: the Resource marks them as additional secret outputs, they are
never logged, and AEP masks them on read, so drift in them cannot be seen; the stored
value is kept. New credentials are PATCHed to `/auth/params` with If-Match. AEP refuses to
delete a connection a flow still uses (FLOW-1418-400); the error says which flows.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Mapping

import pulumi
from pydantic import Field, model_validator

from . import sources
from .base import ProviderError, resource_args
from .client import AEPClient, AEPError, BadRequest
from .connection import ConnectionArgs, ConnectionProvider
from .models import (
    HTTP_STREAMING_SPEC,
    SOURCE_SPECS,
    InputError,
    Managed,
    Passive,
    spec_error,
)
from .resource import Resource


class BaseConnectionArgs(ConnectionArgs):
    _required: ClassVar[dict[str, str]] = {
        "connection_spec_id": f"use {HTTP_STREAMING_SPEC} (HTTP API streaming), or set source_kind",
    }

    auth_spec_name: Annotated[str | None, Managed(replaces=True)] = None
    # Masked by AEP on read: compared against the stored value only.
    auth_params: Annotated[dict[str, Any], Managed(observable=False, default={}, secret=True)] = Field(
        default_factory=dict)
    # The catalog kind (providers/sources.py): fills in the connection spec and a sole auth spec name.
    source_kind: Annotated[str | None, Passive()] = None

    @model_validator(mode="before")
    @classmethod
    def _spec_of_kind(cls, data: Any) -> Any:
        return sources.fill_spec(data, auth=True)

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        if self.source_kind is not None and "source_kind" not in unknown and self.source_kind not in sources.KINDS:
            return [InputError("source_kind", f"{self.source_kind!r} is not a source kind"
                               f"{sources.suggest(self.source_kind, sources.KINDS)}; use one of "
                               f"{', '.join(sources.KINDS)}")]
        if "connection_spec_id" in unknown or not self.connection_spec_id:
            return []
        if self.connection_spec_id not in SOURCE_SPECS:
            return [spec_error("connection_spec_id", self.connection_spec_id, SOURCE_SPECS)]
        kinds = (sources.KINDS[self.source_kind],) if self.source_kind else sources.by_spec(self.connection_spec_id)
        if "auth_spec_name" in unknown:
            return []
        name = self.auth_spec_name
        # Secret inputs are often unknown at preview; their params are checked once they are known.
        params = None if "auth_params" in unknown else self.auth_params
        return [InputError(p.field, p.reason) for p in sources.auth_problems(kinds, name, params)]


class BaseConnectionProvider(ConnectionProvider):
    kind = "BaseConnection"
    name_prefix = "account"
    args_model = BaseConnectionArgs

    def definition(self, args: BaseConnectionArgs) -> dict:
        """The credentials, under the connection spec's auth spec."""
        return {"auth": {"specName": args.auth_spec_name, "params": args.auth_params}}

    def from_item(self, item: dict) -> dict:
        # Auth params come back masked, so they are not mapped.
        return {"auth_spec_name": (item.get("auth") or {}).get("specName")}

    def patch_ops(self, args: BaseConnectionArgs, changed: set[str]) -> list[dict]:
        """Name, description and/or /auth/params, in one PATCH."""
        ops = super().patch_ops(args, changed)
        if "auth_params" in changed:
            ops.append({"op": "replace", "path": "/auth/params", "value": args.auth_params})
        return ops

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /connections/{id}; a connection still used by flows gets a message naming them."""
        sandbox = props["sandbox"]
        try:
            super().delete_object(api, id_, props)
        except BadRequest as e:
            if not (e.code or "").startswith("FLOW-1418"):
                raise
            flows = _flows_using(api, sandbox, id_)
            names = ", ".join(f"{f.get('name')!r} ({f.get('id')})" for f in flows) or "one or more dataflows"
            raise ProviderError(
                f"{self.label(props, id_)} cannot be deleted: it is still used by {names} (HTTP 400 {e.code}). "
                "Next: delete those dataflows first (remove them from the program, or from AEP), then run "
                "`pulumi up`/`pulumi destroy` again") from None


def _flows_using(api: AEPClient, sandbox: str, connection_id: str) -> list[dict]:
    """The flows whose source connections sit on this base connection (best effort)."""
    try:
        flows = api.list_flows(sandbox)
    except AEPError:
        return []
    out = []
    for f in flows:
        inherited = f.get("inheritedAttributes") or {}
        bases = [((s or {}).get("baseConnection") or {}).get("id") for s in inherited.get("sourceConnections") or []]
        if connection_id in bases or ((inherited.get("baseConnection") or {}).get("id") == connection_id):
            out.append(f)
    return out


class BaseConnection(Resource, module="aep", name="BaseConnection"):
    """A Flow Service base connection; `auth_params` is stored and shown only as a secret."""

    name: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(self, resource_name: str, *, connection_spec_id: pulumi.Input[str] | None = None,
                 auth_spec_name: pulumi.Input[str] | None = None, source_kind: pulumi.Input[str] | None = None,
                 auth_params: pulumi.Input[Mapping[str, Any]] | None = None,
                 name: pulumi.Input[str] | None = None, description: pulumi.Input[str] | None = None,
                 connection_spec_version: pulumi.Input[str] | None = None, sandbox: pulumi.Input[str] | None = None,
                 adopt_id: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None):
        """An account for a source that authenticates.

        Args:
            resource_name: the Pulumi resource name.
            connection_spec_id: the source's connection spec (e.g. HTTP_STREAMING_SPEC; webhooks take no account).
            auth_spec_name: the name of one of the connection spec's auth specs, e.g. "Streaming Connection"
                (default: the kind's only auth spec, when source_kind is given and it has one).
            source_kind: its kind in the source catalog (providers/sources.py), e.g. "kinesis": fills in
                connection_spec_id and checks the auth spec name and its required params.
            auth_params: the credentials that auth spec asks for; stored and shown only as a secret
                (pass secrets, e.g. `config.require_secret(...)` values).
            name: its name in AEP (default `account-<7 random characters>`, kept across updates).
            description: its description (default "Managed by Pulumi (aep-pipelines)").
            connection_spec_version: the connection spec's version (default "1.0").
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the id of an existing base connection to manage instead of creating one.
            opts: Pulumi resource options.
        """
        super().__init__(BaseConnectionProvider(), resource_name, *resource_args(BaseConnectionProvider, locals()))
