"""Before `preview` and `up`: refuse a spec whose new objects would take a unique title that an
object this stack deployed still holds.

The case this exists for is a pipeline renamed without `previous_names` (`pendo` to
`pendo-zero`). To Pulumi that is a new pipeline plus a removed one: it creates the new
objects first and deletes the old ones last. The new schema's title is the old schema's,
and Schema Registry titles are unique per sandbox (pipelines/unique.py), so `up` fails with
XDM-3005-400 after it has created whatever does not wait for the schema (a second source
connection), and even a working rename would lose the dataset's data and change the
webhook URL. The same happens when a kept pipeline gives up a title in the same run in
which another one takes it: the create and the update run in no set order.

The Pulumi program cannot see this: it is told what to declare, not what is deployed. The
CLI can: `pulumi stack export` (read-only, no AEP call) holds every XdmSchema with its
title and the pipeline component it belongs to. `check` compares that with the resolved
spec. A spec the program would refuse anyway is left to the program's own message.
"""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass
from typing import Any, Iterable

from .problems import Problem, SpecError
from .spec import PROJECT, load_resolved
from .unique import RULE_DOC, title_key, unique_titles

PIPELINE_TYPES = ("aep-pipelines:index:PendoPipeline", "aep-pipelines:index:StreamingPipeline")
SCHEMA_TYPE = "pulumi-python:dynamic/aep:XdmSchema"


@dataclass(frozen=True)
class Held:
    """A unique title an object of the deployed stack holds in AEP."""

    pipeline: str  # the pipeline component's name
    kind: str      # "schema" or "field group"
    title: str
    sandbox: str


def deployed_pipelines(deployment: dict[str, Any]) -> dict[str, str]:
    """The stack's pipeline components in a `pulumi stack export` deployment: URN -> name."""
    return {r.get("urn"): str(r.get("urn")).split("::")[-1] for r in deployment.get("resources") or []
            if r.get("type") in PIPELINE_TYPES}


def held_titles(deployment: dict[str, Any]) -> list[Held]:
    """Every unique title the stack's pipelines hold, from a `pulumi stack export` deployment.

    Both the declared title (inputs) and the one AEP had at the last refresh (outputs)
    count: either may be what AEP holds now.
    """
    components = deployed_pipelines(deployment)
    held: list[Held] = []
    for r in deployment.get("resources") or []:
        if r.get("type") != SCHEMA_TYPE or r.get("parent") not in components:
            continue
        ins, outs = r.get("inputs") or {}, r.get("outputs") or {}
        sandbox = ins.get("sandbox") or outs.get("sandbox")
        titles = {t for t in (outs.get("title"), ins.get("title")) if isinstance(t, str) and t}
        if not isinstance(sandbox, str):
            continue
        for title in sorted(titles):
            held += [Held(components[r["parent"]], kind, t, sandbox) for kind, t in unique_titles(title)]
    return held


def collisions(pipes: Iterable[tuple[str, Any]], deployment: dict[str, Any]) -> list[Problem]:
    """Each declared pipeline whose schema (or field group) title an object of another
    pipeline of the deployed stack holds; `pipes` is (path in the spec, resolved pipeline)."""
    pipes = list(pipes)
    held = held_titles(deployment)
    names = set(deployed_pipelines(deployment).values())
    declared = {n: path for path, p in pipes for n in (p.name, *p.previous_names)}
    problems = []
    for path, p in pipes:
        mine = {p.name, *p.previous_names}
        both = [old for old in p.previous_names if old in names]
        if p.name in names and both:
            problems.append(_half_renamed(path, p.name, both[0]))
            continue
        clash = next(((kind, title, h) for kind, title in unique_titles(p.schema_title) for h in held
                      if h.kind == kind and h.sandbox == p.sandbox and h.pipeline not in mine
                      and title_key(h.title) == title_key(title)), None)
        if clash:
            problems.append(_problem(path, *clash, declared))
    return problems


