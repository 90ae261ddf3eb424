"""Shared fixtures: a real emulator process on a free loopback port, and the no-leftover-process check."""

from __future__ import annotations

import os
import pathlib
import signal
import time
import uuid

import pytest

from emulator.process import EmulatorProcess
from tests.support.credentials import DEV_CLIENT_SECRET

# The emulators tests start accept the dev stack's secret, which tests know (emulator/process.py).
EmulatorProcess.client_secret = DEV_CLIENT_SECRET

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Every process the suite starts (emulators, the pulumi CLI, its language host and provider
# plugins, which inherit the CLI's environment) carries this variable, with a value unique to
# the run, and TEST_NODE_VAR naming the test that was running when it was started. That is how
# the end-of-run check finds them, and never anyone else's processes.
SESSION_VAR = "AEP_TEST_SESSION"
TEST_NODE_VAR = "AEP_TEST_NODE"
SESSION_ID = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
os.environ[SESSION_VAR] = SESSION_ID


def marked_processes(var: str = SESSION_VAR, value: str = SESSION_ID) -> dict[int, dict[str, str]]:
    """Live processes whose environment has var=value (this process excluded): pid -> {cmd, test}."""
    needle = f"{var}={value}".encode()
    found: dict[int, dict[str, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue  # exited, only waiting for its parent to reap it
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            if needle not in env:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        node = next((e.split(b"=", 1)[1].decode(errors="replace") for e in env
                     if e.startswith(TEST_NODE_VAR.encode() + b"=")), "?")
        found[int(entry)] = {"cmd": cmd[:200], "test": node}
    return found


def kill_marked(var: str, value: str, grace: float = 5.0) -> dict[int, dict[str, str]]:
    """SIGKILL every process marked var=value; wait until none is left.

    Returns what was found alive (empty when nothing was left to kill)."""
    found = marked_processes(var, value)
    deadline = time.monotonic() + grace
    while True:
        alive = marked_processes(var, value)
        if not alive:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"processes marked {var}={value} survive SIGKILL: {alive}")
        for pid in alive:
            # One by one, never by process group: a leftover's group may be pytest's own.
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.05)


def pytest_runtest_setup(item) -> None:
    """Mark what this test starts with its node id, so a leftover process names its test."""
    os.environ[TEST_NODE_VAR] = item.nodeid


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_run():
    """Fail the run if an emulator, `pulumi` or provider process the suite started is still alive.

    Set up first and so torn down last, after every other fixture has stopped what it started.
    Processes get a few seconds to exit (a CLI's plugins end shortly after it); whatever is still
    there is reported, with the test that started it, and then killed so it does not pile up.
    """
    yield
    deadline = time.monotonic() + float(os.environ.get("AEP_LEAK_GRACE", "5"))
    left = marked_processes()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = marked_processes()
    if left:
        kill_marked(SESSION_VAR, SESSION_ID)
        listing = "\n".join(f"  pid {pid} started in {info['test']}: {info['cmd']}" for pid, info in left.items())
        pytest.fail(f"{len(left)} process(es) started by the test suite outlived it (now killed):\n{listing}",
                    pytrace=False)


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


class Emulators:
    """Private emulators started on demand, each with its own data dir and extra CLI args."""

    def __init__(self, data_dir):
        self._data_dir = data_dir
        self._started: list[EmulatorProcess] = []

    def __call__(self, *args: str, name: str = "emulator") -> EmulatorProcess:
        """Start one: `make_emulator("--token-ttl", "2")`."""
        emu = EmulatorProcess(data_dir=str(self._data_dir(name)), extra_args=list(args)).start()
        self._started.append(emu)
        return emu

    def stop_all(self) -> None:
        for emu in self._started:
            emu.stop()


@pytest.fixture
def make_emulator(tmp_path):
    """Start private emulators for one test (faults, restarts, extra clients); all stop after it."""
    emulators = Emulators(lambda name: tmp_path / name)
    yield emulators
    emulators.stop_all()


@pytest.fixture(scope="module")
def make_module_emulator(tmp_path_factory):
    """As make_emulator, for the tests of one module together; all stop after the module."""
    emulators = Emulators(tmp_path_factory.mktemp)
    yield emulators
    emulators.stop_all()


@pytest.fixture
def fresh_emulator(make_emulator):
    """A private emulator, for tests that restart, kill or inject faults."""
    return make_emulator()


@pytest.fixture
def sandbox(request) -> str:
    """A sandbox name unique to the test, so tests sharing one emulator never collide."""
    import re
    import uuid
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:30].strip("-")
    return f"{base}-{uuid.uuid4().hex[:6]}"
