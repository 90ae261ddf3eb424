"""A latency model closer to AEP's than one flat figure: reads and writes apart, per-route
overrides, and an optional seeded jitter. Part of the fault configuration (emulator/faults.py):

    "latency": {
      "reads_ms": 80,                      # GET/HEAD/OPTIONS
      "writes_ms": 400,                    # POST/PUT/PATCH/DELETE
      "routes": [                          # the first match replaces the reads/writes figure
        {"route": "^POST /data/foundation/flowservice/flows$", "ms": 1200}
      ],
      "jitter": {"distribution": "lognormal", "sigma": 0.3}   # or uniform/spread, normal/sd
    }

Jitter multiplies a request's whole latency (flat `latency_ms`, this model and latency rules)
by a factor whose mean is 1, so a run's average latency stays what the figures say. The
factors come from their own RNG, seeded from the configuration's `seed`: the same seed gives
the same sequence of factors, whatever the probabilistic fault rules draw.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

from .metrics import READ_METHODS

DISTRIBUTIONS = ("uniform", "normal", "lognormal")


def _ms(value: Any, where: str) -> float:
    try:
        ms = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a number of milliseconds, not {value!r}") from None
    if not 0 <= ms <= 600_000:
        raise ValueError(f"{where} must be between 0 and 600000 ms, not {ms:g}")
    return ms


class Jitter:
    """A seeded multiplicative factor with mean 1 (uniform in [1-spread, 1+spread], normal with
    standard deviation sd clipped at 0, or lognormal with shape sigma)."""

    def __init__(self, config: dict[str, Any], seed: Any):
        if not isinstance(config, dict):
            raise ValueError('latency.jitter must be an object such as {"distribution": "lognormal", "sigma": 0.3}')
        self.distribution = config.get("distribution", "uniform")
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"latency.jitter.distribution must be one of {DISTRIBUTIONS}, not {self.distribution!r}")
        param = {"uniform": "spread", "normal": "sd", "lognormal": "sigma"}[self.distribution]
        self.param = float(config.get(param, 0.2))
        if not 0 <= self.param <= (1 if self.distribution == "uniform" else 3):
            raise ValueError(f"latency.jitter.{param} is out of range: {self.param:g}")
        # Its own stream, so adding jitter does not change which probabilistic faults fire.
        self._rng = random.Random(f"jitter-{seed}")

    def factor(self) -> float:
        """The next factor (callers hold the injector's lock)."""
        if self.distribution == "uniform":
            return self._rng.uniform(1 - self.param, 1 + self.param)
        if self.distribution == "normal":
            return max(0.0, self._rng.gauss(1.0, self.param))
        # exp(N(mu, sigma)) has mean exp(mu + sigma^2 / 2): mu = -sigma^2 / 2 makes it 1.
        return math.exp(self._rng.gauss(-self.param ** 2 / 2, self.param))


class LatencyModel:
    """The `latency` object of a fault configuration, parsed and checked."""

    def __init__(self, config: dict[str, Any] | None, seed: Any = None):
        config = config or {}
        if not isinstance(config, dict):
            raise ValueError("latency must be an object with reads_ms, writes_ms, routes and jitter")
        unknown = set(config) - {"reads_ms", "writes_ms", "routes", "jitter"}
        if unknown:
            raise ValueError(f"latency has unknown keys {sorted(unknown)}: use reads_ms, writes_ms, routes, jitter")
        self.reads_ms = _ms(config.get("reads_ms", 0), "latency.reads_ms")
        self.writes_ms = _ms(config.get("writes_ms", 0), "latency.writes_ms")
        self.routes: list[tuple[re.Pattern[str], float]] = []
        for i, r in enumerate(config.get("routes") or []):
            if not (isinstance(r, dict) and isinstance(r.get("route"), str)):
                raise ValueError(f"latency.routes[{i}] needs a 'route' regex and 'ms'")
            self.routes.append((re.compile(r["route"]), _ms(r.get("ms"), f"latency.routes[{i}].ms")))
        self.jitter = Jitter(config["jitter"], seed) if config.get("jitter") else None

    def base_ms(self, method: str, concrete: str, templated: str) -> float:
        """The model's latency for one request, before jitter."""
        for pattern, ms in self.routes:
            if pattern.search(concrete) or pattern.search(templated):
                return ms
        return self.reads_ms if method in READ_METHODS else self.writes_ms

    def jittered(self, ms: float) -> float:
        """`ms` times the next jitter factor (unchanged without jitter, or for 0)."""
        return ms * self.jitter.factor() if self.jitter and ms > 0 else ms
