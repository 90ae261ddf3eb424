"""The plan is the truth: for each change to a deployed Pendo pipeline, what `preview` plans is
what `up` performs, resource by resource, and an update writes no POST or DELETE.

One table drives it (CHANGES). Each row edits the repository's pipelines.yaml, previews,
ups, and compares; then the baseline is restored (that `up` is checked the same way) so
every row starts from the deployed tutorial pipeline, unless the row says it follows the
one before. The table in docs/drift.md is this test's own output: it fails when the
document and the measurement part ways (`AEP_UPDATE_DOCS=1` rewrites it).
"""

from __future__ import annotations

import copy
import os
import pathlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from pulumi import automation as auto

from .helpers import Plan, Project, unique_sandbox

pytestmark = [pytest.mark.engine, pytest.mark.slow]

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "drift.md"
BEGIN, END = "<!-- fidelity-table:begin -->", "<!-- fidelity-table:end -->"
_REPLACE_OPS = {"replace", "create-replacement", "delete-replaced"}
# Emulator routes by the object kind they write, to check that an update stays an update.
_KIND_ROUTES = {
    "schema": ("/schemaregistry/tenant/schemas",), "dataset": ("/catalog/dataSets",),
    "source": ("/flowservice/sourceConnections",), "target": ("/flowservice/targetConnections",),
    "mapping": ("/conversion/mappingSets",), "flow": ("/flowservice/flows",),
}


def _pipe(spec: dict) -> dict:
    return spec["pipelines"][0]


def _add_field(spec: dict) -> None:
    p = _pipe(spec)
    p["schema"]["fields"]["guideId"] = {"type": "string", "title": "Pendo guide ID"}
    p["mappings"].append({"source": "properties.guideProperties.id", "destination": "_{tenantId}.guideId"})


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def edit(spec: dict) -> None:
        node = _pipe(spec)
        *parents, last = path.split(".")
        for k in parents:
            node = node.setdefault(k, {})
        node[last] = value
    return edit


def _edit_mapping(source: str | None) -> Callable[[dict], None]:
    """Change the guideName mapping's source path, or (None) remove that mapping."""
    def edit(spec: dict) -> None:
        maps = _pipe(spec)["mappings"]
        i = next(i for i, m in enumerate(maps) if m["destination"].endswith(".guideName"))
        if source is None:
            del maps[i]
        else:
            maps[i]["source"] = source
    return edit


def _both(*edits: Callable[[dict], None]) -> Callable[[dict], None]:
    def edit(spec: dict) -> None:
        for e in edits:
            e(spec)
    return edit


def _second_pipeline(spec: dict) -> None:
    two = copy.deepcopy(_pipe(spec))
    two["name"] = "pendo-two"
    two["source"]["name"] = "Streaming Source Connection for Pendo (two)"
    two["schema"]["title"] = "Pendo events two"
    two["dataset"]["name"] = "Pendo events two"
    two["flow"]["name"] = "Streaming Dataflow for Pendo (two)"
    spec["pipelines"].append(two)


@dataclass
class Change:
    """One row: the edit, and what the plan must say about each resource (others: unchanged)."""

    name: str
    edit: Callable[[dict], None]
    expect: dict[str, str]
    follows_previous: bool = False   # applied on top of the row before, not the baseline
    allow: tuple[str, ...] = ()      # one-way doors the row opens on purpose
    env: dict[str, str] = field(default_factory=dict)


CHANGES = [
    Change("add a field and its mapping", _add_field,
           {"pendo-schema": "update", "pendo-mapping": "update", "pendo-flow": "update"}),
    Change("change a field's title", _set("schema.fields.guideName", {"type": "string", "title": "Guide name"}),
           {"pendo-schema": "update"}),
    Change("remove a mapping", _edit_mapping(None), {"pendo-mapping": "update", "pendo-flow": "update"}),
    Change("rename the dataset", _set("dataset.name", "Pendo events (all)"), {"pendo-dataset": "update"}),
    Change("change the dataset's description", _set("dataset.description", "Webhook events from Pendo"),
           {"pendo-dataset": "update"}),
    Change("change a mapping's source path", _edit_mapping("properties.guideProperties.title"),
           {"pendo-mapping": "update", "pendo-flow": "update"}),
    Change("change the flow's name and description",
           _both(_set("flow.name", "Pendo webhook flow"), _set("flow.description", "From Pendo's webhook")),
           {"pendo-flow": "update"}),
    Change("disable the flow", _set("flow.enabled", False), {"pendo-flow": "update"}),
    Change("enable it again", _set("flow.enabled", True), {"pendo-flow": "update"}, follows_previous=True),
    Change("change the source connection's name", _set("source.name", "Pendo webhook"),
           {"pendo-source": "update"}),
    Change("change the schema's class", _set("schema.class", "profile"),
           {"pendo-schema": "replace", "pendo-dataset": "replace", "pendo-target": "replace",
            "pendo-mapping": "update", "pendo-flow": "replace"},
           allow=("schema", "dataset", "flow")),
    Change("add a second pipeline", _second_pipeline,
           {n: "create" for n in ("pendo-two", "pendo-two-schema", "pendo-two-dataset", "pendo-two-source",
                                  "pendo-two-target", "pendo-two-mapping", "pendo-two-flow")}),
    Change("remove it again", lambda spec: spec["pipelines"].pop(),
           {n: "delete" for n in ("pendo-two", "pendo-two-schema", "pendo-two-dataset", "pendo-two-source",
                                  "pendo-two-target", "pendo-two-mapping", "pendo-two-flow")},
           follows_previous=True),
    # Last: the stack keeps the new name (going back would be a rename of its own).
    Change("rename a pipeline (previous_names)", _both(_set("name", "pendo-zero"), _set("previous_names", ["pendo"])),
           {}),
]


