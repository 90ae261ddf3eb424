"""TargetConnection: the data lake target, bound to one dataset and its schema.

As with source connections, a definition change (dataset, schema, format, spec) replaces
the connection and therefore its flow; name and description are patched in place.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .base import AEPProvider, Managed, member_ops, output_slots, resource_props
from .client import AEPClient
from .models import TargetConnectionArgs


class TargetConnection(Resource, module="aep", name="TargetConnection"):
    """A data lake target connection writing into `dataset_id` with schema `schema_id`."""

    name: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(self, resource_name: str, *, dataset_id: Any, schema_id: Any, name: Any = None,
                 description: Any = None, data_format: Any = None, schema_version: Any = None,
                 connection_spec_id: Any = None, connection_spec_version: Any = None, sandbox: Any = None,
                 adopt_id: Any = None, opts: pulumi.ResourceOptions | None = None):
        """`dataset_id`: the Dataset's id; `schema_id`: the XdmSchema's schema_id."""
        props = resource_props(sandbox, name=name, description=description, connection_spec_id=connection_spec_id,
                               connection_spec_version=connection_spec_version, data_format=data_format,
                               dataset_id=dataset_id, schema_id=schema_id, schema_version=schema_version,
                               adopt_id=adopt_id)
        super().__init__(TargetConnectionProvider(), resource_name, {**props, **output_slots("etag")}, opts)


class TargetConnectionProvider(AEPProvider):
    kind = "TargetConnection"
    name_prefix = "target"
    args_model = TargetConnectionArgs
    fields = (
        Managed("sandbox", replaces=True),
        Managed("name"),
        Managed("description", default=""),
        Managed("connection_spec_id", replaces=True),
        Managed("connection_spec_version", replaces=True),
        Managed("data_format", replaces=True),
        Managed("dataset_id", replaces=True),
        Managed("schema_id", replaces=True),
        Managed("schema_version", replaces=True, normalize=lambda v: v.replace(" ", "") if isinstance(v, str) else v),
    )
    computed = ("etag",)

    # -- create ---------------------------------------------------------------------------------

    def create_object(self, api: AEPClient, args: TargetConnectionArgs) -> tuple[str, dict]:
        """POST /targetConnections -> {id, etag}."""
        created = api.create_target_connection(args.sandbox, {
            "name": args.name, "description": args.description,
            "connectionSpec": {"id": args.connection_spec_id, "version": args.connection_spec_version},
            "data": {"format": args.data_format, "schema": {"id": args.schema_id, "version": args.schema_version}},
            "params": {"dataSetId": args.dataset_id}})
        return created.id, {"etag": created.body.get("etag")}

    # -- read -----------------------------------------------------------------------------------

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /targetConnections/{id}, mapped back onto the inputs."""
        item = api.get_target_connection(props["sandbox"], id_)
        spec = item.get("connectionSpec") or {}
        data = item.get("data") or {}
        schema = data.get("schema") or {}
        return {"name": item.get("name"), "description": item.get("description"),
                "connection_spec_id": spec.get("id"), "connection_spec_version": spec.get("version"),
                "data_format": data.get("format"), "dataset_id": (item.get("params") or {}).get("dataSetId"),
                "schema_id": schema.get("id"), "schema_version": schema.get("version"), "etag": item.get("etag")}

    # -- update ---------------------------------------------------------------------------------

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: TargetConnectionArgs,
                      changed: set[str]) -> dict:
        """PATCH name/description with the stored etag."""
        ops = member_ops(args, changed, "name", "description")
        if not ops:
            return {}
        out = api.patch_target_connection(args.sandbox, id_, ops, olds["etag"])
        return {"etag": out.get("etag")}

    # -- delete ---------------------------------------------------------------------------------

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /targetConnections/{id}."""
        api.delete_target_connection(props["sandbox"], id_)

    # -- adopt ----------------------------------------------------------------------------------

    def adopt_object(self, api: AEPClient, adopt_id: str, args: TargetConnectionArgs) -> tuple[str, dict]:
        """Adopt a target connection by id; dataset and schema must match the declared ones."""
        return self.adopt_by_read(api, adopt_id, args)
