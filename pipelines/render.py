"""What the CLI prints of its own: the `up` banner, tables of runs, the resource graph's labels."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from providers import sources

from .workspace import is_loopback


def say(msg: str = "") -> None:
    """A line of the command's own output on stdout."""
    print(msg, flush=True)


# Where a webhook sender takes the URL, for the kinds whose pages say.
PASTE_HINTS = {"pendo": "Paste the Pendo webhook URL into Pendo: Settings > Integrations > Webhooks > Add webhook."}
# Kinds that post to a webhook URL (no account): the others read from the customer's stream or authenticate.
WEBHOOK_KINDS = frozenset(k.kind for k in sources.CATALOG if not k.takes_account) | {"http-streaming"}


def banner(stack: str, base: str, pipes: dict[str, dict[str, Any]],
           before: dict[str, dict[str, Any]] | None = None) -> None:
    rule = "=" * 78
    where = f"the local AEP emulator at {base}" if is_loopback(base) else base
    say()
    say(rule)
    say(f" Stack {stack!r} is up: {len(pipes)} pipeline(s) on {where}")
    hints: set[str] = set()
    for name, out in pipes.items():
        say()
        say(f" Pipeline {name!r}  (sandbox {out.get('sandbox')}, dataflow {out.get('flowId')}, "
            f"{out.get('flowState')})")
        kind = out.get("sourceKind", "pendo")
        label = sources.short(sources.KINDS[kind].label) if kind in sources.KINDS else kind
        webhook = kind in WEBHOOK_KINDS
        say(f"   Inlet URL:          {out.get('inletUrl')}")
        if webhook:
            say(f"   {label + ' webhook URL:':<20}{out.get('webhookUrl')}")
        old = (before or {}).get(name, {}).get("webhookUrl")
        if webhook and old and old != out.get("webhookUrl"):
            # A replaced dataflow has a new inlet: the URL pasted into the sender stops working.
            say(f"   ! The webhook URL changed in this update: replace it in {label}'s webhook settings.")
        if out.get("flowState") in ("disabled", "disabling"):
            # AEP answers the sender 200 either way, so nothing on the sender's side shows it.
            say("   ! The dataflow is disabled: events posted to the webhook are dropped (not ingested, not "
                "queued) until it is enabled again (flow.enabled: true, then make up).")
        if kind in PASTE_HINTS:
            hints.add(PASTE_HINTS[kind])
    say()
    for hint in sorted(hints):
        say(f" {hint}")
    say(f" Next: make demo{stack_arg(stack)}   make status{stack_arg(stack)}   make drift{stack_arg(stack)}")
    say(rule)


def stack_arg(stack: str) -> str:
    return "" if stack == "dev" else f" STACK={stack}"


def fmt_time(ms: Any) -> str:
    if not isinstance(ms, (int, float)) or not ms:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*r) for r in cells]
    return "\n".join(line.rstrip() for line in out)


def run_row(run: dict[str, Any]) -> list[Any]:
    m = run.get("metrics") or {}
    rs = m.get("recordSummary") or {}
    errors = (m.get("statusSummary") or {}).get("errors") or []
    first = f"{errors[0].get('code')}: {errors[0].get('message')}" if errors else ""
    if len(first) > 60:
        first = first[:57] + "..."
    return [run.get("id", "")[:8], fmt_time((m.get("durationSummary") or {}).get("startedAtUTC") or
                                             run.get("createdAt")),
            (m.get("statusSummary") or {}).get("status", "-"), rs.get("inputRecordCount", 0),
            rs.get("outputRecordCount", 0), rs.get("failedRecordCount", 0), first]


RUN_HEADERS = ["Run", "Started (UTC)", "Status", "In", "Ingested", "Failed", "First error"]


GRAPH_STYLE = ('rankdir=LR; nodesep=0.35; ranksep=0.6; '
               'node [shape=box, style="rounded,filled", fillcolor="#F4F6F8", fontname="Helvetica", fontsize=11]; '
               'edge [fontname="Helvetica", fontsize=9];')


def short_labels(dot: str) -> str:
    """`Type\nname` instead of whole URNs: the picture stays readable at page width."""
    def label(m: "re.Match[str]") -> str:
        urn = m.group(1)
        typ = urn.split("::")[-2].split("$")[-1]
        kind = typ.rsplit(":", 1)[-1] if "dynamic/aep:" in typ or "index:" in typ else typ
        return f'[label="{kind}\\n{urn.split("::")[-1]}"]'
    return re.sub(r'\[label="(urn:pulumi:[^"]+)"\]', label, dot)


def profile_view(api: Any, sandbox: str, primary: dict[str, Any], events: list[Any]) -> str:
    """The Profile the demo's events were stitched into: the first sample's primary identity,
    looked up in Real-Time Customer Profile (GET /data/core/ups/access/entities)."""
    value: Any = events[0] if events else None
    for part in str(primary["source"]).split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, str) or not value:
        return f"(the samples carry no {primary['source']}: no profile to show)"
    found = api.get_profile(sandbox, value, primary["namespace"])
    head = f"Profile of {primary['namespace']} {value!r} in Real-Time Customer Profile, stitched on {primary['field']}:"
    if not found:
        return f"{head}\n  not found (AEP merges streamed records into profiles within minutes)"
    return f"{head}\n{json.dumps(found, indent=2, sort_keys=True)}"
