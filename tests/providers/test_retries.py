"""Retries under injected faults, with exact call counts from the emulator's metrics.

Faults are global to an emulator process, so these tests share a private one.
"""

from __future__ import annotations

import time

import pytest

from emulator import config as dev
from providers import DataflowProvider, DatasetProvider, MappingSetProvider, SourceConnectionProvider, XdmSchemaProvider
from providers.base import ProviderError
from providers.client import clear_client_cache
from providers.models import PENDO_SPEC

from .support import CAT, DP, FIELDS, FS, IMS, MAPPINGS, SR, TENANT, Harness, route

SOURCE_POST = route("POST", FS, "/sourceConnections")
SOURCE_LIST = route("GET", FS, "/sourceConnections")
SOURCE_GET = route("GET", FS, "/sourceConnections/{conn_id}")
SOURCE_PATCH = route("PATCH", FS, "/sourceConnections/{conn_id}")


@pytest.fixture(scope="module")
def faulty(make_module_emulator):
    return make_module_emulator(name="provider-faults")


@pytest.fixture
def f(faulty, sandbox) -> Harness:
    faulty.clear_faults()
    yield Harness(faulty, sandbox)
    faulty.clear_faults()


def script(h: Harness, route_: str, responses: list, retry_after: int = 0) -> None:
    h.emu.set_faults({"retry_after": retry_after, "script": [{"route": route_, "responses": responses}]})


def stored(h: Harness, kind: str) -> list[dict]:
    """Documents of one kind in the harness's sandbox, straight from the emulator's store."""
    return h.emu.admin("GET", f"objects/{kind}?org={dev.DEV_ORG_ID}&sandbox={h.sandbox}")


def source(h: Harness):
    p = h.provider(SourceConnectionProvider)
    news = h.check(p, {"connection_spec_id": PENDO_SPEC})
    return p, news


# -- idempotent requests ------------------------------------------------------------------------


def test_get_retries_429_then_succeeds(f):
    p, news = source(f)
    c = p.create(news)
    script(f, SOURCE_GET, [429, 429, "ok"])
    f.reset()
    assert p.read(c.id, c.outs).id == c.id
    assert f.calls() == {SOURCE_GET: 3}
    assert f.emu.metrics()["statuses"] == {"429": 2, "200": 1}


def test_retry_after_is_honoured(f):
    p, news = source(f)
    c = p.create(news)
    script(f, SOURCE_GET, [503, "ok"], retry_after=1)
    f.reset()
    started = time.monotonic()
    p.read(c.id, c.outs)
    assert time.monotonic() - started >= 1.0
    assert f.calls() == {SOURCE_GET: 2}


def test_put_retries_503(f):
    mp = f.provider(MappingSetProvider)
    mid, mouts = f.mapping()
    news = f.check(mp, {"schema_id": f.schema()[0], "mappings": MAPPINGS[:1]}, olds=mouts)
    put = route("PUT", DP, "/mappingSets/{set_id}")
    script(f, put, [503, 502, "ok"])
    f.reset()
    assert mp.update(mid, mouts, news).outs["version"] == 1  # the faulted attempts never reached Data Prep
    assert f.calls() == {put: 3}


def test_delete_retries_500(f):
    p, news = source(f)
    c = p.create(news)
    delete = route("DELETE", FS, "/sourceConnections/{conn_id}")
    script(f, delete, [500, "ok"])
    f.reset()
    p.delete(c.id, c.outs)
    assert f.calls() == {delete: 2}
    assert stored(f, "sourceConnection") == []


def test_retry_budget_is_bounded(f):
    f.config["aep:retryBudget"] = "0.5"
    f.config["aep:retryBaseDelay"] = "0.05"
    p, news = source(f)
    c = p.create(news)
    f.emu.set_faults({"retry_after": 0, "rules": [{"fault": 503, "methods": "reads"}]})
    f.reset()
    started = time.monotonic()
    with pytest.raises(ProviderError) as e:
        p.read(c.id, c.outs)
    assert time.monotonic() - started < 2.0
    msg = str(e.value)
    attempts = f.calls()[SOURCE_GET]
    assert attempts >= 2 and f"HTTP 503 FLOW-1503-503 after {attempts} attempts" in msg
    assert "retry budget ran out" in msg and "AEP_RETRY_BUDGET" in msg


# -- creates: never a blind repeat ----------------------------------------------------------------


def test_create_retries_429_without_lookup(f):
    p, news = source(f)
    script(f, SOURCE_POST, [429, "ok"])
    f.reset()
    p.create(news)
    assert f.calls() == {SOURCE_POST: 2}
    assert len(stored(f, "sourceConnection")) == 1


def test_create_after_503_looks_up_then_posts_again(f):
    p, news = source(f)
    script(f, SOURCE_POST, [503, "ok"])
    f.reset()
    c = p.create(news)
    assert f.calls() == {SOURCE_POST: 2, SOURCE_LIST: 1}
    assert [s["id"] for s in stored(f, "sourceConnection")] == [c.id]


