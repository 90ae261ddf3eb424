"""Run the emulator as a real subprocess: for tests, benchmarks and `make up`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import requests

from .config import DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_ORG_ID, DEV_SCOPES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmulatorProcess:
    """A `python -m emulator` child process on a loopback port, with admin helpers."""

    def __init__(self, data_dir: str | None = None, port: int | None = None, extra_args: list[str] | None = None,
                 log_path: str | None = None):
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="aep-emulator-")
        self.port = port or free_port()
        self.extra_args = list(extra_args or [])
        self.log_path = log_path or os.path.join(self.data_dir, "emulator.log")
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "EmulatorProcess":
        os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", self.data_dir, *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()  # the child has its own descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if requests.get(self.base_url + "/_emulator/health", timeout=0.5).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"emulator did not become healthy within {timeout}s; see {self.log_path}")

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

    def token(self, client_id: str = DEV_CLIENT_ID, client_secret: str = DEV_CLIENT_SECRET) -> str:
        r = requests.post(self.base_url + "/ims/token/v3", data={
            "grant_type": "client_credentials", "client_id": client_id,
            "client_secret": client_secret, "scope": DEV_SCOPES}, timeout=10)
        r.raise_for_status()
        return r.json()["access_token"]

    def session(self, sandbox: str = "dev", org: str = DEV_ORG_ID) -> requests.Session:
        s = requests.Session()
        s.headers.update({
            "Authorization": f"Bearer {self.token()}",
            "x-api-key": DEV_CLIENT_ID,
            "x-gw-ims-org-id": org,
            "x-sandbox-name": sandbox,
        })
        return s
