"""The inlet's ingest engine: resolve an inlet post's flow, map and validate its events, store them.

Webhook senders such as Pendo cannot set Platform headers, so the inlet is not behind the
gateway: the inlet id names the org and sandbox (kinds.INLET, registered by Flow Service
when it creates a streaming flow). A raw event is mapped with the flow's mapping set
version, completed and validated against the target dataset's schema, and appended to the
dataset. As in AEP, mapping and validation failures do not fail the HTTP call (unless
`syncValidation=true`); they show up in the flow's run metrics.

Runs: one run document per flow per UTC hour, its counters aggregated over that hour's
events. That keeps `GET /runs?property=flowId==...` small however many events arrive,
while still rolling over the way AEP's streaming runs do.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import kinds, mapping, xdm
from .errors import AEPError
from .services._common import now_ms

RUN_WINDOW_MS = 3_600_000
MAX_RUN_ERRORS = 20

# Run-level error codes. The prefixes are AEP's (monitoring docs show MAPPER-3700-400 and
# INGEST-1212-400); which number AEP uses for each emulated case is the emulator's choice.
MAPPER_ERROR = mapping.MAPPER_ERROR
VALIDATION_ERROR = "INGEST-1212-400"
FLOW_DISABLED = "INGEST-1401-400"
TARGET_MISSING = "INGEST-1404-400"
IDENTITY_MISSING = "INGEST-1213-400"


def problem(status: int, slug: str, title: str, message: str, **extra: Any) -> AEPError:
    """Data Collection Service problem body (note: `status` is a string there)."""
    return AEPError(status, {"type": f"https://ns.adobe.com/adobecloud/problem/{slug}", "status": str(status),
                             "title": title, "report": {"message": message, **extra}})


@dataclass
class Outcome:
    """What happened to one event: the stored record, or why it was not stored."""
    record: dict[str, Any] | None = None
    code: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Target:
    """Everything an inlet post needs about its flow, resolved once per request."""
    org: str
    sandbox: str
    flow: dict[str, Any]
    dataset_id: str | None = None
    index: dict[str, dict[str, Any]] | None = None
    mapping_set: dict[str, Any] | None = None
    primary: tuple[str, str, str] | None = None  # (dot path, pointer, namespace) of the schema's primary identity
    problem: tuple[str, str] | None = None  # (code, message) failing every event of this post
    cacheable: bool = True  # False for an authenticated inlet: its token may expire at any moment


# -- resolution -----------------------------------------------------------------------


def _resolve_inlet(store, inlet_id: str, auth: str) -> dict[str, Any]:
    inlet = store.get(kinds.INLET, "", "", inlet_id)
    if inlet is None:
        raise problem(404, "data-collection-service-not-found", "Not Found",
                       f"Inlet {inlet_id} does not exist")
    if inlet.get("authenticationRequired"):
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        tok = store.get(kinds.TOKEN, "", "", token) if token else None
        if tok is None or tok["expiresAt"] <= time.time() or tok.get("org") != inlet["org"]:
            raise problem(401, "data-collection-service-authorization", "Authorization",
                           "Authorization token is missing or invalid for this authenticated inlet")
    return inlet


def _resolve_target(store, inlet_id: str, flow_id: str | None, auth: str) -> Target:
    """Pick the flow (header, query, or the inlet's only flow) and load its mapping, dataset and schema."""
    inlet = _resolve_inlet(store, inlet_id, auth)
    org, sandbox = inlet["org"], inlet["sandbox"]
    flow_ids = inlet.get("flowIds") or []
    if not flow_id:
        if len(flow_ids) != 1:
            raise problem(400, "data-collection-service-bad-request", "Bad Request",
                           f"Inlet {inlet_id} serves {len(flow_ids)} dataflows; send x-adobe-flow-id")
        flow_id = flow_ids[0]
    flow = store.get(kinds.FLOW, org, sandbox, flow_id) if flow_id in flow_ids else None
    if flow is None:
        raise problem(400, "data-collection-service-bad-request", "Bad Request",
                       f"Dataflow {flow_id} does not exist or does not belong to inlet {inlet_id}")
    target = Target(org=org, sandbox=sandbox, flow=flow, cacheable=not inlet.get("authenticationRequired"))
    if flow.get("state", "enabled") != "enabled":
        target.problem = (FLOW_DISABLED, f"Dataflow {flow_id} is disabled; the record was not ingested")
        return target
    tc_ids = flow.get("targetConnectionIds") or []
    tc = store.get(kinds.TARGET_CONNECTION, org, sandbox, tc_ids[0]) if tc_ids else None
    ds_id = ((tc or {}).get("params") or {}).get("dataSetId")
    dataset = kinds.dataset(store, org, sandbox, ds_id) if ds_id else None
    if dataset is None:
        target.problem = (TARGET_MISSING, f"Target dataset {ds_id} of dataflow {flow_id} does not exist")
        return target
    target.dataset_id = ds_id
    with_schema(target, store, (dataset.get("schemaRef") or {}).get("id"))
    for t in flow.get("transformations") or []:
        if str(t.get("name", "")).lower() == "mapping":
            params = t.get("params") or {}
            ms = kinds.mapping_version(store, org, sandbox, params.get("mappingId", ""), params.get("mappingVersion"))
            if ms is None:
                target.problem = (MAPPER_ERROR, f"Mapping set {params.get('mappingId')} version "
                                                f"{params.get('mappingVersion')} does not exist")
            target.mapping_set = ms
    return target


def with_schema(target: Target, store, schema_id: str | None) -> Target:
    """The target's field index and primary identity, from a stored schema (none when it is not stored)."""
    schema = xdm.get_schema(store, target.org, target.sandbox, schema_id) if schema_id else None
    if schema is not None:
        target.index = xdm.field_index(schema, store, target.org, target.sandbox)
        primary = kinds.primary_identity(store, target.org, target.sandbox, schema["$id"])
        if primary is not None:
            pointer = primary["xdm:sourceProperty"]
            target.primary = (".".join(pointer.strip("/").split("/")), pointer, str(primary["xdm:namespace"]))
    return target


# -- processing -----------------------------------------------------------------------


def _event_time(event: Any, received: int) -> str:
    """ExperienceEvent `timestamp`: the vendor's own (Pendo sends epoch seconds) or the receive time."""
    ts = event.get("timestamp") if isinstance(event, dict) else None
    if isinstance(ts, (int, float)) and not isinstance(ts, bool):
        return xdm.epoch_to_iso(ts)
    if isinstance(ts, str) and xdm.is_datetime(ts):
        return ts
    return xdm.epoch_to_iso(received)


def process(target: Target, event: Any, received: int) -> Outcome:
    """Map, complete and validate one event for its target; no storage."""
    if target.problem:
        return Outcome(code=target.problem[0], errors=[target.problem[1]])
    if not isinstance(event, dict):
        return Outcome(code=MAPPER_ERROR, errors=["The event must be a JSON object"])
    if target.mapping_set is not None:
        record, errors = mapping.apply(target.mapping_set, event, target.index)
        if errors:
            return Outcome(code=MAPPER_ERROR, errors=errors)
    else:
        # No mapping: the post is XDM already, either bare or in the streaming envelope.
        body = event.get("body")
        record = dict(body["xdmEntity"]) if isinstance(body, dict) and isinstance(body.get("xdmEntity"), dict) \
            else dict(event)
    index = target.index
    if index is not None:
        # AEP fills the ExperienceEvent/record identifiers the Pendo mapping never sets.
        if "_id" in index and "_id" not in record:
            record["_id"] = str(uuid.uuid4())
        if "timestamp" in index and "timestamp" not in record:
            record["timestamp"] = _event_time(event, received)
        errors = xdm.validate_record(record, index)
        if errors:
            return Outcome(code=VALIDATION_ERROR, errors=errors)
    if target.primary is not None:
        path, pointer, namespace = target.primary
        value: Any = record
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            return Outcome(code=IDENTITY_MISSING, errors=[
                f"Missing primary identity: the record has no value at {pointer} (namespace {namespace}), "
                "the schema's primary identity field"])
    return Outcome(record=record)


def _record_run(store, target: Target, outcomes: list[Outcome], in_bytes: int, out_bytes: int, now: int) -> None:
    """Fold this post's outcomes into the flow's run for the current hour (inside the caller's transaction)."""
    flow_id = target.flow["id"]
    window = now - now % RUN_WINDOW_MS
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aep-emulator-run:{flow_id}:{window}"))
    run = store.get(kinds.RUN, target.org, target.sandbox, run_id)
    if run is None:
        run = {
            "id": run_id, "flowId": flow_id, "createdAt": now, "updatedAt": now,
            "createdBy": "acp_streaming_ingestion", "updatedBy": "acp_streaming_ingestion",
            "createdClient": "acp_streaming_ingestion", "updatedClient": "acp_streaming_ingestion",
            "sandboxName": target.sandbox, "imsOrgId": target.org,
            "flowSpec": target.flow.get("flowSpec"), "providerRefId": target.flow.get("providerRefId", ""),
            "metrics": {
                "durationSummary": {"startedAtUTC": now, "completedAtUTC": now},
                "sizeSummary": {"inputBytes": 0, "outputBytes": 0},
                "recordSummary": {"inputRecordCount": 0, "createdRecordCount": 0, "outputRecordCount": 0,
                                  "failedRecordCount": 0},
                "statusSummary": {"status": "success", "errors": []},
            },
            "activities": [],
        }
    m = run["metrics"]
    rs = m["recordSummary"]
    ok = sum(1 for o in outcomes if o.record is not None)
    rs["inputRecordCount"] += len(outcomes)
    rs["outputRecordCount"] += ok
    rs["createdRecordCount"] = rs["outputRecordCount"]
    rs["failedRecordCount"] += len(outcomes) - ok
    m["sizeSummary"]["inputBytes"] += in_bytes
    m["sizeSummary"]["outputBytes"] += out_bytes
    m["durationSummary"]["completedAtUTC"] = now
    errors = m["statusSummary"]["errors"]
    for o in outcomes:
        for msg in o.errors:
            if len(errors) >= MAX_RUN_ERRORS:
                break
            entry = {"code": o.code, "message": msg}
            if entry not in errors:
                errors.append(entry)
    failed, out = rs["failedRecordCount"], rs["outputRecordCount"]
    m["statusSummary"]["status"] = "success" if not failed else "failed" if not out else "partialSuccess"
    run["updatedAt"] = now
    run["etag"] = f'"{uuid.uuid4()}"'
    run["activities"] = [{
        "id": f"{run_id}-ingest", "name": "Streaming ingestion", "updatedAtUTC": now,
        "durationSummary": dict(m["durationSummary"]), "sizeSummary": dict(m["sizeSummary"]),
        "recordSummary": dict(rs), "statusSummary": {"status": m["statusSummary"]["status"]},
    }]
    store.put(kinds.RUN, target.org, target.sandbox, run_id, run)


class IngestWriter:
    """Group commit for inlet posts.

    Handlers hand their parsed events to one writer thread, which resolves, maps and
    stores everything that queued up while its previous commit was being written, in
    one transaction, and only then releases the handlers' responses. Every
    acknowledged event is therefore committed to the WAL before its 200 leaves (so it
    survives SIGKILL), the event loop never waits on a commit, and concurrent webhook
    senders share commits instead of queueing behind one each.

    What a post resolves (inlet, flow, target dataset, schema index, mapping version)
    is kept between batches only while the store's `generation` is unchanged: any
    write of a flow, connection, dataset, schema, field group, mapping set or inlet
    bumps it, and the next batch resolves afresh, so a change applies to the next post.
    """

    def __init__(self, store):
        self.store = store
        self.targets: dict[tuple[str, str | None], Target] = {}
        self.targets_generation = -1
        self.pending: list[Job] = []
        self.flushing = False
        self._task: asyncio.Task | None = None  # held so the running flush is never garbage-collected
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inlet-writer")

    async def submit(self, job: "Job") -> "Job":
        """Queue a post and return once its batch is committed (or raise why the commit failed)."""
        loop = asyncio.get_running_loop()
        job.done = loop.create_future()
        self.pending.append(job)
        if not self.flushing:
            self.flushing = True
            self._task = loop.create_task(self._flush())
        await job.done
        return job

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                try:
                    await loop.run_in_executor(self.executor, self._write, batch)
                except BaseException as exc:  # noqa: BLE001 - the commit failed: every job in it fails
                    for job in batch:
                        if not job.done.done():
                            job.done.set_exception(exc)
                else:
                    for job in batch:
                        if not job.done.done():
                            job.done.set_result(None)
        finally:
            self.flushing = False

    def _write(self, batch: list["Job"]) -> None:
        store = self.store
        now = now_ms()
        runs: dict[tuple[str, str, str], tuple[Target, list[Outcome], int, int]] = {}
        with store.tx():
            # Inside the transaction, which holds the store lock: no write can land between
            # this check and the reads below.
            if store.generation != self.targets_generation:
                self.targets, self.targets_generation = {}, store.generation
            targets = self.targets
            for job in batch:
                try:
                    key = (job.inlet_id, job.flow_hint)
                    target = targets.get(key)
                    if target is None or not target.cacheable:
                        target = _resolve_target(store, job.inlet_id, job.flow_hint, job.auth)
                        targets[key] = target
                except AEPError as exc:
                    job.error = exc
                    continue
                job.outcomes = [process(target, e, job.received) for e in job.events]
                texts = [json.dumps(o.record, separators=(",", ":")) for o in job.outcomes if o.record is not None]
                if texts:
                    store.append_record_texts(target.org, target.sandbox, target.dataset_id, texts)
                out_bytes = sum(len(t) for t in texts)
                run_key = (target.org, target.sandbox, target.flow["id"])
                prev = runs.get(run_key)
                runs[run_key] = (target, (prev[1] if prev else []) + job.outcomes,
                                 (prev[2] if prev else 0) + job.nbytes, (prev[3] if prev else 0) + out_bytes)
            for target, outcomes, in_bytes, out_bytes in runs.values():
                if outcomes:
                    _record_run(store, target, outcomes, in_bytes, out_bytes, now)


@dataclass
class Job:
    """One inlet post on its way through the writer."""
    inlet_id: str
    flow_hint: str | None
    auth: str
    events: list[Any]
    nbytes: int
    received: int
    outcomes: list[Outcome] = field(default_factory=list)
    error: AEPError | None = None
    done: Any = None
