"""`python -m pipelines.cli`: the commands behind `make up`, `make demo`, `make status`, `make drift`...

    up [--no-refresh]      start the emulator if the stack targets it and it is down, then
                           `pulumi up --refresh --yes`, then print the inlet and webhook URLs
    preview [--refresh]    `pulumi preview`
    drift [--markdown F]   `pulumi preview --refresh --expect-no-changes`, summarised; exit 2 on drift
    status                 each pipeline's dataflow state and recent runs
    demo [--pipeline P]    post the source's sample payloads to the inlet (pipelines/demo.py); show the
                           mapped records, the run and, for a Profile pipeline, the stitched profile
    destroy [--remove]     `pulumi destroy --yes` (and `pulumi stack rm` with --remove)
    graph                  `pulumi stack graph` rendered by graphviz into docs/resource-graph.png
    export [--sandbox S]   the sandbox's streaming dataflows as a spec on stdout (pipelines/export.py);
                           exit 3 when something was left out (listed at the end as comments)
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
import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import requests

from emulator.process import Background, healthy
from pipelines import demo, drift, shards, workspace
from pipelines.demo import newest_runs
from pipelines.guards import confirm_flags, preflight, release_profile_enablements
from pipelines.render import (
    GRAPH_STYLE,
    RUN_HEADERS,
    banner,
    fmt_time,
    run_row,
    say,
    short_labels,
    stack_arg,
    table,
)
from pipelines.workspace import (
    POLICY_PACK,
    ROOT,
    STATE,
    CliError,
    aep_client,
    endpoint_of,
    engine_args,
    is_loopback,
    note,
    pipeline_outputs,
    policy_args,
    preview_json,
    pulumi,
    pulumi_env,
    rel,
    select_stack,
    stack_config,
    tail,
)

__all__ = ["CliError", "engine_args", "is_loopback", "main", "note", "preflight", "preview_json", "select_stack",
           "short_labels", "stack_config"]

EMULATOR_PID = STATE / "emulator.pid"
EMULATOR_LOG = STATE / "emulator.log"
EMULATOR_DATA = STATE / "emulator"


# ---------------------------------------------------------------------------------------------
# The background emulator
# ---------------------------------------------------------------------------------------------


BACKGROUND = Background(str(EMULATOR_DATA), str(EMULATOR_PID), str(EMULATOR_LOG))


def _port_in_use(base: str) -> bool:
    try:
        requests.get(base, timeout=1)
        return True
    except requests.RequestException:
        return False


def start_emulator(base: str, wait: float = 30.0) -> bool:
    """Start the background emulator (emulator/process.py) on the endpoint's port unless one
    already answers there; True when this call started it. It outlives this command;
    `emulator-stop` ends it."""
    if healthy(base):
        return False
    running = BACKGROUND.pid()
    if running is not None:
        # One emulator per data directory: a second one on the same store would corrupt it, and
        # `emulator-stop` would lose track of the first.
        where = BACKGROUND.base_url() or "another port"
        raise CliError(f"the background emulator for {rel(EMULATOR_DATA)} is already running at {where} (pid "
                       f"{running}), but the stack now targets {base}: stop it first (`make emulator-stop`), or "
                       f"point AEP_ENDPOINT / aep:endpoint back at {where}")
    if _port_in_use(base):
        raise CliError(f"something that is not the AEP emulator is listening at {base}: stop it, or point "
                       "aep:endpoint at another port")
    note(f"starting the AEP emulator at {base} (data {rel(EMULATOR_DATA)}, log {rel(EMULATOR_LOG)})")
    try:
        pid = BACKGROUND.start(base, timeout=wait)
    except RuntimeError as e:
        raise CliError(f"{e}:\n{tail(EMULATOR_LOG)}") from None
    note(f"the AEP emulator is up (pid {pid})")
    return True


def ensure_emulator(stack: str, verbose: bool = False) -> str:
    """The stack's endpoint, with the emulator started first if the endpoint is a loopback one."""
    base = endpoint_of(stack)
    if os.environ.get("AEP_EMULATOR_AUTOSTART") == "0":
        return base  # the user runs the emulator (or a stand-in) themselves
    if is_loopback(base) and not start_emulator(base) and verbose:
        note(f"the AEP emulator is already running at {base}")
    return base


def stop_emulator() -> bool:
    """Stop the background emulator; False when none was running."""
    try:
        return BACKGROUND.stop()
    except RuntimeError as e:
        raise CliError(str(e)) from None


# ---------------------------------------------------------------------------------------------
# Pulumi
# ---------------------------------------------------------------------------------------------


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


def cmd_preview(args: argparse.Namespace) -> int:
    ensure_emulator(args.stack)
    select_stack(args.stack, create=True)
    preflight(args.stack)
    report, rc, stderr = preview_json(args.stack, *(["--refresh"] if args.refresh else []), *policy_args(args.stack),
                                      pulumi_args=args.pulumi_args)
    say(drift.preview_text(args.stack, report, rc, stderr, policy_packs=(POLICY_PACK,)))
    rc = rc if report is not None or rc else 1
    return rehearse(args.stack) or rc


def rehearse(stack: str) -> int:
    """The ingestion rehearsal of `make preview` (pipelines/rehearsal.py): 1 when a sample does
    not come out as it expects. Only pipelines with samples (or all of them with REHEARSE=1)."""
    from pipelines import rehearsal, renames  # noqa: PLC0415 - the spec models load only for the commands that need them

    spec = renames.resolved_spec(stack_config(stack), workspace.ROOT)
    everything = os.environ.get("REHEARSE") == "1"
    todo = [(p, rehearsal.samples_for(p, everything)) for _, p in (spec[1] if spec else [])]
    todo = [(p, samples) for p, samples in todo if samples]
    if not todo:
        return 0
    api = aep_client(stack)
    results = []
    for p, samples in todo:
        try:
            results += rehearsal.rehearse(api, p, samples)
        except Exception as e:  # noqa: BLE001 - a rehearsal that cannot run is said, never passed
            raise CliError(f"Rehearsal of pipeline {p.name!r} could not run: {e}. Nothing was written and nothing "
                           "is known about its samples. Next: fix the cause above and run `make preview` again (a "
                           "pipeline without `samples:`, and no REHEARSE=1, is not rehearsed)") from None
    say("Rehearsal (Data Prep's preview of each sample, nothing written):")
    say("\n".join(rehearsal.report(results)))
    bad = [r for r in results if r.surprising]
    if bad:
        say(f"\n{len(bad)} sample(s) did not come out as expected: fix the mapping or the schema, or mark a sample "
            "that is meant to fail with `expect: failure`.")
        return 1
    return 0


