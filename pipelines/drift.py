"""Reading a plan: what `pulumi preview --json` says each resource will undergo, and why.

Pure functions over the preview JSON, shared by `make preview`, `make drift` and the GitOps
comments, so the three never tell a plan differently:

* `changes(report)`: one entry per resource the plan would change, with the fields that
  differ;
* `field_lines(field, old, new)`: a change of a list or object field element by element
  (mappings by destination, schema fields by name, tags by key), never a cut-off prefix;
* `outcome(report, rc, stderr)`: clean, drift or failed. A check that could not run is
  `failed` with its cause, never "no drift".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.rpc import UNKNOWN

from providers.base import ONE_WAY_DOOR

CLEAN, DRIFT, FAILED = "clean", "drift", "failed"
EXIT = {CLEAN: 0, DRIFT: 2, FAILED: 1}
_OP_RANK = {"replace": 5, "create-replacement": 4, "delete-replaced": 3, "create": 2, "delete": 2, "update": 1}
_SYMBOL = {"update": "~", "create": "+", "delete": "-", "replace": "+-"}
# Inputs that only help validate at preview (a mapping set's copy of the schema's paths).
_NOT_SHOWN = {"schema_field_paths"}
# The engine's own closing lines: they say that something failed, never what.
_GENERIC = ("preview failed", "update failed", "no changes were expected")


@dataclass
class Outcome:
    """What a drift check found: `kind` is CLEAN, DRIFT or FAILED."""

    kind: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)       # why it failed, or the refused one-way doors
    provider_updates: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT[self.kind]


# -- the plan ------------------------------------------------------------------------------------


def changes(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per AEP object the plan would change: op, type, name, urn, fields, gone."""
    steps = report.get("steps") or []
    refreshed_gone = {s["urn"] for s in steps
                      if s.get("op") == "refresh" and s.get("oldState") and not s.get("newState")}
    refreshed = {s["urn"] for s in steps if s.get("op") == "refresh"}
    by_urn: dict[str, dict[str, Any]] = {}
    for step in steps:
        op = step.get("op")
        if op in (None, "same", "refresh", "read"):
            continue
        urn = step["urn"]
        old = (step.get("oldState") or {}).get("inputs") or {}
        new = (step.get("newState") or {}).get("inputs") or {}
        diff = sorted(k for k in set(old) | set(new) if not k.startswith("__") and old.get(k) != new.get(k))
        entry = by_urn.get(urn)
        if entry is None or _OP_RANK.get(op, 0) > _OP_RANK.get(entry["op"], 0):
            by_urn[urn] = entry = {"op": "replace" if op in ("create-replacement", "delete-replaced") else op,
                                   "type": urn.split("::")[-2].rsplit(":", 1)[-1], "name": urn.split("::")[-1],
                                   "urn": urn, "fields": {} if entry is None else entry["fields"], "gone": False}
        if op != "delete-replaced":  # its "new" side is empty: it says nothing about what changed
            for k in (k for k in diff if k not in _NOT_SHOWN):
                entry["fields"].setdefault(k, (old.get(k), new.get(k)))
        if op == "create":
            entry["gone"] = urn in refreshed_gone or (not step.get("oldState") and urn in refreshed)
    return [e for e in by_urn.values() if not is_provider(e["urn"])]


def is_provider(urn: str) -> bool:
    """Provider resources (shards) are not AEP objects."""
    return urn.split("::")[-2].startswith("pulumi:providers:")


def provider_updates(report: dict[str, Any]) -> list[str]:
    """Provider resources the plan would change (with provider shards: an aep:* setting changed)."""
    return sorted({s["urn"].split("::")[-1] for s in report.get("steps") or []
                   if s.get("op") not in (None, "same", "refresh", "read") and is_provider(s["urn"])})


def errors(report: dict[str, Any]) -> list[str]:
    """The error diagnostics, each as `<resource>: <message>`, without the engine's generic lines."""
    out: list[str] = []
    for d in report.get("diagnostics") or []:
        msg = str(d.get("message") or "").strip()
        if d.get("severity", "error") != "error" and not msg.startswith("error:"):
            continue
        msg = msg.removeprefix("error:").strip().removeprefix("Preview failed:").strip()
        if not msg or msg.lower().startswith(_GENERIC):
            continue
        who = str(d.get("urn") or "").split("::")[-1]
        text = f"{who}: {msg}" if who else msg
        if text not in out:
            out.append(text)
    return out