def _half_renamed(path: str, name: str, old: str) -> Problem:
    """Both names deployed: a rename without previous_names stopped half way (pulumi up run by hand)."""
    return Problem(f"{path}.previous_names", f"the stack holds both {old!r} and {name!r}: a rename that ran without "
                   "previous_names stopped half way, and the objects it created under the new name keep the "
                   f"aliases from applying (Pulumi would recreate every object of {old!r} and delete the old ones). "
                   f"Set the name back to {old!r} and run `make up`: it deletes what the interrupted rename "
                   f"created; then rename again, with `previous_names: [{old}]`")


def _problem(path: str, kind: str, title: str, h: Held, declared: dict[str, str]) -> Problem:
    """The clash, why `up` would fail on it, and the fix."""
    held_as = "" if h.title == title else f" (as {h.title!r})"
    rule = (f"{kind} titles are unique per sandbox, compared ignoring letter case ({RULE_DOC}), so `up` would "
            "stop half way with XDM-3005-400 after creating some of the new objects")
    if h.pipeline in declared:
        return Problem(f"{path}.schema.title", f"{title!r} is the {kind} title pipeline {h.pipeline!r} "
                       f"({declared[h.pipeline]}) holds in sandbox {h.sandbox!r}{held_as} until this run changes "
                       f"it, and the create here may run first: {rule}. Move the title in two runs: `up` with "
                       f"{h.pipeline!r}'s new title first, then give {path} this one")
    return Problem(f"{path}.schema.title", f"{title!r} is the {kind} title of pipeline {h.pipeline!r}, which this "
                   f"stack deployed in sandbox {h.sandbox!r}{held_as} and this spec no longer declares: Pulumi would "
                   f"create the new objects before it deletes the old ones, and {rule}. If {path} is "
                   f"{h.pipeline!r} renamed, add `previous_names: [{h.pipeline}]` to {path}: Pulumi then moves the "
                   "state and every AEP object stays, with its data and webhook URL. If it is a new pipeline, give "
                   f"it another schema.title, or remove {h.pipeline!r} in a run of its own first")


def deployment_of(export_text: str) -> dict[str, Any]:
    """The `deployment` of a `pulumi stack export`; empty when there is none or it is unreadable."""
    try:
        return (json.loads(export_text or "{}") or {}).get("deployment") or {}
    except (json.JSONDecodeError, AttributeError):
        return {}


def resolved_spec(config: dict[str, Any], base_dir: pathlib.Path) -> tuple[str, list[tuple[str, Any]]] | None:
    """The stack's spec (from its committed `config`), resolved as the program will: (origin,
    [(path, pipeline)]); None when it is invalid (the program names its problems)."""
    pipelines = config.get(f"{PROJECT}:pipelines")
    if isinstance(pipelines, str):
        try:
            pipelines = json.loads(pipelines)
        except json.JSONDecodeError:
            return None
    tenant = config.get("aep:tenantId") or os.environ.get("AEP_TENANT_ID") or None
    try:
        return load_resolved(pipelines, config.get(f"{PROJECT}:specFile"), sandbox=config.get("aep:sandbox"),
                             tenant_id=tenant, base_dir=base_dir)
    except SpecError:
        return None


def check(config: dict[str, Any], export_text: str, base_dir: pathlib.Path) -> SpecError | None:
    """The clashes of the stack's spec (from its committed `config`) with its state (the text of
    `pulumi stack export`), as a SpecError; None when there are none, or when the spec is
    invalid (the program names its problems) or the state unreadable (pulumi reports it)."""
    deployment = deployment_of(export_text)
    if not deployment.get("resources"):
        return None
    spec = resolved_spec(config, base_dir)
    if spec is None:
        return None
    origin, pipes = spec
    problems = collisions(pipes, deployment)
    return SpecError(f"{origin}, compared with what the stack has deployed", problems) if problems else None
