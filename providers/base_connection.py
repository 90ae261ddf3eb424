"""BaseConnection: the "account" some sources need, holding their credentials (`auth_params`).

`auth_params` are secrets: the Resource marks them as additional secret outputs, they are
never logged, and AEP masks them on read, so drift in them cannot be seen; the stored
value is kept. New credentials are PATCHed to `/auth/params` with If-Match. AEP refuses to
delete a connection a flow still uses (FLOW-1418-400); the error says which flows.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .base import AEPProvider, Managed, ProviderError, member_ops, output_slots, resource_props
from .client import AEPClient, AEPError, BadRequest
from .models import BaseConnectionArgs


class BaseConnection(Resource, module="aep", name="BaseConnection"):
    """A Flow Service base connection; `auth_params` is stored and shown only as a secret."""

    name: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(self, resource_name: str, *, connection_spec_id: Any, auth_spec_name: Any, auth_params: Any = None,
                 name: Any = None, description: Any = None, connection_spec_version: Any = None, sandbox: Any = None,
                 adopt_id: Any = None, opts: pulumi.ResourceOptions | None = None):
        """Pass `auth_params` as a secret (e.g. `config.require_secret(...)` values)."""
        props = resource_props(sandbox, name=name, description=description, connection_spec_id=connection_spec_id,
                               connection_spec_version=connection_spec_version, auth_spec_name=auth_spec_name,
                               auth_params=pulumi.Output.secret(auth_params) if auth_params is not None else None,
                               adopt_id=adopt_id)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["auth_params"]))
        super().__init__(BaseConnectionProvider(), resource_name, {**props, **output_slots("etag")}, opts)


class BaseConnectionProvider(AEPProvider):
    kind = "BaseConnection"
    name_prefix = "account"
    args_model = BaseConnectionArgs
    secret_inputs = ("auth_params",)
    fields = (
        Managed("sandbox", replaces=True),
        Managed("name"),
        Managed("description", default=""),
        Managed("connection_spec_id", replaces=True),
        Managed("connection_spec_version", replaces=True),
        Managed("auth_spec_name", replaces=True),
        # Masked by AEP on read: compared against the stored value only.
        Managed("auth_params", observable=False, default={}),
    )
    computed = ("etag",)

    # -- create ---------------------------------------------------------------------------------

    def create_object(self, api: AEPClient, args: BaseConnectionArgs) -> tuple[str, dict]:
        """POST /connections -> {id, etag}."""
        created = api.create_base_connection(args.sandbox, {
            "name": args.name, "description": args.description,
            "auth": {"specName": args.auth_spec_name, "params": args.auth_params},
            "connectionSpec": {"id": args.connection_spec_id, "version": args.connection_spec_version}})
        return created.id, {"etag": created.body.get("etag")}

    # -- read -----------------------------------------------------------------------------------

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /connections/{id}; auth params come back masked and are not mapped."""
        item = api.get_base_connection(props["sandbox"], id_)
        spec = item.get("connectionSpec") or {}
        return {"name": item.get("name"), "description": item.get("description"),
                "connection_spec_id": spec.get("id"), "connection_spec_version": spec.get("version"),
                "auth_spec_name": (item.get("auth") or {}).get("specName"), "etag": item.get("etag")}

    # -- update ---------------------------------------------------------------------------------

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: BaseConnectionArgs,
                      changed: set[str]) -> dict:
        """One PATCH with If-Match (stored etag): name, description and/or /auth/params."""
        ops = member_ops(args, changed, "name", "description")
        if "auth_params" in changed:
            ops.append({"op": "replace", "path": "/auth/params", "value": args.auth_params})
        if not ops:
            return {}
        out = api.patch_base_connection(args.sandbox, id_, ops, olds["etag"])
        return {"etag": out.get("etag")}

    # -- delete ---------------------------------------------------------------------------------

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /connections/{id}; a connection still used by flows gets a message naming them."""
        sandbox = props["sandbox"]
        try:
            api.delete_base_connection(sandbox, id_)
        except BadRequest as e:
            if not (e.code or "").startswith("FLOW-1418"):
                raise
            flows = _flows_using(api, sandbox, id_)
            names = ", ".join(f"{f.get('name')!r} ({f.get('id')})" for f in flows) or "one or more dataflows"
            raise ProviderError(
                f"{self.label(props, id_)} cannot be deleted: it is still used by {names} (HTTP 400 {e.code}). "
                "Next: delete those dataflows first (remove them from the program, or from AEP), then run "
                "`pulumi up`/`pulumi destroy` again") from None

    # -- adopt ----------------------------------------------------------------------------------

    def adopt_object(self, api: AEPClient, adopt_id: str, args: BaseConnectionArgs) -> tuple[str, dict]:
        """Adopt an account by id; the declared auth params are always patched onto it."""
        return self.adopt_by_read(api, adopt_id, args)


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
