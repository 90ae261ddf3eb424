"""`make up`, `make demo`, `make status`, `make drift`, `make emulator-stop` as a user runs them.

The Makefile only calls `python -m pipelines.cli <command> --stack dev`, so this runs the
same commands in a copy of the project whose dev stack points at a free port: `up` must
start the emulator itself, in the background, and leave it running for the next command.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests

from emulator.process import free_port
from tests.support.engine import require_cli

from .helpers import copy_real_project

pytestmark = pytest.mark.engine


def test_up_demo_status_drift_and_emulator_stop(tmp_path):
    bin_dir = require_cli()
    project = copy_real_project(tmp_path / "project")
    base = f"http://127.0.0.1:{free_port()}"
    dev = project / "stacks" / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("http://127.0.0.1:8765", base))
    # A user's shell, not `make test`'s: no Pulumi or AEP settings, so the CLI's defaults apply.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AEP_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipelines.cli", *args, "--stack", "dev"], cwd=project,
                              env=env, capture_output=True, text=True, timeout=300)

    try:
        up = cli("up")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert f"starting the AEP emulator at {base}" in up.stderr
        assert re.search(r"Pulumi CLI v3\.\d+\.\d+ at /\S+/pulumi, .*; Python language host: (official|the project's "
                         r"fallback)", up.stderr), up.stderr
        assert (project / ".state" / "emulator.pid").exists() and (project / ".state" / "emulator.log").exists()
        assert requests.get(f"{base}/_emulator/health", timeout=2).ok
        webhook = re.search(r"Pendo webhook URL:\s+(\S+)", up.stdout)
        assert webhook and webhook.group(1).startswith(f"{base}/collection/") and "?x-adobe-flow-id=" in \
            webhook.group(1)
        assert "Inlet URL:" in up.stdout and "+ 8 created" in up.stdout

        demo = cli("demo")
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert demo.stdout.count("-> HTTP 200") == 3
        assert "holds 2 record(s)" in demo.stdout and '"guideName": "NPS survey"' in demo.stdout
        assert "partialSuccess" in demo.stdout and "is not a valid date-time" in demo.stdout

        status = cli("status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert re.search(r"pendo\s+dev\s+Streaming Dataflow for Pendo\s+enabled\s+partialSuccess", status.stdout)
        assert re.search(r"partialSuccess\s+3\s+2\s+1\s+INGEST-1212-400", status.stdout)

        drift = cli("drift")
        assert drift.returncode == 0 and drift.stdout.startswith("No drift"), drift.stdout + drift.stderr

        again = cli("up")  # a second `make up` finds the emulator running and changes nothing
        assert again.returncode == 0 and "already running" in again.stderr and "8 unchanged" in again.stdout
    finally:
        stop = cli("emulator-stop")
    assert stop.returncode == 0 and "stopped the background AEP emulator" in stop.stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/_emulator/health", timeout=2)
