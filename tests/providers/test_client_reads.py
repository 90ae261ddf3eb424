"""The client's read-only helpers for `make status` / `make demo`: a flow's runs, and the
emulator-only reader of what the inlet stored in a dataset."""

from __future__ import annotations

import copy
import os
import uuid

import pytest
import requests

from emulator import config as dev
from emulator import kinds
from emulator.store import Store
from providers import DataflowProvider
from providers.client import NotFound, clear_client_cache

from .support import FS, TENANT, Harness, route

RECORDS = "/data/foundation/export/datasets/{dataset_id}/records"
HOUR_MS = 3_600_000


def _post(inlet_url: str, account: str, **extra) -> None:
    event = {"accountId": account, "visitorId": "visitor-42",
             "properties": {"guideProperties": {"name": "Welcome tour"}}, **extra}
    r = requests.post(inlet_url, json=event, timeout=10)
    assert r.status_code == 200, r.text


def _api(h: Harness):
    return h.provider(DataflowProvider).client()


def test_list_runs_follows_every_continuation_page(fresh_emulator, sandbox):
    h = Harness(fresh_emulator, sandbox)
    flow_id, fouts = h.flow()
    other_id, _ = h.create(DataflowProvider, source_connection_id=h.source()[0],
                           target_connection_id=h.target()[0], mapping_id=h.mapping()[0], mapping_version=0.0)
    _post(fouts["inlet_url"], "acme")
    runs = _api(h).list_runs(sandbox, flow_id)
    assert len(runs) == 1 and runs[0]["flowId"] == flow_id

    # The inlet keeps one run per flow per hour; earlier hours (and another flow's run) are
    # written into the stopped emulator's store, so that listing takes several pages.
    fresh_emulator.stop()
    store = Store(os.path.join(fresh_emulator.data_dir, "aep.sqlite3"))
    earlier = {}
    try:
        for hours, fid in ((1, flow_id), (2, flow_id), (3, other_id)):
            run = copy.deepcopy(runs[0])
            run.update(id=str(uuid.uuid4()), flowId=fid, createdAt=runs[0]["createdAt"] - hours * HOUR_MS)
            store.put(kinds.RUN, dev.DEV_ORG_ID, sandbox, run["id"], run)
            earlier[hours] = run["id"]
    finally:
        store.close()
    fresh_emulator.start()
    clear_client_cache()

    api = _api(h)
    h.reset()
    paged = api.list_runs(sandbox, flow_id, limit=1)
    assert h.calls() == {route("GET", FS, "/runs"): 3}  # one run a page
    assert sorted(r["id"] for r in paged) == sorted([runs[0]["id"], earlier[1], earlier[2]])
    assert sorted(r["id"] for r in api.list_runs(sandbox, flow_id)) == sorted(r["id"] for r in paged)
    assert [r["id"] for r in api.list_runs(sandbox, other_id)] == [earlier[3]]


def test_list_runs_of_a_flow_without_events_is_empty(h):
    flow_id, _ = h.flow()
    h.reset()
    assert _api(h).list_runs(h.sandbox, flow_id) == []
    assert h.calls() == {route("GET", FS, "/runs"): 1}


def test_emulator_dataset_records_pages_through_what_the_inlet_stored(h):
    _, fouts = h.flow()
    dataset_id = h.dataset()[0]
    api = _api(h)
    assert api.emulator_dataset_records(h.sandbox, dataset_id) == []
    for account in ("first", "second", "third"):
        _post(fouts["inlet_url"], account)

    h.reset()
    records = api.emulator_dataset_records(h.sandbox, dataset_id)
    assert h.calls() == {route("GET", "", RECORDS): 1}
    assert [r[f"_{TENANT}"]["accountId"] for r in records] == ["first", "second", "third"]  # oldest first
    assert records[0][f"_{TENANT}"]["guide"] == {"name": "Welcome tour"}
    page = api.emulator_dataset_records(h.sandbox, dataset_id, limit=1, start=1)
    assert [r[f"_{TENANT}"]["accountId"] for r in page] == ["second"]


def test_emulator_dataset_records_of_an_unknown_dataset(h):
    with pytest.raises(NotFound) as e:
        _api(h).emulator_dataset_records(h.sandbox, "5f0000000000000000000000")
    assert e.value.status == 404 and e.value.code == "EXPORT-1404-404"


def test_emulator_dataset_records_are_scoped_to_the_sandbox(h, emulator):
    _, fouts = h.flow()
    _post(fouts["inlet_url"], "acme")
    other = Harness(emulator, h.sandbox + "-x")
    with pytest.raises(NotFound):
        _api(other).emulator_dataset_records(other.sandbox, h.dataset()[0])
