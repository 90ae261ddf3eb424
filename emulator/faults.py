"""Fault injection for testing clients' retry logic, plus the ASGI gate that applies it.

A fault configuration (JSON, via `PUT /_emulator/faults` or `--fault` flags):

    {
      "seed": 7,                     # RNG seed, for reproducible probabilistic faults
      "latency_ms": 20,              # added to every request
      "latency": {"reads_ms": 80, "writes_ms": 400, "jitter": {"distribution": "lognormal"}},
                                     # per-route latency and jitter (emulator/latency.py)
      "retry_after": 1,              # default Retry-After seconds for 429/503 (0 allowed)
      "rules": [                     # probabilistic; the first status/drop rule that fires wins
        {"fault": 503, "probability": 0.2, "methods": "writes", "route": "^POST /data/foundation/flowservice/"},
        {"fault": "commit_then_drop", "probability": 0.1, "methods": "writes"},
        {"fault": "latency", "latency_ms": 200, "methods": "reads"}
      ],
      "script": [                    # exact sequence for one route, consumed in order, then "ok"
        {"route": "POST /data/foundation/flowservice/flows", "responses": [503, 503, "ok"]}
      ]
    }

`fault` is an HTTP status (412, 429, 500, 502, 503, 504), "commit_then_drop" (alias "drop":
the handler runs and commits, then the connection is aborted with no response) or "latency".
`methods` is "reads", "writes", "all" (default) or a list of methods. `route` is a regex searched
in both "METHOD /concrete/path" and "METHOD /route/template". Script routes match either form
exactly. Faults never apply to /_emulator/ paths.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
from dataclasses import dataclass
from typing import Any

from .errors import AEPError, flow_error, service_error, xdm_error
from .latency import LatencyModel
from .metrics import READ_METHODS, Metrics

STATUS_FAULTS = (412, 429, 500, 502, 503, 504)
DROP = "commit_then_drop"
ADMIN_PREFIX = "/_emulator/"


@dataclass
class Decision:
    latency_ms: float = 0.0
    status: int | None = None
    drop: bool = False
    retry_after: int | None = None

    @property
    def label(self) -> str | None:
        return DROP if self.drop else (str(self.status) if self.status else None)


def _fault_kind(value: Any) -> str | int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if value in STATUS_FAULTS:
        return value
    if value in (DROP, "drop"):
        return DROP
    if value == "latency":
        return "latency"
    raise ValueError(f"unknown fault {value!r}; use one of {STATUS_FAULTS}, {DROP!r} or 'latency'")


def _methods(value: Any) -> frozenset[str] | None:
    if value in (None, "all", "*"):
        return None
    if value == "reads":
        return frozenset(READ_METHODS)
    if value == "writes":
        return frozenset({"POST", "PUT", "PATCH", "DELETE"})
    if isinstance(value, list) and all(isinstance(m, str) for m in value):
        return frozenset(m.upper() for m in value)
    raise ValueError(f"methods must be 'reads', 'writes', 'all' or a list, not {value!r}")


def _step(value: Any) -> dict[str, Any]:
    """Normalise one scripted response: an int status, "ok", "commit_then_drop", or an object."""
    if isinstance(value, dict):
        step = dict(value)
        kind = step.get("fault", step.get("status", "ok"))
    else:
        step, kind = {}, value
    step["fault"] = "ok" if kind == "ok" else _fault_kind(kind)
    return step


class FaultInjector:
    """Holds the active fault configuration and decides, per request, what to inject."""

    def __init__(self, config: dict[str, Any] | None = None):
        self._lock = threading.Lock()
        self.configure(config or {})

    def configure(self, config: dict[str, Any]) -> None:
        """Replace the configuration (raises ValueError if it is malformed)."""
        if not isinstance(config, dict):
            raise ValueError("fault configuration must be a JSON object")
        rules = []
        for r in config.get("rules") or []:
            if not isinstance(r, dict):
                raise ValueError(f"rule {r!r} must be an object")
            p = float(r.get("probability", 1.0))
            if not 0.0 <= p <= 1.0:
                raise ValueError("probability must be between 0 and 1")
            rules.append({
                "fault": _fault_kind(r.get("fault", r.get("status"))),
                "p": p,
                "methods": _methods(r.get("methods")),
                "route": re.compile(r["route"]) if r.get("route") else None,
                "retry_after": r.get("retry_after"),
                "latency_ms": float(r.get("latency_ms", 0)),
            })
        scripts = []
        for s in config.get("script") or []:
            if not (isinstance(s, dict) and isinstance(s.get("route"), str) and isinstance(s.get("responses"), list)):
                raise ValueError("each script entry needs a 'route' string and a 'responses' list")
            scripts.append({"route": s["route"], "responses": [_step(v) for v in s["responses"]]})
        retry_after = int(config.get("retry_after", 1))
        if retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        model = LatencyModel(config.get("latency"), config.get("seed"))
        with self._lock:
            self._config = json.loads(json.dumps(config))
            self._model = model
            self._rules = rules
            self._scripts = scripts
            self._latency = float(config.get("latency_ms", 0))
            self._retry_after = retry_after
            self._rng = random.Random(config.get("seed"))

    def clear(self) -> None:
        """Remove every fault."""
        self.configure({})

    def config(self) -> dict[str, Any]:
        """The active configuration, with how many scripted responses remain per route."""
        with self._lock:
            return {**self._config, "remaining": {s["route"]: len(s["responses"]) for s in self._scripts}}

    def decide(self, method: str, path: str, template: str) -> Decision:
        """What to do with one request."""
        concrete, templated = f"{method} {path}", f"{method} {template}"
        with self._lock:
            d = self._decide(method, concrete, templated)
            d.latency_ms = self._model.jittered(d.latency_ms)
            return d

    def _decide(self, method: str, concrete: str, templated: str) -> Decision:
        """The decision before jitter (the caller holds the lock)."""
        d = Decision(latency_ms=self._latency + self._model.base_ms(method, concrete, templated),
                     retry_after=self._retry_after)
        for s in self._scripts:
            if s["responses"] and s["route"] in (concrete, templated):
                step = s["responses"].pop(0)
                d.latency_ms += float(step.get("latency_ms", 0))
                self._apply(d, step["fault"], step.get("retry_after"))
                return d
        for r in self._rules:
            if r["methods"] is not None and method not in r["methods"]:
                continue
            if r["route"] is not None and not (r["route"].search(concrete) or r["route"].search(templated)):
                continue
            if r["p"] < 1.0 and self._rng.random() >= r["p"]:
                continue
            if r["fault"] == "latency":
                d.latency_ms += r["latency_ms"]
                continue
            d.latency_ms += r["latency_ms"]
            self._apply(d, r["fault"], r["retry_after"])
            break
        return d

    @staticmethod
    def _apply(d: Decision, fault: Any, retry_after: Any) -> None:
        if fault == DROP:
            d.drop = True
        elif isinstance(fault, int):
            d.status = fault
        if retry_after is not None:
            d.retry_after = int(retry_after)


def parse_cli_fault(spec: str) -> dict[str, Any]:
    """`--fault` value: a JSON rule object, or FAULT[:PROBABILITY[:METHODS[:ROUTE_REGEX]]],
    e.g. `503:0.2:writes`, `commit_then_drop:1:writes:^POST /data/foundation/flowservice/flows$`,
    `latency=50` (fixed latency in ms on every request)."""
    spec = spec.strip()
    if spec.startswith("{"):
        return json.loads(spec)
    if spec.startswith("latency="):
        return {"fault": "latency", "latency_ms": float(spec.split("=", 1)[1])}
    parts = spec.split(":", 3)
    rule: dict[str, Any] = {"fault": parts[0]}
    if len(parts) > 1 and parts[1]:
        rule["probability"] = float(parts[1])
    if len(parts) > 2 and parts[2]:
        rule["methods"] = parts[2]
    if len(parts) > 3 and parts[3]:
        rule["route"] = parts[3]
    _fault_kind(rule["fault"])
    return rule


_FLOW_FAULT_CODES = {412: 1404, 429: 1429, 500: 1500, 502: 1502, 503: 1503, 504: 1504}
_FAULT_MESSAGES = {
    412: "The supplied version does not match the current version on entity (injected fault).",
    429: "Too many requests (injected fault).",
    500: "Internal server error (injected fault).",
    502: "Bad gateway (injected fault).",
    503: "Service unavailable (injected fault).",
    504: "Gateway timeout (injected fault).",
}


def fault_error(path: str, status: int, retry_after: int | None) -> AEPError:
    """The injected error in the shape of the service that owns `path`."""
    msg = _FAULT_MESSAGES[status]
    if path.startswith("/data/foundation/flowservice"):
        err = flow_error(status, _FLOW_FAULT_CODES[status], msg)
    elif path.startswith("/data/foundation/schemaregistry"):
        err = xdm_error(status, 1000 + status, "Injected fault", msg)
    elif path.startswith("/ims/"):
        err = AEPError(status, {"error": "temporarily_unavailable" if status in (429, 503) else "server_error",
                                "error_description": msg})
    elif path.startswith("/collection"):
        err = AEPError(status, {"type": "https://ns.adobe.com/adobecloud/problem/data-collection-service",
                                "status": str(status), "title": "Injected fault", "report": {"message": msg}})
    else:
        err = service_error(status, "EMULATOR-FAULT", msg)
    if status in (429, 503) and retry_after is not None:
        err.headers["Retry-After"] = str(retry_after)
    return err


class RequestGate:
    """Outermost ASGI layer: route template lookup, metrics, latency and injected faults.

    It sits outside Starlette's error middleware so that it gets uvicorn's own `send` and
    can abort the TCP connection for commit_then_drop.
    """

    def __init__(self, app, owner, metrics: Metrics, faults: FaultInjector, fast_paths: dict | None = None):
        """`fast_paths`: {(method, route template): async (scope, receive, send)} served instead of `app`."""
        self.app = app
        self.owner = owner  # the FastAPI app, for its routes
        self.metrics = metrics
        self.faults = faults
        self.fast_paths = fast_paths or {}
        self._routes: list | None = None

    def _route_table(self) -> list[tuple[Any, frozenset[str], str]]:
        if self._routes is None:
            self._routes = [(r.path_regex, frozenset(getattr(r, "methods", None) or ()), r.path)
                            for r in flatten_routes(self.owner.router.routes)]
        return self._routes

    def route_template(self, scope) -> str:
        """The matched route's path template, e.g. /data/foundation/flowservice/flows/{flow_id}."""
        path, method, partial = scope["path"], scope["method"], None
        for regex, methods, template in self._route_table():
            if regex.match(path):
                if not methods or method in methods:
                    return template
                partial = partial or template
        return partial or "<unmatched>"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        self.metrics.enter()
        try:
            await self._serve(scope, receive, send)
        finally:
            self.metrics.leave()

    async def _serve(self, scope, receive, send):
        method, path = scope["method"], scope["path"]
        template = self.route_template(scope)
        app = self.fast_paths.get((method, template), self.app)
        decision = self.faults.decide(method, path, template)
        if decision.latency_ms > 0:
            await asyncio.sleep(decision.latency_ms / 1000)

        if decision.status is not None:
            err = fault_error(path, decision.status, decision.retry_after)
            body = json.dumps(err.body).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            headers += [(k.lower().encode(), v.encode()) for k, v in err.headers.items()]
            await _drain(receive)
            await send({"type": "http.response.start", "status": decision.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            self.metrics.record(method, template, decision.status, decision.label, decision.latency_ms)
            return

        status: list[int | None] = [None]

        if decision.drop:
            async def swallow(message):
                if message["type"] == "http.response.start":
                    status[0] = message["status"]

            await app(scope, receive, swallow)
            self.metrics.record(method, template, None, decision.label, decision.latency_ms)
            await _abort_connection(send)
            return

        async def record_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await app(scope, receive, record_status)
        finally:
            self.metrics.record(method, template, status[0] if status[0] is not None else 500,
                                latency_ms=decision.latency_ms)


def flatten_routes(routes):
    """Every concrete route under `routes`, included routers expanded."""
    # FastAPI >= 0.16x keeps included routers as branches whose candidates carry the full path.
    for r in routes:
        if hasattr(r, "effective_candidates"):
            yield from flatten_routes(r.effective_candidates())
        elif getattr(r, "path_regex", None) is not None:
            yield r


async def _drain(receive) -> None:
    # Read the request body so the connection stays usable for keep-alive.
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def _abort_connection(send) -> None:
    """Close the client's TCP connection with no response at all.

    uvicorn's `send` is a bound method of its per-request cycle, which holds the transport.
    After abort() we yield so uvicorn sees the disconnect and does not try to answer 500.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("commit_then_drop needs uvicorn's transport; connection left to the server")
    transport.abort()
    for _ in range(3):
        await asyncio.sleep(0)
