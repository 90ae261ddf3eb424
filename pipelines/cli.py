"""`python -m pipelines.cli`: the commands behind `make up`, `make demo`, `make status`, `make drift`...

    up [--no-refresh]      start the emulator if the stack targets it and it is down, then
                           `pulumi up --refresh --yes`, then print the inlet and webhook URLs
    preview [--refresh]    `pulumi preview`
    drift [--markdown F]   `pulumi preview --refresh --expect-no-changes`, summarised; exit 2 on drift
    status                 each pipeline's dataflow state and recent runs
    demo                   post sample Pendo events to the inlet; show mapped records and the run
    destroy [--remove]     `pulumi destroy --yes` (and `pulumi stack rm` with --remove)
    graph                  `pulumi stack graph` rendered by graphviz into docs/resource-graph.png
    emulator-start         start the background emulator (what `up` does on a loopback endpoint)
    emulator-stop          stop the background emulator

User-facing Pulumi work goes through the `pulumi` CLI (cwd = project root), so what users
see is Pulumi's own output. On a stack with `aep-pipelines:providerShards` > 0, up, preview,
drift and destroy add the `--parallel` the shards need (pipelines/shards.py). The environment
defaults to the offline setup the Makefile exports, so running this module directly behaves
like `make`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from typing import Any

import requests
import yaml

from pipelines import drift, shards, workspace
from pipelines.workspace import DEV_PASSPHRASE, ROOT, STATE, is_loopback, pulumi_env  # noqa: F401 - re-exported

EMULATOR_PID = STATE / "emulator.pid"
EMULATOR_LOG = STATE / "emulator.log"
EMULATOR_DATA = STATE / "emulator"
DEFAULT_ENDPOINT = "https://platform.adobe.io"

EXIT_DRIFT = 2


class CliError(Exception):
    """A failure the user can act on; printed without a traceback."""


def say(msg: str = "") -> None:
    print(msg, flush=True)


def note(msg: str) -> None:
    print(f"[aep-pipelines] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Environment and stack config
# ---------------------------------------------------------------------------------------------


def stack_file(stack: str) -> pathlib.Path:
    return ROOT / "stacks" / f"Pulumi.{stack}.yaml"


def stack_config(stack: str) -> dict[str, Any]:
    """The stack's committed config, read straight from its file (secure values stay encrypted)."""
    path = stack_file(stack)
    if not path.exists():
        return {}
    return (yaml.safe_load(path.read_text()) or {}).get("config") or {}


def _secrets_provider(stack: str) -> str | None:
    """The `secretsprovider` of the stack's committed file (a KMS URL), if it names one."""
    path = stack_file(stack)
    return (yaml.safe_load(path.read_text()) or {}).get("secretsprovider") if path.exists() else None


def endpoint_of(stack: str) -> str:
    """The AEP base URL the providers will use: AEP_ENDPOINT first, as the client reads it."""
    value = os.environ.get("AEP_ENDPOINT") or stack_config(stack).get("aep:endpoint") or DEFAULT_ENDPOINT
    return str(value).rstrip("/")


# ---------------------------------------------------------------------------------------------
# The background emulator
# ---------------------------------------------------------------------------------------------


def emulator_healthy(base: str, timeout: float = 1.0) -> bool:
    try:
        r = requests.get(f"{base}/_emulator/health", timeout=timeout)
        return r.ok and r.json().get("status") == "ok"
    except (requests.RequestException, ValueError):
        return False


def _port_in_use(base: str) -> bool:
    try:
        requests.get(base, timeout=1)
        return True
    except requests.RequestException:
        return False


