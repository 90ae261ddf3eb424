"""Flow Service's backend: the rules and the store of specs, connections, flows and runs, without HTTP.

Everything a client creates is scoped to the caller's (org, sandbox). Stored documents are
the API representation; keys starting with "_" are emulator-internal and never returned.
Methods take the caller's RequestContext and the parsed request, and raise AEPError in Flow
Service's shape (errors.py); emulator/services/flowservice/responses.py is the HTTP side.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

from ... import kinds, seed
from ...errors import flow_error
from ...gateway import RequestContext
from ...store import Store
from .. import flow_options, flow_patch
from .._common import now_ms
from . import errors as E
from . import spec_rules
from .errors import invalid, not_found
from .flows import FlowRules

# resource path segment -> stored kind
KIND = {
    "connections": kinds.BASE_CONNECTION,
    "sourceConnections": kinds.SOURCE_CONNECTION,
    "targetConnections": kinds.TARGET_CONNECTION,
    "flows": kinds.FLOW,
    "runs": kinds.RUN,
}

# Top-level fields a client may set on create; anything else (e.g. the providerId every
# streaming tutorial sends) is accepted and dropped, as AEP does.
USER_FIELDS = {
    "connections": ("name", "description", "auth", "connectionSpec"),
    "sourceConnections": ("name", "description", "baseConnectionId", "data", "params", "connectionSpec"),
    "targetConnections": ("name", "description", "baseConnectionId", "data", "params", "connectionSpec"),
    "flows": ("name", "description", "flowSpec", "sourceConnectionIds", "targetConnectionIds",
              "transformations", "scheduleParams"),
}

_ACTIONS = {"enable": "enabled", "disable": "disabled"}


def new_etag() -> str:
    """An opaque etag in AEP's shape, literal quotes included: "\\"9c01173c-0000-0200-0000-63f32d7c0000\\""."""
    return f'"{secrets.token_hex(4)}-0000-0200-0000-{int(time.time()) & 0xFFFFFFFF:08x}0000"'


def _bare_etag(value: str) -> str:
    v = value.strip()
    if v[:2].upper() == "W/":
        v = v[2:].strip()
    if len(v) >= 2 and v[0] == v[-1] == '"':
        v = v[1:-1]
    return v


def etag_matches(header: str, etag: str) -> bool:
    """If-Match comparison: ignores W/ and surrounding quotes, accepts any of a comma list or '*'."""
    current = _bare_etag(etag)
    return any(c == "*" or c == current for c in (_bare_etag(p) for p in header.split(",")))


