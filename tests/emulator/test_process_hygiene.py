"""The suite's leftover-process check (tests/conftest.py) finds what the suite starts, and only that."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from emulator.process import EmulatorProcess
from tests.conftest import ROOT, kill_marked, marked_processes


def test_an_emulator_started_by_a_test_carries_the_run_mark_and_its_test(tmp_path, request):
    emu = EmulatorProcess(data_dir=str(tmp_path / "emu")).start()
    try:
        found = marked_processes()
        assert emu.proc.pid in found, found
        assert found[emu.proc.pid]["test"] == request.node.nodeid
        assert "-m emulator" in found[emu.proc.pid]["cmd"]
    finally:
        emu.stop()
    assert emu.proc.pid not in marked_processes()


def test_kill_marked_ends_only_the_processes_with_that_mark():
    mine = subprocess.Popen(["sleep", "60"], env={**os.environ, "AEP_TEST_RUN": "hygiene-a"})
    other = subprocess.Popen(["sleep", "60"], env={**os.environ, "AEP_TEST_RUN": "hygiene-b"})
    try:
        killed = kill_marked("AEP_TEST_RUN", "hygiene-a")
        assert list(killed) == [mine.pid]
        assert mine.wait(5) == -9
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
        mine.wait()


def test_a_process_left_running_fails_the_run_and_is_killed(tmp_path):
    """A nested pytest run, with this suite's conftest as a plugin, whose only test leaks a process."""
    pidfile = tmp_path / "leaked.pid"
    (tmp_path / "test_leak.py").write_text(textwrap.dedent(f"""
        import subprocess

        def test_leaks():
            p = subprocess.Popen(["sleep", "120"])
            open({str(pidfile)!r}, "w").write(str(p.pid))
    """))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
                        str(tmp_path / "test_leak.py")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "AEP_LEAK_GRACE": "0.5"})
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "1 process(es) started by the test suite outlived it (now killed)" in out, out
    assert "test_leak.py::test_leaks" in out and "sleep 120" in out, out
    pid = int(pidfile.read_text())
    # Killed by the nested run's check: no process is left with that pid and a `sleep 120` command line.
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert b"sleep\x00120" not in f.read()
    except FileNotFoundError:
        pass
