"""Shared fixtures: a real emulator process on a free loopback port."""

from __future__ import annotations

import os
import pathlib

import pytest

from emulator.process import EmulatorProcess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def openapi_dir() -> pathlib.Path | None:
    """Adobe's OpenAPI specs: $AEP_OPENAPI_DIR, else ../shared/reference/openapi beside the project."""
    for cand in (os.environ.get("AEP_OPENAPI_DIR"), ROOT.parent / "shared" / "reference" / "openapi"):
        if cand and pathlib.Path(cand, "flow-service.yaml").is_file():
            return pathlib.Path(cand)
    return None


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One emulator for the whole session. Tests isolate themselves by sandbox name."""
    emu = EmulatorProcess(data_dir=str(tmp_path_factory.mktemp("emulator")))
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def fresh_emulator(tmp_path):
    """A private emulator, for tests that restart, kill or inject faults."""
    emu = EmulatorProcess(data_dir=str(tmp_path / "emulator"))
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def sandbox(request) -> str:
    """A sandbox name unique to the test, so tests sharing one emulator never collide."""
    import re
    import uuid
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:30].strip("-")
    return f"{base}-{uuid.uuid4().hex[:6]}"
