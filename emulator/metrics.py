"""Request counters, so tests and benchmarks can assert how many API calls a client made.

Counts are keyed by "METHOD /route/template" (IDs collapsed into the template), which is what
a test wants to assert ("a no-op `pulumi up` makes no writes").
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Metrics:
    """Thread-safe counters of every non-admin request, faulted ones included."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._requests: Counter[str] = Counter()
            self._statuses: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._reads = self._writes = 0
            # Injected latency per route: {route: [count, total ms, min ms, max ms]}.
            self._latency: dict[str, list[float]] = {}
            # Requests being served now, and the most at once since the reset: how many calls a
            # client really makes in parallel (a test of the provider's RPC workers reads it).
            self._in_flight = getattr(self, "_in_flight", 0)
            self._max_in_flight = self._in_flight
            self._since = time.time()

    def enter(self) -> None:
        """A request has arrived (before any injected latency)."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def leave(self) -> None:
        """A request has been answered, faulted or dropped."""
        with self._lock:
            self._in_flight -= 1

    def record(self, method: str, route: str, status: int | None, fault: str | None = None,
               latency_ms: float = 0.0) -> None:
        """Count one request and the latency injected into it; status None means the connection
        was dropped without a response."""
        key = f"{method} {route}"
        with self._lock:
            self._requests[key] += 1
            if latency_ms > 0:
                lat = self._latency.setdefault(key, [0, 0.0, latency_ms, latency_ms])
                lat[0] += 1
                lat[1] += latency_ms
                lat[2], lat[3] = min(lat[2], latency_ms), max(lat[3], latency_ms)
            self._statuses[str(status) if status is not None else "dropped"] += 1
            if fault:
                self._faults[fault] += 1
            if method in READ_METHODS:
                self._reads += 1
            else:
                self._writes += 1

    def snapshot(self) -> dict[str, Any]:
        """The counters as a JSON-ready dict."""
        with self._lock:
            return {
                "requests": dict(self._requests),
                "total": self._reads + self._writes,
                "reads": self._reads,
                "writes": self._writes,
                "statuses": dict(self._statuses),
                "faults": dict(self._faults),
                # What the emulator slept before answering, so a test can check the latency
                # model without timing anything itself.
                "latency_ms": {k: {"count": int(c), "total": round(t, 3), "min": round(lo, 3), "max": round(hi, 3)}
                               for k, (c, t, lo, hi) in self._latency.items()},
                "max_in_flight": self._max_in_flight,
                "since": self._since,
            }
