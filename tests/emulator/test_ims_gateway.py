"""Contract §10 items 1-2: the Adobe I/O gateway header gate and the IMS v3 token endpoint."""

from __future__ import annotations

import time

import pytest
import requests

from emulator.config import DEV_CLIENT_ID, DEV_ORG_ID, DEV_SCOPES
from emulator.process import EmulatorProcess
from tests.support.credentials import DEV_CLIENT_SECRET

from .fs_helpers import FS, FlowApi, assert_flow_error, org2

SPECS = FS + "/connectionSpecs"


def _headers(emulator, sandbox: str, **drop_or_set) -> dict[str, str]:
    h = {"Authorization": f"Bearer {emulator.token(client_secret=DEV_CLIENT_SECRET)}", "x-api-key": DEV_CLIENT_ID,
         "x-gw-ims-org-id": DEV_ORG_ID, "x-sandbox-name": sandbox}
    for k, v in drop_or_set.items():
        k = k.replace("_", "-")
        if v is None:
            h.pop(k, None)
        else:
            h[k] = v
    return h


def _gateway_error(r: requests.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error_code"] == code
    assert "message" in r.json()


@pytest.fixture(scope="module")
def two_orgs(tmp_path_factory):
    cid, secret, org = org2()
    emu = EmulatorProcess(data_dir=str(tmp_path_factory.mktemp("two-orgs")),
                          extra_args=["--client", f"{cid}:{secret}:{org}"])
    emu.start()
    yield emu
    emu.stop()


def _org2_session(emu: EmulatorProcess, sandbox: str) -> requests.Session:
    cid, secret, org = org2()
    s = requests.Session()
    s.headers.update({"Authorization": f"Bearer {emu.token(cid, secret)}", "x-api-key": cid,
                      "x-gw-ims-org-id": org, "x-sandbox-name": sandbox})
    return s


# -- gateway (item 1) -------------------------------------------------------------------

def test_missing_authorization_is_403_403010(emulator, sandbox):
    r = requests.get(emulator.base_url + SPECS, headers=_headers(emulator, sandbox, Authorization=None))
    _gateway_error(r, 403, "403010")


def test_unknown_token_is_401_401013(emulator, sandbox):
    r = requests.get(emulator.base_url + SPECS, headers=_headers(emulator, sandbox, Authorization="Bearer nope"))
    _gateway_error(r, 401, "401013")


def test_missing_api_key_is_403_403000(emulator, sandbox):
    r = requests.get(emulator.base_url + SPECS, headers=_headers(emulator, sandbox, x_api_key=None))
    _gateway_error(r, 403, "403000")


def test_api_key_of_another_client_is_403_403003(emulator, sandbox):
    r = requests.get(emulator.base_url + SPECS, headers=_headers(emulator, sandbox, x_api_key="someone-else"))
    _gateway_error(r, 403, "403003")


def test_missing_org_header_is_400_400003(emulator, sandbox):
    r = requests.get(emulator.base_url + SPECS, headers=_headers(emulator, sandbox, x_gw_ims_org_id=None))
    _gateway_error(r, 400, "400003")


def test_token_not_entitled_to_org_is_403_403025(emulator, sandbox):
    r = requests.get(emulator.base_url + SPECS,
                     headers=_headers(emulator, sandbox, x_gw_ims_org_id="SOMEOTHERORG@AdobeOrg"))
    _gateway_error(r, 403, "403025")


def test_missing_sandbox_is_flow_2105_400(emulator, sandbox):
    r = requests.get(emulator.base_url + SPECS, headers=_headers(emulator, sandbox, x_sandbox_name=None))
    body = assert_flow_error(r, 400, 2105)
    assert body["errorMessage"] and body["report"]["detailed-message"]


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_body_without_json_content_type_is_400(emulator, sandbox, ctype):
    h = _headers(emulator, sandbox, content_type=ctype)
    r = requests.post(emulator.base_url + FS + "/sourceConnections", data=b'{"name": "x"}', headers=h)
    assert r.status_code == 400, r.text
    assert r.json() == {"type": "/placeholder/type/uri", "status": 400, "title": "BadRequestError",
                        "detail": "A valid content-type must be specified"}


def test_objects_are_scoped_to_sandbox(emulator, sandbox):
    a = FlowApi(emulator, sandbox)
    b = FlowApi(emulator, sandbox + "-other")
    sid = a.source()
    assert a.get(f"/sourceConnections/{sid}").status_code == 200
    assert_flow_error(b.get(f"/sourceConnections/{sid}"), 404, 1439)
    assert sid not in [i["id"] for i in b.get("/sourceConnections").json()["items"]]


def test_sandbox_header_is_case_insensitive_value(emulator, sandbox):
    a = FlowApi(emulator, sandbox)
    sid = a.source()
    upper = emulator.session(sandbox.upper())
    assert upper.get(a.url(f"/sourceConnections/{sid}")).status_code == 200


def test_objects_are_scoped_to_org(two_orgs, sandbox):
    mine = FlowApi(two_orgs, sandbox)
    theirs = FlowApi(two_orgs, sandbox, _org2_session(two_orgs, sandbox))
    sid = mine.source()
    assert_flow_error(theirs.get(f"/sourceConnections/{sid}"), 404, 1439)
    other = theirs.source()
    assert theirs.one(f"/sourceConnections/{other}")["imsOrgId"] == org2()[2]
    assert mine.one(f"/sourceConnections/{sid}")["imsOrgId"] == DEV_ORG_ID


# -- IMS (item 2) -------------------------------------------------------------------------

def _token(emu, data=None, params=None):
    return requests.post(emu.base_url + "/ims/token/v3", data=data, params=params, timeout=10)


GOOD = {"grant_type": "client_credentials", "client_id": DEV_CLIENT_ID, "client_secret": DEV_CLIENT_SECRET,
        "scope": DEV_SCOPES}


def test_token_form_post_returns_bearer_token(emulator):
    r = _token(emulator, data=GOOD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399  # seconds, as IMS v3 reports it
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2


def test_token_params_accepted_as_query_string(emulator):
    r = _token(emulator, params=GOOD)
    assert r.status_code == 200, r.text
    s = requests.get(emulator.base_url + SPECS, headers={
        "Authorization": f"Bearer {r.json()['access_token']}", "x-api-key": DEV_CLIENT_ID,
        "x-gw-ims-org-id": DEV_ORG_ID, "x-sandbox-name": "prod"})
    assert s.status_code == 200


def test_token_bad_secret_is_401_invalid_client(emulator):
    r = _token(emulator, data={**GOOD, "client_secret": "wrong"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client" and r.json()["error_description"]


def test_token_unknown_client_is_401_invalid_client(emulator):
    r = _token(emulator, data={**GOOD, "client_id": "nobody"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


@pytest.mark.parametrize("field", ["grant_type", "client_id", "client_secret", "scope"])
def test_token_missing_field_is_400_invalid_request(emulator, field):
    r = _token(emulator, data={k: v for k, v in GOOD.items() if k != field})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert field in r.json()["error_description"]


def test_token_other_grant_type_is_400(emulator):
    r = _token(emulator, data={**GOOD, "grant_type": "authorization_code"})
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"


def test_extra_client_gets_token_for_its_org(two_orgs, sandbox):
    cid, secret, org = org2()
    s = _org2_session(two_orgs, sandbox)
    assert s.get(two_orgs.base_url + SPECS).status_code == 200
    s.headers["x-gw-ims-org-id"] = DEV_ORG_ID  # its token is not entitled to the dev org
    _gateway_error(s.get(two_orgs.base_url + SPECS), 403, "403025")


def test_tokens_expire(tmp_path):
    emu = EmulatorProcess(data_dir=str(tmp_path / "ttl"), extra_args=["--token-ttl", "1"])
    emu.start()
    try:
        r = _token(emu, data=GOOD)
        assert r.json()["expires_in"] == 1
        s = emu.session("prod")
        assert s.get(emu.base_url + SPECS).status_code == 200
        time.sleep(1.2)
        _gateway_error(s.get(emu.base_url + SPECS), 401, "401013")
    finally:
        emu.stop()
