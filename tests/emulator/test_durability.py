"""Acknowledged writes and tokens survive SIGKILL; SIGTERM stops the server cleanly."""

from __future__ import annotations

from .fs_helpers import FlowApi


def test_write_survives_sigkill(fresh_emulator):
    api = FlowApi(fresh_emulator, "prod")
    ids = api.pendo_flow()
    etag = api.one(f"/flows/{ids['flow']}")["etag"]
    r = api.patch(f"/flows/{ids['flow']}", [{"op": "replace", "path": "/name", "value": "last write"}], etag)
    assert r.status_code == 200
    fresh_emulator.kill()
    fresh_emulator.start()
    flow = api.one(f"/flows/{ids['flow']}")  # same session: the token survived too
    assert flow["name"] == "last write" and flow["etag"] == r.json()["etag"]
    assert api.one(f"/sourceConnections/{ids['source']}")["id"] == ids["source"]
    inlet_id = flow["options"]["inletUrl"].rsplit("/", 1)[1]
    assert any(i["flowIds"] == [ids["flow"]] for i in fresh_emulator.admin("GET", "objects/inlet")), inlet_id


def test_token_survives_sigkill(fresh_emulator):
    api = FlowApi(fresh_emulator, "prod")
    assert api.get("/flows").status_code == 200
    fresh_emulator.kill()
    fresh_emulator.start()
    assert api.get("/flows").status_code == 200


def test_sigterm_is_a_clean_stop_and_data_persists(fresh_emulator):
    api = FlowApi(fresh_emulator, "prod")
    sid = api.source()
    fresh_emulator.stop()
    assert fresh_emulator.proc.returncode == 0
    fresh_emulator.start()
    assert api.one(f"/sourceConnections/{sid}")["id"] == sid
    assert fresh_emulator.objects()["connectionSpec"] >= 3  # seeding on restart is idempotent


def test_store_uses_wal_and_full_sync(fresh_emulator):
    import os
    import sqlite3
    db = sqlite3.connect(os.path.join(fresh_emulator.data_dir, "aep.sqlite3"))
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
