"""The fallback language host's own Go tests (tools/pulumi-language-python), from `make test`.

They need Go; without it they are skipped, saying so. Modules come from the Go module
proxy this machine is configured with (GOPROXY), or from the module cache when it has them.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support.engine import ROOT

HOST = ROOT / "tools" / "pulumi-language-python"


def test_the_host_module_pins_the_cli_sdk_version():
    cli = re.search(r"^PULUMI_CLI_VERSION=(\S+)$", (ROOT / "scripts/versions.env").read_text(), re.M).group(1)
    sdk = re.search(r"^\s*github.com/pulumi/pulumi/sdk/v3 (v\S+)", (HOST / "go.mod").read_text(), re.M)
    assert sdk and sdk.group(1) == f"v{cli}", "tools/pulumi-language-python/go.mod: require the SDK of the CLI pin"


def test_go_test_of_the_language_host():
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go is not installed: tools/pulumi-language-python's Go tests need it (https://go.dev/dl/)")
    proc = subprocess.run([go, "test", "-mod=readonly", "-count=1", "./..."], cwd=HOST, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    assert re.search(r"^ok\s+aep-pipelines/tools/pulumi-language-python", proc.stdout, re.M), proc.stdout
