"""The source catalog (providers/sources.py): checked against the emulator's specs, its docs table,
the check-time rules it drives, and the authenticated sources' lifecycles with secret rotation."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from providers import sources
from providers.base_connection import BaseConnectionProvider
from providers.dataflow import DataflowProvider
from providers.models import FLOW_SPECS, HTTP_STREAMING_SPEC, PENDO_SPEC, SOURCE_SPECS, STREAMING_SOURCE_SPECS
from providers.source_connection import SourceConnectionProvider

from .lifecycle import Lifecycle
from .support import FS, Harness, route

DOC = Path(__file__).resolve().parents[2] / "docs" / "pipelines.md"
BEGIN, END = "<!-- source-catalog:begin -->", "<!-- source-catalog:end -->"
KINESIS_AUTH = {"accessKeyId": "AKIAEXAMPLE", "secretKey": "CANARY-kinesis-secret-1", "region": "us-east-1"}
KINESIS_PARAMS = {"stream": "clicks", "dataType": "raw", "reset": "latest"}
UUID1, UUID2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


# -- the catalog against the emulator's specs --------------------------------------------------------


def _specs(h: Harness, collection: str) -> dict[str, dict]:
    r = h.raw.get(h.url(f"{FS}/{collection}"), timeout=10)
    assert r.status_code == 200, r.text
    return {s["id"]: s for s in r.json()["items"]}


@pytest.mark.parametrize("entry", sources.CATALOG, ids=lambda s: s.kind)
def test_catalog_entry_matches_the_served_specs(h, entry):
    conn = _specs(h, "connectionSpecs")[entry.connection_spec_id]
    flow = _specs(h, "flowSpecs")[entry.flow_spec_id]
    assert conn["providerId"] == entry.provider_id and conn["attributes"]["isSource"] is True
    assert flow["name"] == sources.FLOW_SPEC_NAMES[entry.flow_spec_id]
    assert entry.connection_spec_id in flow["sourceConnectionSpecIds"]
    served_auth = {a["name"]: a["spec"] for a in conn["authSpec"]}
    assert set(served_auth) == {a.name for a in entry.auth_specs}
    assert (not entry.takes_account) == (not served_auth)
    for auth in entry.auth_specs:
        spec = served_auth[auth.name]
        assert tuple(spec.get("required") or ()) == auth.required
        secrets = {k for k, v in spec["properties"].items() if v.get("format") == "password"}
        assert secrets == set(auth.secrets)
        assert {p.name for p in auth.params} == set(spec["properties"])
        for p in auth.params:
            assert tuple(spec["properties"][p.name].get("enum") or ()) == p.enum, p.name
    source = conn["sourceSpec"]["spec"]
    assert {p.name for p in entry.params} == set(source.get("properties") or {})
    assert tuple(source.get("required") or ()) == tuple(p.name for p in entry.params if p.required)
    for p in entry.params:
        assert tuple(source["properties"][p.name].get("enum") or ()) == p.enum, p.name
    assert tuple(g["required"][0] for g in source.get("anyOf") or ()) == entry.one_of
    assert tuple(conn["sourceSpec"]["attributes"].get("dataFormats") or ()) == entry.data_formats


def test_every_served_streaming_source_is_in_the_catalog(h):
    flows = _specs(h, "flowSpecs")
    served = {i for f in sources.FLOW_SPEC_NAMES for i in flows[f]["sourceConnectionSpecIds"]}
    assert served == {s.connection_spec_id for s in sources.CATALOG}


def test_models_constants_come_from_the_catalog():
    assert SOURCE_SPECS[PENDO_SPEC] == "Pendo (webhook)" and SOURCE_SPECS[HTTP_STREAMING_SPEC] == "HTTP API streaming"
    assert set(SOURCE_SPECS) == STREAMING_SOURCE_SPECS == {s.connection_spec_id for s in sources.CATALOG}
    assert set(FLOW_SPECS) == set(sources.FLOW_SPEC_NAMES)


# -- the docs table ---------------------------------------------------------------------------------


def test_docs_catalog_table_is_the_code_table():
    text = DOC.read_text()
    assert BEGIN in text and END in text, f"{DOC} needs the {BEGIN} ... {END} markers"
    table = "\n" + sources.markdown_table()
    block = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if os.environ.get("AEP_UPDATE_DOCS") == "1":
        DOC.write_text(block.sub(lambda _: BEGIN + table + END, text))
        text = DOC.read_text()
    assert block.search(text).group(0) == BEGIN + table + END, (
        "docs/pipelines.md's source catalog table differs from providers/sources.py: "
        "rerun with AEP_UPDATE_DOCS=1 to rewrite it")


# -- check-time rules ---------------------------------------------------------------------------------


def _failures(provider, news) -> dict[str, str]:
    r = provider.check({}, {"sandbox": "dev", **news})
    out: dict[str, str] = {}
    for f in r.failures:  # one input may break several rules: keep every reason
        out[f.property] = f"{out[f.property]}; {f.reason}" if f.property in out else f.reason
    return out


def test_source_params_are_checked_with_suggestions():
    got = _failures(SourceConnectionProvider(), {"source_kind": "kinesis", "base_connection_id": "b",
                                                 "params": {"strem": "s", "dataType": "csv", "reset": "latest"}})
    assert "'strem' is not a param of Amazon Kinesis (did you mean 'stream'?)" in got["params"]
    ok = {"source_kind": "kinesis", "base_connection_id": "b", "params": KINESIS_PARAMS}
    assert not _failures(SourceConnectionProvider(), ok)
    bad_enum = {**ok, "params": {**KINESIS_PARAMS, "reset": "latests"}}
    assert "use one of latest, earliest (did you mean 'latest'?)" in _failures(SourceConnectionProvider(),
                                                                               bad_enum)["params"]
    pubsub = {"source_kind": "pubsub", "base_connection_id": "b", "params": {"dataType": "raw"}}
    assert "needs topicName or subscriptionName" in _failures(SourceConnectionProvider(), pubsub)["params"]


@pytest.mark.parametrize("kind", ["kinesis", "eventhubs", "pubsub", "http-authenticated"])
def test_a_kind_that_needs_an_account_refuses_a_source_without_one(kind):
    got = _failures(SourceConnectionProvider(), {"source_kind": kind})
    assert "reads through an account" in got["base_connection_id"]


@pytest.mark.parametrize("kind", ["pendo", "chatlio", "customerio"])
def test_a_webhook_refuses_an_account(kind):
    got = _failures(SourceConnectionProvider(), {"source_kind": kind, "base_connection_id": "b"})
    assert "FLOW-1332-400" in got["base_connection_id"]
    assert "data_format" in _failures(SourceConnectionProvider(), {"source_kind": kind, "data_format": "csv"})
    assert "no base connection" in _failures(BaseConnectionProvider(), {"source_kind": kind, "auth_spec_name": "x"})[
        "connection_spec_id"]


def test_unknown_kind_and_mismatched_spec_are_named():
    got = _failures(SourceConnectionProvider(), {"source_kind": "kinesys"})
    assert "(did you mean 'kinesis'?)" in got["source_kind"]
    got = _failures(SourceConnectionProvider(), {"source_kind": "pendo", "connection_spec_id": HTTP_STREAMING_SPEC})
    assert "drop connection_spec_id or source_kind" in got["connection_spec_id"]


def test_base_connection_auth_spec_and_required_params_never_echo_secrets():
    got = _failures(BaseConnectionProvider(), {"source_kind": "kinesis",
                                               "auth_params": {"accessKeyId": "a", "secretKey": "CANARY-x"}})
    assert "needs region" in got["auth_params"] and "CANARY" not in str(got)
    got = _failures(BaseConnectionProvider(), {"source_kind": "pubsub", "auth_spec_name": "Project Authentication",
                                               "auth_params": {"credentials": "CANARY-y"}})
    assert "(did you mean 'Project Based Authentication'?)" in got["auth_spec_name"] and "CANARY" not in str(got)
    checked = BaseConnectionProvider().check({}, {"sandbox": "dev", "source_kind": "kinesis",
                                                  "auth_params": KINESIS_AUTH})
    assert not checked.failures and checked.inputs["auth_spec_name"] == "Aws Kinesis authentication credentials"


def test_dataflow_picks_the_flow_spec_of_the_kind():
    base = {"sandbox": "dev", "source_connection_id": UUID1, "target_connection_id": UUID2}
    p = DataflowProvider()
    assert p.check({}, {**base, "source_kind": "kinesis"}).inputs["flow_spec_id"] == sources.OPTIONAL_TRANSFORM_FLOW_SPEC
    assert p.check({}, {**base, "source_kind": "chatlio"}).inputs["flow_spec_id"] == sources.GENERIC_STREAMING_FLOW_SPEC
    assert p.check({}, base).inputs["flow_spec_id"] == sources.GENERIC_STREAMING_FLOW_SPEC
    wrong = _failures(p, {**base, "source_kind": "kinesis", "flow_spec_id": sources.GENERIC_STREAMING_FLOW_SPEC})
    assert "does not take Amazon Kinesis sources" in wrong["flow_spec_id"]
    assert "defines no options" in _failures(p, {**base, "source_kind": "kinesis",
                                                "error_diagnostics_enabled": True})["error_diagnostics_enabled"]


# -- lifecycles of the authenticated sources, against the emulator ------------------------------------


class TestKinesisAccount(Lifecycle):
    """A Kinesis account: a rotated secret key is an in-place PATCH, and no read shows it."""

    provider = BaseConnectionProvider
    create_calls = {route("POST", FS, "/connections"): 1}
    read_calls = {route("GET", FS, "/connections/{conn_id}"): 1}
    update_calls = {route("PATCH", FS, "/connections/{conn_id}"): 1}
    delete_calls = {route("DELETE", FS, "/connections/{conn_id}"): 1}

    def inputs(self, h):
        return {"source_kind": "kinesis", "auth_params": dict(KINESIS_AUTH)}

    def change(self, h, inputs):
        return {**inputs, "auth_params": {**KINESIS_AUTH, "secretKey": "CANARY-kinesis-secret-2"}}

    def oob_change(self, h, id_, outs):
        h.fs_patch("connections", id_, [{"op": "replace", "path": "/name", "value": "edited"}])

    def oob_delete(self, h, id_, outs):
        h.delete(f"{FS}/connections/{id_}")


def test_rotated_secret_diff_is_an_update_that_names_no_value(h):
    p = h.provider(BaseConnectionProvider)
    news = h.check(p, {"source_kind": "kinesis", "auth_params": dict(KINESIS_AUTH)})
    created = p.create(news)
    rotated = h.check(p, {**news, "auth_params": {**KINESIS_AUTH, "secretKey": "CANARY-rotated"}}, olds=news)
    diff = p.diff(created.id, created.outs, rotated)
    assert diff.changes is True and diff.replaces == [] and "CANARY" not in repr(vars(diff))
    r = h.raw.get(h.url(f"{FS}/connections/{created.id}"), timeout=10)
    assert "CANARY" not in r.text and r.json()["items"][0]["auth"]["params"]["secretKey"] == "********"
    p.delete(created.id, created.outs)


@pytest.mark.parametrize("kind, auth, params", [
    ("kinesis", KINESIS_AUTH, KINESIS_PARAMS),
    ("eventhubs", {"sasKeyName": "k", "sasKey": "CANARY-sas", "namespace": "ns"},
     {"eventHubName": "hub", "dataType": "xdm"}),
    ("pubsub", {"projectId": "p", "credentials": "CANARY-key"},
     {"subscriptionName": "projects/p/subscriptions/s", "dataType": "raw"}),
])
def test_authenticated_source_and_flow_deploy_on_the_catalogs_specs(h, kind, auth, params):
    # Pub/Sub has two auth specs, so it names one; the others' only auth spec is filled in.
    named = {"auth_spec_name": "Project Based Authentication"} if kind == "pubsub" else {}
    base_id, base_outs = h.create(BaseConnectionProvider, source_kind=kind, auth_params=auth, **named)
    sp = h.provider(SourceConnectionProvider)
    src = sp.create(h.check(sp, {"source_kind": kind, "base_connection_id": base_id, "params": params}))
    read = sp.read(src.id, src.outs)
    assert read.outs["params"] == params and read.outs["base_connection_id"] == base_id
    assert sp.diff(src.id, read.outs, h.check(sp, read.inputs)).changes is False
    fp = h.provider(DataflowProvider)
    flow = fp.create(h.check(fp, {"source_kind": kind, "source_connection_id": src.id,
                                  "target_connection_id": h.target()[0]}))
    assert flow.outs["flow_spec_id"] == sources.OPTIONAL_TRANSFORM_FLOW_SPEC
    fp.delete(flow.id, flow.outs)
    sp.delete(src.id, src.outs)
    h.provider(BaseConnectionProvider).delete(base_id, base_outs)