def operations(plan: Plan) -> dict[str, str]:
    """One operation per resource out of the engine's step events."""
    out = {}
    for name, ops in plan.ops.items():
        if ops & _REPLACE_OPS:
            out[name] = "replace"
        elif len(ops) == 1:
            out[name] = next(iter(ops))
        else:
            out[name] = "+".join(sorted(ops))
    return out


def object_writes(calls: dict[str, Any]) -> dict[str, list[str]]:
    """The POSTs and DELETEs the emulator served, by the kind of object they wrote."""
    out: dict[str, list[str]] = {}
    for route, n in calls["requests"].items():
        method, path = route.split(" ", 1)
        if method not in ("POST", "DELETE") or "/action" in path or path.endswith("/preview"):
            continue
        for kind, prefixes in _KIND_ROUTES.items():
            if any(p in path for p in prefixes):
                out.setdefault(kind, []).append(f"{route} x{n}")
    return out


def _fmt_ops(ops: dict[str, str]) -> str:
    if not ops:
        return "nothing"
    by: dict[str, list[str]] = {}
    for name, op in sorted(ops.items()):
        if name.endswith(("-schema", "-dataset", "-source", "-target", "-mapping", "-flow")):
            by.setdefault(op, []).append(name.rsplit("-", 1)[1] if name.startswith("pendo-") else name)
    return "; ".join(f"{op} {', '.join(names)}" for op, names in sorted(by.items())) or "component only"


def _fmt_calls(calls: dict[str, Any]) -> str:
    reqs = {k: v for k, v in calls["requests"].items() if not k.startswith("GET ")}
    reads = calls["reads"]
    writes = ", ".join(f"{k.split(' ', 1)[0]} {_short_route(k)}" + (f" x{v}" if v > 1 else "")
                       for k, v in sorted(reqs.items()))
    return f"{reads} GET" + (f"; {writes}" if writes else "") + (f"; {calls['ims']} token" if calls["ims"] else "")


def _short_route(route: str) -> str:
    path = route.split(" ", 1)[1]
    path = re.sub(r"^/data/foundation/(flowservice|catalog|conversion|schemaregistry/tenant)", "", path)
    return re.sub(r"\{[^}]+\}", "{id}", path)


def render_table(rows: list[tuple[str, dict, dict, dict]]) -> str:
    lines = ["| Change | Planned | Performed | AEP calls of the `up` |", "|---|---|---|---|"]
    for name, planned, performed, calls in rows:
        lines.append(f"| {name} | {_fmt_ops(planned)} | {_fmt_ops(performed)} | {_fmt_calls(calls)} |")
    return "\n".join(lines)


@pytest.fixture
def project(tmp_path, fresh_emulator):
    return Project(tmp_path, fresh_emulator)


def test_every_planned_operation_is_the_one_up_performs(project, monkeypatch):
    baseline = project.default_spec()
    sandbox = unique_sandbox("fidelity")
    spec_file = project.write_spec("spec.yaml", baseline)
    st = project.stack("fidelity", sandbox, spec_file=spec_file)
    project.up(st)

    def apply(spec: dict, label: str) -> tuple[dict, dict, dict]:
        project.write_spec(spec_file, spec)
        project.emu.reset_metrics()
        try:
            _, planned = project.preview(st)
        except auto.errors.CommandError as e:
            pytest.fail(f"{label}: the preview failed: {e}")
        assert project.api_calls()["writes"] == 0, f"{label}: the preview wrote to AEP"
        project.emu.reset_metrics()
        _, performed = project.up(st)
        calls = project.api_calls()
        p, d = operations(planned), operations(performed)
        assert p == d, f"{label}: planned {p}, performed {d}"
        writes = object_writes(calls)
        for name, op in d.items():
            kind = name.rsplit("-", 1)[-1]
            if op == "update":
                assert kind not in writes, f"{label}: {name} was planned as an update but AEP saw {writes[kind]}"
        return p, d, calls

    rows = []
    current = baseline
    for change in CHANGES:
        spec = copy.deepcopy(current if change.follows_previous else baseline)
        change.edit(spec)
        if change.allow:
            _pipe(spec)["allow_replace"] = list(change.allow)
        planned, performed, calls = apply(spec, change.name)
        assert planned == change.expect, f"{change.name}: expected {change.expect}, planned {planned}"
        rows.append((change.name, planned, performed, calls))
        current = spec
        nxt = CHANGES.index(change) + 1
        if nxt == len(CHANGES) or CHANGES[nxt].follows_previous:
            continue
        if change.allow:
            spec = copy.deepcopy(baseline)
            _pipe(spec)["allow_replace"] = list(change.allow)
            apply(spec, f"undo {change.name}")
        apply(copy.deepcopy(baseline), f"undo {change.name}")
        current = baseline

    renamed = rows[-1]
    assert renamed[3]["reads"] == 0 and renamed[3]["writes"] == 0 and renamed[3]["ims"] == 0, renamed[3]
    table = render_table(rows)
    print(table)
    text = DOC.read_text()
    if os.environ.get("AEP_UPDATE_DOCS") == "1":
        head, rest = text.split(BEGIN, 1)
        DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{rest.split(END, 1)[1]}")
    else:
        documented = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
        assert documented == table, ("docs/drift.md's fidelity table differs from this run: rerun with "
                                     "AEP_UPDATE_DOCS=1 and commit docs/drift.md")
