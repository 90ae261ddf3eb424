"""Drive the real Pulumi engine through the Automation API, offline.

Every stack lives in a private file backend and PULUMI_HOME under the test's tmp dir,
with a passphrase secrets provider, so tests never touch the user's own state.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
from typing import Any

import pytest
from pulumi import automation as auto

from pipelines import workspace

ROOT = pathlib.Path(__file__).resolve().parents[2]
PULUMI_ROOT = ROOT / ".tools" / "pulumi"
TEST_PASSPHRASE = "aep-pipelines-test-passphrase"


def require_cli() -> pathlib.Path:
    """The bootstrapped CLI directory; `make test` runs scripts/bootstrap first."""
    bin_dir = PULUMI_ROOT / "bin"
    if not (bin_dir / "pulumi").exists():
        pytest.fail("the Pulumi CLI is not bootstrapped: run `make test` (or scripts/bootstrap) first")
    return bin_dir


def engine_env(state_dir: pathlib.Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The offline environment every engine command gets (see docs/development.md)."""
    require_cli()
    env = workspace.private_env(state_dir / "home", state_dir / "backend", TEST_PASSPHRASE)
    env.update(extra or {})
    return env


def copy_project(src: pathlib.Path, dest: pathlib.Path) -> pathlib.Path:
    """Copy a Pulumi project (without state) so tests never write stack files into the repo.

    Only the files git knows are copied (tracked, or untracked and not ignored): ignored
    folders such as bench/out/ may be written to while tests run, and copying them whole
    races with their writers. Outside a git checkout everything but state is copied. The
    copy's `.venv` is a link to the project virtualenv, so Pulumi.yaml's relative
    `virtualenv: .venv` resolves as it does in the real checkout.
    """
    dest.mkdir(parents=True, exist_ok=True)
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "."],
                             cwd=src, capture_output=True, check=False)
    if listing.returncode == 0:
        files = [f for f in listing.stdout.decode().split("\0") if f]
    else:
        files = [str(p.relative_to(src)) for p in src.rglob("*") if p.is_file()]
    for rel in files:
        if rel.split("/", 1)[0] in _NOT_COPIED or "__pycache__" in rel:
            continue
        path = src / rel
        if path.is_file():  # a tracked file deleted in the working tree is listed but absent
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / rel)
    venv = ROOT / ".venv"
    if not (dest / ".venv").exists():
        (dest / ".venv").symlink_to(venv if venv.exists() else pathlib.Path(sys.prefix))
    return dest


_NOT_COPIED = {".venv", ".state", ".tools", ".git", "tests", ".pytest_cache", "bench"}


def stack(work_dir: pathlib.Path, name: str, state_dir: pathlib.Path, config: dict[str, Any] | None = None,
          env: dict[str, str] | None = None) -> auto.Stack:
    """Create (or select) stack `name` of the project in `work_dir`, with `config` set."""
    bin_dir = require_cli()
    envs = engine_env(state_dir, env)
    ws_opts = auto.LocalWorkspaceOptions(
        env_vars=envs,
        pulumi_home=envs["PULUMI_HOME"],
        pulumi_command=auto.PulumiCommand(root=str(bin_dir.parent), skip_version_check=True),
    )
    st = auto.create_or_select_stack(stack_name=name, work_dir=str(work_dir), opts=ws_opts)
    for key, value in (config or {}).items():
        if isinstance(value, auto.ConfigValue):
            st.set_config(key, value)
        else:
            st.set_config(key, auto.ConfigValue(value=str(value)))
    return st
