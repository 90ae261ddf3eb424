"""Contract §10 item 8: test-only fault injection hooks, plus the request metrics."""

from __future__ import annotations

import time

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from emulator.process import EmulatorProcess
from tests.support.credentials import DEV_CLIENT_SECRET

from .fs_helpers import FlowApi, assert_flow_error

FLOWS = "POST /data/foundation/flowservice/flows"
SOURCES = "POST /data/foundation/flowservice/sourceConnections"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    """A private emulator: faults are global to a process."""
    e = EmulatorProcess(data_dir=str(tmp_path_factory.mktemp("faults")))
    e.start()
    yield e
    e.stop()


@pytest.fixture
def fs(emu, sandbox) -> FlowApi:
    emu.clear_faults()
    api = FlowApi(emu, sandbox)
    emu.reset_metrics()
    yield api
    emu.clear_faults()


def _script(emu, route, responses, **extra):
    emu.set_faults({"script": [{"route": route, "responses": responses}], **extra})


@pytest.mark.parametrize("retry_after", [0, 3])
def test_forced_429_with_retry_after(fs, emu, retry_after):
    _script(emu, SOURCES, [429], retry_after=retry_after)
    r = fs.post("/sourceConnections", fs.source_body())
    body = assert_flow_error(r, 429, 1429)
    assert r.headers["Retry-After"] == str(retry_after)
    assert body["errorMessage"]
    assert fs.get("/sourceConnections", params={"count": "true"}).json() == {"count": 0}  # nothing committed
    assert fs.post("/sourceConnections", fs.source_body()).status_code == 201  # script used up


def test_forced_503_with_retry_after(fs, emu):
    _script(emu, "GET /data/foundation/flowservice/flows", [{"status": 503, "retry_after": 2}])
    r = fs.get("/flows")
    assert_flow_error(r, 503, 1503)
    assert r.headers["Retry-After"] == "2"


def test_forced_412(fs, emu):
    sid = fs.source()
    etag = fs.one(f"/sourceConnections/{sid}")["etag"]
    _script(emu, "PATCH /data/foundation/flowservice/sourceConnections/{conn_id}", [412])
    r = fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/name", "value": "x"}], etag)
    assert_flow_error(r, 412, 1404)
    assert fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/name", "value": "x"}],
                    etag).status_code == 200


@pytest.mark.parametrize("status", [500, 502, 504])
def test_forced_5xx(fs, emu, status):
    emu.set_faults({"rules": [{"fault": status, "probability": 1.0, "methods": "reads"}]})
    assert_flow_error(fs.get("/flows"), status, 1000 + status)
    emu.clear_faults()
    assert fs.get("/flows").status_code == 200


def test_faults_use_each_services_error_shape(fs, emu):
    emu.set_faults({"rules": [{"fault": 503}]})
    ims = requests.post(emu.base_url + "/ims/token/v3", data={"grant_type": "client_credentials"})
    assert ims.status_code == 503 and ims.json()["error"] == "temporarily_unavailable"
    assert "Retry-After" in ims.headers


def test_commit_then_drop_closes_connection_after_commit(fs, emu):
    _script(emu, SOURCES, ["commit_then_drop"])
    body = fs.source_body(name="dropped-but-committed")
    with pytest.raises(requests.ConnectionError):
        fs.post("/sourceConnections", body)
    items = fs.get("/sourceConnections", params={"property": "name==dropped-but-committed"}).json()["items"]
    assert len(items) == 1
    assert emu.metrics()["faults"] == {"commit_then_drop": 1}
    assert emu.metrics()["statuses"].get("dropped") == 1


def test_commit_then_drop_on_patch_applies_the_patch(fs, emu):
    sid = fs.source()
    etag = fs.one(f"/sourceConnections/{sid}")["etag"]
    emu.set_faults({"rules": [{"fault": "commit_then_drop", "methods": ["PATCH"]}]})
    with pytest.raises(requests.ConnectionError):
        fs.patch(f"/sourceConnections/{sid}", [{"op": "replace", "path": "/name", "value": "after-drop"}], etag)
    emu.clear_faults()
    item = fs.one(f"/sourceConnections/{sid}")
    assert item["name"] == "after-drop" and item["etag"] != etag


