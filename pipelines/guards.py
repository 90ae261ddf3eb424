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
import sys
from dataclasses import dataclass
from typing import Any, Iterable

from .workspace import ROOT, CliError, note, pulumi, stack_config

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


PROFILE_TYPE = "pulumi-python:dynamic/aep:ProfileEnablement"


def profile_refusal(deployment: dict[str, Any], pipes: Iterable[Any], stack: str) -> str | None:
    """Why a plan that takes Profile away from a deployed pipeline is refused, or None.

    AEP cannot disable Profile on a schema, nor delete a Profile schema: `profile: false` is a
    plan no `up` can carry out, and removing the pipeline leaves the schema enabled in AEP."""
    by_name = {n: p for p in pipes for n in (p.name, *p.previous_names)}
    components = {r.get("urn"): str(r.get("urn")).split("::")[-1] for r in deployment.get("resources") or []
                  if str(r.get("type", "")).startswith("aep-pipelines:index:")}
    lines = []
    for r in deployment.get("resources") or []:
        if r.get("type") != PROFILE_TYPE or components.get(r.get("parent")) is None:
            continue
        name = components[r["parent"]]
        p = by_name.get(name)
        if p is not None and p.profile:
            continue
        if p is not None:
            lines.append(f"  - pipeline {name!r} says `profile: false`, but its schema {r.get('id')} is enabled for "
                         "Profile, and AEP cannot disable Profile on a schema: keep `profile: true` (to stop "
                         "using Profile, build a new pipeline with a new schema title and retire this one)")
        elif not allowed():
            lines.append(f"  - pipeline {name!r} is no longer in the spec, but its schema {r.get('id')} is enabled "
                         "for Profile: AEP cannot delete it, so it would stay in the sandbox, enabled; to go ahead, "
                         f"run `pulumi state unprotect '{r.get('urn')}' --stack {stack}`, then `make up` with "
                         f"{ALLOW_ENV}=1")
    if not lines:
        return None
    return "\n".join(["refused (one-way door): Profile cannot be taken away from a schema:", *lines,
                      "Nothing was changed (no AEP call was made)."])


def release_profile_enablements(stack: str) -> None:
    """Before `make destroy`: lift Pulumi's protection from the stack's Profile enablements.

    They are protected so that a spec change cannot take Profile away; a destroy is asked for
    explicitly, and deleting one makes no AEP call (its schema stays, enabled, as AEP wants)."""
    proc = pulumi(stack, "stack", "export", "--stack", stack, capture=True, check=False)
    if proc.returncode != 0:
        return
    from pipelines import renames  # noqa: PLC0415 - the spec models load only for the commands that need them

    for r in renames.deployment_of(proc.stdout).get("resources") or []:
        if r.get("type") == PROFILE_TYPE and r.get("protect"):
            note(f"the schema {r.get('id')} is enabled for Profile: AEP cannot delete it, so it stays in the sandbox")
            pulumi(stack, "state", "unprotect", r["urn"], "--yes", "--stack", stack, capture=True)


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


# -- what the CLI runs before pulumi -------------------------------------------------------------


def preflight(stack: str) -> None:
    """Before preview and up, from the stack's config and state only (no AEP call): refuse a
    spec whose new schema takes a title an object of this stack still holds, such as a rename
    without `previous_names` (pipelines/renames.py), which `up` would fail on half way; and a
    spec that drops a deployed pipeline, whose dataset and dataflow `up` would delete
    (pipelines/guards.py), unless ALLOW_DATA_LOSS=1."""
    from pipelines import renames  # noqa: PLC0415 - the spec models load only for the commands that need them

    proc = pulumi(stack, "stack", "export", "--stack", stack, capture=True, check=False)
    if proc.returncode != 0:
        return  # no state to compare with, or one pulumi cannot read: the pulumi command says why
    config = stack_config(stack)
    error = renames.check(config, proc.stdout, ROOT)
    if error is not None:
        raise CliError(f"{error}\nNothing was changed (no AEP call was made).")
    spec = renames.resolved_spec(config, ROOT)
    if spec is None:
        return  # the program names the spec's problems
    declared = [n for _, p in spec[1] for n in (p.name, *p.previous_names)]
    deployment = renames.deployment_of(proc.stdout)
    error = profile_refusal(deployment, [p for _, p in spec[1]], stack)
    if error is not None:
        raise CliError(error)
    losses = removal_losses(deployment, declared)
    if losses and not allowed():
        raise CliError(refusal(losses, stack))
    if losses:
        note(f"{ALLOW_ENV}=1: going ahead with deleting {len(losses)} object(s) that hold data")


def confirm_flags(stack: str, action: str) -> list[str]:
    """`--yes` for dev; elsewhere Pulumi's own prompt on a terminal, and without one an explicit YES=1."""
    if stack == "dev" or os.environ.get("YES") == "1":
        return ["--yes"]
    if sys.stdin.isatty() and sys.stdout.isatty():
        return []  # pulumi shows the plan and asks before it changes anything
    raise CliError(f"`make {action} STACK={stack}` changes a real sandbox and there is no terminal to confirm on: "
                   f"review the plan (`make preview STACK={stack}`), then run `make {action} STACK={stack} YES=1`")
