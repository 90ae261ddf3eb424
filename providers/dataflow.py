"""Dataflow: a streaming flow from a source connection, through a mapping, to a target connection.

Outputs `inlet_url` (where the webhook posts) and `state`. `enabled` drives
`/action?op=enable|disable`. A new mapping version is rolled out by patching the flow's
Mapping transformation in place; new connections or another flow spec replace the flow.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

import pulumi
from pydantic import model_validator

from . import sources
from .base import AEPProvider, member_ops, resource_args
from .client import AEPClient
from .models import (
    DEFAULT_DESCRIPTION,
    FLOW_SPECS,
    STREAMING_FLOW_SPEC,
    AEPArgs,
    InputError,
    Managed,
    Name,
    Passive,
    Percent,
    Version,
)
from .resource import Resource
from .transport import plain

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class DataflowArgs(AEPArgs):
    _required: ClassVar[dict[str, str]] = {
        "source_connection_id": "pass the SourceConnection's id",
        "target_connection_id": "pass the TargetConnection's id",
    }

    name: Annotated[Name | None, Managed()] = None
    description: Annotated[str, Managed(default="")] = DEFAULT_DESCRIPTION
    # Default: the flow spec the source kind's catalog entry names, else GenericStreamingAEP.
    flow_spec_id: Annotated[str, Managed(replaces=True)] = STREAMING_FLOW_SPEC
    flow_spec_version: Annotated[str, Managed(replaces=True)] = "1.0"
    source_connection_id: Annotated[str | None, Managed(replaces=True)] = None
    target_connection_id: Annotated[str | None, Managed(replaces=True)] = None
    mapping_id: Annotated[str | None, Managed()] = None
    mapping_version: Annotated[Version | None, Managed()] = None
    enabled: Annotated[bool, Managed(default=True)] = True
    # Options of the GenericStreamingAEP flow spec (its optionSpec), sent as the flow's `options`.
    # Flow Service documents no update of them, so a change replaces the flow; absent is false.
    error_diagnostics_enabled: Annotated[bool | None, Managed(replaces=True, normalize=bool)] = None
    partial_ingestion_percent: Annotated[Percent | None, Managed(replaces=True)] = None
    # The catalog kind of the flow's source (providers/sources.py): picks the flow spec.
    source_kind: Annotated[str | None, Passive()] = None

    @model_validator(mode="before")
    @classmethod
    def _flow_spec_of_kind(cls, data: Any) -> Any:
        kind = sources.KINDS.get(data.get("source_kind") or "") if isinstance(data, dict) and isinstance(
            data.get("source_kind"), str) else None
        if kind is not None and data.get("flow_spec_id") is None:
            return {**data, "flow_spec_id": kind.flow_spec_id}
        return data

    def cross_check(self, unknown: set[str]) -> list[InputError]:
        errs = []
        kind = sources.KINDS.get(self.source_kind or "")
        if self.source_kind is not None and "source_kind" not in unknown and kind is None:
            errs.append(InputError("source_kind", f"{self.source_kind!r} is not a source kind"
                                   f"{sources.suggest(self.source_kind, sources.KINDS)}; use one of "
                                   f"{', '.join(sources.KINDS)}"))
        accepted = sources.flow_specs_for(kind) if kind else ()
        if kind and "flow_spec_id" not in unknown and self.flow_spec_id in FLOW_SPECS and \
                self.flow_spec_id not in accepted:
            errs.append(InputError("flow_spec_id", f"flow spec {self.flow_spec_id} ({FLOW_SPECS[self.flow_spec_id]}) "
                                   f"does not take {kind.label} sources: use {kind.flow_spec_id} or leave "
                                   "flow_spec_id unset"))
        if "flow_spec_id" not in unknown and self.flow_spec_id not in sources.FLOW_SPECS_WITH_OPTIONS:
            for f in ("error_diagnostics_enabled", "partial_ingestion_percent"):
                if f not in unknown and getattr(self, f) is not None and self.flow_spec_id in FLOW_SPECS:
                    errs.append(InputError(f, f"flow spec {FLOW_SPECS[self.flow_spec_id]} defines no options "
                                           "(its optionSpec is empty): remove it"))
        if "flow_spec_id" not in unknown and self.flow_spec_id not in FLOW_SPECS:
            listing = ", ".join(f"{k} ({v})" for k, v in FLOW_SPECS.items())
            errs.append(InputError("flow_spec_id", f"{self.flow_spec_id!r} is not a supported flow spec; use "
                                   f"{listing}"))
        if "mapping_id" not in unknown and "mapping_version" not in unknown:
            if self.mapping_version is not None and not self.mapping_id:
                errs.append(InputError("mapping_id", "mapping_version is set without mapping_id: pass the "
                                       "MappingSet's id too"))
            if self.mapping_id and self.mapping_version is None:
                errs.append(InputError("mapping_version", "pass the MappingSet's version output so the flow "
                                       "follows new mapping versions"))
        for f in ("source_connection_id", "target_connection_id"):
            v = getattr(self, f)
            if f not in unknown and v and not _UUID_RE.match(v):
                errs.append(InputError(f, f"{v!r} is not a Flow Service id (a UUID): pass the connection's id"))
        return errs


class DataflowProvider(AEPProvider):
    kind = "Dataflow"
    name_prefix = "dataflow"
    args_model = DataflowArgs
    # mapping_index: where the Mapping transformation sits in the flow's list (for its PATCH path).
    computed = ("inlet_url", "state", "etag", "mapping_index")
    # Webhook senders post to the flow's inlet with its id: a new flow breaks every one of them.
    allow_kinds = "flow"
    replacement_loses = ("the new dataflow has another id, so the webhook URL changes from "
                         "{inlet_url}?x-adobe-flow-id={id} (update the webhook in the source, e.g. Pendo, "
                         "afterwards), and its run history is lost")

    def create_object(self, api: AEPClient, args: DataflowArgs) -> tuple[str, dict]:
        """POST /flows, disable if asked, then one GET for what the server computes (inletUrl, state)."""
        body: dict[str, Any] = {
            "name": args.name, "description": args.description,
            "flowSpec": {"id": args.flow_spec_id, "version": args.flow_spec_version},
            "sourceConnectionIds": [args.source_connection_id],
            "targetConnectionIds": [args.target_connection_id]}
        if args.mapping_id:
            body["transformations"] = [_mapping(args)]
        options = {key: plain(value) for key, value in (("errorDiagnosticsEnabled", args.error_diagnostics_enabled),
                                                        ("partialIngestionPercent", args.partial_ingestion_percent))
                   if value is not None}
        if options:
            body["options"] = options
        created = api.create_flow(args.sandbox, body)
        if not args.enabled:
            api.flow_action(args.sandbox, created.id, "disable", created.body.get("etag"))
        flow = api.get_flow(args.sandbox, created.id)
        return created.id, _computed(flow)

    def read_object(self, api: AEPClient, id_: str, props: dict) -> dict | None:
        """GET /flows/{id}, mapped back onto the inputs."""
        flow = api.get_flow(props["sandbox"], id_)
        spec = flow.get("flowSpec") or {}
        computed = _computed(flow)
        idx = computed["mapping_index"]
        params = ((flow.get("transformations") or [])[idx].get("params") or {}) if idx is not None else {}
        version = params.get("mappingVersion")
        options = flow.get("options") or {}
        return {"name": flow.get("name"), "description": flow.get("description"),
                "flow_spec_id": spec.get("id"), "flow_spec_version": spec.get("version"),
                "source_connection_id": _first(flow.get("sourceConnectionIds")),
                "target_connection_id": _first(flow.get("targetConnectionIds")),
                "mapping_id": params.get("mappingId"),
                "mapping_version": int(version) if version is not None else None,
                "enabled": flow.get("state") not in ("disabled", "disabling"),
                "error_diagnostics_enabled": options.get("errorDiagnosticsEnabled"),
                "partial_ingestion_percent": options.get("partialIngestionPercent"), **computed}

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

    def delete_object(self, api: AEPClient, id_: str, props: dict) -> None:
        """DELETE /flows/{id}."""
        api.delete_flow(props["sandbox"], id_)


def _mapping(args: DataflowArgs) -> dict:
    return {"name": "Mapping", "params": {"mappingId": args.mapping_id, "mappingVersion": args.mapping_version}}


def _first(ids: Any) -> Any:
    return ids[0] if isinstance(ids, list) and ids else None


def _computed(flow: dict) -> dict:
    idx = next((i for i, t in enumerate(flow.get("transformations") or [])
                if str((t or {}).get("name", "")).lower() == "mapping"), None)
    return {"inlet_url": (flow.get("options") or {}).get("inletUrl"), "state": flow.get("state"),
            "etag": flow.get("etag"), "mapping_index": idx}


class Dataflow(Resource, module="aep", name="Dataflow"):
    """A streaming dataflow; `inlet_url` is the endpoint to give the webhook sender."""

    name: pulumi.Output[str]
    inlet_url: pulumi.Output[str]
    state: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(self, resource_name: str, *, source_connection_id: pulumi.Input[str],
                 target_connection_id: pulumi.Input[str], mapping_id: pulumi.Input[str] | None = None,
                 mapping_version: pulumi.Input[int] | None = None, name: pulumi.Input[str] | None = None,
                 description: pulumi.Input[str] | None = None, enabled: pulumi.Input[bool] | None = None,
                 error_diagnostics_enabled: pulumi.Input[bool] | None = None,
                 partial_ingestion_percent: pulumi.Input[float] | None = None,
                 flow_spec_id: pulumi.Input[str] | None = None, source_kind: pulumi.Input[str] | None = None,
                 flow_spec_version: pulumi.Input[str] | None = None,
                 sandbox: pulumi.Input[str] | None = None, adopt_id: pulumi.Input[str] | None = None,
                 allow_replace: pulumi.Input[bool] | None = None, opts: pulumi.ResourceOptions | None = None):
        """A dataflow from one source connection to one target connection.

        Args:
            resource_name: the Pulumi resource name.
            source_connection_id: the SourceConnection's id; another one means another flow.
            target_connection_id: the TargetConnection's id; another one means another flow.
            mapping_id: the MappingSet's id, for the flow's Mapping transformation.
            mapping_version: the MappingSet's `version` output: a new version is rolled out in place.
            name: the flow's name in AEP (default `dataflow-<7 random characters>`, kept across updates).
            description: its description (default "Managed by Pulumi (aep-pipelines)").
            enabled: whether the flow runs (default true): `/action?op=enable|disable`.
            error_diagnostics_enabled: keep detailed error diagnostics of its runs (default false).
            partial_ingestion_percent: the share of failed records, in per cent (above 0, at most 100),
                beyond which a run fails (default: none; a change to either option replaces the flow).
            flow_spec_id: the flow spec (default: the one the source kind's catalog entry names, else
                GenericStreamingAEP).
            source_kind: the source's kind in the catalog (providers/sources.py), e.g. "kinesis".
            flow_spec_version: its version (default "1.0").
            sandbox: the AEP sandbox (default stack config aep:sandbox).
            adopt_id: the id of an existing flow to manage instead of creating one.
            allow_replace: let a plan replace it, although that changes its webhook URL.
            opts: Pulumi resource options.
        """
        super().__init__(DataflowProvider(), resource_name, *resource_args(DataflowProvider, locals()))
