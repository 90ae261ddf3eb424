"""Run the emulator as a real subprocess: for tests, benchmarks and `make up`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from typing import Any

import requests

from .config import DEV_CLIENT_ID, DEV_ORG_ID, DEV_SCOPES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmulatorProcess:
    """A `python -m emulator` child process on a loopback port, with admin helpers."""

    # The dev client's secret `token()` and `session()` use when none was given to this
    # emulator: unset here (nothing outside tests holds it); tests/conftest.py sets it.
    client_secret: str | None = None

    def __init__(self, data_dir: str | None = None, port: int | None = None, extra_args: list[str] | None = None,
                 log_path: str | None = None, client_secret: str | None = None):
        """`client_secret`: the dev client's secret for this emulator alone (a throwaway one a
        benchmark or rehearsal makes), instead of the dev stack's."""
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="aep-emulator-")
        self.port = port or free_port()
        self.extra_args = list(extra_args or [])
        if client_secret:
            self.client_secret = client_secret
            self.extra_args += ["--client", f"{DEV_CLIENT_ID}:{client_secret}:{DEV_ORG_ID}"]
        self.log_path = log_path or os.path.join(self.data_dir, "emulator.log")
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0, detached: bool = False) -> "EmulatorProcess":
        """Start it and wait until it answers its health check. `detached`: in a session of its
        own, so it outlives the caller and a Ctrl-C on a later command does not reach it."""
        os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", self.data_dir, *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL if detached else None,
            start_new_session=detached,
        )
        log.close()  # the child has its own descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the emulator exited with status {self.proc.returncode}; see {self.log_path}")
            if healthy(self.base_url, timeout=0.5):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"the emulator did not answer {self.base_url}/_emulator/health within {timeout:g}s; see "
                           f"{self.log_path}")

    def stop(self) -> None:
        """SIGTERM, then wait: a clean shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything that was not already committed."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> "EmulatorProcess":
        self.stop()
        return self.start()

    def __enter__(self) -> "EmulatorProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- admin API (/_emulator/) -------------------------------------------------------

    def admin(self, method: str, path: str, **kw) -> Any:
        r = requests.request(method, f"{self.base_url}/_emulator/{path.lstrip('/')}", timeout=10, **kw)
        r.raise_for_status()
        return r.json() if r.content else None

    def metrics(self) -> dict[str, Any]:
        return self.admin("GET", "metrics")

    def reset_metrics(self) -> None:
        self.admin("POST", "metrics/reset")

    def set_faults(self, config: dict[str, Any]) -> None:
        self.admin("PUT", "faults", json=config)

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def objects(self) -> dict[str, int]:
        """Object counts by kind, across every org and sandbox."""
        return self.admin("GET", "objects")

    # -- a ready-made authenticated session, as a client of the real API would build -----

    def token(self, client_id: str = DEV_CLIENT_ID, client_secret: str | None = None) -> str:
        """An access token for `client_id` (by default the dev client, with this emulator's own secret)."""
        client_secret = client_secret or self.client_secret
        if not client_secret:
            raise ValueError("token() needs the client secret: pass client_secret, or start the emulator with one")
        r = requests.post(self.base_url + "/ims/token/v3", data={
            "grant_type": "client_credentials", "client_id": client_id,
            "client_secret": client_secret, "scope": DEV_SCOPES}, timeout=10)
        r.raise_for_status()
        return r.json()["access_token"]

    def session(self, sandbox: str = "dev", org: str = DEV_ORG_ID, client_id: str = DEV_CLIENT_ID,
                client_secret: str | None = None) -> requests.Session:
        s = requests.Session()
        s.headers.update({
            "Authorization": f"Bearer {self.token(client_id, client_secret)}",
            "x-api-key": client_id,
            "x-gw-ims-org-id": org,
            "x-sandbox-name": sandbox,
        })
        return s


def healthy(base: str, timeout: float = 1.0) -> bool:
    """Whether an AEP emulator answers at `base`."""
    try:
        r = requests.get(f"{base}/_emulator/health", timeout=timeout)
        return r.ok and r.json().get("status") == "ok"
    except (requests.RequestException, ValueError):
        return False


class Background:
    """The one emulator `make up` runs in the background for a data directory.

    Its pid file holds the pid and the endpoint, so a later command finds it (and a second
    emulator is never started on the same store, which would corrupt it).
    """

    def __init__(self, data_dir: str, pid_file: str, log_path: str):
        self.data_dir, self.pid_file, self.log_path = data_dir, pid_file, log_path

    def _lines(self) -> list[str]:
        try:
            with open(self.pid_file) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def pid(self) -> int | None:
        """Its pid, if that process is still the emulator (a recycled pid is never signalled)."""
        try:
            pid = int(self._lines()[0])
        except (ValueError, IndexError):
            return None
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ")
        except FileNotFoundError:
            if os.path.isdir("/proc"):
                return None
            try:  # no /proc (macOS): the best we can tell is that the pid is alive
                os.kill(pid, 0)
            except OSError:
                return None
            return pid
        return pid if b"-m emulator" in cmdline else None

    def base_url(self) -> str | None:
        """The endpoint it was started on."""
        lines = self._lines()
        return lines[1] if len(lines) > 1 else None

    def start(self, base: str, timeout: float = 30.0) -> int:
        """Start it detached on `base`'s port; returns its pid."""
        port = urllib.parse.urlsplit(base).port or 80
        emu = EmulatorProcess(data_dir=self.data_dir, port=port, log_path=self.log_path)
        os.makedirs(os.path.dirname(self.pid_file) or ".", exist_ok=True)
        try:
            emu.start(timeout=timeout, detached=True)
        except RuntimeError:
            emu.kill()
            raise
        with open(self.pid_file, "w") as f:
            f.write(f"{emu.proc.pid}\n{base}\n")
        return emu.proc.pid

    def stop(self, timeout: float = 15.0) -> bool:
        """SIGTERM and wait; False when none was running."""
        pid = self.pid()
        if pid is None:
            _unlink(self.pid_file)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.1)
        if self.pid() is not None:
            raise RuntimeError(f"the emulator (pid {pid}) did not stop within {timeout:g}s")
        _unlink(self.pid_file)
        return True


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
