"""Engine cost per resource: state bytes and CPU seconds (engine, language host, program,
provider processes) of `pulumi up` and a no-op `pulumi preview`, per variant, interleaved.

    python -m bench.cost --sizes 10,50 --variants default,no-stack-traces,gzip --repeat 2

A variant is a set of stack settings, CLI environment and flags (VARIANTS below). CPU is
sampled from /proc every 0.2 s for every process the CLI starts (a process's last sample is
its total, short-lived ones may be missed by up to one interval) and checked against
getrusage of the reaped children.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pathlib
import resource
import secrets
import shutil
import subprocess
import threading
import time
from typing import Any

import yaml

from emulator import config as dev
from emulator.process import EmulatorProcess
from pipelines import shards as provider_shards

from .engine import PULUMI_BIN, Workspace
from .spec import spec

TICK = os.sysconf("SC_CLK_TCK")

# name -> (stack config, CLI environment, extra CLI flags)
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, str], list[str]]] = {
    "default": ({}, {}, []),
    # What main did before this work: one provider process with the SDK's 4 workers, the SDK's
    # own end-of-program wait, its full stack traces and its per-resource debug messages.
    "main": ({"aep-pipelines:providerShards": "0", "aep-pipelines:linearOutputWait": "false",
              "aep-pipelines:recordStackTraces": "true", "aep-pipelines:sdkDebugLogs": "true",
              "aep-pipelines:overlapBuild": "false"},
             {"AEP_PROVIDER_RPC_WORKERS": "4"}, []),
    "no-overlap-build": ({"aep-pipelines:overlapBuild": "false"}, {}, []),
    "no-stack-traces": ({"aep-pipelines:recordStackTraces": "false"}, {}, []),
    "gzip": ({}, {"PULUMI_DIY_BACKEND_GZIP": "true"}, []),
    "zstd": ({}, {"PULUMI_DIY_BACKEND_ZSTD": "true"}, []),
    "no-stack-traces-zstd": ({"aep-pipelines:recordStackTraces": "false"}, {"PULUMI_DIY_BACKEND_ZSTD": "true"}, []),
    "no-integrity-check": ({}, {}, ["--disable-integrity-checking"]),
    "shards-0": ({"aep-pipelines:providerShards": "0"}, {}, []),
    "skip-checkpoints": ({}, {"PULUMI_SKIP_CHECKPOINTS": "true"}, []),
    "parallel-diff": ({}, {"PULUMI_PARALLEL_DIFF": "true"}, []),
    "gogc-off": ({}, {"GOGC": "off"}, []),
}


def classify(cmd: str) -> str:
    """Which part of a deployment a process is, from its command line."""
    if "pulumi-resource-pulumi-python" in cmd or "pulumi.dynamic" in cmd or "pulumi/dynamic" in cmd:
        return "provider"
    if "pulumi-language-python-exec" in cmd or "__main__.py" in cmd:
        return "program"
    if "pulumi-language-python" in cmd:
        return "language host"
    if "pulumi-analyzer" in cmd or "policy" in cmd:
        return "policy"
    first = cmd.split(" ", 1)[0]
    return "engine" if first.endswith("/pulumi") or first == "pulumi" else "other"


class CpuSampler:
    """The CPU seconds of a process tree, by part, from /proc."""

    def __init__(self, root: int):
        self.root = root
        self.seen: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "CpuSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        cpu: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            pid = int(entry)
            parents[pid] = int(fields[1])
            cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
        tree = {self.root}
        grew = True
        while grew:
            more = {p for p, pp in parents.items() if pp in tree} - tree
            grew = bool(more)
            tree |= more
        for pid in tree:
            if pid not in cpu:
                continue
            if pid not in self.seen:
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                self.seen[pid] = (classify(cmd), cpu[pid])
            else:
                self.seen[pid] = (self.seen[pid][0], max(self.seen[pid][1], cpu[pid]))

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def by_part(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for part, secs in self.seen.values():
            out[part] = round(out.get(part, 0.0) + secs, 2)
        return out


def timed(ws: Workspace, *args: str) -> dict[str, Any]:
    """One CLI command: wall seconds, CPU by part, CPU of all reaped children."""
    cmd = [str(PULUMI_BIN / "pulumi"), *args, "--non-interactive", "--color", "never"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ws.work, env=ws.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with CpuSampler(proc.pid) as sampler:
        out, err = proc.communicate(timeout=1800)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}\n{out[-3000:]}\n{err[-3000:]}")
    return {"seconds": round(wall, 3), "cpu": sampler.by_part(),
            "cpu_children": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)}


def state_file(ws: Workspace) -> pathlib.Path:
    root = ws.base / "backend" / ".pulumi" / "stacks"
    found = [p for p in root.rglob("*") if p.is_file() and p.name.startswith("bench.json") and ".bak" not in p.name]
    return found[0]


def state_cost(path: pathlib.Path) -> dict[str, Any]:
    """The state file's size and, per resource, the bytes of each field (in its JSON)."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        text = gzip.decompress(raw)
    elif path.suffix == ".zst":  # no zstd decoder in the standard library: the size alone
        return {"file_bytes": len(raw), "json_bytes": None, "resources": None, "field_bytes": {}}
    else:
        text = raw
    resources = json.loads(text)["checkpoint"]["latest"]["resources"]
    fields: dict[str, int] = {}
    for r in resources:
        for k, v in r.items():
            fields[k] = fields.get(k, 0) + len(json.dumps(v))
    return {"file_bytes": len(raw), "json_bytes": len(text), "resources": len(resources),
            "field_bytes": dict(sorted(fields.items(), key=lambda kv: -kv[1]))}


