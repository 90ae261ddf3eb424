"""One-way doors the CLI guards before `up` runs: what a removal from the spec would delete.

A replacement that loses data is refused by the providers themselves, at preview
(`allow_replace`, providers/base.py). A deletion is different: a pipeline taken out of the
spec is simply no longer declared, so no provider is asked before its dataset (and the data
ingested into it) and its dataflow (and the webhook URL senders post to) are deleted.
`make up` and `make preview` therefore compare the spec with the stack's state (`pulumi
stack export`: read-only, no AEP call) and refuse such a plan unless the user allows it for
the run with ALLOW_DATA_LOSS=1. An object kept by `retain_on_delete` stays in AEP and is
not a loss. Outside dev, datasets are also protected in Pulumi itself, so even a raw
`pulumi destroy` cannot drop them without an explicit `pulumi state unprotect`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable

ALLOW_ENV = "ALLOW_DATA_LOSS"
_KINDS = {
    "pulumi-python:dynamic/aep:Dataset": ("dataset", "its ingested batches are deleted"),
    "pulumi-python:dynamic/aep:Dataflow": ("dataflow", "its webhook URL {webhook} stops working and its run "
                                           "history is lost"),
    "pulumi-python:dynamic/aep:XdmSchema": ("schema", "it is deleted with the fields it defines"),
}


@dataclass(frozen=True)
class Loss:
    """An object a plan would delete for good, and what goes with it."""

    pipeline: str
    kind: str
    name: str
    id: str
    lost: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name!r} ({self.id}) of pipeline {self.pipeline!r}: {self.lost}"


def allowed() -> bool:
    """Whether the user allowed losing data for this run (`make up ALLOW_DATA_LOSS=1`)."""
    return os.environ.get(ALLOW_ENV) == "1"


def removal_losses(deployment: dict[str, Any], declared: Iterable[str]) -> list[Loss]:
    """What deleting the pipelines that `declared` (names and previous names) no longer holds loses."""
    keep = set(declared)
    components = {r.get("urn"): str(r.get("urn")).split("::")[-1] for r in deployment.get("resources") or []
                  if str(r.get("type", "")).startswith("aep-pipelines:index:")}
    losses = []
    for r in deployment.get("resources") or []:
        kind = _KINDS.get(r.get("type"))
        pipeline = components.get(r.get("parent"))
        if kind is None or pipeline is None or pipeline in keep or r.get("retainOnDelete"):
            continue
        ins, outs = r.get("inputs") or {}, r.get("outputs") or {}
        name = outs.get("title") or outs.get("name") or ins.get("title") or ins.get("name") or r["urn"].split("::")[-1]
        inlet = outs.get("inlet_url")
        webhook = f"{inlet}?x-adobe-flow-id={r.get('id')}" if inlet else "(unknown)"
        losses.append(Loss(pipeline, kind[0], str(name), str(r.get("id")), kind[1].format(webhook=webhook)))
    return losses


def refusal(losses: list[Loss], stack: str) -> str:
    """The message that refuses a plan with losses: each object and what is lost, and how to allow it."""
    gone = sorted({loss.pipeline for loss in losses})
    lines = [f"refused (one-way door): pipeline(s) {', '.join(map(repr, gone))} are deployed in stack {stack!r} "
             "but no longer in the spec, so `up` would delete:"]
    lines += [f"  - {loss}" for loss in losses]
    arg = "" if stack == "dev" else f" STACK={stack}"
    lines.append("Nothing was changed. If the pipeline was renamed, add `previous_names: [<old name>]` to it; to "
                 "keep its objects in AEP but stop managing them, set `retain_on_delete: true` on it and `make "
                 f"up{arg}` before removing it; to delete them, run once with `make up{arg} ALLOW_DATA_LOSS=1`.")
    return "\n".join(lines)