def test_scripted_sequence_then_ok(fs, emu):
    _script(emu, FLOWS, [503, 503, "ok"])
    src, tgt, mid = fs.source(), fs.target(), fs.put_mapping()
    statuses = [fs.post("/flows", fs.flow_body(src, tgt, mid)).status_code for _ in range(4)]
    assert statuses == [503, 503, 201, 201]
    assert emu.admin("GET", "faults")["remaining"] == {FLOWS: 0}


def test_client_retry_honours_retry_after_and_succeeds(fs, emu):
    _script(emu, SOURCES, [503, 429, "ok"], retry_after=0)
    retry = Retry(total=3, status_forcelist=[429, 503], allowed_methods=None, backoff_factor=0,
                  respect_retry_after_header=True)
    fs.s.mount("http://", HTTPAdapter(max_retries=retry))
    r = fs.post("/sourceConnections", fs.source_body())
    assert r.status_code == 201
    assert emu.metrics()["requests"][SOURCES] == 3


def test_probabilistic_faults_are_reproducible_with_seed(fs, emu):
    def run() -> list[int]:
        emu.set_faults({"seed": 1234, "rules": [{"fault": 503, "probability": 0.5, "methods": "reads"}]})
        return [fs.get("/flows").status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert 503 in first and 200 in first


def test_faults_by_method_class_and_route(fs, emu):
    emu.set_faults({"rules": [{"fault": 500, "methods": "writes", "route": "/targetConnections"}]})
    assert fs.get("/targetConnections").status_code == 200          # a read
    assert fs.post("/sourceConnections", fs.source_body()).status_code == 201  # another route
    assert_flow_error(fs.post("/targetConnections", fs.target_body(fs.put_dataset())), 500, 1500)


def test_latency(fs, emu):
    emu.set_faults({"latency_ms": 150})
    t = time.perf_counter()
    fs.get("/flows")
    assert time.perf_counter() - t >= 0.15
    emu.set_faults({"rules": [{"fault": "latency", "latency_ms": 150, "methods": "writes"}]})
    t = time.perf_counter()
    fs.get("/flows")
    assert time.perf_counter() - t < 0.15


def test_faults_never_apply_to_admin_paths(fs, emu):
    emu.set_faults({"latency_ms": 0, "rules": [{"fault": 503}]})
    assert requests.get(emu.base_url + "/_emulator/health").status_code == 200
    assert emu.metrics()["total"] == 0
    emu.clear_faults()
    assert emu.admin("GET", "faults") == {"remaining": {}}


def test_bad_fault_config_is_400(emu):
    r = requests.put(emu.base_url + "/_emulator/faults", json={"rules": [{"fault": 418}]})
    assert r.status_code == 400


def test_faults_from_cli_flags(tmp_path):
    e = EmulatorProcess(data_dir=str(tmp_path / "cli"), extra_args=[
        "--fault", "503:1:writes:^POST /data/foundation/flowservice/sourceConnections$", "--retry-after", "0",
        "--fault-seed", "3"])
    e.start()
    try:
        api = FlowApi(e, "prod")
        r = api.post("/sourceConnections", api.source_body())
        assert_flow_error(r, 503, 1503)
        assert r.headers["Retry-After"] == "0"
        assert api.get("/sourceConnections").status_code == 200
        assert e.admin("GET", "faults")["seed"] == 3
    finally:
        e.stop()


# -- metrics -------------------------------------------------------------------------------------

def test_metrics_count_by_route_template_including_tokens_and_faults(fs, emu):
    emu.reset_metrics()
    fs.emu.token(client_secret=DEV_CLIENT_SECRET)
    sid = fs.source()
    fs.get(f"/sourceConnections/{sid}")
    fs.get(f"/sourceConnections/{sid}")
    _script(emu, SOURCES, [503])
    fs.post("/sourceConnections", fs.source_body())
    m = emu.metrics()
    assert m["requests"] == {
        "POST /ims/token/v3": 1,
        SOURCES: 2,
        "GET /data/foundation/flowservice/sourceConnections/{conn_id}": 2,
    }
    assert m["total"] == 5 and m["reads"] == 2 and m["writes"] == 3
    assert m["faults"] == {"503": 1} and m["statuses"]["503"] == 1


def test_metrics_reset_and_admin_excluded(fs, emu):
    fs.get("/flows")
    emu.metrics()
    emu.objects()
    assert emu.metrics()["total"] == 1
    emu.reset_metrics()
    assert emu.metrics()["total"] == 0 and emu.metrics()["requests"] == {}


def test_objects_counts_by_kind_without_tokens(fs, emu):
    before = emu.objects()
    fs.source()
    fs.emu.token(client_secret=DEV_CLIENT_SECRET)
    after = emu.objects()
    assert "token" not in after
    assert after["sourceConnection"] == before.get("sourceConnection", 0) + 1
    assert after["connectionSpec"] >= 3 and after["flowSpec"] >= 1


# -- the latency model: reads and writes apart, per route, jitter -------------------------------
# Asserted from what the emulator says it slept (metrics "latency_ms"), not from a stopwatch.

def test_latency_by_method_class_and_route(fs, emu):
    emu.set_faults({"latency": {"reads_ms": 20, "writes_ms": 60,
                                "routes": [{"route": "^GET /data/foundation/flowservice/flows$", "ms": 5}]}})
    sid = fs.source()
    fs.get(f"/sourceConnections/{sid}")
    fs.get("/flows")
    lat = emu.metrics()["latency_ms"]
    assert lat[SOURCES] == {"count": 1, "total": 60, "min": 60, "max": 60}
    assert lat["GET /data/foundation/flowservice/sourceConnections/{conn_id}"]["total"] == 20
    assert lat["GET /data/foundation/flowservice/flows"]["total"] == 5  # the route's figure, not the reads'
    # Added to the flat figure and to latency rules, as before the model existed.
    emu.set_faults({"latency_ms": 10, "latency": {"reads_ms": 20},
                    "rules": [{"fault": "latency", "latency_ms": 7, "methods": "reads"}]})
    emu.reset_metrics()
    fs.get("/flows")
    assert emu.metrics()["latency_ms"]["GET /data/foundation/flowservice/flows"]["total"] == 37


def test_latency_is_really_slept(fs, emu):
    emu.set_faults({"latency": {"reads_ms": 150, "writes_ms": 0}})
    t = time.perf_counter()
    fs.get("/flows")
    assert time.perf_counter() - t >= 0.15


def test_latency_jitter_is_seeded_and_keeps_the_mean(fs, emu):
    def run(seed: int) -> dict:
        emu.set_faults({"seed": seed, "latency": {"reads_ms": 4, "jitter": {"distribution": "uniform",
                                                                             "spread": 0.5}}})
        emu.reset_metrics()
        for _ in range(40):
            fs.get("/flows")
        return emu.metrics()["latency_ms"]["GET /data/foundation/flowservice/flows"]

    first, again, other = run(5), run(5), run(6)
    assert first == again and first != other
    assert 2 <= first["min"] < first["max"] <= 6
    assert 3 <= first["total"] / first["count"] <= 5
    for dist, param in (("normal", "sd"), ("lognormal", "sigma")):
        emu.set_faults({"seed": 1, "latency": {"reads_ms": 2, "jitter": {"distribution": dist, param: 0.3}}})
        emu.reset_metrics()
        for _ in range(10):
            fs.get("/flows")
        got = emu.metrics()["latency_ms"]["GET /data/foundation/flowservice/flows"]
        assert got["count"] == 10 and got["min"] < got["max"]


@pytest.mark.parametrize("bad", [{"reads_ms": -1}, {"reads_ms": "fast"}, {"speed": 1},
                                 {"jitter": {"distribution": "pareto"}}, {"routes": [{"ms": 5}]},
                                 {"jitter": {"distribution": "uniform", "spread": 2}}])
def test_bad_latency_model_is_400_naming_the_field(emu, bad):
    r = requests.put(emu.base_url + "/_emulator/faults", json={"latency": bad})
    assert r.status_code == 400
    assert "latency" in r.text


def test_latency_model_from_cli_flags(tmp_path):
    e = EmulatorProcess(data_dir=str(tmp_path / "cli-latency"), extra_args=[
        "--read-latency-ms", "3", "--write-latency-ms", "9", "--latency-jitter", "lognormal:0.2",
        "--fault-seed", "4"])
    e.start()
    try:
        assert e.admin("GET", "faults")["latency"] == {"reads_ms": 3.0, "writes_ms": 9.0,
                                                       "jitter": {"distribution": "lognormal", "sigma": 0.2}}
        FlowApi(e, "prod").get("/flows")
        assert e.metrics()["latency_ms"]["GET /data/foundation/flowservice/flows"]["count"] == 1
    finally:
        e.stop()