def run_variant(emu: EmulatorProcess, out: pathlib.Path, name: str, n: int, rep: int,
                keep_state: pathlib.Path | None = None) -> dict[str, Any]:
    """`up` then a no-op `preview` of N pipelines on a new stack; `keep_state` gets a copy of the state."""
    config, env, flags = VARIANTS[name]
    # The --parallel pipelines.cli passes for the shard count in effect, as `make up` runs it.
    wide = env.get("AEP_PROVIDER_RPC_WORKERS") != "4"
    par = provider_shards.parallel_for(provider_shards.resolve(config.get(provider_shards.CONFIG_KEY), n), wide=wide)
    flags = [*flags, "--parallel", str(par)] if par else flags
    tag = f"cost-{name}-n{n}-r{rep}"
    ws = Workspace(out / tag, env=env)
    (ws.work / "bench-spec.yaml").write_text(yaml.safe_dump(spec(n), sort_keys=False))
    ws.new_stack("bench", {"aep:endpoint": emu.base_url, "aep:clientId": dev.DEV_CLIENT_ID,
                           "aep:orgId": dev.DEV_ORG_ID, "aep:sandbox": f"c-{tag}", "aep:tenantId": dev.TENANT_ID,
                           "aep-pipelines:specFile": "bench-spec.yaml", **config},
                 secrets={"aep:clientSecret": emu.client_secret})
    emu.reset_metrics()
    up = timed(ws, "up", "--yes", "--skip-preview", *flags)
    up_calls = emu.metrics()["total"]
    emu.reset_metrics()
    preview = timed(ws, "preview", *flags)
    row = {"kind": "cost", "variant": name, "n": n, "rep": rep, "up": up, "preview": preview,
           "up_calls": up_calls, "preview_calls": emu.metrics()["total"], "state": state_cost(state_file(ws)),
           "load1": round(os.getloadavg()[0], 2)}
    if keep_state is not None:
        shutil.copyfile(state_file(ws), keep_state)
    shutil.rmtree(out / tag, ignore_errors=True)
    return row


def study(out: pathlib.Path, sizes: list[int], variants: list[str], repeat: int,
          log: Any = print) -> list[dict[str, Any]]:
    """Every variant at every size, interleaved (A/B/A/B), on one emulator at 0 ms."""
    data = out / "emulator-cost"
    shutil.rmtree(data, ignore_errors=True)
    emu = EmulatorProcess(data_dir=str(data), client_secret=secrets.token_urlsafe(24)).start()
    rows = []
    try:
        for n in sizes:
            for rep in range(repeat):
                for name in variants:
                    row = run_variant(emu, out, name, n, rep)
                    rows.append(row)
                    st = row["state"]
                    log(f"  cost {name:20} N={n:<3} up {row['up']['seconds']:6.2f}s cpu {row['up']['cpu']} "
                        f"preview {row['preview']['seconds']:5.2f}s  state {st['file_bytes']} B  load {row['load1']}",
                        flush=True)
    finally:
        emu.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10")
    ap.add_argument("--variants", default="default,no-stack-traces")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    from .run import OUT  # noqa: PLC0415

    OUT.mkdir(parents=True, exist_ok=True)
    rows = study(OUT, [int(x) for x in args.sizes.split(",")], args.variants.split(","), args.repeat)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
