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
            self._since = time.time()

    def record(self, method: str, route: str, status: int | None, fault: str | None = None) -> None:
        """Count one request; status None means the connection was dropped without a response."""
        with self._lock:
            self._requests[f"{method} {route}"] += 1
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
                "since": self._since,
            }
