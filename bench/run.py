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
import json
import os
import pathlib
import secrets
import shutil
import time
from typing import Any

import yaml

from emulator import config as dev
from emulator.process import EmulatorProcess
from pipelines import shards as provider_shards
from providers import rpc_workers

from . import baseline, cost, floor
from .engine import ROOT, Workspace
from .report import DOCS, OPS, machine, plot, write_report
from .spec import spec

OUT = ROOT / "bench" / "out"
IMS = "POST /ims/token/v3"
# The cells the goals are judged on (docs/benchmarks.md, Goals): run --repeat times.
GOAL_CELLS = {(50, 100.0), (50, 500.0)}
# A latency model closer to AEP than one flat figure (emulator/latency.py): reads 150 ms, writes
# 500 ms, a flow's creation 1.5 s, IMS 300 ms, all with lognormal jitter (a long tail).
MODEL = "aep-like"
MODEL_FAULTS = {"seed": 14, "latency": {
    "reads_ms": 150, "writes_ms": 500,
    "routes": [{"route": "^POST /data/foundation/flowservice/flows$", "ms": 1500},
               {"route": "^POST /ims/", "ms": 300}],
    "jitter": {"distribution": "lognormal", "sigma": 0.3}}}
# Engine cost per resource: what main did (one provider process, the SDK's own wait), the new
# default (shards from the stack's size, the linear wait) and the opt-out of full stack traces.
COST_VARIANTS = ("main", "default", "no-overlap-build", "no-stack-traces")

# Which provider resource each emulator route belongs to.
ROUTE_KINDS = (
    ("/schemaregistry/", "XdmSchema"), ("/catalog/", "Dataset"), ("/sourceConnections", "SourceConnection"),
    ("/targetConnections", "TargetConnection"), ("/conversion/", "MappingSet"), ("/flowservice/flows", "Dataflow"),
    ("/ims/", "token"),
)



