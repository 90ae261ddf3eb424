"""The dynamic-provider process's RPC workers: 4 in the Pulumi SDK, WORKERS here.

Why. Every dynamic resource of a stack is served by one `python -m pulumi.dynamic` process,
whose gRPC server runs on `futures.ThreadPoolExecutor(max_workers=4)` (SDK 3.272.0,
`pulumi/dynamic/__main__.py`, `main`). At most four creates, reads or diffs run at once,
whatever the engine's `--parallel` says, so at real AEP latency (hundreds of ms a call) a
stack of many pipelines waits in line: 50 pipelines at 500 ms a call took 55.6 s with the 4
workers, 18.8 s with 64 (docs/benchmarks.md, "past the 4-call ceiling"). The calls block on
HTTP, not on the CPU, so threads are what they need.

How. The executor is a local of the SDK's `main()`, out of reach by name, but each of its
worker threads holds a weak reference to it (CPython's `concurrent.futures.thread._worker`
is started with the reference as its first argument). When the providers package is first
imported, which in the server happens inside an RPC, on one of those workers,
`widen()` raises the executor's `_max_workers`; `ThreadPoolExecutor.submit` reads it each
time it decides whether to start another thread, so later RPCs get up to WORKERS threads.
The engine's `--parallel` (`pipelines.cli` passes one) stays the bound on AEP calls at once.

The environment variable AEP_PROVIDER_RPC_WORKERS sets the width (4 is the SDK's own pool:
then the program falls back to provider shards, exactly as this project ran before); the
program refuses a value that is not a whole number from 1 to 256 before any resource is
registered, naming the variable.

Why it is safe to keep. It is done only when the SDK's `main()` is the exact code it was
written against (a SHA-256 of its source, read from the file: importing that module would
start a server) and the executor found has the SDK's 4 workers; otherwise nothing changes,
and the program falls back to provider shards (pipelines/shards.py) for the same effect.
tests/providers/test_rpc_workers.py fails when the SDK's `main()` changes, and
tests/pipeline/test_rpc_workers_engine.py measures more than 4 AEP calls at once from one
provider process.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, thread

WORKERS = 64
SDK_WORKERS = 4
ENV = "AEP_PROVIDER_RPC_WORKERS"
MAX_WORKERS = 256
SDK_MODULE = "pulumi.dynamic.__main__"
# The SHA-256 of `main` in pulumi/dynamic/__main__.py, pulumi 3.272.0.
SDK_MAIN_SHA256 = "77f501f1bcbf5341a1f7a655a380508204002a8064cb1b75900777bd9386ab6a"


class RpcWorkersConfigError(ValueError):
    """AEP_PROVIDER_RPC_WORKERS is not a whole number from 1 to MAX_WORKERS."""


def workers() -> int:
    """The pool width this process should have: AEP_PROVIDER_RPC_WORKERS, else WORKERS."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return WORKERS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WORKERS:
        raise RpcWorkersConfigError(f"{ENV} must be a whole number from 1 to {MAX_WORKERS}, got {raw!r}: unset it "
                                    f"for {WORKERS} workers per provider process, or set {ENV}=4 for the SDK's own "
                                    f"pool (the stack then uses provider shards)")
    return int(raw)


def is_wide() -> bool:
    """Whether the provider process will serve more than the SDK's 4 calls at once."""
    try:
        return sdk_matches() and workers() > SDK_WORKERS
    except RpcWorkersConfigError:
        return False


def sdk_main_source() -> str | None:
    """The source of the SDK's dynamic-provider `main()`, read without importing the module."""
    try:
        spec = importlib.util.find_spec(SDK_MODULE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    try:
        with open(spec.origin, encoding="utf-8") as f:
            source = f.read()
    except OSError:
        return None
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            return ast.get_source_segment(source, node)
    return None


def sdk_matches() -> bool:
    """Whether the installed SDK's dynamic-provider server is the one `widen` was written for."""
    source = sdk_main_source()
    return source is not None and hashlib.sha256(source.encode()).hexdigest() == SDK_MAIN_SHA256


def in_provider_server() -> bool:
    """Whether this process is the dynamic-provider server (`python -m pulumi.dynamic`)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec is not None and spec.name == SDK_MODULE


def _pool_of(t: threading.Thread) -> ThreadPoolExecutor | None:
    """The executor a worker thread serves, through the weak reference it was started with."""
    if getattr(t, "_target", None) is not thread._worker:
        return None
    args = getattr(t, "_args", ())
    ref = args[0] if args else None
    pool = ref() if callable(ref) else None
    return pool if isinstance(pool, ThreadPoolExecutor) else None


def server_pool() -> ThreadPoolExecutor | None:
    """The gRPC server's pool: the one this thread works for (an RPC is importing us), else the
    only pool in the process with the SDK's 4 workers; None when that is not clear."""
    own = _pool_of(threading.current_thread())
    if own is not None:
        return own if getattr(own, "_max_workers", None) == SDK_WORKERS else None
    found = {id(p): p for p in map(_pool_of, threading.enumerate())
             if p is not None and getattr(p, "_max_workers", None) == SDK_WORKERS}
    return next(iter(found.values())) if len(found) == 1 else None


def widen(width: int | None = None) -> bool:
    """In the provider server, with the SDK this was written for: let its gRPC pool run
    `width` (by default `workers()`) RPCs at once. Whether it did."""
    if not in_provider_server() or not sdk_matches():
        return False
    if width is None:
        try:
            width = workers()
        except RpcWorkersConfigError:  # the program refused it already; keep the SDK's pool
            return False
    pool = server_pool()
    if pool is None or width <= SDK_WORKERS:
        return False
    pool._max_workers = width
    return True
