"""`make demo`: send a pipeline's source its sample payloads, then show the records, the run and,
for a Profile pipeline, the stitched profile.

Which samples, and where they go, follow the pipeline's source kind, read from AEP itself (the
flow's flow spec and its source connection's connection spec, providers/sources.py):

- webhook kinds (Pendo, Chatlio, Customer.io) and the HTTP API post to the webhook URL, as
  the vendor does (`<inlet>?x-adobe-flow-id=<flow>`: a webhook sender cannot set headers);
- the HTTP API with authentication posts to the inlet URL with the `x-adobe-flow-id` header;
- Kinesis, Event Hubs and Pub/Sub have no inlet in AEP (AEP reads the customer's stream):
  the emulator gives their flows one standing in for the stream (docs/emulator.md), and the
  demo posts there; on real AEP it prints the records to put on the stream instead.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from providers import sources

from .render import RUN_HEADERS, profile_view, run_row, say, table
from .samples import Samples, samples_for
from .workspace import is_loopback

# Kinds AEP pulls from the customer's own stream: their inlet exists in the emulator only.
PULLED = frozenset({"kinesis", "eventhubs", "pubsub"})
WEBHOOKS = frozenset(k.kind for k in sources.CATALOG if k.flow_spec_id == sources.GENERIC_STREAMING_FLOW_SPEC)


def newest_runs(api: Any, sandbox: str, flow_id: str) -> list[dict]:
    """The flow's runs, newest first (AEP lists them in no documented order)."""
    return sorted(api.list_runs(sandbox, flow_id), key=lambda r: r.get("createdAt") or 0, reverse=True)


def kind_of(api: Any, sandbox: str, flow: dict[str, Any]) -> sources.SourceKind | None:
    """The catalog kind of a flow: its source connection's connection spec (from the flow's
    inheritedAttributes, else one GET of the source connection) together with its flow spec
    (HTTP API has two kinds on one connection spec, told apart by the flow spec)."""
    inherited = ((flow.get("inheritedAttributes") or {}).get("sourceConnections") or [{}])[0]
    spec_id = (inherited.get("connectionSpec") or {}).get("id")
    if not spec_id and flow.get("sourceConnectionIds"):
        spec_id = (api.get_source_connection(sandbox, flow["sourceConnectionIds"][0]).get("connectionSpec")
                   or {}).get("id")
    flow_spec = (flow.get("flowSpec") or {}).get("id")
    kinds = sources.by_spec(spec_id or "")
    return next((k for k in kinds if k.flow_spec_id == flow_spec), kinds[0] if kinds else None)


def _post(url: str, event: Any, flow_id: str, header: bool) -> requests.Response:
    headers = {"x-adobe-flow-id": flow_id} if header else {}
    return requests.post(url, json=event, headers=headers, timeout=30)


def send(kind: sources.SourceKind, out: dict[str, Any], samples: Samples, name: str) -> bool:
    """Post `samples` where the source would send them; False when there is nowhere to post."""
    what = sources.short(kind.label)
    if kind.kind in WEBHOOKS:
        url, header = out.get("webhookUrl"), False
    else:
        url, header = out.get("inletUrl"), True
    if not url:
        where = {"kinesis": "Kinesis stream", "eventhubs": "Event Hub", "pubsub": "Pub/Sub topic"}.get(
            kind.kind, "source")
        say(f"Pipeline {name!r} reads a {what} source: AEP pulls the records from your {where}, so there is "
            f"no inlet to post to. Put these sample records on the {where} to see them arrive:")
        for label, event in samples:
            say(f"  {label:<27} {json.dumps(event)}")
        return False
    if kind.kind in PULLED:
        say(f"Posting sample {what} records to pipeline {name!r} through the emulator's stand-in for the "
            f"stream (emulator-only; in AEP they come from your stream):\n  {url}")
    else:
        say(f"Posting sample {what} payloads to pipeline {name!r}:\n  {url}"
            + ("  (header x-adobe-flow-id)" if header else ""))
    for label, event in samples:
        r = _post(url, event, out["flowId"], header)
        say(f"  {label:<27} -> HTTP {r.status_code} {r.text[:90]}")
    return True


def run(api: Any, base: str, name: str, out: dict[str, Any]) -> int:
    """The demo of one pipeline (its stack outputs `out`) against the stack's endpoint `base`."""
    sandbox, flow_id = out["sandbox"], out["flowId"]
    flow = api.get_flow(sandbox, flow_id)
    kind = kind_of(api, sandbox, flow) or sources.KINDS["pendo"]
    samples = samples_for(kind.kind)
    if not send(kind, out, samples, name):
        return 0
    if is_loopback(base):
        records = api.emulator_dataset_records(sandbox, out["datasetId"], limit=10000)
        say()
        say(f"Dataset {out['datasetId']} holds {len(records)} record(s); the newest, as mapped:")
        for rec in records[-2:]:
            say(json.dumps(rec, indent=2, sort_keys=True))
    else:
        say("\n(Real AEP has no record reader: query the dataset with Query Service to see the records.)")
    primary = out.get("primaryIdentity") or {}
    if out.get("profile") and primary.get("source"):
        say()
        say(profile_view(api, sandbox, primary, [event for _, event in samples]))
    runs = newest_runs(api, sandbox, flow_id)
    say()
    say(f"Dataflow {flow_id} run status:")
    say(table(RUN_HEADERS, [run_row(r) for r in runs[:3]]) if runs else "  no run yet (AEP reports runs with a "
        "delay of a few minutes)")
    if runs:
        for err in ((runs[0].get("metrics") or {}).get("statusSummary") or {}).get("errors") or []:
            say(f"  error {err.get('code')}: {err.get('message')}")
    return 0