def start_emulator(base: str, wait: float = 30.0) -> bool:
    """Start `python -m emulator` detached on the endpoint's port unless it already answers.

    Returns True when this call started it. The emulator outlives this command (its own
    session, so Ctrl-C on a later `make` does not reach it); `emulator-stop` ends it.
    """
    if emulator_healthy(base):
        return False
    running = _emulator_pid()
    if running is not None:
        # One emulator per data directory: a second one on the same store would corrupt it, and
        # `emulator-stop` would lose track of the first.
        where = _emulator_base() or "another port"
        raise CliError(f"the background emulator for {_rel(EMULATOR_DATA)} is already running at {where} (pid "
                       f"{running}), but the stack now targets {base}: stop it first (`make emulator-stop`), or "
                       f"point AEP_ENDPOINT / aep:endpoint back at {where}")
    if _port_in_use(base):
        raise CliError(f"something that is not the AEP emulator is listening at {base}: stop it, or point "
                       "aep:endpoint at another port")
    port = urllib.parse.urlsplit(base).port or 80
    STATE.mkdir(parents=True, exist_ok=True)
    with open(EMULATOR_LOG, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(EMULATOR_DATA)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    EMULATOR_PID.write_text(f"{proc.pid}\n{base}\n")
    note(f"starting the AEP emulator at {base} (pid {proc.pid}, data {_rel(EMULATOR_DATA)}, "
         f"log {_rel(EMULATOR_LOG)})")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            EMULATOR_PID.unlink(missing_ok=True)
            raise CliError(f"the emulator exited with status {proc.returncode}:\n{_tail(EMULATOR_LOG)}")
        if emulator_healthy(base, timeout=0.5):
            return True
        time.sleep(0.1)
    raise CliError(f"the emulator did not answer {base}/_emulator/health within {wait:g}s; see {_rel(EMULATOR_LOG)}")


def ensure_emulator(stack: str, verbose: bool = False) -> str:
    """The stack's endpoint, with the emulator started first if the endpoint is a loopback one."""
    base = endpoint_of(stack)
    if os.environ.get("AEP_EMULATOR_AUTOSTART") == "0":
        return base  # the user runs the emulator (or a stand-in) themselves
    if is_loopback(base) and not start_emulator(base) and verbose:
        note(f"the AEP emulator is already running at {base}")
    return base


def _emulator_base() -> str | None:
    """The endpoint the background emulator was started on (the pid file's second line)."""
    try:
        lines = EMULATOR_PID.read_text().split()
    except FileNotFoundError:
        return None
    return lines[1] if len(lines) > 1 else None


def _emulator_pid() -> int | None:
    """The background emulator's pid, if it is still that emulator (pid file: pid, then endpoint)."""
    try:
        pid = int(EMULATOR_PID.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    try:
        cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except FileNotFoundError:
        if not pathlib.Path("/proc").is_dir():
            try:
                os.kill(pid, 0)
            except OSError:
                return None
            return pid
        return None
    # A recycled pid belongs to something else: never signal it.
    return pid if b"-m emulator" in cmdline else None


def stop_emulator() -> bool:
    pid = _emulator_pid()
    if pid is None:
        EMULATOR_PID.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if _emulator_pid() is None:
            break
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    else:
        raise CliError(f"the emulator (pid {pid}) did not stop within 15s")
    EMULATOR_PID.unlink(missing_ok=True)
    return True


# ---------------------------------------------------------------------------------------------
# Pulumi
# ---------------------------------------------------------------------------------------------


def pulumi(stack: str, *args: str, capture: bool = False, check: bool = True) -> subprocess.CompletedProcess:
    """Run the pulumi CLI in the project root; output streams to the terminal unless captured."""
    env = pulumi_env(stack)
    if not shutil.which("pulumi", path=env["PATH"]):
        raise CliError("the Pulumi CLI is not installed: run `make up` (it runs scripts/bootstrap) or "
                       "scripts/bootstrap")
    cmd = ["pulumi", *args]
    # A captured command cannot show a prompt, so it gets no stdin: Pulumi then says what to set.
    proc = subprocess.run(cmd, cwd=ROOT, env=env, text=True, stdin=subprocess.DEVNULL if capture else None,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None)
    if check and proc.returncode != 0:
        detail = f":\n{proc.stderr.strip()}" if capture and proc.stderr else ""
        raise CliError(f"`{' '.join(cmd)}` failed with exit status {proc.returncode}{detail}")
    return proc


def select_stack(stack: str, create: bool) -> None:
    args = ["stack", "select", stack] + (["--create"] if create else [])
    if create and (provider := _secrets_provider(stack)):
        # A stack new to this backend keeps the KMS its committed file names (and that file's
        # encryptedkey, so its secure values still decrypt); Pulumi alone would ask for a passphrase.
        args += ["--secrets-provider", provider]
    proc = pulumi(stack, *args, capture=True, check=False)
    if proc.returncode != 0:
        if not create and "no stack named" in (proc.stderr or "").lower():
            raise CliError(f"stack {stack!r} has never been deployed from here: run `make up STACK={stack}` first")
        hint = ("\nSet PULUMI_CONFIG_PASSPHRASE for this stack, or give it a secrets provider "
                "(docs/real-sandbox.md, State and secrets)" if "passphrase must be set" in (proc.stderr or "") else "")
        raise CliError(f"`pulumi {' '.join(args)}` failed:\n{(proc.stderr or '').strip()}{hint}")
    if create and "Created stack" in (proc.stdout or "") + (proc.stderr or ""):
        note(f"created stack {stack!r} (config: {_rel(stack_file(stack))})")


def engine_args(stack: str, pulumi_args: list[str]) -> list[str]:
    """The user's extra pulumi arguments, plus `--parallel` for a stack with provider shards.

    K shard processes serve 4K calls at once, but the engine starts no more steps than its
    own parallelism (4 x GOMAXPROCS by default, 8 on a 2-core runner), which would throttle
    them again. A `--parallel` or PULUMI_PARALLEL the user chose wins.
    """
    try:
        count = shards.parse(stack_config(stack).get(shards.CONFIG_KEY))
    except shards.ShardConfigError as e:
        raise CliError(f"{e} (in {_rel(stack_file(stack))})") from None
    chosen = any(a in ("-p", "--parallel") or a.startswith(("--parallel=", "-p=")) for a in pulumi_args)
    parallel = shards.parallel_for(count)
    if parallel is None or chosen or os.environ.get("PULUMI_PARALLEL"):
        return list(pulumi_args)
    note(f"{count} provider shards: running pulumi with --parallel {parallel}")
    return [*pulumi_args, "--parallel", str(parallel)]


POLICY_PACK = "aep-guardrails"  # policies/PulumiPolicy.yaml


def policy_args(stack: str) -> list[str]:
    """The guardrails policy pack (policies/, docs/policies.md), with the stack's enforcement levels."""
    config = ROOT / "policies" / "config" / f"{stack}.json"
    pack = ["--policy-pack", str(ROOT / "policies")]
    return [*pack, "--policy-pack-config", str(config)] if config.exists() else pack


def stack_outputs(stack: str) -> dict[str, Any]:
    proc = pulumi(stack, "stack", "output", "--json", "--stack", stack, capture=True)
    return json.loads(proc.stdout or "{}")


def pipeline_outputs(stack: str) -> dict[str, dict[str, Any]]:
    pipes = stack_outputs(stack).get("pipelines") or {}
    if not pipes:
        raise CliError(f"stack {stack!r} has no pipelines deployed: run `make up STACK={stack}`")
    return pipes


def resolved_config(stack: str) -> dict[str, str]:
    """The stack's config with secrets decrypted (the CLI reads them the way the providers do)."""
    proc = pulumi(stack, "config", "--json", "--show-secrets", "--stack", stack, capture=True)
    raw = json.loads(proc.stdout or "{}")
    return {k: v.get("value") for k, v in raw.items() if isinstance(v, dict) and v.get("value") is not None}


def aep_client(stack: str):
    """The providers' own client, configured as the providers are: environment first, then stack config."""
    from providers.client import AEPSettings, ConfigurationError, get_client  # noqa: PLC0415 - heavy, lazy

    try:
        return get_client(AEPSettings.load(resolved_config(stack)))
    except ConfigurationError as e:
        raise CliError(str(e)) from None


def newest_runs(api, sandbox: str, flow_id: str) -> list[dict]:
    """The flow's runs, newest first (AEP lists them in no documented order)."""
    return sorted(api.list_runs(sandbox, flow_id), key=lambda r: r.get("createdAt") or 0, reverse=True)


def preflight(stack: str) -> None:
    """Before preview and up, from the stack's config and state only (no AEP call): refuse a
    spec whose new schema takes a title an object of this stack still holds, such as a rename
    without `previous_names` (pipelines/renames.py), which `up` would fail on half way; and a
    spec that drops a deployed pipeline, whose dataset and dataflow `up` would delete
    (pipelines/guards.py), unless ALLOW_DATA_LOSS=1."""
    from pipelines import guards, renames  # noqa: PLC0415 - the spec models load only for the commands that need them

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
    losses = guards.removal_losses(renames.deployment_of(proc.stdout), declared)
    if losses and not guards.allowed():
        raise CliError(guards.refusal(losses, stack))
    if losses:
        note(f"{guards.ALLOW_ENV}=1: going ahead with deleting {len(losses)} object(s) that hold data")


def confirm_flags(stack: str, action: str) -> list[str]:
    """`--yes` for dev; elsewhere Pulumi's own prompt on a terminal, and without one an explicit YES=1."""
    if stack == "dev" or os.environ.get("YES") == "1":
        return ["--yes"]
    if sys.stdin.isatty() and sys.stdout.isatty():
        return []  # pulumi shows the plan and asks before it changes anything
    raise CliError(f"`make {action} STACK={stack}` changes a real sandbox and there is no terminal to confirm on: "
                   f"review the plan (`make preview STACK={stack}`), then run `make {action} STACK={stack} YES=1`")


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    # Say which Pulumi CLI and Python language host this deploy runs (official, or ours).
    subprocess.run([str(ROOT / "scripts" / "bootstrap"), "--describe"], env=pulumi_env(args.stack), check=False)
    base = ensure_emulator(args.stack, verbose=True)
    select_stack(args.stack, create=True)
    preflight(args.stack)
    before = _previous_pipelines(args.stack)
    flags = ["up", *confirm_flags(args.stack, "up"), "--stack", args.stack, *policy_args(args.stack)]
    if not args.no_refresh:
        # Read AEP first, so the main job also repairs objects changed or deleted outside Pulumi.
        flags.append("--refresh")
    proc = pulumi(args.stack, *flags, *engine_args(args.stack, args.pulumi_args), check=False)
    if proc.returncode != 0:
        note(f"pulumi up failed (exit status {proc.returncode}); see its output above")
        return proc.returncode
    pipes = pipeline_outputs(args.stack)
    banner(args.stack, base, pipes, before)
    return 0


def _previous_pipelines(stack: str) -> dict[str, dict[str, Any]]:
    proc = pulumi(stack, "stack", "output", "--json", "--stack", stack, capture=True, check=False)
    try:
        return json.loads(proc.stdout or "{}").get("pipelines") or {} if proc.returncode == 0 else {}
    except json.JSONDecodeError:
        return {}


def banner(stack: str, base: str, pipes: dict[str, dict[str, Any]],
           before: dict[str, dict[str, Any]] | None = None) -> None:
    rule = "=" * 78
    where = f"the local AEP emulator at {base}" if is_loopback(base) else base
    say()
    say(rule)
    say(f" Stack {stack!r} is up: {len(pipes)} pipeline(s) on {where}")
    for name, out in pipes.items():
        say()
        say(f" Pipeline {name!r}  (sandbox {out.get('sandbox')}, dataflow {out.get('flowId')}, "
            f"{out.get('flowState')})")
        say(f"   Inlet URL:          {out.get('inletUrl')}")
        say(f"   Pendo webhook URL:  {out.get('webhookUrl')}")
        old = (before or {}).get(name, {}).get("webhookUrl")
        if old and old != out.get("webhookUrl"):
            # A replaced dataflow has a new inlet: the URL pasted into Pendo stops working.
            say("   ! The webhook URL changed in this update: replace it in Pendo's webhook settings.")
        if out.get("flowState") in ("disabled", "disabling"):
            # AEP answers the sender 200 either way, so nothing on the sender's side shows it.
            say("   ! The dataflow is disabled: events posted to the webhook are dropped (not ingested, not "
                "queued) until it is enabled again (flow.enabled: true, then make up).")
    say()
    say(" Paste the webhook URL into Pendo: Settings > Integrations > Webhooks > Add webhook.")
    say(f" Next: make demo{_stack_arg(stack)}   make status{_stack_arg(stack)}   make drift{_stack_arg(stack)}")
    say(rule)


def _stack_arg(stack: str) -> str:
    return "" if stack == "dev" else f" STACK={stack}"


def cmd_preview(args: argparse.Namespace) -> int:
    ensure_emulator(args.stack)
    select_stack(args.stack, create=True)
    preflight(args.stack)
    report, rc, stderr = preview_json(args.stack, *(["--refresh"] if args.refresh else []), *policy_args(args.stack),
                                      pulumi_args=args.pulumi_args)
    say(drift.preview_text(args.stack, report, rc, stderr, policy_packs=(POLICY_PACK,)))
    return rc if report is not None or rc else 1


def cmd_destroy(args: argparse.Namespace) -> int:
    ensure_emulator(args.stack)
    select_stack(args.stack, create=False)
    confirm = confirm_flags(args.stack, "destroy")
    if os.environ.get("ALLOW_DATA_LOSS") == "1":
        # Datasets outside dev are protected in Pulumi (pipelines/guards.py); the user asked for
        # their loss explicitly, so lift the protection first.
        note("ALLOW_DATA_LOSS=1: lifting Pulumi's protection from this stack's datasets before destroying")
        pulumi(args.stack, "state", "unprotect", "--all", "--yes", "--stack", args.stack, capture=True)
    rc = pulumi(args.stack, "destroy", *confirm, "--stack", args.stack, *engine_args(args.stack, args.pulumi_args),
                check=False).returncode
    if rc != 0 and os.environ.get("ALLOW_DATA_LOSS") != "1":
        note("if pulumi refused to delete a protected dataset: its data would be lost; to go ahead, run "
             f"`make destroy{_stack_arg(args.stack)} ALLOW_DATA_LOSS=1`")
    if rc == 0 and args.remove:
        # --preserve-config: stacks/Pulumi.<stack>.yaml is committed and stays.
        rc = pulumi(args.stack, "stack", "rm", "--yes", "--preserve-config", args.stack, check=False).returncode
    return rc


def preview_json(stack: str, *flags: str, pulumi_args: list[str] | None = None) -> tuple[dict | None, int, str]:
    """`pulumi preview --json` with `flags`: its parsed report (None if it printed none), exit status, stderr."""
    proc = pulumi(stack, "preview", "--json", "--stack", stack, *flags, *engine_args(stack, pulumi_args or []),
                  capture=True, check=False)
    try:
        report = json.loads(proc.stdout)
    except (json.JSONDecodeError, TypeError):
        report = None
    return report if isinstance(report, dict) else None, proc.returncode, proc.stderr or ""


def cmd_drift(args: argparse.Namespace) -> int:
    ensure_emulator(args.stack)
    select_stack(args.stack, create=False)
    report, rc, stderr = preview_json(args.stack, "--refresh", "--expect-no-changes", *policy_args(args.stack),
                                      pulumi_args=args.pulumi_args)
    result = drift.outcome(report, rc, stderr)
    say(drift.summary(args.stack, result))
    if args.markdown:
        pathlib.Path(args.markdown).write_text(drift.markdown(args.stack, result))
    if result.provider_updates:
        # Shard providers carry the aep:* settings as inputs, so a setting (or the shard count)
        # changed since the last `up` is a planned provider step, which --expect-no-changes
        # counts (the default provider's config update is internal and does not). It is not
        # drift in AEP.
        note(f"no AEP object drifted, but the provider settings (aep:*, {shards.CONFIG_KEY}) changed since the "
             f"last `up`: {', '.join(result.provider_updates)} would change; `make up{_stack_arg(args.stack)}` "
             "applies them")
    return result.exit_code


def _fmt_time(ms: Any) -> str:
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


def _run_row(run: dict[str, Any]) -> list[Any]:
    m = run.get("metrics") or {}
    rs = m.get("recordSummary") or {}
    errors = (m.get("statusSummary") or {}).get("errors") or []
    first = f"{errors[0].get('code')}: {errors[0].get('message')}" if errors else ""
    if len(first) > 60:
        first = first[:57] + "..."
    return [run.get("id", "")[:8], _fmt_time((m.get("durationSummary") or {}).get("startedAtUTC") or
                                             run.get("createdAt")),
            (m.get("statusSummary") or {}).get("status", "-"), rs.get("inputRecordCount", 0),
            rs.get("outputRecordCount", 0), rs.get("failedRecordCount", 0), first]


RUN_HEADERS = ["Run", "Started (UTC)", "Status", "In", "Ingested", "Failed", "First error"]


def cmd_status(args: argparse.Namespace) -> int:
    ensure_emulator(args.stack)
    select_stack(args.stack, create=False)
    pipes = pipeline_outputs(args.stack)
    api = aep_client(args.stack)
    rows, runs_by = [], {}
    for name, out in pipes.items():
        sandbox, flow_id = out["sandbox"], out["flowId"]
        try:
            flow = api.get_flow(sandbox, flow_id)
        except Exception as e:  # noqa: BLE001 - show the row, not a traceback
            rows.append([name, sandbox, out.get("flowName"), f"unreadable: {e}"[:60], "-", "-"])
            continue
        last = flow.get("lastRunDetails") or {}
        rows.append([name, sandbox, flow.get("name"), flow.get("state"), last.get("state") or "no runs yet",
                     _fmt_time(flow.get("updatedAt"))])
        runs_by[name] = (flow_id, newest_runs(api, sandbox, flow_id)[: args.runs])
    say(table(["Pipeline", "Sandbox", "Dataflow", "State", "Last run", "Updated (UTC)"], rows))
    for name, (flow_id, runs) in runs_by.items():
        say()
        say(f"Recent runs of {name!r} (dataflow {flow_id}):")
        say(table(RUN_HEADERS, [_run_row(r) for r in runs]) if runs else "  no runs yet: post an event (make demo)")
    return 0


def sample_events() -> list[tuple[str, Any]]:
    """Pendo webhook events as Pendo posts them: two good ones and one the schema rejects."""
    now = int(time.time() * 1000)
    base = {"accountId": "acme-corp", "visitorId": "visitor-42", "remoteIp": "203.0.113.7",
            "browserTime": now, "subscriptionId": "6591622502678528", "appId": "-323232"}
    return [
        ("guideDisplayed", {**base, "type": "guideDisplayed", "uniqueId": str(uuid.uuid4()), "timestamp": now,
                            "properties": {"guideProperties": {"id": "guide-onboarding", "name": "Welcome tour"},
                                           "stepProperties": {"id": "step-1", "index": 0}}}),
        ("pollDisplayed", {**base, "type": "pollDisplayed", "uniqueId": str(uuid.uuid4()), "timestamp": now + 1,
                           "properties": {"guideProperties": {"id": "guide-nps", "name": "NPS survey"},
                                          "pollProperties": {"id": "poll-nps", "question": "How likely..."}}}),
        # Malformed: a timestamp that is no time at all. The inlet accepts it (200), as AEP
        # does; mapping/validation then fails it, and the run shows it as failed.
        ("malformed (bad timestamp)", {**base, "type": "guideDisplayed", "uniqueId": str(uuid.uuid4()),
                                       "timestamp": "yesterday at noon",
                                       "properties": {"guideProperties": {"name": "Broken guide"}}}),
    ]


def cmd_demo(args: argparse.Namespace) -> int:
    base = ensure_emulator(args.stack)
    select_stack(args.stack, create=False)
    pipes = pipeline_outputs(args.stack)
    name = args.pipeline or next(iter(pipes))
    if name not in pipes:
        raise CliError(f"no pipeline {name!r} in stack {args.stack!r}; it has: {', '.join(pipes)}")
    out = pipes[name]
    url, sandbox = out["webhookUrl"], out["sandbox"]
    say(f"Posting sample Pendo events to pipeline {name!r}:\n  {url}")
    for label, event in sample_events():
        r = requests.post(url, json=event, timeout=30)
        say(f"  {label:<27} -> HTTP {r.status_code} {r.text[:90]}")
    api = aep_client(args.stack)
    if is_loopback(base):
        records = api.emulator_dataset_records(sandbox, out["datasetId"], limit=10000)
        say()
        say(f"Dataset {out['datasetId']} holds {len(records)} record(s); the newest, as mapped:")
        for rec in records[-2:]:
            say(json.dumps(rec, indent=2, sort_keys=True))
    else:
        say("\n(Real AEP has no record reader: query the dataset with Query Service to see the records.)")
    runs = newest_runs(api, sandbox, out["flowId"])
    say()
    say(f"Dataflow {out['flowId']} run status:")
    say(table(RUN_HEADERS, [_run_row(r) for r in runs[:3]]) if runs else "  no run yet (AEP reports runs with a "
        "delay of a few minutes)")
    if runs:
        for err in ((runs[0].get("metrics") or {}).get("statusSummary") or {}).get("errors") or []:
            say(f"  error {err.get('code')}: {err.get('message')}")
    return 0


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


def cmd_graph(args: argparse.Namespace) -> int:
    select_stack(args.stack, create=False)
    dot_file = pathlib.Path(args.output).with_suffix(".dot")
    dot_file.parent.mkdir(parents=True, exist_ok=True)
    pulumi(args.stack, "stack", "graph", "--stack", args.stack, "--dot-fragment", GRAPH_STYLE,
           str(dot_file.resolve()), capture=True)
    dot_file.write_text(short_labels(dot_file.read_text()))
    if not shutil.which("dot"):
        raise CliError(f"wrote {dot_file}; graphviz is not installed to render it: apt-get install -y graphviz, "
                       "then run this again")
    subprocess.run(["dot", "-Tpng", "-Gdpi=110", str(dot_file), "-o", args.output], check=True)
    say(f"wrote {args.output} and {dot_file}")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """`make env`: the offline Pulumi environment as export lines, for `eval "$(make -s env)"`."""
    say(workspace.exports(args.stack))
    return 0


def cmd_emulator_start(args: argparse.Namespace) -> int:
    base = endpoint_of(args.stack)
    if not is_loopback(base):
        raise CliError(f"stack {args.stack!r} targets {base}, not a local emulator")
    if not start_emulator(base):
        note(f"the AEP emulator is already running at {base}")
    return 0


def cmd_emulator_stop(_args: argparse.Namespace) -> int:
    if stop_emulator():
        note("stopped the background AEP emulator (its data stays in .state/emulator)")
    else:
        note("no background emulator was running (nothing started by `make up`)")
    return 0


def _rel(path: pathlib.Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _tail(path: pathlib.Path, n: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except FileNotFoundError:
        return "(no log)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m pipelines.cli", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--stack", default=os.environ.get("STACK") or "dev", help="the stack (default dev)")
        sp.set_defaults(fn=fn, pulumi_args=[])
        return sp

    up = add("up", cmd_up, "deploy the stack (starting the emulator if the stack uses it)")
    up.add_argument("--no-refresh", action="store_true", help="skip reading AEP before planning")
    pre = add("preview", cmd_preview, "pulumi preview")
    pre.add_argument("--refresh", action="store_true")
    dr = add("drift", cmd_drift, "drift check; exit status 2 when AEP differs from the code")
    dr.add_argument("--markdown", help="also write the summary as Markdown to this file (for CI)")
    st = add("status", cmd_status, "dataflow state and recent runs")
    st.add_argument("--runs", type=int, default=5, help="runs to show per pipeline")
    de = add("demo", cmd_demo, "send sample Pendo events and show the result")
    de.add_argument("--pipeline", help="which pipeline (default: the first)")
    ds = add("destroy", cmd_destroy, "pulumi destroy")
    ds.add_argument("--remove", action="store_true", help="also remove the stack (its config file stays)")
    gr = add("graph", cmd_graph, "render the stack's resource graph")
    gr.add_argument("--output", default=str(ROOT / "docs" / "resource-graph.png"))
    add("env", cmd_env, "print the offline Pulumi environment as shell export lines")
    add("emulator-start", cmd_emulator_start, "start the background emulator")
    add("emulator-stop", cmd_emulator_stop, "stop the background emulator")
    args, extra = p.parse_known_args(argv)
    if extra and extra[0] == "--":
        extra = extra[1:]
    if extra and args.command not in ("up", "preview", "drift", "destroy"):
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pulumi_args = extra
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return args.fn(args)
    except BrokenPipeError:  # `make -s env | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except CliError as e:
        note(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
