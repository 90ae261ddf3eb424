"""Run the Pulumi CLI for benchmarks: a private file backend, offline, timed from outside.

The CLI is called directly (not through the Automation API) so the wall time is the
command's own and nothing else.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import time
from dataclasses import dataclass

from pipelines import workspace

ROOT = pathlib.Path(__file__).resolve().parents[1]
PULUMI_BIN = ROOT / ".tools" / "pulumi" / "bin"
PASSPHRASE = "aep-pipelines-bench"


@dataclass
class Result:
    cmd: list[str]
    rc: int
    seconds: float
    stdout: str
    stderr: str

    def check(self) -> "Result":
        if self.rc != 0:
            raise RuntimeError(f"{' '.join(self.cmd)} exited {self.rc}\n{self.stdout[-4000:]}\n{self.stderr[-4000:]}")
        return self


class Workspace:
    """One project copy, backend and PULUMI_HOME under `base`; one stack at a time."""

    def __init__(self, base: pathlib.Path, env: dict[str, str] | None = None):
        """A fresh copy of the project under `base`; `env` is added to the CLI's environment."""
        if not (PULUMI_BIN / "pulumi").exists():
            raise SystemExit("the Pulumi CLI is not bootstrapped: run `make toolchain` first")
        self.base = base
        if base.exists():
            shutil.rmtree(base)
        self.work = copy_project(base / "project")
        private = workspace.private_env(base / "home", base / "backend", PASSPHRASE)
        self.env = {**os.environ, **private, **(env or {})}

    def pulumi(self, *args: str, check: bool = True, timeout: float = 1800) -> Result:
        cmd = [str(PULUMI_BIN / "pulumi"), *args, "--non-interactive", "--color", "never"]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout)
        res = Result(cmd, p.returncode, time.perf_counter() - t0, p.stdout, p.stderr)
        return res.check() if check else res

    def new_stack(self, name: str, config: dict[str, str], secrets: dict[str, str] | None = None) -> None:
        self.pulumi("stack", "init", name)
        for k, v in config.items():
            self.pulumi("config", "set", k, str(v))
        for k, v in (secrets or {}).items():
            self.pulumi("config", "set", "--secret", k, v)


def copy_project(dest: pathlib.Path) -> pathlib.Path:
    """The files git knows (tracked or not ignored), so scratch output elsewhere is never copied;
    `.venv` is linked so Pulumi.yaml's relative virtualenv resolves as in the checkout."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True)
    skip = (".venv", ".state", ".tools", ".git", ".github", "tests", "docs", "bench")
    for rel in listing.stdout.decode().split("\0"):
        if not rel or rel.split("/", 1)[0] in skip:
            continue
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest
