"""`make up` of the dev pipeline with its state on S3 (moto server) against the file backend.

    python -m bench.state_backends [--runs 3]

Each run, per backend: `python -m pipelines.cli up --stack dev` on an empty stack (8
creates), again (8 unchanged, after a refresh), then `destroy`. Wall time is the command's,
measured from outside; the emulator has no injected latency, so the difference is the
backend's. The S3 server is the one the team-state tests use (tests/state/s3server.py).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

from emulator.process import EmulatorProcess
from tests.pipeline.helpers import copy_real_project
from tests.state.s3server import MotoS3

from .engine import PULUMI_BIN

STEPS = ("up (8 created)", "up (8 unchanged)", "destroy")


def timed(project: pathlib.Path, env: dict[str, str], *args: str) -> float:
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "pipelines.cli", *args, "--stack", "dev"], cwd=project, env=env,
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"pipelines.cli {' '.join(args)} exited {p.returncode}:\n"
                           f"{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return time.monotonic() - t0


def project_for(base: pathlib.Path, emu: EmulatorProcess, backend_env: dict[str, str]):
    """A project copy whose dev stack targets `emu`, and the environment of a shell on that backend."""
    project = copy_real_project(base / "project")
    dev = project / "stacks" / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("http://127.0.0.1:8765", emu.base_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AEP_", "AWS_"))}
    env["PATH"] = f"{PULUMI_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(backend_env)
    return project, env


def s3_requests(log: pathlib.Path) -> int:
    """Requests moto has served so far: werkzeug logs one line per request."""
    return log.read_text(errors="replace").count("HTTP/1.1") if log.exists() else 0


def one_run(project: pathlib.Path, env: dict[str, str], log: pathlib.Path | None = None) -> list[tuple[float, int]]:
    """The three steps: (seconds, S3 requests) each; requests are 0 on the file backend."""
    out = []
    for args in (("up",), ("up",), ("destroy",)):
        before = s3_requests(log) if log else 0
        seconds = timed(project, env, *args)
        out.append((seconds, (s3_requests(log) - before) if log else 0))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    runs = ap.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="aep-state-bench-") as tmp:
        base = pathlib.Path(tmp)
        s3 = MotoS3(base / "moto.log").start()
        emu = EmulatorProcess(data_dir=str(base / "emulator")).start()
        try:
            s3.create_bucket("team-state")
            load_before = os.getloadavg()
            setups = {"file": project_for(base / "file", emu, {"PULUMI_BACKEND_URL": f"file://{base / 'backend'}"}),
                      "s3": project_for(base / "s3", emu, s3.env("team-state"))}
            results: dict[str, list[list[tuple[float, int]]]] = {"file": [], "s3": []}
            for _ in range(runs):  # interleaved, so a change in the machine's load hits both alike
                for name, (project, env) in setups.items():
                    results[name].append(one_run(project, env, s3.log_path if name == "s3" else None))
            load_after = os.getloadavg()
        finally:
            emu.stop()
            s3.stop()
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; {os.cpu_count()} CPUs")
    print(f"| step | file backend (s, {runs} runs) | S3 on moto (s, {runs} runs) | median S3 / file | S3 requests |")
    print("| --- | --- | --- | --- | --- |")
    for i, step in enumerate(STEPS):
        f = [r[i][0] for r in results["file"]]
        s = [r[i][0] for r in results["s3"]]
        requests = sorted({r[i][1] for r in results["s3"]})
        print(f"| {step} | {', '.join(f'{x:.1f}' for x in f)} | {', '.join(f'{x:.1f}' for x in s)} | "
              f"{statistics.median(s) / statistics.median(f):.2f} | {', '.join(map(str, requests))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
