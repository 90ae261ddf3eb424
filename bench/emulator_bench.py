"""Emulator throughput and latency: a CRUD mix and the streaming inlet.

    .venv/bin/python -m bench.emulator_bench [--rounds 300] [--events 3000] [--senders 8] [--client requests]

Starts a private emulator process, then reports requests per second and p50/p99 latency
(client-measured, loopback, keep-alive) for:

* a Flow Service + Catalog CRUD mix, one client: create, get, patch with If-Match, list
  and delete of source connections, plus dataset create/get/delete;
* the inlet: Pendo events posted by several concurrent senders to one flow's inletUrl
  (keep-alive http.client connections by default; `--client requests` for requests sessions).

It prints the load average and the emulator's own CPU time per inlet event with the table:
on a shared 2-core machine the throughput depends on what else runs.

It is a benchmark, not a test: it asserts nothing. The figures go in docs/emulator.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import threading
import time
import urllib.parse
import uuid

import requests

from emulator.config import TENANT_ID
from emulator.process import EmulatorProcess

FS = "/data/foundation/flowservice"
PENDO = {"id": "6ff5654f-19d5-427d-bd3e-c0ebc802389a", "version": "1.0"}
DATALAKE = {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}
SCHEMA_ACCEPT = "application/vnd.adobe.xed-full+json; version=1"


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def report(label: str, samples: list[float], wall: float) -> str:
    ms = [x * 1000 for x in samples]
    return (f"| {label} | {len(ms)} | {len(ms) / wall:,.0f} | {statistics.median(ms):.2f} | "
            f"{pct(ms, 99):.2f} |")


def crud_mix(emu: EmulatorProcess, rounds: int) -> dict[str, list[float]]:
    """One client, sequential: the latency a provisioning run sees per request."""
    s = emu.session("bench-crud")
    base = emu.base_url
    lat: dict[str, list[float]] = {k: [] for k in ("create", "get", "patch", "list", "delete")}

    def timed(kind: str, method: str, path: str, **kw) -> requests.Response:
        t = time.perf_counter()
        r = s.request(method, base + path, **kw)
        lat[kind].append(time.perf_counter() - t)
        r.raise_for_status()
        return r

    for i in range(rounds):
        body = {"name": f"src-{i}-{uuid.uuid4().hex[:6]}", "connectionSpec": PENDO, "data": {"format": "json"}}
        created = timed("create", "POST", f"{FS}/sourceConnections", json=body).json()
        timed("get", "GET", f"{FS}/sourceConnections/{created['id']}")
        timed("patch", "PATCH", f"{FS}/sourceConnections/{created['id']}", headers={"If-Match": created["etag"]},
              json=[{"op": "add", "path": "/description", "value": "benchmarked"}])
        timed("list", "GET", f"{FS}/sourceConnections", params={"limit": 20})
        timed("delete", "DELETE", f"{FS}/sourceConnections/{created['id']}")
    return lat


def pendo_inlet(emu: EmulatorProcess) -> str:
    """Provision one Pendo pipeline over plain HTTP; return its inletUrl."""
    s = emu.session("bench-inlet")
    b = emu.base_url
    sr = f"{b}/data/foundation/schemaregistry"
    fg = s.post(f"{sr}/tenant/fieldgroups", json={
        "type": "object", "title": "Pendo bench fields", "description": "bench",
        "meta:intendedToExtend": ["https://ns.adobe.com/xdm/context/experienceevent"],
        "definitions": {"f": {"properties": {f"_{TENANT_ID}": {"type": "object", "properties": {
            "accountId": {"type": "string"}, "visitorId": {"type": "string"}, "uniqueId": {"type": "string"}}}}}},
        "allOf": [{"$ref": "#/definitions/f"}]})
    fg.raise_for_status()
    schema = s.post(f"{sr}/tenant/schemas", json={
        "type": "object", "title": "Pendo bench", "description": "bench",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/experienceevent"}, {"$ref": fg.json()["$id"]}]})
    schema.raise_for_status()
    schema_id = schema.json()["$id"]
    ds = s.post(f"{b}/data/foundation/catalog/dataSets", json={
        "name": "pendo-bench",
        "schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed+json;version=1"}})
    ds.raise_for_status()
    dataset_id = ds.json()[0].split("/")[-1]
    src = s.post(f"{b}{FS}/sourceConnections", json={
        "name": "pendo-bench-src", "connectionSpec": PENDO, "data": {"format": "json"}}).json()["id"]
    tgt = s.post(f"{b}{FS}/targetConnections", json={
        "name": "pendo-bench-tgt", "connectionSpec": DATALAKE,
        "data": {"format": "json",
                 "schema": {"id": schema_id, "version": "application/vnd.adobe.xed-full+json;version=1"}},
        "params": {"dataSetId": dataset_id}}).json()["id"]
    mapping = s.post(f"{b}/data/foundation/conversion/mappingSets", json={
        "outputSchema": {"schemaRef": {"id": schema_id,
                                       "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [{"sourceAttribute": k, "destinationXdmPath": f"_{TENANT_ID}.{k}", "identity": False, "version": 0}
                     for k in ("accountId", "visitorId", "uniqueId")]})
    mapping.raise_for_status()
    flow = s.post(f"{b}{FS}/flows", json={
        "name": "pendo-bench-flow", "flowSpec": {"id": "e77fde5a-22a8-11ed-861d-0242ac120002", "version": "1.0"},
        "sourceConnectionIds": [src], "targetConnectionIds": [tgt],
        "transformations": [{"name": "Mapping", "params": {"mappingId": mapping.json()["id"], "mappingVersion": 0}}]})
    flow.raise_for_status()
    got = s.get(f"{b}{FS}/flows/{flow.json()['id']}").json()["items"][0]
    return got["options"]["inletUrl"]


def _http_poster(inlet_url: str):
    """A keep-alive connection posting JSON with the standard library: a webhook sender's cost,
    not a Python HTTP framework's (requests spends about 0.6 ms of CPU per post, as much as
    the emulator itself, and the two share this machine's cores)."""
    url = urllib.parse.urlsplit(inlet_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Content-Type": "application/json"}

    def post(event: dict) -> None:
        conn.request("POST", url.path, body=json.dumps(event), headers=headers)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"inlet answered {r.status}")
    return post


