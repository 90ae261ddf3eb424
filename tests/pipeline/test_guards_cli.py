"""The CLI's verdicts and guards, as a user meets them: `make drift` outcomes that cannot be
confused, one-way doors refused before any write, confirmation outside dev, and one emulator
per data directory.

Each test runs `python -m pipelines.cli` in a copy of the project whose dev stack points at a
private emulator the test owns, so its metrics count exactly what the command did.
"""

from __future__ import annotations

import copy
import os
import pathlib
import re
import subprocess
import sys

import pytest
import requests
import yaml

from emulator.process import EmulatorProcess, free_port
from tests.support.engine import require_cli

from .helpers import TUTORIAL, copy_real_project

pytestmark = [pytest.mark.engine, pytest.mark.slow]

IMS = "POST /ims/token/v3"


class Cli:
    """A project copy whose stacks target `emu`, and a runner for its CLI commands."""

    def __init__(self, tmp: pathlib.Path, emu: EmulatorProcess | None, base: str | None = None,
                 spec: pathlib.Path | None = TUTORIAL):
        self.dir = copy_real_project(tmp / "project", spec)
        self.emu = emu
        self.base = base or emu.base_url
        dev = self.dir / "stacks" / "Pulumi.dev.yaml"
        dev.write_text(dev.read_text().replace("http://127.0.0.1:8765", self.base))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AEP_"))}
        self.env["PATH"] = f"{require_cli()}{os.pathsep}{self.env.get('PATH', '')}"
        self.env["AEP_RETRY_BASE_DELAY"] = "0.01"
        self.spec = yaml.safe_load((self.dir / "pipelines.yaml").read_text())

    def write_spec(self, spec: dict) -> None:
        (self.dir / "pipelines.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))

    def run(self, *args: str, stack: str = "dev", **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipelines.cli", *args, "--stack", stack], cwd=self.dir,
                              env={**self.env, **env}, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)

    def writes(self) -> int:
        m = self.emu.metrics()
        return m["writes"] - m["requests"].get(IMS, 0)


@pytest.fixture
def cli(tmp_path, fresh_emulator):
    c = Cli(tmp_path, fresh_emulator)
    up = c.run("up")
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    return c


def _out(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


def test_drift_exits_0_clean_2_on_drift_and_1_when_the_check_cannot_run(cli, tmp_path):
    clean = cli.run("drift")
    assert clean.returncode == 0 and clean.stdout.startswith("No drift"), _out(clean)

    md = tmp_path / "drift.md"
    bad = cli.run("drift", "--markdown", str(md), AEP_CLIENT_SECRET="not-the-secret")
    assert bad.returncode == 1, _out(bad)
    assert bad.stdout.startswith("Drift check failed:") and "HTTP 401 invalid_client" in bad.stdout
    assert "No drift" not in _out(bad) and "Traceback" not in _out(bad)
    assert md.read_text().startswith("Drift check failed:") and "invalid_client" in md.read_text()

    cli.emu.set_faults({"rules": [{"fault": 500, "methods": "reads", "route": "^GET /data/"}]})
    try:
        failing = cli.run("drift", AEP_RETRY_BUDGET="1")
    finally:
        cli.emu.clear_faults()
    assert failing.returncode == 1 and "Drift check failed:" in failing.stdout and "HTTP 500" in failing.stdout, \
        _out(failing)
    assert "No drift" not in _out(failing)

    flow = next(o for o in cli.emu.admin("GET", "objects/flow", params={"org": "AEPPIPELINESDEV0000000000@AdobeOrg",
                                                                        "sandbox": "dev"}))
    s = cli.emu.session("dev")
    url = f"{cli.base}/data/foundation/flowservice/flows/{flow['id']}"
    etag = s.get(url).json()["items"][0]["etag"]
    r = s.patch(url, json=[{"op": "replace", "path": "/name", "value": "renamed in the UI"}],
                headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    drifted = cli.run("drift")
    assert drifted.returncode == 2, _out(drifted)
    assert "~ update   Dataflow pendo-flow" in drifted.stdout
    assert "name: 'renamed in the UI' -> 'Streaming Dataflow for Pendo'" in drifted.stdout

    cli.emu.stop()
    down = cli.run("drift", AEP_EMULATOR_AUTOSTART="0", AEP_RETRY_BUDGET="1")
    assert down.returncode == 1 and "Drift check failed:" in down.stdout, _out(down)
    assert "no response" in down.stdout and "No drift" not in _out(down)


def test_a_replacement_that_loses_data_is_refused_at_preview_with_no_write(cli):
    spec = copy.deepcopy(cli.spec)
    spec["pipelines"][0]["schema"]["class"] = "profile"
    spec["pipelines"][0]["allow_replace"] = ["dataset"]  # not enough: the schema takes its flow along too
    cli.write_spec(spec)
    cli.emu.reset_metrics()
    for command in ("preview", "up"):
        refused = cli.run(command)
        assert refused.returncode == 1, _out(refused)
        text = _out(refused)
        assert "refused (one-way door): XdmSchema 'Pendo events'" in text
        assert "its dataset is replaced too (the data ingested into it is deleted)" in text
        assert "`allow_replace: [schema, dataset, flow]`" in text and "ALLOW_DATA_LOSS=1" in text
        assert "Traceback" not in text
    assert cli.writes() == 0

    allowed = cli.run("up", ALLOW_DATA_LOSS="1")
    assert allowed.returncode == 0, _out(allowed)
    assert "4 replaced" in allowed.stdout and "The webhook URL changed in this update" in allowed.stdout


def test_removing_a_pipeline_is_refused_with_what_would_be_lost(cli):
    two = copy.deepcopy(cli.spec)
    extra = copy.deepcopy(two["pipelines"][0])
    extra.update(name="pendo-two")
    extra["schema"]["title"] = extra["dataset"]["name"] = "Pendo events two"
    extra["source"]["name"], extra["flow"]["name"] = "Pendo source two", "Pendo flow two"
    two["pipelines"].append(extra)
    cli.write_spec(two)
    assert cli.run("up").returncode == 0

    cli.write_spec(cli.spec)
    cli.emu.reset_metrics()
    refused = cli.run("up")
    assert refused.returncode == 1, _out(refused)
    text = refused.stderr
    assert "refused (one-way door): pipeline(s) 'pendo-two' are deployed in stack 'dev' but no longer in the spec" \
        in text
    assert re.search(r"dataset 'Pendo events two' \([0-9a-f]{24}\) of pipeline 'pendo-two': its ingested batches "
                     r"are deleted", text)
    assert re.search(r"dataflow 'Pendo flow two' \([0-9a-f-]{36}\) of pipeline 'pendo-two': its webhook URL "
                     r"http://127\.0\.0\.1:\d+/collection/\w+\?x-adobe-flow-id=[0-9a-f-]{36} stops working", text)
    assert "previous_names" in text and "retain_on_delete" in text and "ALLOW_DATA_LOSS=1" in text
    assert cli.emu.metrics()["requests"] == {}, "the guard reads the state only: no AEP call at all"
    assert cli.run("preview").returncode == 1

    gone = cli.run("up", ALLOW_DATA_LOSS="1")
    assert gone.returncode == 0 and "7 deleted" in gone.stdout, _out(gone)


def test_a_real_stack_asks_before_it_changes_anything_and_protects_its_datasets(cli):
    staging = cli.dir / "stacks" / "Pulumi.staging.yaml"
    config = yaml.safe_load((cli.dir / "stacks" / "Pulumi.dev.yaml").read_text())
    config["config"]["aep-pipelines:protectData"] = "true"
    config["config"]["aep:sandbox"] = "staging"
    staging.write_text(yaml.safe_dump(config))
    env = {"PULUMI_CONFIG_PASSPHRASE": "aep-pipelines-dev-only"}  # the copied file holds secrets under it

    cli.emu.reset_metrics()
    unconfirmed = cli.run("up", stack="staging", **env)
    assert unconfirmed.returncode == 1, _out(unconfirmed)
    assert "there is no terminal to confirm on" in unconfirmed.stderr and "YES=1" in unconfirmed.stderr
    assert cli.emu.metrics()["requests"] == {}

    spec = copy.deepcopy(cli.spec)
    spec["pipelines"][0]["flow"]["enabled"] = False
    cli.write_spec(spec)
    up = cli.run("up", stack="staging", YES="1", **env)
    assert up.returncode == 0, _out(up)
    assert "events posted to the webhook are dropped" in up.stdout

    destroy = cli.run("destroy", stack="staging", YES="1", **env)
    assert destroy.returncode != 0 and "protected" in _out(destroy), _out(destroy)
    assert "make destroy STACK=staging ALLOW_DATA_LOSS=1" in destroy.stderr
    datasets = cli.emu.admin("GET", "objects/dataset", params={"org": "AEPPIPELINESDEV0000000000@AdobeOrg",
                                                               "sandbox": "staging"})
    assert len(datasets) == 1, "the protected dataset is still in AEP"

    gone = cli.run("destroy", stack="staging", YES="1", ALLOW_DATA_LOSS="1", **env)
    assert gone.returncode == 0, _out(gone)
    assert cli.emu.admin("GET", "objects/dataset", params={"org": "AEPPIPELINESDEV0000000000@AdobeOrg",
                                                           "sandbox": "staging"}) == []


def test_one_background_emulator_per_data_directory(tmp_path):
    c = Cli(tmp_path, None, base=f"http://127.0.0.1:{free_port()}")
    try:
        up = c.run("up")
        assert up.returncode == 0, _out(up)
        pid_file = c.dir / ".state" / "emulator.pid"
        pid = int(pid_file.read_text().split()[0])
        other = f"http://127.0.0.1:{free_port()}"
        second = c.run("preview", AEP_ENDPOINT=other)
        assert second.returncode == 1, _out(second)
        assert f"already running at {c.base} (pid {pid})" in second.stderr and "make emulator-stop" in second.stderr
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{other}/_emulator/health", timeout=2)
        assert int(pid_file.read_text().split()[0]) == pid
    finally:
        stop = c.run("emulator-stop")
    assert stop.returncode == 0 and "stopped the background AEP emulator" in stop.stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{c.base}/_emulator/health", timeout=2)