@pytest.mark.parametrize("cls, post, lookup, kind", [
    (SourceConnectionProvider, SOURCE_POST, SOURCE_LIST, "sourceConnection"),
    (DatasetProvider, route("POST", CAT, "/dataSets"), route("GET", CAT, "/dataSets"), "dataset"),
    (MappingSetProvider, route("POST", DP, "/mappingSets"), route("GET", DP, "/mappingSets"), "mappingSet"),
    (DataflowProvider, route("POST", FS, "/flows"), route("GET", FS, "/flows"), "flow"),
    (XdmSchemaProvider, route("POST", SR, "/tenant/schemas"), route("GET", SR, "/{container}/schemas"), "schema"),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_create_whose_response_is_lost_leaves_one_object(f, cls, post, lookup, kind):
    inputs = {
        SourceConnectionProvider: lambda: {"connection_spec_id": PENDO_SPEC},
        DatasetProvider: lambda: {"schema_id": f.schema()[0]},
        MappingSetProvider: lambda: {"schema_id": f.schema()[0], "mappings": MAPPINGS},
        DataflowProvider: lambda: {"source_connection_id": f.source()[0], "target_connection_id": f.target()[0],
                                   "mapping_id": f.mapping()[0], "mapping_version": 0},
        XdmSchemaProvider: lambda: {"tenant_id": TENANT, "fields": FIELDS},
    }[cls]()
    p = f.provider(cls)
    news = f.check(p, inputs)
    before = len(stored(f, kind))
    script(f, post, ["commit_then_drop"])
    f.reset()
    c = p.create(news)
    calls = f.calls()
    assert calls[post] == 1 and calls[lookup] == 1  # no second POST: the committed object was adopted
    after = stored(f, kind)
    assert len(after) == before + 1
    assert c.id in {d.get("id") or d.get("$id") for d in after}
    read = p.read(c.id, c.outs)
    assert p.diff(c.id, read.outs, news).changes is False


# -- PATCH with If-Match: settle an unknown outcome by reading back ---------------------------------


def test_patch_whose_response_is_lost_is_settled_by_reading(f):
    p, news = source(f)
    c = p.create(news)
    script(f, SOURCE_PATCH, ["commit_then_drop"])
    f.reset()
    u = p.update(c.id, c.outs, {**news, "name": "renamed"})
    assert f.calls() == {SOURCE_PATCH: 1, SOURCE_GET: 1}
    assert u.outs["etag"] == f.fs_etag("sourceConnections", c.id)  # the rotated etag was picked up
    u2 = p.update(c.id, u.outs, {**news, "name": "renamed again"})  # and it is the right one
    assert u2.outs["name"] == "renamed again"


def test_patch_after_503_repeats_only_when_nothing_was_applied(f):
    p, news = source(f)
    c = p.create(news)
    script(f, SOURCE_PATCH, [503, "ok"])
    f.reset()
    p.update(c.id, c.outs, {**news, "name": "renamed"})
    assert f.calls() == {SOURCE_PATCH: 2, SOURCE_GET: 1}


def test_patch_retries_429_directly(f):
    p, news = source(f)
    c = p.create(news)
    script(f, SOURCE_PATCH, [429, "ok"])
    f.reset()
    p.update(c.id, c.outs, {**news, "name": "renamed"})
    assert f.calls() == {SOURCE_PATCH: 2}


def test_flow_action_whose_response_is_lost_is_settled_by_reading(f):
    p = f.provider(DataflowProvider)
    fid, fouts = f.flow()
    news = f.check(p, {k: fouts[k] for k in ("name", "source_connection_id", "target_connection_id", "mapping_id",
                                            "mapping_version")} | {"enabled": False}, olds=fouts)
    action = route("POST", FS, "/flows/{flow_id}/action")
    script(f, action, ["commit_then_drop"])
    f.reset()
    u = p.update(fid, fouts, news)
    assert f.calls() == {action: 1, route("GET", FS, "/flows/{flow_id}"): 1}
    assert u.outs["state"] == "disabled"
    assert p.diff(fid, p.read(fid, u.outs).outs, news).changes is False


# -- IMS -------------------------------------------------------------------------------------------


def test_token_request_retries_503(f):
    clear_client_cache()
    script(f, IMS, [503, "ok"])
    p, news = source(f)
    f.reset()
    p.create(news)
    assert f.calls(ims=True) == {IMS: 2, SOURCE_POST: 1}


@pytest.mark.parametrize("cls, post, kind", [
    (SourceConnectionProvider, SOURCE_POST, "sourceConnection"),
    (DatasetProvider, route("POST", CAT, "/dataSets"), "dataset"),
], ids=["flowservice", "catalog"])
def test_lookup_copes_with_a_comma_in_the_name(f, cls, post, kind):
    inputs = {"connection_spec_id": PENDO_SPEC} if cls is SourceConnectionProvider else {"schema_id": f.schema()[0]}
    p = f.provider(cls)
    news = f.check(p, {**inputs, "name": "pendo, events (v2)"})
    script(f, post, ["commit_then_drop"])
    c = p.create(news)
    assert [d["id"] for d in stored(f, kind) if d.get("name") == "pendo, events (v2)"] == [c.id]