def sandbox_id(ctx: RequestContext) -> str:
    """A stable sandbox id per (org, sandbox name), as AEP gives every sandbox one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aep-emulator:{ctx.org}/{ctx.sandbox}"))


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The stored document without its emulator-internal keys."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def spec_ref(body: dict[str, Any], field: str) -> dict[str, Any]:
    """A `connectionSpec`/`flowSpec` reference: an id and a string version (default "1.0")."""
    ref = body.get(field)
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
        raise invalid(f"'{field}.id' is required.")
    if ref.get("version") is not None and not isinstance(ref["version"], str):
        raise invalid(f"'{field}.version' must be a string such as \"1.0\".")
    return {"id": ref["id"], "version": ref.get("version") or "1.0"}


def check_text_fields(body: dict[str, Any]) -> None:
    """`name`, `description` and `data.format` are strings wherever they are sent (the DTOs' types)."""
    for key in ("name", "description"):
        if key in body and not isinstance(body[key], str):
            raise invalid(f"'{key}' must be a string, got {json.dumps(body[key])[:60]}.")
    data = body.get("data")
    if isinstance(data, dict) and "format" in data and not isinstance(data["format"], str):
        raise invalid(f"'data.format' must be a string, got {json.dumps(data['format'])[:60]}.")
    schema = data["schema"] if isinstance(data, dict) and "schema" in data else {}
    if not (isinstance(schema, dict) and isinstance(schema.get("id", ""), str)
            and isinstance(schema.get("version", ""), str)):
        raise invalid("'data.schema' must be an object with string 'id' and 'version'.")


def _require(body: dict[str, Any], *fields: str) -> None:
    missing = [f for f in fields if body.get(f) in (None, "", {})]
    if missing:
        raise invalid(f"Required field(s) missing: {', '.join(missing)}.")
    check_text_fields(body)


def _require_name(body: dict[str, Any]) -> None:
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise invalid("'name' is required.")
    check_text_fields(body)


def _patch_path_rule(resource: str, tokens: list[str]) -> None:
    """Raise unless `tokens` is a path AEP lets a client patch on this resource."""
    head = tokens[0] if tokens else ""
    if head == "connectionSpec" and resource != "flows":
        raise invalid("The connection spec of a connection cannot be updated.", E.CONNECTION_SPEC_IMMUTABLE)
    if head in ("name", "description") and len(tokens) == 1:
        return
    if resource == "flows" and head in ("scheduleParams", "transformations", "labels", "policy"):
        return
    if resource == "connections" and tokens[:2] == ["auth", "params"]:
        return
    if resource in ("sourceConnections", "targetConnections") and head in ("data", "params"):
        return
    raise invalid(f"Invalid patch path /{'/'.join(tokens)}.", E.PATCH_PATH_INVALID)


_PATCH_CODES = {"unsupported_op": E.UNSUPPORTED_PATCH_OP, "missing_path": E.PATCH_PATH_MISSING}


class FlowService:
    """The Flow Service backend over one Store."""

    def __init__(self, store: Store):
        self.store = store
        self.flows = FlowRules(store)

    # -- reads ---------------------------------------------------------------------------

    def specs(self, kind: str) -> list[dict[str, Any]]:
        """Every seeded connection or flow spec (global, read-only)."""
        return self.store.list(kind, "", "")

    def spec(self, kind: str, resource: str, spec_id: str) -> dict[str, Any]:
        """One seeded spec; 404 when there is none."""
        doc = self.store.get(kind, "", "", spec_id)
        if doc is None:
            raise not_found(resource, spec_id)
        return doc

    def get(self, ctx: RequestContext, resource: str, id_: str) -> dict[str, Any]:
        """The stored document of one entity (internal keys included); 404 when absent."""
        doc = self.store.get(KIND[resource], ctx.org, ctx.sandbox, id_)
        if doc is None:
            raise not_found(resource, id_)
        return doc

    def view(self, ctx: RequestContext, resource: str, id_: str, base_url: str) -> dict[str, Any]:
        """One entity as the API shows it (`base_url` makes a streaming flow's inlet URL)."""
        doc = self.get(ctx, resource, id_)
        if resource == "flows":
            return self._render_flow(doc, self._latest_runs(ctx), base_url)
        if resource == "connections":
            return self._render_connection(doc)
        return self._render_run(ctx, doc) if resource == "runs" else public(doc)

    def views(self, ctx: RequestContext, resource: str, base_url: str) -> list[dict[str, Any]]:
        """Every entity of `resource` in the caller's sandbox as the API shows it, oldest first."""
        docs = self.store.list(KIND[resource], ctx.org, ctx.sandbox)
        if resource == "flows":
            runs = self._latest_runs(ctx)
            return [self._render_flow(d, runs, base_url) for d in docs]
        if resource == "runs":
            return [self._render_run(ctx, d) for d in docs]
        if resource == "connections":
            return [self._render_connection(d) for d in docs]
        return [public(d) for d in docs]

    def _render_connection(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A base connection with its secret auth params masked, as every AEP read shows it."""
        spec = self.store.get(kinds.CONNECTION_SPEC, "", "", (doc.get("connectionSpec") or {}).get("id", ""))
        return spec_rules.masked(public(doc), spec)

    def _latest_runs(self, ctx: RequestContext) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for run in self.store.list(kinds.RUN, ctx.org, ctx.sandbox):
            fid = run.get("flowId")
            if fid and (fid not in latest or run.get("createdAt", 0) >= latest[fid].get("createdAt", 0)):
                latest[fid] = run
        return latest

    @staticmethod
    def _render_flow(doc: dict[str, Any], latest_runs: dict[str, dict[str, Any]], base_url: str) -> dict[str, Any]:
        out = public(doc)
        inlet_id = doc.get("_inletId")
        if inlet_id:
            out["options"] = {**(out.get("options") or {}), "inletUrl": f"{base_url}/collection/{inlet_id}"}
        run = latest_runs.get(doc["id"])
        if run:
            m = run.get("metrics") or {}
            out["lastRunDetails"] = {
                "id": run["id"],
                "state": (m.get("statusSummary") or {}).get("status"),
                "startedAtUTC": (m.get("durationSummary") or {}).get("startedAtUTC"),
                "completedAtUTC": (m.get("durationSummary") or {}).get("completedAtUTC"),
            }
        return out

    @staticmethod
    def _render_run(ctx: RequestContext, run: dict[str, Any]) -> dict[str, Any]:
        out = public(run)
        out.setdefault("imsOrgId", ctx.org)
        out.setdefault("sandboxName", ctx.sandbox)
        out.setdefault("sandboxId", sandbox_id(ctx))
        return out

    # -- writes shared by every entity ----------------------------------------------------

    @staticmethod
    def _new_entity(ctx: RequestContext, fields: dict[str, Any]) -> dict[str, Any]:
        now = now_ms()
        etag = new_etag()
        return {
            "id": str(uuid.uuid4()),
            "createdAt": now, "updatedAt": now,
            "createdBy": ctx.user, "updatedBy": ctx.user,
            "createdClient": ctx.client_id, "updatedClient": ctx.client_id,
            "sandboxId": sandbox_id(ctx), "sandboxName": ctx.sandbox, "imsOrgId": ctx.org,
            **fields,
            "state": "enabled",
            "version": etag, "etag": etag,
        }

    @staticmethod
    def _touch(ctx: RequestContext, doc: dict[str, Any]) -> dict[str, Any]:
        """Stamp an update: new etag (AEP rotates it on every change), updatedAt/By/Client."""
        etag = new_etag()
        doc.update(updatedAt=now_ms(), updatedBy=ctx.user, updatedClient=ctx.client_id, version=etag, etag=etag)
        return doc

    @staticmethod
    def check_if_match(if_match: str | None, doc: dict[str, Any], required: bool = True) -> None:
        """1403 without an If-Match (when required), 412 (1404) when it names another version."""
        if if_match is None or not if_match.strip():
            if required:
                raise invalid("The header 'If-Match' is missing.", E.IF_MATCH_MISSING)
            return
        if not etag_matches(if_match, doc["etag"]):
            raise flow_error(412, E.IF_MATCH_STALE,
                             f"The supplied version {if_match} does not match the current version "
                             f"{doc['etag']} on entity {doc['id']}.")

    def _apply_patch(self, resource: str, doc: dict[str, Any], body: Any) -> tuple[dict, list]:
        if isinstance(body, dict) and resource != "connections":
            raise invalid("The request body must be a JSON Patch array.")
        try:
            ops = flow_patch.normalise_ops(body)
            for op in ops:
                _patch_path_rule(resource, flow_patch.parse_pointer(op["path"]))
            patched = flow_patch.apply(doc, ops)
        except flow_patch.PatchError as exc:
            raise invalid(exc.message, _PATCH_CODES.get(exc.reason, E.INVALID)) from None
        if "name" in doc and not (isinstance(patched.get("name"), str) and patched["name"].strip()):
            raise invalid("'name' must be a non-empty string.")
        return patched, ops

    def patch(self, ctx: RequestContext, resource: str, id_: str, body: Any, if_match: str | None) -> dict[str, Any]:
        """JSON Patch an entity (If-Match required); the patched document."""
        return self.apply_patch(ctx, resource, self.patch_target(ctx, resource, id_, if_match), body, if_match)

    def patch_target(self, ctx: RequestContext, resource: str, id_: str, if_match: str | None) -> dict[str, Any]:
        """The entity a PATCH applies to, once it is known to exist and If-Match names its version.

        Checked before the patch is read, as AEP answers these first (404, 1403, 412).
        """
        doc = self.get(ctx, resource, id_)
        self.check_if_match(if_match, doc)
        return doc

    def apply_patch(self, ctx: RequestContext, resource: str, doc: dict[str, Any], body: Any,
                    if_match: str | None) -> dict[str, Any]:
        """Apply a JSON Patch body to `doc` (from patch_target) and store it; the patched document."""
        id_ = doc["id"]
        patched, ops = self._apply_patch(resource, doc, body)
        if resource in ("connections", "sourceConnections"):
            spec = self.store.get(kinds.CONNECTION_SPEC, "", "", doc["connectionSpec"]["id"]) or {}
            if resource == "connections":
                spec_rules.check_auth(spec, patched.get("auth"))
            elif (patched.get("params"), patched.get("data")) != (doc.get("params"), doc.get("data")):
                spec_rules.check_source(spec, patched)
        if resource == "flows":
            self.flows.check_update(ctx, doc, patched)
            now = now_ms()
            patched["lastOperation"] = {"started": now, "updated": now, "percentCompleted": 100.0,
                                        "status": {"value": "completed", "errors": []}, "ops": ops,
                                        "operation": "update"}
        self._touch(ctx, patched)
        with self.store.tx():
            # Re-check under the write lock: a concurrent PATCH must not be lost.
            current = self.store.get(KIND[resource], ctx.org, ctx.sandbox, id_)
            if current is None:
                raise not_found(resource, id_)
            if current["etag"] != doc["etag"]:
                self.check_if_match(if_match, current)
            self.store.put(KIND[resource], ctx.org, ctx.sandbox, id_, patched)
        return patched

    def delete(self, ctx: RequestContext, resource: str, id_: str) -> None:
        """Delete an entity (404 when absent); base connections and flows have rules of their own."""
        if resource == "connections":
            return self._delete_connection(ctx, id_)
        if resource == "flows":
            return self._delete_flow(ctx, id_)
        if not self.store.delete(KIND[resource], ctx.org, ctx.sandbox, id_):
            raise not_found(resource, id_)
        return None

    def create(self, ctx: RequestContext, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create an entity of `resource` from a request body; the stored document."""
        create = {"connections": self.create_connection, "sourceConnections": self.create_source_connection,
                  "targetConnections": self.create_target_connection, "flows": self.create_flow}[resource]
        return create(ctx, body)

    # -- connections ----------------------------------------------------------------------

    def _connection_spec(self, spec_id: str) -> dict[str, Any]:
        spec = self.store.get(kinds.CONNECTION_SPEC, "", "", spec_id)
        if spec is None:
            raise invalid(f"Connection spec {spec_id} does not exist.")
        return spec

    def _create(self, ctx: RequestContext, resource: str, body: dict[str, Any], ref: dict[str, Any],
                **extra: Any) -> dict[str, Any]:
        fields = {k: body[k] for k in USER_FIELDS[resource] if k in body}
        fields["connectionSpec"] = ref
        doc = self._new_entity(ctx, fields)
        doc.update(providerRefId=str(uuid.uuid4()), **extra)
        self.store.put(KIND[resource], ctx.org, ctx.sandbox, doc["id"], doc)
        return doc

    def create_connection(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """Create a base connection ("account")."""
        ref = spec_ref(body, "connectionSpec")
        spec = self._connection_spec(ref["id"])
        _require_name(body)
        spec_rules.check_auth(spec, body.get("auth"))
        return self._create(ctx, "connections", body, ref)

    def test_connection(self, ctx: RequestContext, conn_id: str) -> bool:
        """The emulator has nothing to reach, so an existing connection passes."""
        self.get(ctx, "connections", conn_id)
        return True

    def _delete_connection(self, ctx: RequestContext, conn_id: str) -> None:
        """Delete a base connection unless a flow still reads from it (FLOW-1418-400)."""
        store = self.store
        with store.tx():
            self.get(ctx, "connections", conn_id)
            sources = {s["id"]: s for s in store.list(kinds.SOURCE_CONNECTION, ctx.org, ctx.sandbox)}
            users = [f["id"] for f in store.list(kinds.FLOW, ctx.org, ctx.sandbox)
                     if any(sources.get(sid, {}).get("baseConnectionId") == conn_id
                            for sid in f.get("sourceConnectionIds", []))]
            if users:
                raise invalid(f"Base connection {conn_id} is used by flows {', '.join(users)}; delete them first.",
                              E.BASE_CONNECTION_IN_USE)
            store.delete(kinds.BASE_CONNECTION, ctx.org, ctx.sandbox, conn_id)

    def create_source_connection(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """Create a source connection; streaming specs (Pendo, HTTP) take no base connection."""
        _require(body, "name", "connectionSpec", "data")
        ref = spec_ref(body, "connectionSpec")
        spec = self._connection_spec(ref["id"])
        if "sourceSpec" not in spec:
            raise invalid(f"Connection spec {ref['id']} is not a source.")
        if not isinstance(body["data"], dict):
            raise invalid("'data' must be an object.")
        spec_rules.check_source(spec, body)
        inherited: dict[str, Any] = {}
        base_id = body.get("baseConnectionId")
        if base_id is not None:
            if ref["id"] in seed.NO_BASE_CONNECTION_SPEC_IDS:
                raise invalid(f"Connection spec {ref['id']} does not support a baseConnectionId.",
                              E.BASE_CONNECTION_NOT_ALLOWED)
            base = self.store.get(kinds.BASE_CONNECTION, ctx.org, ctx.sandbox, str(base_id))
            if base is None:
                raise invalid(f"Base connection {base_id} does not exist.")
            if base["connectionSpec"]["id"] != ref["id"]:
                raise invalid(f"Base connection {base_id} belongs to a different connection spec.")
            inherited["baseConnection"] = {"id": base["id"], "connectionSpec": base["connectionSpec"]}
        elif spec.get("authSpec") and ref["id"] not in seed.OPTIONAL_BASE_CONNECTION_SPEC_IDS:
            # Batch sources and Kinesis, Event Hubs and Pub/Sub read through their account;
            # the HTTP API's account is optional (it only turns on authentication).
            raise invalid(f"Connection spec {spec.get('name')} ({ref['id']}) requires a baseConnectionId: "
                          "create a base connection (POST /connections) and pass its id.")
        return self._create(ctx, "sourceConnections", body, ref, inheritedAttributes=inherited)

    def create_target_connection(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """Create a target connection; only the data lake spec is a valid target (FLOW-1307-400)."""
        _require(body, "connectionSpec", "data")
        ref = spec_ref(body, "connectionSpec")
        if ref["id"] != seed.DATALAKE_SPEC_ID:
            raise invalid(f"Target connection spec must be {seed.DATALAKE_SPEC_ID}.", E.TARGET_SPEC_NOT_DATALAKE)
        if not isinstance(body["data"], dict):
            raise invalid("'data' must be an object.")
        params = body.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("dataSetId"), str) or not params["dataSetId"]:
            raise invalid("'params.dataSetId' is required for a data lake target connection.")
        if body.get("baseConnectionId") is not None:
            raise invalid("A data lake target connection takes no baseConnectionId.", E.BASE_CONNECTION_NOT_ALLOWED)
        return self._create(ctx, "targetConnections", body, ref, inheritedAttributes={})

    # -- flows ------------------------------------------------------------------------------

    def create_flow(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """Create a dataflow; a streaming flow gets an inlet (its id in `_inletId`)."""
        if "state" in body:
            raise invalid("'state' is not allowed when creating a flow.", E.STATE_ON_CREATE)
        ref = spec_ref(body, "flowSpec")
        flow_spec = self.store.get(kinds.FLOW_SPEC, "", "", ref["id"])
        if flow_spec is None:
            raise invalid(f"Flow spec {ref['id']} does not exist.")
        _require_name(body)
        sources, targets = self.flows.check_create(ctx, flow_spec, body)
        try:
            options = flow_options.check(flow_spec, body.get("options"))
        except ValueError as exc:
            raise invalid(str(exc)) from None
        fields = {k: body[k] for k in USER_FIELDS["flows"] if k in body}
        fields["flowSpec"] = ref
        doc = self._new_entity(ctx, fields)
        if options:
            doc["options"] = options
        now = doc["createdAt"]
        doc["inheritedAttributes"] = self.flows.inherited_attributes(flow_spec, sources, targets)
        doc.update(runs=f"/runs?property=flowId=={doc['id']}", providerRefId=str(uuid.uuid4()),
                   lastOperation={"started": now, "updated": now, "operation": "enable"})
        store = self.store
        with store.tx():
            if ref["id"] in seed.STREAMING_FLOW_SPEC_IDS:
                inlet_id = secrets.token_hex(32)
                doc["_inletId"] = inlet_id
                store.put(kinds.INLET, "", "", inlet_id,
                          {"org": ctx.org, "sandbox": ctx.sandbox, "flowIds": [doc["id"]]})
            store.put(kinds.FLOW, ctx.org, ctx.sandbox, doc["id"], doc)
        return doc

    def _delete_flow(self, ctx: RequestContext, flow_id: str) -> None:
        """Delete a flow, unregister its inlet and drop its runs.

        The runs go with the flow: AEP documents no way to read the runs of a deleted flow,
        and a destroyed pipeline should leave nothing behind.
        """
        store = self.store
        with store.tx():
            doc = self.get(ctx, "flows", flow_id)
            for run in store.list(kinds.RUN, ctx.org, ctx.sandbox):
                if run.get("flowId") == flow_id:
                    store.delete(kinds.RUN, ctx.org, ctx.sandbox, run["id"])
            inlet_id = doc.get("_inletId")
            if inlet_id:
                inlet = store.get(kinds.INLET, "", "", inlet_id)
                remaining = [f for f in (inlet or {}).get("flowIds", []) if f != flow_id]
                if remaining:
                    store.put(kinds.INLET, "", "", inlet_id, {**inlet, "flowIds": remaining})
                else:
                    store.delete(kinds.INLET, "", "", inlet_id)
            store.delete(kinds.FLOW, ctx.org, ctx.sandbox, flow_id)

    def flow_action(self, ctx: RequestContext, flow_id: str, op: str | None, if_match: str | None) -> dict[str, Any]:
        """Enable or disable a flow (op in any case; If-Match optional); the updated flow."""
        store = self.store
        with store.tx():
            doc = self.get(ctx, "flows", flow_id)
            self.check_if_match(if_match, doc, required=False)
            if not op or op.lower() not in _ACTIONS:
                raise invalid(f"Operation {op!r} is not a legal action for flow {flow_id}.", E.ILLEGAL_ACTION)
            now = now_ms()
            doc["state"] = _ACTIONS[op.lower()]
            doc["lastOperation"] = {"started": now, "updated": now, "operation": op.lower()}
            self._touch(ctx, doc)
            store.put(kinds.FLOW, ctx.org, ctx.sandbox, flow_id, doc)
        return doc
