"""The rules a dataflow must keep when it is created or patched, over the other services' data.

A flow's connections must exist in the caller's sandbox and fit its flow spec; a scheduled
spec needs `scheduleParams`; a mapping transformation must name an existing mapping version
(1412) whose output schema is the target dataset's and target connection's (1425); a started
schedule cannot move its start time (1366).
"""

from __future__ import annotations

import time
from typing import Any

from ... import kinds, seed
from ...gateway import RequestContext
from ...store import Store
from . import errors as E
from .errors import invalid

_CONNECTION_FIELDS = {"sourceConnections": "sourceConnectionIds", "targetConnections": "targetConnectionIds"}


class FlowRules:
    """The dataflow rules, reading connections, mapping sets, datasets and schemas from one Store."""

    def __init__(self, store: Store):
        self.store = store

    def check_create(self, ctx: RequestContext, flow_spec: dict[str, Any], body: dict[str, Any]
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Check a new flow's connections, schedule and transformations; its (sources, targets)."""
        sources = self.connections(ctx, "sourceConnections", body.get("sourceConnectionIds"))
        targets = self.connections(ctx, "targetConnections", body.get("targetConnectionIds"))
        for conns, allowed, label in ((sources, flow_spec["sourceConnectionSpecIds"], "source"),
                                      (targets, flow_spec["targetConnectionSpecIds"], "target")):
            for c in conns:
                if c["connectionSpec"]["id"] not in allowed:
                    raise invalid(f"The connection spec of {label} connection {c['id']} is not supported by "
                                  f"flow spec {flow_spec['name']}.")
        self._check_schedule(flow_spec, body.get("scheduleParams"))
        self.check_transformations(ctx, body.get("transformations"), targets)
        return sources, targets

    @staticmethod
    def inherited_attributes(flow_spec: dict[str, Any], sources: list[dict[str, Any]],
                             targets: list[dict[str, Any]]) -> dict[str, Any]:
        """What a flow inherits from its spec and connections.

        A snapshot, like AEP's: later PATCHes of these connections do not reach the flow.
        """
        return {
            "properties": {"isSourceFlow": bool((flow_spec.get("attributes") or {}).get("isSourceFlow", True))},
            "sourceConnections": [
                {"id": s["id"], "connectionSpec": s["connectionSpec"],
                 **({"baseConnection": s["inheritedAttributes"]["baseConnection"]}
                    if (s.get("inheritedAttributes") or {}).get("baseConnection") else {})}
                for s in sources],
            "targetConnections": [{"id": t["id"], "connectionSpec": t["connectionSpec"]} for t in targets],
        }

    def check_update(self, ctx: RequestContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Check a patched flow: its transformations (when they changed) and its schedule's start time."""
        if new.get("transformations") != old.get("transformations"):
            targets = self.connections(ctx, "targetConnections", new.get("targetConnectionIds"))
            self.check_transformations(ctx, new.get("transformations"), targets)
        old_sched, new_sched = old.get("scheduleParams") or {}, new.get("scheduleParams") or {}
        started = old_sched.get("startTime")
        if started is not None and new_sched.get("startTime") != started:
            try:
                passed = int(started) <= time.time()
            except (TypeError, ValueError):
                passed = False
            if passed:
                raise invalid("The schedule start time has passed and cannot be updated.", E.START_TIME_PASSED)

    def connections(self, ctx: RequestContext, resource: str, ids: Any) -> list[dict[str, Any]]:
        """The source or target connections `ids` names, each of which must exist in the sandbox."""
        field = _CONNECTION_FIELDS[resource]
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise invalid(f"'{field}' must be a non-empty array of IDs.")
        kind = kinds.SOURCE_CONNECTION if resource == "sourceConnections" else kinds.TARGET_CONNECTION
        found = []
        for i in ids:
            doc = self.store.get(kind, ctx.org, ctx.sandbox, i)
            if doc is None:
                raise invalid(f"{field}: {i} does not exist in sandbox {ctx.sandbox}.")
            found.append(doc)
        return found

    @staticmethod
    def _check_schedule(flow_spec: dict[str, Any], schedule: Any) -> None:
        if schedule is None:
            if flow_spec["id"] in seed.SCHEDULED_FLOW_SPEC_IDS:
                raise invalid(f"'scheduleParams' is required for flow spec {flow_spec['name']}.")
            return
        if not isinstance(schedule, dict):
            raise invalid("'scheduleParams' must be an object.")

    def _same_schema(self, ctx: RequestContext, a: str | None, b: str | None) -> bool:
        if not a or not b:
            return False
        if a == b:
            return True
        sa = kinds.schema_by_id(self.store, ctx.org, ctx.sandbox, a)
        sb = kinds.schema_by_id(self.store, ctx.org, ctx.sandbox, b)
        return sa is not None and sb is not None and sa.get("$id") == sb.get("$id")

    def check_transformations(self, ctx: RequestContext, transformations: Any,
                              targets: list[dict[str, Any]]) -> None:
        """Mapping transformations must name an existing mapping version (1412) whose output schema
        is the target dataset's and the target connection's schema (1425)."""
        if transformations is None:
            return
        if not isinstance(transformations, list):
            raise invalid("'transformations' must be an array.")
        for t in transformations:
            if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("params"), dict):
                raise invalid("Each transformation needs 'name' and 'params'.")
            if t["name"].lower() != "mapping":
                continue
            mapping_id, version = t["params"].get("mappingId"), t["params"].get("mappingVersion")
            mapping = kinds.mapping_version(self.store, ctx.org, ctx.sandbox, str(mapping_id), version) \
                if isinstance(mapping_id, str) and mapping_id else None
            if mapping is None:
                raise invalid(f"Invalid mapping version: mapping {mapping_id} version {version} does not exist.",
                              E.BAD_MAPPING_VERSION)
            out_schema = ((mapping.get("outputSchema") or {}).get("schemaRef") or {}).get("id")
            for tc in targets:
                self._check_target_schema(ctx, out_schema, tc)

    def _check_target_schema(self, ctx: RequestContext, out_schema: str | None, tc: dict[str, Any]) -> None:
        ds_id = (tc.get("params") or {}).get("dataSetId")
        ds = kinds.dataset(self.store, ctx.org, ctx.sandbox, ds_id) if ds_id else None
        if ds is None:
            raise invalid(f"Target dataset {ds_id} of target connection {tc['id']} does not exist.",
                          E.SCHEMA_MISMATCH)
        ds_schema = (ds.get("schemaRef") or {}).get("id")
        tc_schema = ((tc.get("data") or {}).get("schema") or {}).get("id")
        if not self._same_schema(ctx, out_schema, ds_schema) or \
                (tc_schema and not self._same_schema(ctx, out_schema, tc_schema)):
            raise invalid(
                f"Schema in mapping ({out_schema}) does not match the schema of target dataset {ds_id} "
                f"({ds_schema}) and target connection {tc['id']} ({tc_schema}).", E.SCHEMA_MISMATCH)