def _lat(lat: Any) -> str:
    """A latency in a sandbox or directory name (letters, digits and hyphens only)."""
    return str(int(lat)) if isinstance(lat, (int, float)) else str(lat)


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
            "by_kind": by_kind, "routes": reqs, "max_in_flight": metrics.get("max_in_flight")}


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.results: list[dict[str, Any]] = []
        OUT.mkdir(parents=True, exist_ok=True)

    # -- one stack --------------------------------------------------------------------------------

    def workspace(self, emu: EmulatorProcess, tag: str, n: int, shards: int | None = None,
                  env: dict[str, str] | None = None) -> Workspace:
        """A stack of N pipelines; `shards` None leaves aep-pipelines:providerShards unset (the
        automatic count, what a new stack gets)."""
        ws = Workspace(OUT / tag, env=env)
        (ws.work / "bench-spec.yaml").write_text(yaml.safe_dump(spec(n), sort_keys=False))
        # Shards are the product's own setting (pipelines/shards.py), so what is measured is what ships.
        config: dict[str, Any] = {
            "aep:endpoint": emu.base_url, "aep:clientId": dev.DEV_CLIENT_ID, "aep:orgId": dev.DEV_ORG_ID,
            "aep:sandbox": f"b-{tag}", "aep:tenantId": dev.TENANT_ID, "aep-pipelines:specFile": "bench-spec.yaml"}
        if shards is not None:
            config[provider_shards.CONFIG_KEY] = shards
        ws.new_stack("bench", config, secrets={"aep:clientSecret": emu.client_secret})
        return ws

    def op(self, emu: EmulatorProcess, ws: Workspace, op: str, extra: list[str] | None = None) -> dict[str, Any]:
        emu.reset_metrics()
        r = ws.pulumi(*OPS[op], *(extra or []))
        return {"seconds": round(r.seconds, 3), **calls(emu.metrics())}

    def cycle(self, emu: EmulatorProcess, lat: Any, n: int, rep: int, kind: str = "pulumi") -> None:
        """Every operation of OPS on a new stack of N pipelines, as `make up` runs them by default:
        the automatic shard count, and the --parallel pipelines.cli passes for it."""
        tag = f"{kind}-n{n}-l{_lat(lat)}-r{rep}"
        ws = self.workspace(emu, tag, n)
        shards = provider_shards.auto(n)
        par = provider_shards.parallel_for(shards)
        extra = ["--parallel", str(par)] if par else []
        for op in OPS:
            res = self.op(emu, ws, op, extra)
            self.record(kind=kind, op=op, n=n, latency=lat, rep=rep, shards=shards, parallel=par, **res)
        shutil.rmtree(OUT / tag, ignore_errors=True)

    def baseline(self, emu: EmulatorProcess, lat: Any, n: int, rep: int, kind: str = "baseline") -> None:
        """The sequential script: create, then (up to --baseline-delete-up-to ms) delete."""
        api = baseline.client(emu.base_url, emu.client_secret)
        sandbox = f"{kind}-n{n}-l{_lat(lat)}-r{rep}"
        pipes = baseline.resolved(n, sandbox)
        emu.reset_metrics()
        t0 = time.perf_counter()
        made = [baseline.tutorial(api, p) for p in pipes]
        self.record(kind=kind, op="up", n=n, latency=lat, rep=rep, seconds=round(time.perf_counter() - t0, 3),
                    **calls(emu.metrics()))
        if isinstance(lat, (int, float)) and lat > self.args.baseline_delete_up_to:
            return  # its objects stay in their sandbox: the delete would take as long again
        emu.reset_metrics()
        t0 = time.perf_counter()
        for c in reversed(made):
            baseline.teardown(api, sandbox, c)
        self.record(kind=kind, op="destroy", n=n, latency=lat, rep=rep,
                    seconds=round(time.perf_counter() - t0, 3), **calls(emu.metrics()))

    def record(self, **row: Any) -> None:
        # The machine may be shared: the 1-minute load average says how quiet it was.
        row["load1"] = round(os.getloadavg()[0], 2)
        self.results.append(row)
        lat = row["latency"]
        print(f"  {row['kind']:8} {row['op']:8} N={row['n']:<3} {lat if isinstance(lat, str) else f'{lat:.0f}':>5} ms "
              f"{row.get('variant', ''):24} {row['seconds']:7.2f}s  calls={row['total']:4} "
              f"writes={row['writes']:4} tokens={row['ims']}", flush=True)

    # -- the matrix -------------------------------------------------------------------------------

    def emulator(self, tag: str, lat: float, faults: dict[str, Any] | None = None) -> EmulatorProcess:
        data = OUT / f"emulator-{tag}"
        shutil.rmtree(data, ignore_errors=True)
        # A throwaway client secret per emulator: the bench needs no credential of the repository's.
        emu = EmulatorProcess(data_dir=str(data), client_secret=secrets.token_urlsafe(24)).start()
        emu.set_faults(faults or {"latency_ms": lat})
        return emu

    def matrix(self) -> None:
        """Baseline and `pulumi` side by side in every (N, latency) cell but the skipped ones; the
        goal cells (N = 50 at 100 and 500 ms) --repeat times, interleaved."""
        for lat in self.args.latencies:
            emu = self.emulator(f"l{int(lat)}", lat)
            try:
                for n in self.args.sizes:
                    if (n, lat) in self.args.skip:
                        continue
                    reps = self.args.repeat if (n, lat) in GOAL_CELLS else 1
                    for rep in range(reps):
                        self.baseline(emu, lat, n, rep)
                        self.cycle(emu, lat, n, rep)
            finally:
                emu.stop()

    def model(self) -> None:
        """The AEP-like latency model (reads faster than writes, slow flow creation, seeded
        jitter: MODEL_FAULTS) at --model-size, baseline and `pulumi` side by side."""
        n = self.args.model_size
        emu = self.emulator("model", 0, MODEL_FAULTS)
        try:
            self.baseline(emu, MODEL, n, 0, kind="model-baseline")
            self.cycle(emu, MODEL, n, 0, kind="model-pulumi")
        finally:
            emu.stop()

    def cost(self) -> None:
        """Engine cost per resource (bench/cost.py) at 0 ms, before/after variants interleaved."""
        for row in cost.study(OUT, self.args.cost_sizes, list(COST_VARIANTS), 1):
            self.results.append(row)

    def floor(self) -> None:
        """The engine's floor (bench/floor.py): the real stack's graph without its payload, beside
        `main`, the default and the default without checkpoints, --repeat times interleaved."""
        self.results.extend(floor.study(OUT, self.args.floor_size, self.args.repeat))

    def ceiling(self) -> None:
        """The 4-call ceiling: one provider process vs K explicit ones, with the engine's default
        parallelism or a raised one, and (diagnostic) with checkpoints off."""
        k = self.args.shards
        # By default the --parallel `make up` passes for K shards (pipelines.shards.parallel_for).
        par = str(self.args.parallel or provider_shards.parallel_for(k))
        plans = (
            (self.study_cell()[0], 100.0, [(0, None, False), (0, None, True), (k, par, False), (k, par, True)]),
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

    def study_cell(self) -> tuple[int, float]:
        """Where the ceiling and shards-up studies run: `--study-at`, else N = 50 at 100 ms when
        the matrix has them."""
        if self.args.study_at:
            return self.args.study_at
        sizes, lats = self.args.sizes, self.args.latencies
        return (50 if 50 in sizes else max(sizes)), (100.0 if 100.0 in lats else max(lats))

    def shards_up(self) -> None:
        """`pulumi up` of the largest N at the highest latency: the SDK's 4-worker provider pool
        (AEP_PROVIDER_RPC_WORKERS=4) in one process and in K shards (with the --parallel `make up`
        passed for them), and the default (the wide pool, no setting, the --parallel `make up`
        passes), against the baseline, interleaved in each repetition so a busy machine slows
        them alike. Creates only: the objects stay in their sandboxes, on an emulator of the
        study's own."""
        n, lat, k = self.study_cell() + (self.args.shards,)
        sdk_pool = {rpc_workers.ENV: str(rpc_workers.SDK_WORKERS)}
        variants = (  # (label, providerShards, --parallel, CLI environment)
            ("SDK pool, providerShards=0", 0, None, sdk_pool),
            (f"SDK pool, providerShards={k}", k, provider_shards.parallel_for(k, wide=False), sdk_pool),
            ("default", None, provider_shards.parallel_for(provider_shards.auto(n)), None),
        )
        emu = self.emulator(f"shards-up-l{int(lat)}", lat)
        try:
            for rep in range(self.args.repeat):
                api = baseline.client(emu.base_url, emu.client_secret)
                pipes = baseline.resolved(n, f"shards-up-baseline-r{rep}")
                emu.reset_metrics()
                t0 = time.perf_counter()
                for p in pipes:
                    baseline.tutorial(api, p)
                self.record(kind="shards-up", op="up", n=n, latency=lat, rep=rep, variant="baseline", shards=0,
                            parallel=None, seconds=round(time.perf_counter() - t0, 3), **calls(emu.metrics()))
                for i, (label, shards, parallel, env) in enumerate(variants):
                    tag = f"shards-up-n{n}-v{i}-r{rep}"
                    ws = self.workspace(emu, tag, n, shards=shards, env=env)
                    extra = ["--parallel", str(parallel)] if parallel else []
                    res = self.op(emu, ws, "up", extra)
                    variant = label + (f" --parallel {parallel}" if parallel else "")
                    self.record(kind="shards-up", op="up", n=n, latency=lat, rep=rep, variant=variant,
                                shards=shards or 0, parallel=parallel, **res)
                    shutil.rmtree(OUT / tag, ignore_errors=True)
        finally:
            emu.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked; sizes and latencies as lists."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,10,50,100", help="pipeline counts (default 1,10,50,100)")
    ap.add_argument("--latencies", default="0,100,500", help="injected latency per call in ms (default 0,100,500)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of the goal cells (N = 50 at 100 and 500 ms), whose medians are reported")
    ap.add_argument("--shards", type=int, default=4,
                    help="aep-pipelines:providerShards of the sharded variants (default 4)")
    ap.add_argument("--parallel", type=int, default=None,
                    help="engine --parallel for the sharded variants (default: what `make up` passes for --shards)")
    ap.add_argument("--skip", default="", metavar="N@MS,...",
                    help="matrix cells to leave out, e.g. 100@500,100@100 (the report names them as missing)")
    ap.add_argument("--baseline-delete-up-to", type=float, default=float("inf"), metavar="MS",
                    help="run the baseline's delete only at latencies up to this (it takes as long as its create)")
    ap.add_argument("--model-size", type=int, default=10,
                    help="N of the AEP-like latency model study (reads 150 ms, writes 500 ms, jitter); 0 skips it")
    ap.add_argument("--cost-sizes", default="10,50", help="N of the engine cost per resource study; empty skips it")
    ap.add_argument("--floor-size", type=int, default=50,
                    help="N of the engine's floor study (bench/floor.py; default 50); 0 skips it")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the 4-call ceiling study (its grid of variants)")
    ap.add_argument("--no-shards-up", action="store_true",
                    help="skip the study of `up` past the 4-call ceiling (the SDK's pool, shards, the default)")
    ap.add_argument("--only-ceiling", action="store_true",
                    help="rerun the ceiling study alone, keeping the other rows of bench/out/results.json "
                         "(a fresh results file if there is none)")
    ap.add_argument("--only-shards-up", action="store_true",
                    help="rerun the `pulumi up` with/without shards vs baseline study alone (largest N, highest "
                         "latency, --repeat runs), keeping the other rows of bench/out/results.json (a fresh "
                         "results file if there is none)")
    ap.add_argument("--study-at", metavar="N@MS", default=None,
                    help="where the ceiling and shards-up studies run (default: N = 50 at 100 ms when the matrix "
                         "has them), e.g. 50@500")
    ap.add_argument("--quick", action="store_true", help="N = 1 and 10, one run, no ceiling study")
    ap.add_argument("--report-only", action="store_true", help="rewrite the docs from bench/out/results.json")
    args = ap.parse_args(argv)
    if args.shards < 1:
        ap.error("--shards must be at least 1: the studies compare K shards with one provider process")
    if args.quick:
        args.sizes, args.latencies, args.repeat, args.no_ceiling, args.no_shards_up = "1,10", "0,100", 1, True, True
        args.model_size, args.cost_sizes, args.floor_size = 0, "", 0
    try:
        args.sizes = [int(x) for x in args.sizes.split(",")]
        args.latencies = [float(x) for x in args.latencies.split(",")]
        args.cost_sizes = [int(x) for x in args.cost_sizes.split(",") if x.strip()]
        args.skip = {(int(c.split("@")[0]), float(c.split("@")[1])) for c in args.skip.split(",") if c.strip()}
        if args.study_at:
            n, lat = args.study_at.split("@")
            args.study_at = (int(n), float(lat))
    except (ValueError, IndexError):
        ap.error("--sizes, --latencies and --cost-sizes are comma-separated numbers (--sizes 1,10,50), --skip "
                 "N@MS cells (--skip 100@500), --study-at one N@MS cell (--study-at 50@500)")
    return args