def _requests_poster(inlet_url: str):
    s = requests.Session()

    def post(event: dict) -> None:
        s.post(inlet_url, json=event).raise_for_status()
    return post


def inlet_load(inlet_url: str, events: int, senders: int, client: str = "http") -> tuple[list[float], float]:
    """`senders` threads, each with its own keep-alive connection, post `events` in total."""
    per = events // senders
    samples: list[float] = []
    lock = threading.Lock()
    make = _http_poster if client == "http" else _requests_poster

    def sender(n: int) -> None:
        post = make(inlet_url)
        mine = []
        for i in range(per):
            event = {"event": "guideDisplayed", "accountId": "acme", "visitorId": f"v{n}",
                     "uniqueId": uuid.uuid4().hex, "timestamp": int(time.time()),
                     "properties": {"guideProperties": {"name": f"guide {i}"}}}
            t = time.perf_counter()
            post(event)
            mine.append(time.perf_counter() - t)
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=300, help="CRUD rounds (5 requests each)")
    ap.add_argument("--events", type=int, default=3000, help="inlet events in total")
    ap.add_argument("--senders", type=int, default=8, help="concurrent inlet senders")
    ap.add_argument("--client", choices=("http", "requests"), default="http",
                    help="inlet senders: the standard library's http.client (default) or requests")
    args = ap.parse_args()

    load_before = os.getloadavg()
    with EmulatorProcess(client_secret=secrets.token_urlsafe(24)) as emu:
        t0 = time.perf_counter()
        lat = crud_mix(emu, args.rounds)
        crud_wall = time.perf_counter() - t0
        inlet_url = pendo_inlet(emu)
        cpu0 = _process_cpu(emu.proc.pid)
        inlet_samples, inlet_wall = inlet_load(inlet_url, args.events, args.senders, args.client)
        server_ms = (_process_cpu(emu.proc.pid) - cpu0) * 1000 / max(1, len(inlet_samples))

    print(f"load average {load_before[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end (1 min, "
          f"{os.cpu_count()} CPUs); "
          f"emulator CPU {server_ms:.2f} ms per inlet event; inlet client: {args.client}")
    print("| Workload | Requests | Requests/s | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    everything = [x for v in lat.values() for x in v]
    print(report(f"CRUD mix, 1 client ({args.rounds} rounds)", everything, crud_wall))
    for kind, samples in lat.items():
        print(report(f"  {kind}", samples, sum(samples)))
    print(report(f"inlet, {args.senders} senders", inlet_samples, inlet_wall))


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