def _grouped(causes: list[str]) -> list[str]:
    """One line per distinct cause: six reads refused by IMS for the same reason are one line."""
    by_cause: dict[str, list[str]] = {}
    for c in causes:
        who, _, msg = c.partition(": ")
        # "<Kind> '<name>' (<id>): read failed: <cause>": the cause is what follows the label.
        head, sep, cause = msg.partition("): ")
        key = cause if sep and " failed: " in cause else msg
        by_cause.setdefault(key, []).append(who if sep else c)
    out = []
    for cause, who in by_cause.items():
        if len(who) == 1:
            out.append(next(c for c in causes if c.startswith(who[0] + ": ") or c == who[0]))
        else:
            out.append(f"{', '.join(who)}: {cause}")
    return out


def outcome(report: dict[str, Any] | None, rc: int, stderr: str = "") -> Outcome:
    """Interpret `pulumi preview --refresh --expect-no-changes --json`: its JSON, exit status, stderr."""
    if report is None:
        tail = "\n".join((stderr or "").strip().splitlines()[-5:]) or f"pulumi exited with status {rc}"
        return Outcome(FAILED, causes=[tail])
    found = changes(report)
    errs = errors(report)
    refused = [e for e in errs if ONE_WAY_DOOR in e]
    failures = [e for e in errs if ONE_WAY_DOOR not in e]
    if failures:
        return Outcome(FAILED, found, _grouped(failures))
    if found or refused:
        return Outcome(DRIFT, found, refused)
    if rc != 0:
        pending = provider_updates(report)
        if pending and "no changes were expected" in (stderr or ""):
            return Outcome(CLEAN, provider_updates=pending)
        tail = "\n".join((stderr or "").strip().splitlines()[-5:]) or f"pulumi exited with status {rc}"
        return Outcome(FAILED, causes=[tail])
    return Outcome(CLEAN)


# -- rendering ----------------------------------------------------------------------------------


def show(v: Any) -> str:
    """A value as the user wrote it: whole, never cut short."""
    if v == UNKNOWN:
        return "(known after apply)"
    if isinstance(v, str):
        return repr(v)
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


def field_lines(name: str, old: Any, new: Any) -> list[str]:
    """A field's change: lists and objects element by element, scalars as old -> new."""
    if old == UNKNOWN or new == UNKNOWN:
        return [f"{name}: {show(old)} -> {show(new)}"]
    if name == "mappings" and _all_dicts(old, new):
        return _mapping_lines(old or [], new or [])
    if name == "fields" and isinstance(old or {}, dict) and isinstance(new or {}, dict):
        return _schema_field_lines(old or {}, new or {}, prefix="")
    if isinstance(old, dict) or isinstance(new, dict):
        return [f"{name}:"] + [f"  {line}" for line in _dict_lines(old or {}, new or {})]
    if isinstance(old, list) or isinstance(new, list):
        return [f"{name}:"] + [f"  {line}" for line in _list_lines(old or [], new or [])]
    return [f"{name}: {show(old)} -> {show(new)}"]


def _all_dicts(*lists: Any) -> bool:
    return all(isinstance(x, list) and all(isinstance(m, dict) for m in x) for x in lists if x is not None)


def _mapping_lines(old: list[dict], new: list[dict]) -> list[str]:
    """Mappings keyed by destination: `+ src -> dst`, `- src -> dst`, `~ src -> dst (attr: a -> b)`."""
    o = {m.get("destination"): m for m in old}
    n = {m.get("destination"): m for m in new}
    gone, added, changed = _by_key(o, n)
    lines = [f"- {o[d].get('source')} -> {d}" for d in gone] + [f"+ {n[d].get('source')} -> {d}" for d in added]
    for dest in changed:
        a, b = o[dest], n[dest]
        attrs = [f"{k}: {show(a.get(k))} -> {show(b.get(k))}" for k in sorted(set(a) | set(b))
                 if k != "source" and a.get(k) != b.get(k)]
        src = a.get("source") if a.get("source") == b.get("source") else f"{a.get('source')} => {b.get('source')}"
        lines.append(f"~ {src} -> {dest}" + (f" ({'; '.join(attrs)})" if attrs else ""))
    if not lines and old != new:
        lines.append("~ the same mappings in another order")
    return ["mappings:"] + [f"  {line}" for line in lines]


