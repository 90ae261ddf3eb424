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
import shutil
import time
from typing import Any

import yaml

from emulator import config as dev
from emulator.process import EmulatorProcess
from pipelines import shards as provider_shards

from . import baseline
from .engine import ROOT, Workspace
from .report import DOCS, OPS, machine, plot, write_report
from .spec import spec

OUT = ROOT / "bench" / "out"
IMS = "POST /ims/token/v3"

# Which provider resource each emulator route belongs to.
ROUTE_KINDS = (
    ("/schemaregistry/", "XdmSchema"), ("/catalog/", "Dataset"), ("/sourceConnections", "SourceConnection"),
    ("/targetConnections", "TargetConnection"), ("/conversion/", "MappingSet"), ("/flowservice/flows", "Dataflow"),
    ("/ims/", "token"),
)



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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked; sizes and latencies as lists."""
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
                    help="rerun the ceiling study alone, keeping the other rows of bench/out/results.json "
                         "(a fresh results file if there is none)")
    ap.add_argument("--only-shards-up", action="store_true",
                    help="rerun the `pulumi up` with/without shards vs baseline study alone (largest N, highest "
                         "latency, --repeat runs), keeping the other rows of bench/out/results.json (a fresh "
                         "results file if there is none)")
    ap.add_argument("--quick", action="store_true", help="N = 1 and 10, one run, no ceiling study")
    ap.add_argument("--report-only", action="store_true", help="rewrite the docs from bench/out/results.json")
    args = ap.parse_args(argv)
    if args.shards < 1:
        ap.error("--shards must be at least 1: the studies compare K shards with one provider process")
    if args.quick:
        args.sizes, args.repeat, args.no_ceiling = "1,10", 1, True
    try:
        args.sizes = [int(x) for x in args.sizes.split(",")]
        args.latencies = [float(x) for x in args.latencies.split(",")]
    except ValueError:
        ap.error("--sizes and --latencies are comma-separated numbers, e.g. --sizes 1,10,50 --latencies 0,100")
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
