"""The pinned Pulumi versions agree, and the bootstrapped toolchain is the pinned one."""

import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _pins():
    env = dict(re.findall(r"^(\w+)=(\S+)$", (ROOT / "scripts/versions.env").read_text(), re.M))
    sdk = re.search(r"^pulumi==(\S+)", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    return env["PULUMI_CLI_VERSION"], sdk


def test_cli_and_sdk_pins_are_adjacent():
    cli, sdk = _pins()
    cmaj, cmin, _ = map(int, cli.split("."))
    smaj, smin, _ = map(int, sdk.split("."))
    assert cmaj == smaj and abs(cmin - smin) <= 3, f"CLI {cli} and SDK {sdk} drifted apart"


def test_installed_sdk_matches_pin():
    from importlib.metadata import version

    import pulumi
    assert version("pulumi") == _pins()[1], "the virtualenv is stale: run `make venv`"
    assert pulumi  # imported from the project venv


def test_bootstrapped_cli_has_everything_the_engine_needs():
    bin_dir = ROOT / ".tools/pulumi/bin"
    for name in ("pulumi", "pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python"):
        assert (bin_dir / name).exists(), f"{name} missing from {bin_dir}: run scripts/bootstrap"
    out = subprocess.run([str(bin_dir / "pulumi"), "version"], capture_output=True, text=True, check=True).stdout
    assert out.strip().startswith("v3.")
