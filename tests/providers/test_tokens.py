"""The IMS token: fetched once, shared by every provider and thread, renewed when it expires."""

from __future__ import annotations

import threading
import time

import pytest

from providers import (
    BaseConnectionProvider,
    DataflowProvider,
    DatasetProvider,
    MappingSetProvider,
    SourceConnectionProvider,
    TargetConnectionProvider,
    XdmSchemaProvider,
)
from providers.client import clear_client_cache
from providers.models import PENDO_SPEC

from .support import FS, IMS, Harness, route

SOURCE_GET = route("GET", FS, "/sourceConnections/{conn_id}")


@pytest.fixture
def short_ttl(make_emulator, sandbox):
    """A private emulator whose tokens live 2 seconds."""
    emu = make_emulator("--token-ttl", "2")
    clear_client_cache()
    return Harness(emu, sandbox)


def test_token_is_renewed_before_it_expires(short_ttl):
    h = short_ttl
    id_, outs = h.create(SourceConnectionProvider, connection_spec_id=PENDO_SPEC)
    p = h.provider(SourceConnectionProvider)
    h.reset()
    p.read(id_, outs)
    assert h.calls(ims=True) == {SOURCE_GET: 1}  # still valid: no new token
    time.sleep(2.1)
    h.reset()
    p.read(id_, outs)
    assert h.calls(ims=True) == {IMS: 1, SOURCE_GET: 1}
    assert "401" not in h.emu.metrics()["statuses"]  # renewed ahead of use, never rejected


def test_a_401_from_an_expired_token_renews_once_and_retries(short_ttl):
    h = short_ttl
    id_, outs = h.create(SourceConnectionProvider, connection_spec_id=PENDO_SPEC)
    p = h.provider(SourceConnectionProvider)
    time.sleep(2.1)
    api = p.client()
    api._token_expiry = time.monotonic() + 3600  # the client believes its (expired) token is still good
    h.reset()
    assert p.read(id_, outs).id == id_
    assert h.calls(ims=True) == {SOURCE_GET: 2, IMS: 1}
    assert h.emu.metrics()["statuses"] == {"401": 1, "200": 2}


def test_all_providers_and_threads_share_one_token(emulator, sandbox):
    clear_client_cache()
    h = Harness(emulator, sandbox)
    classes = [XdmSchemaProvider, DatasetProvider, SourceConnectionProvider, TargetConnectionProvider,
               MappingSetProvider, DataflowProvider, BaseConnectionProvider]
    providers = [h.provider(cls) for cls in classes]
    assert len({id(p.client()) for p in providers}) == 1  # one process-wide client for one configuration

    p = providers[2]
    news = h.check(p, {"connection_spec_id": PENDO_SPEC})
    h.reset()
    errors: list[BaseException] = []
    sessions: set[int] = set()
    lock = threading.Lock()

    def work():
        try:
            c = p.create(news)
            p.read(c.id, c.outs)
            with lock:
                sessions.add(id(p.client()._session()))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    calls = h.calls(ims=True)
    assert calls[IMS] == 1  # fetched once under the lock, though 8 threads wanted it at once
    assert calls[route("POST", FS, "/sourceConnections")] == 8
    assert len(sessions) == 8  # one requests.Session per thread