def prior_results(args: argparse.Namespace, raw: pathlib.Path) -> dict[str, Any]:
    """The results a partial run (`--only-*`, `--report-only`) starts from: bench/out/results.json,
    or, on a clean checkout, a fresh file with this command line's sizes and latencies.
    `--report-only` has nothing to report without one, and says so (SystemExit, no traceback)."""
    if raw.exists():
        try:
            return json.loads(raw.read_text())
        except json.JSONDecodeError as e:
            raise SystemExit(f"{raw} is not valid JSON ({e}): delete it and rerun the benchmark") from None
    if args.report_only:
        raise SystemExit(f"no benchmark results in {raw}: run `make bench` (or `make bench BENCH_ARGS=--quick`, "
                         "about a minute) first; --report-only only rewrites the docs from them")
    print(f"{raw} does not exist yet: starting a fresh results file", flush=True)
    return {"results": [], "machine": machine(), "sizes": args.sizes, "latencies": args.latencies,
            "shards": args.shards}


def main(argv: list[str] | None = None) -> None:
    """Run what the command line asks, save the raw rows, and regenerate the docs from them."""
    args = parse_args(argv)
    raw = OUT / "results.json"
    if args.report_only:
        data = prior_results(args, raw)
    elif args.only_ceiling or args.only_shards_up:
        data = prior_results(args, raw)
        args.sizes, args.latencies = data["sizes"], data["latencies"]
        bench = Bench(args)
        if args.only_ceiling:
            kind = "ceiling"
            bench.ceiling()
        else:
            kind = "shards-up"
            bench.shards_up()
        # The shards-up study keeps its rows of other cells (`--study-at`): one table per cell.
        cell = bench.study_cell()
        data["results"] = [r for r in data["results"] if r["kind"] != kind or (
            kind == "shards-up" and (r["n"], r["latency"]) != cell)] + bench.results
        # The rest of the figures are from the full run: its machine facts stay, this run's go beside them.
        data["shards"] = args.shards
        data.setdefault("partial_runs", {})[kind] = machine()
        raw.write_text(json.dumps(data, indent=1))
    else:
        bench = Bench(args)
        started = time.time()
        bench.matrix()
        if args.model_size:
            bench.model()
        if args.cost_sizes:
            bench.cost()
        if args.floor_size:
            bench.floor()
        if not args.no_ceiling:
            bench.ceiling()
        if not args.no_shards_up:
            bench.shards_up()
        data = {"results": bench.results, "machine": machine(), "sizes": args.sizes, "latencies": args.latencies,
                "shards": args.shards, "skipped": sorted(args.skip), "minutes": round((time.time() - started) / 60, 1)}
        raw.write_text(json.dumps(data, indent=1))
    DOCS.mkdir(exist_ok=True)
    write_report(data["results"], data["sizes"], data["latencies"], data["shards"], data["machine"],
                 data.get("partial_runs"), data.get("skipped"), data.get("minutes"))
    plot(data["results"], data["sizes"], data["latencies"])
    print(f"wrote {DOCS / 'benchmarks.md'} and {DOCS / 'benchmarks.png'}")


if __name__ == "__main__":
    main()
