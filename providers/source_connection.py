"""SourceConnection: a Flow Service source connection, Pendo or generic HTTP streaming.

Adobe says source and target connections are not to be updated apart from their dataflow
(changes do not reach the flow), so every definition field forces a replacement, which
rebuilds the flow too. Only the name and description are patched in place.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .base import AEPProvider, Managed, member_ops, output_slots, resource_props
from .client import AEPClient
from .models import SourceConnectionArgs


class SourceConnection(Resource, module="aep", name="SourceConnection"):
    """A streaming source connection, selected by `connection_spec_id` (Pendo or HTTP API)."""

    name: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(self, resource_name: str, *, connection_spec_id: Any, name: Any = None, description: Any = None,
                 connection_spec_version: Any = None, provider_id: Any = None, data_format: Any = None,
                 params: Any = None, base_connection_id: Any = None, sandbox: Any = None, adopt_id: Any = None,
                 opts: pulumi.ResourceOptions | None = None):
        """`connection_spec_id`: providers.models.PENDO_SPEC or HTTP_STREAMING_SPEC."""
        props = resource_props(sandbox, name=name, description=description, connection_spec_id=connection_spec_id,
                               connection_spec_version=connection_spec_version, provider_id=provider_id,
                               data_format=data_format, params=params, base_connection_id=base_connection_id,
                               adopt_id=adopt_id)
        super().__init__(SourceConnectionProvider(), resource_name, {**props, **output_slots("etag")}, opts)


class SourceConnectionProvider(AEPProvider):
    kind = "SourceConnection"
    name_prefix = "source"
    args_model = SourceConnectionArgs
    fields = (
        Managed("sandbox", replaces=True),
        Managed("name"),
        Managed("description", default=""),
        Managed("connection_spec_id", replaces=True),
        Managed("connection_spec_version", replaces=True),
        # Not part of the Flow Service DTO: AEP accepts it on create and does not echo it.
        Managed("provider_id", replaces=True, observable=False),
        Managed("data_format", replaces=True),
        Managed("params", replaces=True, default={}),
        Managed("base_connection_id", replaces=True),
    )
    computed = ("etag",)

    # -- create ---------------------------------------------------------------------------------

    def create_object(self, api: AEPClient, args: SourceConnectionArgs) -> tuple[str, dict]:
        """POST /sourceConnections -> {id, etag}; nothing else needs reading back."""
        body: dict[str, Any] = {
            "name": args.name, "description": args.description,
            "connectionSpec": {"id": args.connection_spec_id, "version": args.connection_spec_version},
            "data": {"format": args.data_format}}
        if args.provider_id:
            body["providerId"] = args.provider_id
        if args.params:
            body["params"] = args.params
        if args.base_connection_id:
            body["baseConnectionId"] = args.base_connection_id
        created = api.create_source_connection(args.sandbox, body)
        return created.id, {"etag": created.body.get("etag")}

    # -- read -----------------------------------------------------------------------------------

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /sourceConnections/{id}, mapped back onto the inputs."""
        item = api.get_source_connection(props["sandbox"], id_)
        spec = item.get("connectionSpec") or {}
        return {"name": item.get("name"), "description": item.get("description"),
                "connection_spec_id": spec.get("id"), "connection_spec_version": spec.get("version"),
                "data_format": (item.get("data") or {}).get("format"),
                "params": item.get("params") or {}, "base_connection_id": item.get("baseConnectionId"),
                "etag": item.get("etag")}

    # -- update ---------------------------------------------------------------------------------

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: SourceConnectionArgs,
                      changed: set[str]) -> dict:
        """PATCH name/description with the stored etag; the answer carries the new etag."""
        ops = member_ops(args, changed, "name", "description")
        if not ops:
            return {}
        out = api.patch_source_connection(args.sandbox, id_, ops, olds["etag"])
        return {"etag": out.get("etag")}

    # -- delete ---------------------------------------------------------------------------------

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /sourceConnections/{id}."""
        api.delete_source_connection(props["sandbox"], id_)

    # -- adopt ----------------------------------------------------------------------------------

    def adopt_object(self, api: AEPClient, adopt_id: str, args: SourceConnectionArgs) -> tuple[str, dict]:
        """Adopt a source connection by id; its definition must match the declared one."""
        return self.adopt_by_read(api, adopt_id, args)
