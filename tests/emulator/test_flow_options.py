"""A flow's `options`: what GenericStreamingAEP's optionSpec declares is stored and returned
beside `inletUrl`; anything else is refused at create, and PATCH cannot change them."""

from __future__ import annotations

import pytest

from .fs_helpers import FlowApi, assert_flow_error


@pytest.fixture
def fs(emulator, sandbox) -> FlowApi:
    return FlowApi(emulator, sandbox)


def test_declared_options_are_stored_and_returned_beside_the_inlet_url(fs):
    ids = fs.pendo_flow(options={"errorDiagnosticsEnabled": True, "partialIngestionPercent": 5})
    options = fs.one(f"/flows/{ids['flow']}")["options"]
    assert options["errorDiagnosticsEnabled"] is True and options["partialIngestionPercent"] == 5
    assert options["inletUrl"].startswith(fs.emu.base_url + "/collection/")
    assert set(fs.one(f"/flows/{fs.pendo_flow()['flow']}")["options"]) == {"inletUrl"}  # none given, none shown


def test_a_client_cannot_set_the_inlet_url(fs):
    ids = fs.pendo_flow(options={"inletUrl": "https://elsewhere.example/collection/x"})
    assert fs.one(f"/flows/{ids['flow']}")["options"]["inletUrl"].startswith(fs.emu.base_url)


@pytest.mark.parametrize("options, says", [
    ({"partialIngestionPercent": 0}, "greater than 0"),
    ({"partialIngestionPercent": "5"}, "of type number"),
    ({"errorDiagnosticsEnabled": 1}, "of type boolean"),
    ({"partialIngestionPrecent": 5}, "not defined by flow spec GenericStreamingAEP"),
    ("on", "must be an object"),
])
def test_options_the_flow_spec_does_not_declare_are_refused(fs, options, says):
    src, tgt, mid = fs.source(), fs.target(), fs.put_mapping()
    body = assert_flow_error(fs.post("/flows", fs.flow_body(src, tgt, mid, options=options)), 400, 1400)
    assert says in body["errorMessage"]


def test_patch_cannot_change_a_flows_options(fs):
    ids = fs.pendo_flow(options={"errorDiagnosticsEnabled": True})
    flow = fs.one(f"/flows/{ids['flow']}")
    r = fs.patch(f"/flows/{ids['flow']}", [{"op": "replace", "path": "/options/errorDiagnosticsEnabled",
                                            "value": False}], flow["etag"])
    assert_flow_error(r, 400, 1365)
