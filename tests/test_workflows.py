"""The GitHub workflows: the official Pulumi CLI at the pinned version, a `test` workflow for
pull requests, and every workflow clean under actionlint.

actionlint is a Go program: it is built once with `go install` at ACTIONLINT_VERSION
(scripts/versions.env) into ${XDG_CACHE_HOME:-~/.cache}/aep-pipelines/actionlint-<version>/.
Without Go that test is skipped, saying so.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

from tests.support.engine import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PINS = dict(re.findall(r"^(\w+)=(\S+)$", (ROOT / "scripts" / "versions.env").read_text(), re.M))


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())


def steps(wf: dict) -> list[dict]:
    return [s for job in wf["jobs"].values() for s in job["steps"]]


@pytest.mark.parametrize("name", ["preview", "deploy", "drift", "test"])
def test_the_workflow_installs_the_official_cli_at_the_pin(name):
    all_steps = steps(workflow(name))
    runs = " ".join(s.get("run", "") for s in all_steps)
    pins = next(s for s in all_steps if s.get("id") == "pins")
    assert pins["run"] == "grep -E '^PULUMI_CLI_VERSION=' scripts/versions.env >> \"$GITHUB_OUTPUT\""
    install = [s for s in all_steps if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert len(install) == 1 and install[0]["with"] == {
        "pulumi-version": "${{ steps.pins.outputs.PULUMI_CLI_VERSION }}"}, install
    order = [s.get("id") or s.get("uses") or s.get("run") for s in all_steps]
    assert order.index("pins") < order.index(install[0]["uses"]), "read the pin before installing"
    # Nothing builds Pulumi from source any more: no Go for the CLI, no cache of a build.
    assert not any(str(s.get("uses", "")).startswith("actions/cache@") for s in all_steps)
    if name != "test":
        assert not any(str(s.get("uses", "")).startswith("actions/setup-go@") for s in all_steps)
    assert "make venv toolchain" in runs or "make test" in runs


def test_the_pin_read_by_the_workflows_is_the_cli_pin():
    pins = next(s for s in steps(workflow("test")) if s.get("id") == "pins")
    proc = subprocess.run(["bash", "-c", pins["run"]], cwd=ROOT,
                          env={**os.environ, "GITHUB_OUTPUT": "/dev/stdout"}, capture_output=True, text=True)
    assert proc.stdout.strip() == f"PULUMI_CLI_VERSION={PINS['PULUMI_CLI_VERSION']}", proc.stdout + proc.stderr


def test_pull_requests_run_the_test_suite():
    wf = workflow("test")
    # PyYAML reads the `on:` key as True.
    assert wf[True] == {"pull_request": {"branches": ["main"]}}
    assert [s["run"] for s in steps(wf) if s.get("name") == "Test"] == ["make test"]


def actionlint() -> pathlib.Path:
    """The pinned actionlint, built with Go into the cache the first time."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go is not installed: actionlint is built with `go install` (https://go.dev/dl/)")
    version = PINS["ACTIONLINT_VERSION"]
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache")
    bin_dir = cache / "aep-pipelines" / f"actionlint-v{version}"
    exe = bin_dir / "actionlint"
    if not exe.exists():
        env = {**os.environ, "GOBIN": str(bin_dir)}
        proc = subprocess.run([go, "install", f"github.com/rhysd/actionlint/cmd/actionlint@v{version}"],
                              env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"go install actionlint v{version} failed:\n{proc.stderr[-4000:]}"
    out = subprocess.run([str(exe), "-version"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0].strip() == f"v{version}", out
    return exe


def test_actionlint_finds_nothing_in_the_workflows():
    exe = actionlint()
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) == 4
    proc = subprocess.run([str(exe), "-no-color", *files], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_does_report_a_broken_workflow(tmp_path):
    exe = actionlint()
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ steps.nope.outputs.x }\n")
    proc = subprocess.run([str(exe), "-no-color", str(broken)], capture_output=True, text=True)
    assert proc.returncode == 1 and "broken.yml" in proc.stdout, proc.stdout + proc.stderr
