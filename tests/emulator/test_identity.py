"""Identity Service namespaces over HTTP: standard ones seeded, custom ones created, updated, never deleted."""

from __future__ import annotations

from .data_helpers import DataApi
from .identity_helpers import IDN, namespace

PROBLEM = "http://ns.adobe.com/adobecloud/problem/namespacevalidation"


def test_list_holds_the_standard_namespaces_with_their_documented_ids(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    r = api.get(IDN)
    assert r.status_code == 200, r.text
    by_code = {n["code"]: n for n in r.json()}
    expected = {"CORE": 0, "ECID": 4, "Email": 6, "Phone": 7, "WAID": 8, "TNTID": 9, "AAID": 10, "AdCloud": 411,
                "GAID": 20914, "IDFA": 20915}
    assert {c: by_code[c]["id"] for c in expected} == expected
    assert all(n["custom"] is False and n["status"] == "ACTIVE" for n in by_code.values())
    assert by_code["ECID"]["idType"] == "COOKIE" and by_code["ECID"]["createTime"] == 1495153678000


def test_create_read_and_list_a_custom_namespace(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    ns = namespace(api, id_type="CROSS_DEVICE")
    assert ns["custom"] is True and ns["code"] == "PENDOVISITOR" and ns["idType"] == "Cross_device"
    assert ns["id"] >= 10_000_000 and ns["createTime"] == ns["updateTime"]
    assert api.get(f"{IDN}/{ns['id']}").json() == ns
    assert api.get(IDN).json()[-1] == ns
    # Another sandbox sees only the standard namespaces.
    other = DataApi(emulator, sandbox + "-b")
    assert all(not n["custom"] for n in other.get(IDN).json())
    assert other.get(f"{IDN}/{ns['id']}").status_code == 404


def test_duplicate_code_is_a_409_in_any_letter_case_and_against_standard_codes(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    namespace(api)
    for code in ("PENDOVISITOR", "pendovisitor", "ecid"):
        r = api.post(IDN, {"name": f"another {code}", "code": code, "idType": "Cookie"})
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["type"] == PROBLEM and body["status"] == 409 and body["title"] == "NAMESPACE_CODE_CONFLICT"
        assert body["report"]["code"] == "INTEGRATION_CODE_EXISTS"
    r = api.post(IDN, {"name": "PENDOVISITOR namespace", "code": "Other", "idType": "Cookie"})
    assert r.status_code == 409 and r.json()["title"] == "NAMESPACE_NAME_CONFLICT"


def test_bad_bodies_are_400s_naming_the_field(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    cases = [({"name": "x", "code": "X1"}, "'idType' is required"),
             ({"code": "X1", "idType": "Cookie"}, "'name' is required"),
             ({"name": "x", "code": "X1", "idType": "Person"}, "valid value of idType"),
             ({"name": "x", "code": "has space", "idType": "Cookie"}, "only letters and numbers"),
             ({"name": "x", "code": "a_b", "idType": "Cookie"}, "only letters and numbers"),
             ({"name": "x", "code": "X1", "idType": "Cookie", "description": 5}, "'description'")]
    for body, words in cases:
        r = api.post(IDN, body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["type"] == PROBLEM and words in r.json()["description"], r.text
        assert r.json()["report"]["code"] == "INVALID_REQUEST_PARAMS"


def test_update_changes_name_and_description_but_never_code_or_idtype(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    ns = namespace(api)
    r = api.put(f"{IDN}/{ns['id']}", {"name": "Pendo visitors", "code": "PENDOVISITOR", "idType": "cross_device",
                                      "description": "new"})
    assert r.status_code == 200, r.text
    [updated] = r.json()
    assert updated["name"] == "Pendo visitors" and updated["description"] == "new" and updated["id"] == ns["id"]
    assert api.get(f"{IDN}/{ns['id']}").json()["name"] == "Pendo visitors"
    for change in ({"code": "PENDOV2"}, {"idType": "Email"}):
        body = {"name": "n", "code": "PENDOVISITOR", "idType": "Cross_device", **change}
        r = api.put(f"{IDN}/{ns['id']}", body)
        assert r.status_code == 400 and r.json()["description"] == "code and idType are non editable fields"
    assert api.put(f"{IDN}/4", {"name": "n", "code": "ECID", "idType": "COOKIE"}).status_code == 400
    assert api.put(f"{IDN}/99999999", {"name": "n", "code": "X", "idType": "Cookie"}).status_code == 404


def test_namespaces_cannot_be_deleted(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    ns = namespace(api)
    r = api.delete(f"{IDN}/{ns['id']}")
    assert r.status_code == 405 and r.json()["type"] == PROBLEM and r.json()["status"] == 405
    assert api.get(f"{IDN}/{ns['id']}").status_code == 200


def test_unknown_or_malformed_ids_and_missing_sandbox(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    r = api.get(f"{IDN}/12345678")
    assert r.status_code == 404 and r.json()["report"]["code"] == "NAMESPACE_NOT_FOUND"
    assert api.get(f"{IDN}/abc").status_code == 400
    r = api.get(IDN, headers={"x-sandbox-name": ""})
    assert r.status_code == 400 and r.json()["type"] == PROBLEM
