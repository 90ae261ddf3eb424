"""The dataflow's options (GenericStreamingAEP's `errorDiagnosticsEnabled` and
`partialIngestionPercent`): sent on create, read back, compared, and create-only."""

from __future__ import annotations

import pytest

from providers import DataflowProvider
from providers.base import ProviderError

from .support import FS, route

FLOW_POST = route("POST", FS, "/flows")


def flow_inputs(h, **options) -> dict:
    return {"source_connection_id": h.source()[0], "target_connection_id": h.target()[0],
            "mapping_id": h.mapping()[0], "mapping_version": 0, **options}


def stored_flow(h, id_: str) -> dict:
    r = h.raw.get(h.url(f"{FS}/flows/{id_}"))
    assert r.status_code == 200, r.text
    return r.json()["items"][0]


def test_options_are_sent_read_back_and_compared_as_declared(h):
    p = h.provider(DataflowProvider)
    news = h.check(p, flow_inputs(h, error_diagnostics_enabled=True, partial_ingestion_percent=5.0))
    h.reset()
    c = p.create(news)
    assert h.calls() == {FLOW_POST: 1, route("GET", FS, "/flows/{flow_id}"): 1}  # no call for the options
    options = stored_flow(h, c.id)["options"]
    assert options["errorDiagnosticsEnabled"] is True and options["partialIngestionPercent"] == 5
    read = p.read(c.id, c.outs)
    assert read.inputs["error_diagnostics_enabled"] is True and read.inputs["partial_ingestion_percent"] == 5
    assert p.diff(c.id, read.outs, news).changes is False


def test_a_flow_without_options_sends_none_and_false_is_no_change(h):
    p = h.provider(DataflowProvider)
    news = h.check(p, flow_inputs(h))
    c = p.create(news)
    assert set(stored_flow(h, c.id)["options"]) == {"inletUrl"}
    read = p.read(c.id, c.outs)
    assert "error_diagnostics_enabled" not in read.outs and "partial_ingestion_percent" not in read.outs
    # Declaring AEP's default is no change; anything else replaces the flow (a one-way door).
    off = h.check(p, {**news, "error_diagnostics_enabled": False})
    assert p.diff(c.id, read.outs, off).changes is False
    for option, value in (("error_diagnostics_enabled", True), ("partial_ingestion_percent", 10)):
        allowed = h.check(p, {**news, option: value, "allow_replace": True})
        assert p.diff(c.id, read.outs, allowed).replaces == [option]
        checked = p.check(read.outs, {**news, option: value}).inputs  # with check's stamp: the guard applies
        with pytest.raises(ProviderError, match=f"refused \\(one-way door\\).*{option} would change"):
            p.diff(c.id, read.outs, checked)


@pytest.mark.parametrize("value, says", [(0, "greater than 0"), (101, "less than or equal to 100"),
                                         ("lots", "valid number")])
def test_the_percentage_is_checked_before_any_call(h, value, says):
    p = h.provider(DataflowProvider)
    result = p.check({}, {"sandbox": h.sandbox, **flow_inputs(h), "partial_ingestion_percent": value})
    assert [(f.property, says in f.reason) for f in result.failures] == [("partial_ingestion_percent", True)]
