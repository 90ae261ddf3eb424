"""Fixtures for the reliability tests: private emulators, and where the measured figures go."""

from __future__ import annotations

import json
import os
import time

import pytest

from emulator.process import EmulatorProcess


@pytest.fixture
def make_emulator(tmp_path):
    """Start private emulators (extra CLI args allowed); all are stopped at teardown."""
    started: list[EmulatorProcess] = []

    def make(*args: str, name: str = "emulator") -> EmulatorProcess:
        emu = EmulatorProcess(data_dir=str(tmp_path / name), extra_args=list(args)).start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture
def figures(request):
    """Record a test's measured figures: printed, and appended to $AEP_RELIABILITY_FIGURES as JSON lines
    (docs/reliability.md quotes them)."""
    out: dict = {}
    started = time.monotonic()
    yield out
    out["test_seconds"] = round(time.monotonic() - started, 1)
    line = json.dumps({"test": request.node.name, **out}, default=str)
    print(f"\nFIGURES {line}")
    path = os.environ.get("AEP_RELIABILITY_FIGURES")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")
