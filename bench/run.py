"""Benchmarks: `pulumi up`, no-op `preview`, `preview --refresh` and `destroy` of N pipelines
against the tutorial run as a sequential script, on the emulator with injected latency.

    python -m bench.run                   # everything; writes docs/benchmarks.md and .png
    python -m bench.run --quick           # N = 1 and 10 only, no ceiling study (a smoke run)
    python -m bench.run --only-shards-up  # `pulumi up` with and without provider shards vs the baseline

Each cell is one project copy with its own file backend and one emulator per latency; the
emulator's /_emulator/metrics counts every AEP call (token requests apart). Wall time is the
CLI's, measured from outside. Raw results go to bench/out/results.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

import yaml

from emulator import config as dev
from emulator.process import EmulatorProcess
from pipelines import shards as provider_shards

from . import baseline
from .engine import PULUMI_BIN, ROOT, Workspace
from .spec import spec

OUT = ROOT / "bench" / "out"
DOCS = ROOT / "docs"
IMS = "POST /ims/token/v3"
RESOURCES_PER_PIPELINE = 6  # schema, dataset, source, target, mapping set, flow

# Which provider resource each emulator route belongs to.
ROUTE_KINDS = (
    ("/schemaregistry/", "XdmSchema"), ("/catalog/", "Dataset"), ("/sourceConnections", "SourceConnection"),
    ("/targetConnections", "TargetConnection"), ("/conversion/", "MappingSet"), ("/flowservice/flows", "Dataflow"),
    ("/ims/", "token"),
)

OPS = {
    "up": ["up", "--yes", "--skip-preview"],
    "preview": ["preview"],
    "noop-up": ["up", "--yes", "--skip-preview"],
    "refresh": ["preview", "--refresh"],
    "destroy": ["destroy", "--yes", "--skip-preview"],
}


def kind_of(route: str) -> str:
    return next((k for frag, k in ROUTE_KINDS if frag in route), "other")


def calls(metrics: dict[str, Any]) -> dict[str, Any]:
    """Emulator metrics -> reads, writes (token requests apart), tokens, and calls by resource kind."""
    reqs = metrics["requests"]
    ims = reqs.get(IMS, 0)
    by_kind: dict[str, dict[str, int]] = {}
    for route, n in reqs.items():
        method = route.split(" ", 1)[0]
        k = by_kind.setdefault(kind_of(route), {"reads": 0, "writes": 0})
        k["reads" if method in ("GET", "HEAD") else "writes"] += n
    return {"total": metrics["total"], "reads": metrics["reads"], "writes": metrics["writes"] - ims, "ims": ims,
            "by_kind": by_kind, "routes": reqs}


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.results: list[dict[str, Any]] = []
        OUT.mkdir(parents=True, exist_ok=True)

    # -- one stack --------------------------------------------------------------------------------

    def workspace(self, emu: EmulatorProcess, tag: str, n: int, shards: int = 0,
                  env: dict[str, str] | None = None) -> Workspace:
        ws = Workspace(OUT / tag, env=env)
        (ws.work / "bench-spec.yaml").write_text(yaml.safe_dump(spec(n), sort_keys=False))
        # Shards are the product's own setting (pipelines/shards.py), so what is measured is what ships.
        ws.new_stack("bench", {
            "aep:endpoint": emu.base_url, "aep:clientId": dev.DEV_CLIENT_ID, "aep:orgId": dev.DEV_ORG_ID,
            "aep:sandbox": f"b-{tag}", "aep:tenantId": dev.TENANT_ID, "aep-pipelines:specFile": "bench-spec.yaml",
            provider_shards.CONFIG_KEY: shards}, secrets={"aep:clientSecret": dev.DEV_CLIENT_SECRET})
        return ws

    def op(self, emu: EmulatorProcess, ws: Workspace, op: str, extra: list[str] | None = None) -> dict[str, Any]:
        emu.reset_metrics()
        r = ws.pulumi(*OPS[op], *(extra or []))
        return {"seconds": round(r.seconds, 3), **calls(emu.metrics())}

    def cycle(self, emu: EmulatorProcess, lat: float, n: int, rep: int) -> None:
        tag = f"n{n}-l{int(lat)}-r{rep}"
        ws = self.workspace(emu, tag, n)
        for op in OPS:
            res = self.op(emu, ws, op)
            self.record(kind="pulumi", op=op, n=n, latency=lat, rep=rep, **res)
        shutil.rmtree(OUT / tag, ignore_errors=True)

    def baseline(self, emu: EmulatorProcess, lat: float, n: int, rep: int) -> None:
        api = baseline.client(emu.base_url)
        sandbox = f"baseline-n{n}-l{int(lat)}-r{rep}"
        pipes = baseline.resolved(n, sandbox)
        emu.reset_metrics()
        t0 = time.perf_counter()
        made = [baseline.tutorial(api, p) for p in pipes]
        self.record(kind="baseline", op="up", n=n, latency=lat, rep=rep, seconds=round(time.perf_counter() - t0, 3),
                    **calls(emu.metrics()))
        emu.reset_metrics()
        t0 = time.perf_counter()
        for c in reversed(made):
            baseline.teardown(api, sandbox, c)
        self.record(kind="baseline", op="destroy", n=n, latency=lat, rep=rep,
                    seconds=round(time.perf_counter() - t0, 3), **calls(emu.metrics()))

    def record(self, **row: Any) -> None:
        # The machine may be shared: the 1-minute load average says how quiet it was.
        row["load1"] = round(os.getloadavg()[0], 2)
        self.results.append(row)
        print(f"  {row['kind']:8} {row['op']:8} N={row['n']:<3} {row['latency']:>5.0f} ms "
              f"{row.get('variant', ''):24} {row['seconds']:7.2f}s  calls={row['total']:4} "
              f"writes={row['writes']:4} tokens={row['ims']}", flush=True)

    # -- the matrix -------------------------------------------------------------------------------

    def emulator(self, tag: str, lat: float) -> EmulatorProcess:
        data = OUT / f"emulator-{tag}"
        shutil.rmtree(data, ignore_errors=True)
        emu = EmulatorProcess(data_dir=str(data)).start()
        emu.set_faults({"latency_ms": lat})
        return emu

    def matrix(self) -> None:
        for lat in self.args.latencies:
            emu = self.emulator(f"l{int(lat)}", lat)
            try:
                for n in self.args.sizes:
                    reps = self.args.repeat if (n, lat) == (max(self.args.sizes), max(self.args.latencies)) else 1
                    for rep in range(reps):
                        self.baseline(emu, lat, n, rep)
                        self.cycle(emu, lat, n, rep)
            finally:
                emu.stop()

    def ceiling(self) -> None:
        """The 4-call ceiling: one provider process vs K explicit ones, with the engine's default
        parallelism or a raised one, and (diagnostic) with checkpoints off."""
        k = self.args.shards
        # By default the --parallel `make up` passes for K shards (pipelines.shards.parallel_for).
        par = str(self.args.parallel or provider_shards.parallel_for(k))
        plans = (
            (max(self.args.sizes), 100.0, [(0, None, False), (0, None, True), (k, par, False), (k, par, True)]),
            (10, 1000.0, [(0, None, False), (0, par, False), (k, None, False), (k, par, False)]),
        )
        for n, lat, variants in plans:
            emu = self.emulator(f"ceiling-l{int(lat)}", lat)
            try:
                for shards, parallel, skip in variants:
                    variant = (f"shards={shards}" + (f" --parallel {parallel}" if parallel else "")
                               + (" no-checkpoints" if skip else ""))
                    tag = f"ceil-n{n}-l{int(lat)}-s{shards}-p{parallel or 0}-{'nc' if skip else 'c'}"
                    ws = self.workspace(emu, tag, n, shards=shards,
                                        env={"PULUMI_SKIP_CHECKPOINTS": "true"} if skip else None)
                    extra = ["--parallel", parallel] if parallel else []
                    for op in ("up", "refresh", "destroy"):
                        res = self.op(emu, ws, op, extra)
                        self.record(kind="ceiling", op=op, n=n, latency=lat, rep=0, variant=variant,
                                    shards=shards, parallel=parallel, skip_checkpoints=skip, **res)
                    shutil.rmtree(OUT / tag, ignore_errors=True)
            finally:
                emu.stop()

    def shards_up(self) -> None:
        """`pulumi up` of the largest N at the highest latency with one provider process and with
        K shards (and the --parallel `make up` passes), against the baseline, interleaved in each
        repetition so a busy machine slows all three alike. Creates only: the objects stay in
        their sandboxes, on an emulator of the study's own."""
        n, lat, k = max(self.args.sizes), max(self.args.latencies), self.args.shards
        par = self.args.parallel or provider_shards.parallel_for(k)
        emu = self.emulator(f"shards-up-l{int(lat)}", lat)
        try:
            for rep in range(self.args.repeat):
                api = baseline.client(emu.base_url)
                pipes = baseline.resolved(n, f"shards-up-baseline-r{rep}")
                emu.reset_metrics()
                t0 = time.perf_counter()
                for p in pipes:
                    baseline.tutorial(api, p)
                self.record(kind="shards-up", op="up", n=n, latency=lat, rep=rep, variant="baseline", shards=0,
                            parallel=None, seconds=round(time.perf_counter() - t0, 3), **calls(emu.metrics()))
                for shards, parallel in ((0, None), (k, par)):
                    tag = f"shards-up-n{n}-s{shards}-r{rep}"
                    ws = self.workspace(emu, tag, n, shards=shards)
                    extra = ["--parallel", str(parallel)] if parallel else []
                    res = self.op(emu, ws, "up", extra)
                    variant = f"providerShards={shards}" + (f" --parallel {parallel}" if parallel else "")
                    self.record(kind="shards-up", op="up", n=n, latency=lat, rep=rep, variant=variant,
                                shards=shards, parallel=parallel, **res)
                    shutil.rmtree(OUT / tag, ignore_errors=True)
        finally:
            emu.stop()


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in pathlib.Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    cli = subprocess.run([str(PULUMI_BIN / "pulumi"), "version"], capture_output=True, text=True).stdout.strip()
    from importlib.metadata import version  # noqa: PLC0415

    return {"cpu": f"{cpu}, {os.cpu_count()} cores", "memory": f"{mem} GiB", "os": platform.platform(),
            "python": platform.python_version(), "pulumi CLI": cli,
            "pulumi SDK": version("pulumi"),
            "load average at the end of the run (1, 5, 15 min)": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def med(rows: list[dict[str, Any]], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in rows)


def pick(results, **where) -> list[dict[str, Any]]:
    return [r for r in results if all(r.get(k) == v for k, v in where.items())]


def shards_up_medians(results, n: int, lat: float) -> dict[str, Any] | None:
    """The shards-up study (`--only-shards-up`) at (n, lat): each variant's median and run count, the baseline's,
    and the fastest sharded variant."""
    rows = pick(results, kind="shards-up", n=n, latency=lat)
    if not rows:
        return None
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    stats = {v: (med([r for r in rows if r["variant"] == v]), sum(r["variant"] == v for r in rows)) for v in variants}
    sharded = {v: st for v, st in stats.items() if v.startswith("providerShards=") and not v.startswith(
        "providerShards=0")}
    if "baseline" not in stats or not sharded:
        return None
    best = min(sharded.items(), key=lambda kv: kv[1][0])
    return {"all": stats, "baseline": stats["baseline"], "best": best}


def write_report(results: list[dict[str, Any]], sizes: list[int], latencies: list[float], shards: int,
                 facts: dict[str, str], partial_runs: dict[str, dict[str, str]] | None = None) -> None:
    lines: list[str] = []
    w = lines.append
    n_max, l_max = max(sizes), max(latencies)

    def cell(kind, op, n, lat):
        rows = pick(results, kind=kind, op=op, n=n, latency=lat)
        return (med(rows), rows[0]) if rows else (None, None)

    w("# Benchmarks")
    w("")
    w("Generated by `make bench` (`python -m bench.run`); every figure below comes from that run. "
      "Raw rows: `bench/out/results.json`.")
    w("")
    w("## Wall time and AEP calls")
    w("")
    w("Wall time of the Pulumi CLI command in seconds; AEP calls as the emulator counted them: "
      "reads / writes / IMS token requests, and all calls divided by the number of AEP resources "
      f"({RESOURCES_PER_PIPELINE} per pipeline). `baseline` is the tutorial as a sequential script "
      "(`bench/baseline.py`): `up` = create, `destroy` = delete.")
    w("")
    w("| latency | N | operation | wall s | reads | writes | tokens | calls / resource |")
    w("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    labels = {"up": "`pulumi up`", "preview": "no-op `pulumi preview`", "noop-up": "no-op `pulumi up`",
              "refresh": "`pulumi preview --refresh`", "destroy": "`pulumi destroy`"}
    for lat in latencies:
        for n in sizes:
            for kind, op, label in [("baseline", "up", "baseline create"), *[("pulumi", o, labels[o]) for o in OPS],
                                    ("baseline", "destroy", "baseline delete")]:
                secs, row = cell(kind, op, n, lat)
                if row is None:
                    continue
                reps = len(pick(results, kind=kind, op=op, n=n, latency=lat))
                shown = f"{secs:.2f}" + (f" (median of {reps})" if reps > 1 else "")
                per = row["total"] / (RESOURCES_PER_PIPELINE * n)
                w(f"| {lat:.0f} ms | {n} | {label} | {shown} | {row['reads']} | {row['writes']} | {row['ims']} | "
                  f"{per:.2f} |")
    w("")
    # Per-kind calls at one size, so "per resource" can be read per resource type.
    n_k = 10 if 10 in sizes else n_max
    w(f"### AEP calls by resource type (N = {n_k}, 0 ms; reads/writes per resource of that type)")
    w("")
    kinds = ["XdmSchema", "Dataset", "SourceConnection", "TargetConnection", "MappingSet", "Dataflow"]
    w("| operation | " + " | ".join(kinds) + " | token requests |")
    w("| --- | " + " | ".join("---:" for _ in kinds) + " | ---: |")
    for kind, op, label in [("pulumi", o, labels[o]) for o in OPS] + [("baseline", "up", "baseline create")]:
        _, row = cell(kind, op, n_k, min(latencies))
        if row is None:
            continue
        bk = row["by_kind"]
        vals = [f"{bk.get(k, {}).get('reads', 0) / n_k:g} / {bk.get(k, {}).get('writes', 0) / n_k:g}" for k in kinds]
        w(f"| {label} | " + " | ".join(vals) + f" | {row['ims']} |")
    w("")

    # -- goals --------------------------------------------------------------------------------------
    w("## Goals")
    w("")
    checks = []
    prev = pick(results, kind="pulumi", op="preview")
    checks.append(("A no-op `preview` makes 0 AEP calls",
                   all(r["total"] == 0 for r in prev),
                   f"max {max((r['total'] for r in prev), default=0)} calls over {len(prev)} runs"))
    refr = pick(results, kind="pulumi", op="refresh")
    worst = max(refr, key=lambda r: r["reads"] / (RESOURCES_PER_PIPELINE * r["n"])) if refr else None
    ok_refresh = all(r["reads"] <= RESOURCES_PER_PIPELINE * r["n"] and r["ims"] <= 1 and r["writes"] == 0
                     for r in refr)
    if worst:
        schema = worst["by_kind"].get("XdmSchema", {}).get("reads", 0) / worst["n"]
        detail = (f"{worst['reads']} GETs for {RESOURCES_PER_PIPELINE * worst['n']} resources at N={worst['n']} "
                  f"({worst['reads'] / (RESOURCES_PER_PIPELINE * worst['n']):.2f} per resource), "
                  f"{max(r['ims'] for r in refr)} token request(s), {max(r['writes'] for r in refr)} writes; "
                  f"XdmSchema reads {schema:g} GET(s) each")
        checks.append(("`preview --refresh` makes at most one GET per resource, plus one token request",
                       ok_refresh, detail))
    noop = pick(results, kind="pulumi", op="noop-up")
    checks.append(("A no-op `up` makes 0 writes", all(r["writes"] == 0 for r in noop),
                   f"max {max((r['writes'] for r in noop), default=0)} writes, "
                   f"max {max((r['total'] for r in noop), default=0)} calls over {len(noop)} runs"))
    up_s, _ = cell("pulumi", "up", n_max, l_max)
    base_s, _ = cell("baseline", "up", n_max, l_max)
    if up_s and base_s:
        ok: bool | str = base_s / up_s >= 3
        detail = (f"default (one provider process): baseline {base_s:.1f} s, `pulumi up` {up_s:.1f} s: "
                  f"{base_s / up_s:.2f}x")
        sharded = shards_up_medians(results, n_max, l_max)
        if sharded:
            variant, (s_up, runs) = sharded["best"]
            s_base, _ = sharded["baseline"]
            detail += (f"; `{variant}` (a separate run, medians of {runs}): baseline {s_base:.1f} s, "
                       f"`pulumi up` {s_up:.1f} s: {s_base / s_up:.2f}x")
            if not ok and s_base / s_up >= 3:
                ok = f"with `{variant}` (not the default)"
        checks.append((f"At N = {n_max} with {l_max:.0f} ms latency, `pulumi up` is at least 3x faster than the "
                       "baseline", ok, detail))
    w("| goal | met | measured |")
    w("| --- | --- | --- |")
    for goal, ok, detail in checks:
        met = ok if isinstance(ok, str) else ("yes" if ok else "**no**")
        w(f"| {goal} | {met} | {detail} |")
    w("")

    # -- ceiling --------------------------------------------------------------------------------------
    ceil = pick(results, kind="ceiling")
    if ceil:
        w("## The 4-call ceiling, and the file backend's checkpoints")
        w("")
        w("Pulumi's Python dynamic-provider process serves at most 4 RPCs at once "
          "(`ThreadPoolExecutor(max_workers=4)` in `pulumi/dynamic/__main__.py`). `shards=K` sets the "
          "stack's `aep-pipelines:providerShards` to K (`pipelines/shards.py`): K explicit `pulumi-python` "
          "providers, each its own process with its own 4 workers; each pipeline component gets "
          "`provider=shards[crc32(name) % K]`, which all its resources inherit. `no-checkpoints` sets "
          "`PULUMI_SKIP_CHECKPOINTS=true` (diagnostic only, see below).")
        w("")
        w("| N | latency | variant | `up` s | `preview --refresh` s | `destroy` s | token requests (up) |")
        w("| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
        seen = []
        for r in ceil:
            key = (r["n"], r["latency"], r["variant"])
            if key in seen:
                continue
            seen.append(key)
            rows = {o: pick(ceil, n=r["n"], latency=r["latency"], variant=r["variant"], op=o) for o in
                    ("up", "refresh", "destroy")}
            vals = [f"{rows[o][0]['seconds']:.2f}" if rows[o] else "-" for o in ("up", "refresh", "destroy")]
            w(f"| {r['n']} | {r['latency']:.0f} ms | {r['variant']} | " + " | ".join(vals)
              + f" | {rows['up'][0]['ims'] if rows['up'] else '-'} |")
        w("")

    sharded = shards_up_medians(results, n_max, l_max)
    if sharded:
        w(f"### `pulumi up` with provider shards (N = {n_max}, {l_max:.0f} ms)")
        w("")
        w("The baseline, `pulumi up` with one provider process, and `pulumi up` with "
          "`aep-pipelines:providerShards` and the `--parallel` that `make up` passes for it, interleaved in "
          "each repetition on one emulator; creates only (`python -m bench.run --only-shards-up`, also part "
          "of the full run).")
        w("")
        w("| variant | `up` s (median) | runs | each run s | x baseline |")
        w("| --- | ---: | ---: | --- | ---: |")
        base = sharded["baseline"][0]
        for variant, (secs, reps) in sharded["all"].items():
            each = ", ".join(f"{r['seconds']:.2f}" for r in pick(results, kind="shards-up", n=n_max, latency=l_max,
                                                               variant=variant))
            w(f"| {variant} | {secs:.2f} | {reps} | {each} | {base / secs:.2f} |")
        w("")

    w("## Machine")
    w("")
    for k, v in facts.items():
        w(f"- {k}: {v}")
    for kind, later in (partial_runs or {}).items():
        load = next((v for k, v in later.items() if k.startswith("load average")), "?")
        w(f"- `--only-{kind}` rerun: {later['date']}, load average at its end (1, 5, 15 min) {load}")
    w("")
    (DOCS / "benchmarks.md").write_text(_merge_notes("\n".join(lines)))


def _merge_notes(generated: str) -> str:
    """Keep the hand-written analysis (method, what fell short) below the generated figures."""
    path = DOCS / "benchmarks.md"
    marker = "<!-- analysis: hand-written, kept across runs -->"
    notes = ""
    if path.exists() and marker in path.read_text():
        notes = path.read_text().split(marker, 1)[1]
    return f"{generated}\n{marker}{notes}" if notes else f"{generated}\n{marker}\n"


def plot(results: list[dict[str, Any]], sizes: list[int], latencies: list[float]) -> None:
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("matplotlib is not installed (`pip install -e '.[bench]'`): no plot written", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, len(latencies), figsize=(6 * len(latencies), 4.5), squeeze=False)
    series = [("baseline", "up", "baseline (sequential script) create", "k", "--"),
              ("pulumi", "up", "pulumi up", "tab:blue", "-"),
              ("pulumi", "refresh", "pulumi preview --refresh", "tab:orange", "-"),
              ("pulumi", "preview", "no-op pulumi preview", "tab:green", "-"),
              ("pulumi", "destroy", "pulumi destroy", "tab:red", "-"),
              ("baseline", "destroy", "baseline delete", "tab:gray", ":")]
    for ax, lat in zip(axes[0], latencies, strict=False):  # one row of plots per latency
        for kind, op, label, color, style in series:
            xs = [n for n in sizes if pick(results, kind=kind, op=op, n=n, latency=lat)]
            ys = [med(pick(results, kind=kind, op=op, n=n, latency=lat)) for n in xs]
            if xs:
                ax.plot(xs, ys, style, marker="o", color=color, label=label)
        ax.set_title(f"{lat:.0f} ms injected latency per AEP call")
        ax.set_xlabel("pipelines (N), 6 AEP resources each")
        ax.set_ylabel("wall time, s")
        ax.set_xticks(sizes)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(DOCS / "benchmarks.png", dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,10,50", help="pipeline counts (default 1,10,50)")
    ap.add_argument("--latencies", default="0,100", help="injected latency per call in ms (default 0,100)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the largest cell, whose median is reported")
    ap.add_argument("--shards", type=int, default=4,
                    help="aep-pipelines:providerShards of the sharded variants (default 4)")
    ap.add_argument("--parallel", type=int, default=None,
                    help="engine --parallel for the sharded variants (default: what `make up` passes for --shards)")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the 4-call ceiling study")
    ap.add_argument("--only-ceiling", action="store_true",
                    help="rerun the ceiling study alone, keeping the other rows of bench/out/results.json")
    ap.add_argument("--only-shards-up", action="store_true",
                    help="rerun the `pulumi up` with/without shards vs baseline study alone (largest N, highest "
                         "latency, --repeat runs), keeping the other rows of bench/out/results.json")
    ap.add_argument("--quick", action="store_true", help="N = 1 and 10, one run, no ceiling study")
    ap.add_argument("--report-only", action="store_true", help="rewrite the docs from bench/out/results.json")
    args = ap.parse_args()
    if args.shards < 1:
        ap.error("--shards must be at least 1: the studies compare K shards with one provider process")
    if args.quick:
        args.sizes, args.repeat, args.no_ceiling = "1,10", 1, True
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.latencies = [float(x) for x in args.latencies.split(",")]
    raw = OUT / "results.json"
    if args.report_only:
        data = json.loads(raw.read_text())
    elif args.only_ceiling or args.only_shards_up:
        data = json.loads(raw.read_text())
        args.sizes, args.latencies = data["sizes"], data["latencies"]
        bench = Bench(args)
        if args.only_ceiling:
            kind = "ceiling"
            bench.ceiling()
        else:
            kind = "shards-up"
            bench.shards_up()
        data["results"] = [r for r in data["results"] if r["kind"] != kind] + bench.results
        # The rest of the figures are from the full run: its machine facts stay, this run's go beside them.
        data["shards"] = args.shards
        data.setdefault("partial_runs", {})[kind] = machine()
        raw.write_text(json.dumps(data, indent=1))
    else:
        bench = Bench(args)
        bench.matrix()
        if not args.no_ceiling:
            bench.ceiling()
            bench.shards_up()
        data = {"results": bench.results, "machine": machine(), "sizes": args.sizes, "latencies": args.latencies,
                "shards": args.shards}
        raw.write_text(json.dumps(data, indent=1))
    DOCS.mkdir(exist_ok=True)
    write_report(data["results"], data["sizes"], data["latencies"], data["shards"], data["machine"],
                 data.get("partial_runs"))
    plot(data["results"], data["sizes"], data["latencies"])
    print(f"wrote {DOCS / 'benchmarks.md'} and {DOCS / 'benchmarks.png'}")


if __name__ == "__main__":
    main()
