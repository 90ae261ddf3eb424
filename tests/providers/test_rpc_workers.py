"""providers/rpc_workers.py: the dynamic-provider server's gRPC pool, widened from 4 workers.

The mechanism is CPython's ThreadPoolExecutor and the SDK's `main()`; these tests run the
first for real and fail when the second changes. The engine test (tests/pipeline/
test_rpc_workers_engine.py) measures the effect in a real provider process."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from providers import rpc_workers


def test_the_installed_sdk_is_the_one_the_pool_was_widened_for():
    # When this fails, the SDK's dynamic-provider server changed: read its new `main()`; if it
    # still builds its gRPC server on a ThreadPoolExecutor, update SDK_MAIN_SHA256 (and
    # SDK_WORKERS if the count moved); if not, retire rpc_workers (shards take over).
    source = rpc_workers.sdk_main_source()
    assert source is not None and "futures.ThreadPoolExecutor(max_workers=4)" in source, source
    assert rpc_workers.sdk_matches()


def run_in(pool: ThreadPoolExecutor, fn):
    return pool.submit(fn).result(timeout=10)


def test_inside_a_worker_the_pool_it_serves_is_found_and_widened(monkeypatch):
    monkeypatch.setattr(rpc_workers, "in_provider_server", lambda: True)
    pool = ThreadPoolExecutor(max_workers=rpc_workers.SDK_WORKERS)
    try:
        assert run_in(pool, rpc_workers.server_pool) is pool
        assert run_in(pool, lambda: rpc_workers.widen(12)) is True
        # 12 tasks that only finish together: they can, now that 12 threads may run.
        barrier = threading.Barrier(12, timeout=10)
        futures = [pool.submit(barrier.wait) for _ in range(12)]
        assert sorted(f.result(timeout=15) for f in futures) == list(range(12))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def in_the_server(monkeypatch):
    monkeypatch.setattr(rpc_workers, "in_provider_server", lambda: True)


@pytest.mark.parametrize("workers, arrange", [
    (rpc_workers.SDK_WORKERS, lambda mp: None),  # not the provider server
    (rpc_workers.SDK_WORKERS, lambda mp: (in_the_server(mp), mp.setattr(rpc_workers, "SDK_MAIN_SHA256", "0" * 64))),
    (1, in_the_server),  # a pool that is not the SDK's
    (8, in_the_server),
    (rpc_workers.SDK_WORKERS, lambda mp: (in_the_server(mp), mp.setenv(rpc_workers.ENV, "4"))),  # the SDK's width
], ids=["outside-the-server", "another-sdk", "one-worker-pool", "eight-worker-pool", "width-4"])
def test_the_pool_is_left_alone(monkeypatch, workers, arrange):
    arrange(monkeypatch)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        assert run_in(pool, rpc_workers.widen) is False
        assert pool._max_workers == workers
    finally:
        pool.shutdown()


def test_this_process_is_not_the_provider_server():
    assert rpc_workers.in_provider_server() is False


def test_the_width_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(rpc_workers.ENV, raising=False)
    assert rpc_workers.workers() == rpc_workers.WORKERS and rpc_workers.is_wide()
    monkeypatch.setenv(rpc_workers.ENV, "4")
    assert rpc_workers.workers() == 4 and not rpc_workers.is_wide()  # the SDK's pool: shards take over
    monkeypatch.setenv(rpc_workers.ENV, "16")
    assert rpc_workers.workers() == 16 and rpc_workers.is_wide()


@pytest.mark.parametrize("raw", ["many", "0", "-3", "257", "8.5"])
def test_a_bad_width_names_the_variable_and_the_fix(monkeypatch, raw):
    monkeypatch.setenv(rpc_workers.ENV, raw)
    with pytest.raises(rpc_workers.RpcWorkersConfigError, match=r"AEP_PROVIDER_RPC_WORKERS must be a whole number "
                                                                 r"from 1 to 256, got .*: unset it"):
        rpc_workers.workers()
    assert not rpc_workers.is_wide()