def _schema_field_lines(old: dict, new: dict, prefix: str) -> list[str]:
    """Schema fields by name: added, removed, or the attributes that changed (nested by path)."""
    gone, added, changed = _by_key(old, new)
    lines = [] if prefix else ["fields:"]
    lines += [f"  - {prefix}{k} ({_field_brief(old[k])})" for k in gone]
    lines += [f"  + {prefix}{k} ({_field_brief(new[k])})" for k in added]
    for k in changed:
        a, b = old[k], new[k]
        if not (isinstance(a, dict) and isinstance(b, dict)):
            lines.append(f"  ~ {prefix}{k}: {show(a)} -> {show(b)}")
            continue
        for attr in sorted(set(a) | set(b)):
            if a.get(attr) == b.get(attr):
                continue
            if attr == "properties" and isinstance(a.get(attr) or {}, dict) and isinstance(b.get(attr) or {}, dict):
                lines += _schema_field_lines(a.get(attr) or {}, b.get(attr) or {}, prefix=f"{prefix}{k}.")
            else:
                lines.append(f"  ~ {prefix}{k}: {attr} {show(a.get(attr))} -> {show(b.get(attr))}")
    return lines


def _field_brief(f: Any) -> str:
    if not isinstance(f, dict):
        return show(f)
    bits = [str(f.get("type", "?"))] + ([repr(f["title"])] if f.get("title") else [])
    return ", ".join(bits)


def _dict_lines(old: dict, new: dict) -> list[str]:
    gone, added, changed = _by_key(old, new)
    return ([f"- {k}: {show(old[k])}" for k in gone] + [f"+ {k}: {show(new[k])}" for k in added]
            + [f"~ {k}: {show(old[k])} -> {show(new[k])}" for k in changed])


def _by_key(old: dict, new: dict) -> tuple[list, list, list]:
    """The keys removed, added and changed from `old` to `new`, each in its dict's order."""
    return ([k for k in old if k not in new], [k for k in new if k not in old],
            [k for k in new if k in old and new[k] != old[k]])


def _list_lines(old: list, new: list) -> list[str]:
    lines = [f"- {show(x)}" for x in old if x not in new]
    lines += [f"+ {show(x)}" for x in new if x not in old]
    return lines or ["~ the same items in another order"]


def why(c: dict[str, Any]) -> list[str]:
    """The lines that explain one planned change."""
    if c["gone"]:
        return ["missing in AEP (deleted outside Pulumi): it will be created again"]
    out: list[str] = []
    if c["type"] == "ProfileEnablement" and c["op"] == "create":
        out.append("enables the schema for Real-Time Customer Profile: this cannot be undone (AEP never lets the "
                   "schema be disabled, deleted or lose fields; docs/identity-and-profile.md)")
    for k, (old, new) in c["fields"].items():
        if c["op"] == "replace" and new == UNKNOWN:
            out.append(f"{k}: follows a replaced or recreated dependency")
        elif c["op"] in ("create", "replace") and old is None:
            continue
        else:
            out += field_lines(k, old, new)
    if not out and c["op"] == "create":
        out.append("declared in the code but not deployed yet")
    if not out and c["op"] == "delete":
        out.append("no longer declared in the code: it will be deleted")
    return out or ["changed"]


def _stack_arg(stack: str) -> str:
    return "" if stack == "dev" else f" STACK={stack}"


def plan_lines(found: list[dict[str, Any]]) -> list[str]:
    """Each planned change, then its reasons, indented."""
    lines = []
    for c in found:
        lines.append(f"  {_SYMBOL.get(c['op'], '?'):>2} {c['op']:<8} {c['type']} {c['name']}")
        lines += [f"       {w}" for w in why(c)]
    return lines


