"""Dataflow: a streaming flow from a source connection, through a mapping, to a target connection.

Outputs `inlet_url` (where the webhook posts) and `state`. `enabled` drives
`/action?op=enable|disable`. A new mapping version is rolled out by patching the flow's
Mapping transformation in place; new connections or another flow spec replace the flow.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .base import AEPProvider, Managed, member_ops, output_slots, resource_props
from .client import AEPClient
from .models import DataflowArgs


class Dataflow(Resource, module="aep", name="Dataflow"):
    """A streaming dataflow; `inlet_url` is the endpoint to give the webhook sender."""

    name: pulumi.Output[str]
    inlet_url: pulumi.Output[str]
    state: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(self, resource_name: str, *, source_connection_id: Any, target_connection_id: Any,
                 mapping_id: Any = None, mapping_version: Any = None, name: Any = None, description: Any = None,
                 enabled: Any = None, flow_spec_id: Any = None, flow_spec_version: Any = None, sandbox: Any = None,
                 adopt_id: Any = None, allow_replace: Any = None, opts: pulumi.ResourceOptions | None = None):
        """`mapping_id`/`mapping_version`: the MappingSet's id and version outputs."""
        props = resource_props(sandbox, name=name, description=description, flow_spec_id=flow_spec_id,
                               flow_spec_version=flow_spec_version, source_connection_id=source_connection_id,
                               target_connection_id=target_connection_id, mapping_id=mapping_id,
                               mapping_version=mapping_version, enabled=enabled, adopt_id=adopt_id,
                               allow_replace=allow_replace)
        super().__init__(DataflowProvider(), resource_name,
                         {**props, **output_slots("inlet_url", "state", "etag", "mapping_index")}, opts)


class DataflowProvider(AEPProvider):
    kind = "Dataflow"
    name_prefix = "dataflow"
    args_model = DataflowArgs
    fields = (
        Managed("sandbox", replaces=True),
        Managed("name"),
        Managed("description", default=""),
        Managed("flow_spec_id", replaces=True),
        Managed("flow_spec_version", replaces=True),
        Managed("source_connection_id", replaces=True),
        Managed("target_connection_id", replaces=True),
        Managed("mapping_id"),
        Managed("mapping_version"),
        Managed("enabled", default=True),
    )
    # mapping_index: where the Mapping transformation sits in the flow's list (for its PATCH path).
    computed = ("inlet_url", "state", "etag", "mapping_index")
    # Webhook senders post to the flow's inlet with its id: a new flow breaks every one of them.
    allow_kinds = "flow"
    replacement_loses = ("the new dataflow has another id, so the webhook URL changes from "
                         "{inlet_url}?x-adobe-flow-id={id} (update the webhook in the source, e.g. Pendo, "
                         "afterwards), and its run history is lost")

    # -- create ---------------------------------------------------------------------------------

    def create_object(self, api: AEPClient, args: DataflowArgs) -> tuple[str, dict]:
        """POST /flows, disable if asked, then one GET for what the server computes (inletUrl, state)."""
        body: dict[str, Any] = {
            "name": args.name, "description": args.description,
            "flowSpec": {"id": args.flow_spec_id, "version": args.flow_spec_version},
            "sourceConnectionIds": [args.source_connection_id],
            "targetConnectionIds": [args.target_connection_id]}
        if args.mapping_id:
            body["transformations"] = [_mapping(args)]
        created = api.create_flow(args.sandbox, body)
        if not args.enabled:
            api.flow_action(args.sandbox, created.id, "disable", created.body.get("etag"))
        flow = api.get_flow(args.sandbox, created.id)
        return created.id, _computed(flow)

    # -- read -----------------------------------------------------------------------------------

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /flows/{id}, mapped back onto the inputs."""
        flow = api.get_flow(props["sandbox"], id_)
        spec = flow.get("flowSpec") or {}
        computed = _computed(flow)
        idx = computed["mapping_index"]
        params = ((flow.get("transformations") or [])[idx].get("params") or {}) if idx is not None else {}
        version = params.get("mappingVersion")
        return {"name": flow.get("name"), "description": flow.get("description"),
                "flow_spec_id": spec.get("id"), "flow_spec_version": spec.get("version"),
                "source_connection_id": _first(flow.get("sourceConnectionIds")),
                "target_connection_id": _first(flow.get("targetConnectionIds")),
                "mapping_id": params.get("mappingId"),
                "mapping_version": int(version) if version is not None else None,
                "enabled": flow.get("state") not in ("disabled", "disabling"), **computed}

    # -- update ---------------------------------------------------------------------------------

    def update_object(self, api: AEPClient, id_: str, olds: dict, args: DataflowArgs, changed: set[str]) -> dict:
        """One PATCH (If-Match: stored etag) for name/description/mapping, then enable/disable if asked."""
        etag = olds.get("etag")
        out: dict[str, Any] = {}
        ops = member_ops(args, changed, "name", "description")
        idx = olds.get("mapping_index")
        if {"mapping_id", "mapping_version"} & changed:
            if not args.mapping_id:
                if idx is not None:
                    ops.append({"op": "remove", "path": f"/transformations/{int(idx)}"})
                out["mapping_index"] = None
            elif idx is None:
                ops.append({"op": "add", "path": "/transformations", "value": [_mapping(args)]})
                out["mapping_index"] = 0
            else:
                ops.append({"op": "replace", "path": f"/transformations/{int(idx)}", "value": _mapping(args)})
        if ops:
            etag = api.patch_flow(args.sandbox, id_, ops, etag)["etag"]
        if "enabled" in changed:
            etag = api.flow_action(args.sandbox, id_, "enable" if args.enabled else "disable", etag)["etag"]
            out["state"] = "enabled" if args.enabled else "disabled"
        out["etag"] = etag
        return out

    # -- delete ---------------------------------------------------------------------------------

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /flows/{id}."""
        api.delete_flow(props["sandbox"], id_)

    # -- adopt ----------------------------------------------------------------------------------

    def adopt_object(self, api: AEPClient, adopt_id: str, args: DataflowArgs) -> tuple[str, dict]:
        """Adopt a flow by id; its connections and flow spec must be the declared ones."""
        return self.adopt_by_read(api, adopt_id, args)


def _mapping(args: DataflowArgs) -> dict:
    return {"name": "Mapping", "params": {"mappingId": args.mapping_id, "mappingVersion": args.mapping_version}}


def _first(ids: Any) -> Any:
    return ids[0] if isinstance(ids, list) and ids else None


def _computed(flow: dict) -> dict:
    idx = next((i for i, t in enumerate(flow.get("transformations") or [])
                if str((t or {}).get("name", "")).lower() == "mapping"), None)
    return {"inlet_url": (flow.get("options") or {}).get("inletUrl"), "state": flow.get("state"),
            "etag": flow.get("etag"), "mapping_index": idx}
