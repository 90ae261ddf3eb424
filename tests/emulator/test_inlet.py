"""Streaming inlet: raw Pendo events mapped into datasets, runs, limits, and the records reader."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import http.client
import json
import os
import time
import urllib.parse

import pytest
import requests

from .data_helpers import DP, EXPORT, FS, NS, PENDO_EVENT, TUTORIAL_MAPPINGS, XED_FULL_CT, DataApi


@pytest.fixture
def api(emulator, sandbox) -> DataApi:
    return DataApi(emulator, sandbox)


@pytest.fixture
def pipe(api) -> dict:
    return api.pipeline()


def _post(url: str, body, **kw) -> requests.Response:
    return requests.post(url, json=body, timeout=10, **kw)


def test_event_lands_mapped_in_the_dataset(api, pipe):
    r = _post(pipe["inlet_url"], PENDO_EVENT)
    assert r.status_code == 200, r.text
    body = r.json()
    inlet_id = pipe["inlet_url"].rsplit("/", 1)[1]
    assert body["inletId"] == inlet_id and isinstance(body["receivedTimeMs"], int) and body["xactionId"]
    (record,) = api.records(pipe["dataset"])
    assert record[NS] == {"accountid": "acct-001", "uniqueid": PENDO_EVENT["uniqueId"], "name1": "Welcome tour",
                          "timestamp1": "2023-01-10T17:41:56Z", "visitorid": "visitor-42",
                          "eventname": "guideDisplayed"}
    # ExperienceEvent fields the mapping does not fill: _id generated, timestamp from Pendo's epoch seconds.
    assert record["timestamp"] == "2023-01-10T17:41:56Z"
    assert len(record["_id"]) == 36
    assert set(record) == {NS, "_id", "timestamp"}


def test_flow_id_from_header_query_or_trailing_slash(api, pipe):
    url, fid = pipe["inlet_url"], pipe["flow"]
    assert _post(url, PENDO_EVENT, headers={"x-adobe-flow-id": fid}).status_code == 200
    assert _post(f"{url}?x-adobe-flow-id={fid}", PENDO_EVENT).status_code == 200
    assert _post(f"{url}/?x-adobe-flow-id={fid}", PENDO_EVENT).status_code == 200
    assert len(api.records(pipe["dataset"])) == 3
    wrong = _post(url, PENDO_EVENT, headers={"x-adobe-flow-id": "00000000-0000-0000-0000-000000000000"})
    assert wrong.status_code == 400 and wrong.json()["status"] == "400"


def test_inlet_serving_several_flows_needs_the_flow_id(api, emulator, pipe):
    inlet_id = pipe["inlet_url"].rsplit("/", 1)[1]
    second = api.pipeline()
    inlet = next(i for i in emulator.admin("GET", "objects/inlet") if i["flowIds"] == [pipe["flow"]])
    emulator.admin("PUT", f"objects/inlet/{inlet_id}", json={**inlet, "flowIds": [pipe["flow"], second["flow"]]})
    assert _post(pipe["inlet_url"], PENDO_EVENT).status_code == 400
    assert _post(pipe["inlet_url"], PENDO_EVENT, headers={"x-adobe-flow-id": second["flow"]}).status_code == 200
    assert len(api.records(second["dataset"])) == 1 and api.records(pipe["dataset"]) == []


def test_unknown_inlet_is_404(emulator):
    r = _post(f"{emulator.base_url}/collection/{'0' * 64}", PENDO_EVENT)
    assert r.status_code == 404 and r.json()["status"] == "404"


def test_inlet_needs_no_platform_headers_but_rejects_bad_bodies(api, pipe):
    url = pipe["inlet_url"]
    r = requests.post(url, data=b"{not json", headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and "JSON" in r.json()["report"]["message"]
    too_big = {"blob": "x" * (1024 * 1024)}
    r = _post(url, too_big)
    assert r.status_code == 413 and r.json()["status"] == "413"
    assert api.records(pipe["dataset"]) == []


def test_payload_just_under_the_limit_is_accepted(api, pipe):
    event = {**PENDO_EVENT, "padding": "x" * (1024 * 1024 - 2000)}
    assert len(json.dumps(event)) < 1024 * 1024
    assert _post(pipe["inlet_url"], event).status_code == 200


def test_invalid_event_is_accepted_but_fails_in_the_run(api, pipe):
    r = _post(pipe["inlet_url"], {**PENDO_EVENT, "uniqueId": ""})
    assert r.status_code == 200
    assert api.records(pipe["dataset"]) == []
    (run,) = api.runs(pipe["flow"])
    m = run["metrics"]
    assert m["recordSummary"]["inputRecordCount"] == 1 and m["recordSummary"]["failedRecordCount"] == 1
    assert m["statusSummary"]["status"] == "failed"
    assert m["statusSummary"]["errors"] == [{"code": "INGEST-1212-400",
                                             "message": f"{NS}.uniqueid: expected minLength:1, actual 0"}]


def test_missing_required_field_reads_like_aep(api, pipe):
    event = {k: v for k, v in PENDO_EVENT.items() if k != "uniqueId"}
    _post(pipe["inlet_url"], event)
    (run,) = api.runs(pipe["flow"])
    assert run["metrics"]["statusSummary"]["errors"][0]["message"] == f"{NS}.uniqueid: expected minLength:1, actual 0"


def test_sync_validation_returns_the_errors(api, pipe):
    r = _post(pipe["inlet_url"] + "?syncValidation=true", {**PENDO_EVENT, "uniqueId": ""})
    assert r.status_code == 400
    report = r.json()["report"]
    assert report["code"] == "INGEST-1212-400"
    assert report["errors"] == [f"{NS}.uniqueid: expected minLength:1, actual 0"]
    assert _post(pipe["inlet_url"] + "?syncValidation=true", PENDO_EVENT).status_code == 200
    assert len(api.records(pipe["dataset"])) == 1


def test_mapping_errors_are_mapper_errors(api):
    pipe = api.pipeline()
    # timestamp1 is a date-time: an object cannot be converted to it.
    r = _post(pipe["inlet_url"] + "?syncValidation=true", {**PENDO_EVENT, "timestamp": {"s": 1}})
    assert r.status_code == 400 and r.json()["report"]["code"] == "MAPPER-3700-400"


def test_runs_aggregate_per_flow_and_hour(api, pipe):
    for event in (PENDO_EVENT, PENDO_EVENT, {**PENDO_EVENT, "uniqueId": ""}):
        _post(pipe["inlet_url"], event)
    runs = api.runs(pipe["flow"])
    assert len(runs) == 1
    run = runs[0]
    rs = run["metrics"]["recordSummary"]
    assert (rs["inputRecordCount"], rs["outputRecordCount"], rs["failedRecordCount"]) == (3, 2, 1)
    assert run["metrics"]["statusSummary"]["status"] == "partialSuccess"
    assert run["flowId"] == pipe["flow"] and run["etag"].startswith('"')
    d = run["metrics"]["durationSummary"]
    assert d["startedAtUTC"] <= d["completedAtUTC"]
    assert run["createdAt"] <= run["updatedAt"]
    assert run["metrics"]["sizeSummary"]["inputBytes"] > run["metrics"]["sizeSummary"]["outputBytes"] > 0
    assert run["activities"][0]["recordSummary"] == rs
    hour = run["createdAt"] - run["createdAt"] % 3_600_000
    assert hour <= d["startedAtUTC"] < hour + 3_600_000
    flow = api.get_flow(pipe["flow"])
    assert flow["lastRunDetails"]["id"] == run["id"] and flow["lastRunDetails"]["state"] == "partialSuccess"
    assert api.get(f"{FS}/runs/{run['id']}").json()["items"][0]["id"] == run["id"]


def test_all_good_events_make_a_successful_run(api, pipe):
    _post(pipe["inlet_url"], PENDO_EVENT)
    assert api.runs(pipe["flow"])[0]["metrics"]["statusSummary"] == {"status": "success", "errors": []}


def test_disabled_flow_drops_events_and_says_so_in_the_run(api, pipe):
    fid = pipe["flow"]
    assert api.post(f"{FS}/flows/{fid}/action?op=disable").status_code == 200
    r = _post(pipe["inlet_url"], PENDO_EVENT)
    assert r.status_code == 200
    assert api.records(pipe["dataset"]) == []
    err = api.runs(fid)[0]["metrics"]["statusSummary"]["errors"][0]
    assert err["code"] == "INGEST-1401-400" and "disabled" in err["message"]
    assert _post(pipe["inlet_url"] + "?syncValidation=true", PENDO_EVENT).status_code == 400
    assert api.post(f"{FS}/flows/{fid}/action?op=enable").status_code == 200
    assert _post(pipe["inlet_url"], PENDO_EVENT).status_code == 200
    assert len(api.records(pipe["dataset"])) == 1


def test_flow_keeps_its_mapping_version_until_patched(api, pipe):
    schema_id = pipe["schema"]["$id"]
    changed = [{"sourceAttribute": "visitorId", "destinationXdmPath": f"{NS}.accountid"},
               {"sourceAttribute": "uniqueId", "destinationXdmPath": f"{NS}.uniqueid"}]
    r = api.put(f"{DP}/mappingSets/{pipe['mapping']}",
                {"outputSchema": {"schemaRef": {"id": schema_id, "contentType": XED_FULL_CT}}, "mappings": changed})
    assert r.json()["version"] == 1
    _post(pipe["inlet_url"], PENDO_EVENT)
    assert api.records(pipe["dataset"])[-1][NS]["accountid"] == "acct-001"  # still version 0
    flow = api.get_flow(pipe["flow"])
    patch = [{"op": "replace", "path": "/transformations/0",
              "value": {"name": "Mapping", "params": {"mappingId": pipe["mapping"], "mappingVersion": 1}}}]
    r = api.patch(f"{FS}/flows/{pipe['flow']}", patch, headers={"If-Match": flow["etag"]})
    assert r.status_code == 200, r.text
    _post(pipe["inlet_url"], PENDO_EVENT)
    last = api.records(pipe["dataset"])[-1]
    assert last[NS] == {"accountid": "visitor-42", "uniqueid": PENDO_EVENT["uniqueId"]}


def test_tutorial_mapping_with_empty_source_leaves_the_field_unset(api):
    pipe = api.pipeline(TUTORIAL_MAPPINGS)
    _post(pipe["inlet_url"], PENDO_EVENT)
    (record,) = api.records(pipe["dataset"])
    assert "name1" not in record[NS] and record[NS]["accountid"] == "acct-001"


def test_event_without_timestamp_gets_the_receive_time(api, pipe):
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    _post(pipe["inlet_url"], {k: v for k, v in PENDO_EVENT.items() if k != "timestamp"})
    (record,) = api.records(pipe["dataset"])
    got = dt.datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
    assert before <= got <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)


def test_batch_answers_207_with_one_response_per_message(api, pipe):
    url = pipe["inlet_url"].replace("/collection/", "/collection/batch/")
    r = _post(url, {"messages": [PENDO_EVENT, {**PENDO_EVENT, "visitorId": "v2"}, {**PENDO_EVENT, "uniqueId": ""},
                                 "not an object"]})
    assert r.status_code == 207, r.text
    body = r.json()
    assert body["inletId"] == pipe["inlet_url"].rsplit("/", 1)[1] and body["batchId"]
    assert isinstance(body["receivedTimeMs"], int)
    assert len(body["responses"]) == 4 and all(x["xactionId"] for x in body["responses"])
    assert body["responses"][3]["status"] == 400 and "status" not in body["responses"][0]
    assert [x[NS]["visitorid"] for x in api.records(pipe["dataset"])] == ["visitor-42", "v2"]
    rs = api.runs(pipe["flow"])[0]["metrics"]["recordSummary"]
    assert (rs["inputRecordCount"], rs["outputRecordCount"], rs["failedRecordCount"]) == (4, 2, 2)
    assert _post(url, [PENDO_EVENT]).status_code == 400


def test_authenticated_inlet_requires_a_token(api, emulator, pipe):
    inlet_id = pipe["inlet_url"].rsplit("/", 1)[1]
    inlet = next(i for i in emulator.admin("GET", "objects/inlet") if i["flowIds"] == [pipe["flow"]])
    emulator.admin("PUT", f"objects/inlet/{inlet_id}", json={**inlet, "authenticationRequired": True})
    r = _post(pipe["inlet_url"], PENDO_EVENT)
    assert r.status_code == 401
    body = r.json()
    assert body["type"] == "https://ns.adobe.com/adobecloud/problem/data-collection-service-authorization"
    assert body["status"] == "401" and body["title"] == "Authorization" and body["report"]["message"]
    ok = _post(pipe["inlet_url"], PENDO_EVENT, headers={"Authorization": api.s.headers["Authorization"]})
    assert ok.status_code == 200


def test_deleted_flow_stops_the_inlet(api, pipe):
    assert api.delete(f"{FS}/flows/{pipe['flow']}").status_code == 204
    assert _post(pipe["inlet_url"], PENDO_EVENT).status_code == 404


def test_records_reader(api, emulator, sandbox, pipe):
    for i in range(5):
        _post(pipe["inlet_url"], {**PENDO_EVENT, "visitorId": f"v{i}"})
    url = f"{EXPORT}/datasets/{pipe['dataset']}/records"
    body = api.get(url).json()
    assert body["count"] == 5 and [r[NS]["visitorid"] for r in body["records"]] == [f"v{i}" for i in range(5)]
    page = api.get(url, params={"limit": 2, "start": 1}).json()
    assert page["count"] == 2 and [r[NS]["visitorid"] for r in page["records"]] == ["v1", "v2"]
    assert requests.get(emulator.base_url + url, timeout=10).status_code == 403  # gateway-protected
    assert DataApi(emulator, sandbox + "-other").get(url).status_code == 404    # scoped
    assert api.get(f"{EXPORT}/datasets/{'0' * 24}/records").status_code == 404
    assert api.get(url, params={"limit": 0}).status_code == 400


def test_record_survives_sigkill(fresh_emulator, sandbox):
    api = DataApi(fresh_emulator, sandbox)
    pipe = api.pipeline()
    assert _post(pipe["inlet_url"], PENDO_EVENT).status_code == 200
    fresh_emulator.kill()
    fresh_emulator.start()
    assert len(api.records(pipe["dataset"])) == 1
    assert api.runs(pipe["flow"])[0]["metrics"]["recordSummary"]["outputRecordCount"] == 1


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None elsewhere."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(os.environ.get("AEP_SKIP_PERF") == "1", reason="AEP_SKIP_PERF=1")
def test_inlet_sustains_1000_events_per_second(api, emulator, pipe):
    """Sixteen concurrent webhook senders on keep-alive connections, as a Pendo burst would arrive.

    Best of three rounds. On a shared box other jobs can starve the emulator of CPU; then the
    wall-clock rate says nothing about the emulator, and the test skips (with both numbers)
    provided the emulator's own CPU cost per event would still allow 1,000 events/s.
    """
    u = urllib.parse.urlsplit(pipe["inlet_url"])
    body = json.dumps(PENDO_EVENT).encode()
    senders, per_sender = 16, 125

    def send() -> int:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        ok = 0
        for _ in range(per_sender):
            conn.request("POST", u.path, body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            ok += resp.status == 200
        conn.close()
        return ok

    rates, capacities = [], []
    for _ in range(3):
        cpu0, start = _cpu_seconds(emulator.proc.pid), time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(senders) as pool:
            ok = sum(pool.map(lambda _: send(), range(senders)))
        rates.append(senders * per_sender / (time.perf_counter() - start))
        cpu1 = _cpu_seconds(emulator.proc.pid)
        if cpu0 is not None and cpu1 is not None and cpu1 > cpu0:
            capacities.append(senders * per_sender / (cpu1 - cpu0))
        assert ok == senders * per_sender
        if rates[-1] >= 1000:
            break
    count = api.get(f"{EXPORT}/datasets/{pipe['dataset']}/records", params={"limit": 10000}).json()["count"]
    assert count == senders * per_sender * len(rates)  # every acknowledged event was stored
    summary = (f"wall clock {[round(r) for r in rates]} events/s; emulator CPU allows "
               f"{[round(c) for c in capacities]} events per CPU-second; load average {os.getloadavg()}")
    print(f"inlet: {max(rates):.0f} events/s ({summary})")
    if max(rates) < 1000 and capacities and max(capacities) >= 1000 \
            and os.getloadavg()[0] > 1.5 * (os.cpu_count() or 1):
        pytest.skip(f"box too busy to measure throughput: {summary}")
    assert max(rates) >= 1000, summary