def summary(stack: str, result: Outcome) -> str:
    """The drift check's report for a terminal."""
    if result.kind == FAILED:
        lines = [f"Drift check failed: stack {stack!r} could not be compared with AEP, so nothing is known about "
                 "drift."]
        lines += [f"  {c}" for c in result.causes]
        lines.append("Fix the cause above, then run the check again.")
        return "\n".join(lines)
    if result.kind == CLEAN:
        return (f"No drift: stack {stack!r} matches AEP and the code (pulumi preview --refresh planned no "
                "changes).")
    lines = [f"DRIFT in stack {stack!r}: {len(result.changes) or len(result.causes)} resource(s) differ from the "
             "code."]
    lines += plan_lines(result.changes)
    lines += [f"  !  {c}" for c in result.causes]
    lines.append(f"Fix: `make up{_stack_arg(stack)}` puts the declared state back; or change the code to keep "
                 "what AEP has. See docs/drift.md.")
    return "\n".join(lines)


def markdown(stack: str, result: Outcome) -> str:
    """The same report as Markdown (the scheduled workflow's issue body)."""
    if result.kind == FAILED:
        causes = "\n".join(f"- {c}" for c in result.causes)
        return (f"Drift check failed: stack `{stack}` could not be compared with AEP, so nothing is known about "
                f"drift.\n\n{causes}\n")
    if result.kind == CLEAN:
        return f"No drift in stack `{stack}`.\n"
    rows = "\n".join(f"| {c['op']} | {c['type']} | `{c['name']}` | {'<br>'.join(_md(w) for w in why(c))} |"
                     for c in result.changes)
    refused = "".join(f"\n- {c}" for c in result.causes)
    return (f"Stack `{stack}` drifted from the code: {len(result.changes)} resource(s) differ.\n\n"
            "| Plan | Type | Resource | Why |\n|---|---|---|---|\n" + rows + "\n" + refused + "\n\n"
            f"Run the deploy workflow (or `make up STACK={stack}`) to restore the declared state, or change the "
            "code to keep what AEP has. See docs/drift.md.\n")


def _md(text: str) -> str:
    return "`" + text.strip().replace("`", "'") + "`" if text.startswith(" ") else text.replace("|", "\\|")


def counts(report: dict[str, Any]) -> dict[str, int]:
    """Resources by what the plan does to them (one operation each), as Pulumi's summary counts them."""
    per: dict[str, str] = {}
    for step in report.get("steps") or []:
        op = step.get("op")
        if op in (None, "refresh", "read") or is_provider(step["urn"]):
            continue
        op = "replace" if op in ("create-replacement", "delete-replaced") else op
        if _OP_RANK.get(op, 0) >= _OP_RANK.get(per.get(step["urn"], ""), 0):
            per[step["urn"]] = op
    out: dict[str, int] = {}
    for op in per.values():
        out[op] = out.get(op, 0) + 1
    return out


_VERB = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete",
         "same": "unchanged"}


def preview_text(stack: str, report: dict[str, Any] | None, rc: int, stderr: str = "",
                 policy_packs: tuple[str, ...] = ()) -> str:
    """`make preview`: each planned change with its element-by-element diff, the counts, and any
    error. `policy_packs`: the packs the preview ran; the JSON report lists only their findings,
    so a plan they passed names them here."""
    if report is None:
        tail = "\n".join((stderr or "").strip().splitlines()[-10:]) or f"pulumi exited with status {rc}"
        return f"Preview of stack {stack!r} failed:\n  {tail}"
    found = changes(report)
    lines = [f"Plan for stack {stack!r}:"]
    lines += plan_lines(found) or ["  no changes"]
    tally = report.get("changeSummary") or counts(report)
    lines += ["", "Resources:"]
    order = ["create", "update", "replace", "delete"]
    for op in sorted(tally, key=lambda o: order.index(o) if o in order else len(order)):
        symbol = f"{_SYMBOL[op]} " if op in _SYMBOL else ""
        lines.append(f"    {symbol}{tally[op]} {_VERB.get(op, op)}")
    lines.append("")
    if policy_packs:
        lines.append(f"Policy packs run: {', '.join(policy_packs)} (docs/policies.md)")
    errs = errors(report)
    if errs:
        lines.append("Refused or failed:" if rc else "Diagnostics:")
        lines += [f"  {e}" for e in _grouped(errs)]
    elif rc:
        lines.append("\n".join((stderr or "").strip().splitlines()[-5:]))
    return "\n".join(lines)