def cmd_destroy(args: argparse.Namespace) -> int:
    ensure_emulator(args.stack)
    select_stack(args.stack, create=False)
    confirm = confirm_flags(args.stack, "destroy")
    if os.environ.get("ALLOW_DATA_LOSS") == "1":
        # Datasets outside dev are protected in Pulumi (pipelines/guards.py); the user asked for
        # their loss explicitly, so lift the protection first.
        note("ALLOW_DATA_LOSS=1: lifting Pulumi's protection from this stack's datasets before destroying")
        pulumi(args.stack, "state", "unprotect", "--all", "--yes", "--stack", args.stack, capture=True)
    else:
        release_profile_enablements(args.stack)
    rc = pulumi(args.stack, "destroy", *confirm, "--stack", args.stack, *engine_args(args.stack, args.pulumi_args),
                check=False).returncode
    if rc != 0 and os.environ.get("ALLOW_DATA_LOSS") != "1":
        note("if pulumi refused to delete a protected dataset: its data would be lost; to go ahead, run "
             f"`make destroy{stack_arg(args.stack)} ALLOW_DATA_LOSS=1`")
    if rc == 0 and args.remove:
        # --preserve-config: stacks/Pulumi.<stack>.yaml is committed and stays.
        rc = pulumi(args.stack, "stack", "rm", "--yes", "--preserve-config", args.stack, check=False).returncode
    return rc


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
             f"last `up`: {', '.join(result.provider_updates)} would change; `make up{stack_arg(args.stack)}` "
             "applies them")
    return result.exit_code


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
                     fmt_time(flow.get("updatedAt"))])
        runs_by[name] = (flow_id, newest_runs(api, sandbox, flow_id)[: args.runs])
    say(table(["Pipeline", "Sandbox", "Dataflow", "State", "Last run", "Updated (UTC)"], rows))
    for name, (flow_id, runs) in runs_by.items():
        say()
        say(f"Recent runs of {name!r} (dataflow {flow_id}):")
        say(table(RUN_HEADERS, [run_row(r) for r in runs]) if runs else "  no runs yet: post an event (make demo)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    base = ensure_emulator(args.stack)
    select_stack(args.stack, create=False)
    pipes = pipeline_outputs(args.stack)
    name = args.pipeline or next(iter(pipes))
    if name not in pipes:
        raise CliError(f"no pipeline {name!r} in stack {args.stack!r}; it has: {', '.join(pipes)}")
    return demo.run(aep_client(args.stack), base, name, pipes[name])


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


def cmd_export(args: argparse.Namespace) -> int:
    """`make export`: read the sandbox with one listing per object kind, write the spec to stdout."""
    from pipelines import export  # noqa: PLC0415 - loads the providers; only this command needs them

    ensure_emulator(args.stack)
    sandbox = args.sandbox or os.environ.get("AEP_SANDBOX") or stack_config(args.stack).get("aep:sandbox")
    if not sandbox:
        raise CliError(f"which sandbox? give SANDBOX=<name> (--sandbox), or set aep:sandbox on stack {args.stack!r}")
    flows = [f.strip() for f in (args.flows or "").split(",") if f.strip()]
    api = _settings_client(args.stack)
    try:
        out = export.export(export.read_sandbox(api, sandbox, flows), sandbox, adopt=not args.no_adopt,
                            flow_ids=flows)
    except Exception as e:  # noqa: BLE001 - an AEP error is shown as its message (status, code), no traceback
        from providers.client import AEPError  # noqa: PLC0415

        if isinstance(e, AEPError):
            raise CliError(f"could not read sandbox {sandbox!r}: {e}") from None
        raise
    sys.stdout.write(export.render(out))
    note(f"exported {len(out.pipelines)} pipeline(s) from sandbox {sandbox!r}"
         + (f"; {len(out.left_out)} thing(s) left out, listed at the end (exit status 3)" if out.left_out else ""))
    return 3 if out.left_out else 0


def _settings_client(stack: str):
    """The client from the environment alone when it holds the credentials, else from the stack's config."""
    from providers.client import AEPSettings, ConfigurationError, get_client  # noqa: PLC0415

    try:
        return get_client(AEPSettings.load({}))
    except ConfigurationError:
        select_stack(stack, create=True)
        return aep_client(stack)


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
    de = add("demo", cmd_demo, "send the source's sample payloads and show the result")
    de.add_argument("--pipeline", help="which pipeline (default: the first)")
    ds = add("destroy", cmd_destroy, "pulumi destroy")
    ds.add_argument("--remove", action="store_true", help="also remove the stack (its config file stays)")
    gr = add("graph", cmd_graph, "render the stack's resource graph")
    gr.add_argument("--output", default=str(ROOT / "docs" / "resource-graph.png"))
    ex = add("export", cmd_export, "write the sandbox's streaming dataflows as a spec (stdout); exit 3 if some "
             "were left out")
    ex.add_argument("--sandbox", help="the sandbox to read (default: the stack's aep:sandbox)")
    ex.add_argument("--flows", help="only these dataflow ids, comma-separated")
    ex.add_argument("--no-adopt", action="store_true", help="no adopt ids: a spec another stack creates afresh")
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
