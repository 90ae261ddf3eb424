"""Schema Registry identity descriptors over HTTP: their Accept types, their checks, one primary per schema."""

from __future__ import annotations

from .data_helpers import NS, SR, DataApi, quote
from .identity_helpers import DESCRIPTORS, descriptor, descriptor_body, namespace


def _code(r) -> str:
    return r.json()["type"].rsplit("/", 1)[1]


def test_create_lookup_update_delete(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    schema = api.schema()
    namespace(api)
    d = descriptor(api, schema)
    assert len(d["@id"]) == 40 and d["meta:containerId"] == "tenant" and d["xdm:isPrimary"] is True
    assert d["xdm:sourceSchema"] == schema["$id"] and d["xdm:sourceProperty"] == f"/{NS}/visitorid"
    # No Accept needed for a lookup (descriptors are not versioned).
    r = api.get(f"{DESCRIPTORS}/{d['@id']}", headers={"Accept": ""})
    assert r.status_code == 200 and r.json() == d
    r = api.get(f"{DESCRIPTORS}/{d['@id']}", headers={"Accept": "application/vnd.adobe.xed+json;version=1"})
    assert r.status_code == 400 and _code(r) == "XDM-1009-400"
    r = api.put(f"{DESCRIPTORS}/{d['@id']}", descriptor_body(schema, ns="Email", primary=False))
    assert r.status_code == 201 and r.json() == {"@id": d["@id"]}
    again = api.get(f"{DESCRIPTORS}/{d['@id']}").json()
    assert again["xdm:namespace"] == "Email" and again["xdm:isPrimary"] is False and again["created"] == d["created"]
    assert api.delete(f"{DESCRIPTORS}/{d['@id']}").status_code == 204
    assert api.get(f"{DESCRIPTORS}/{d['@id']}").status_code == 404
    assert DataApi(emulator, sandbox + "-x").get(f"{DESCRIPTORS}/{d['@id']}").status_code == 404


def test_list_honours_each_accept_type(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    schema = api.schema()
    namespace(api)
    d1 = descriptor(api, schema)
    d2 = descriptor(api, schema, prop=f"/{NS}/accountid", ns="Email", primary=False)
    ids = [d1["@id"], d2["@id"]]

    def listing(accept, **params):
        r = api.get(DESCRIPTORS, headers={"Accept": accept}, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    assert listing("application/vnd.adobe.xdm-id+json") == {"xdm:descriptorIdentity": ids}
    assert listing("application/vnd.adobe.xdm-link+json") == {
        "xdm:descriptorIdentity": [f"/tenant/descriptors/{i}" for i in ids]}
    full = listing("application/vnd.adobe.xdm+json")["xdm:descriptorIdentity"]
    assert [x["@id"] for x in full] == ids and full[0]["xdm:namespace"] == "PENDOVISITOR"
    page = listing("application/vnd.adobe.xdm-v2-id+json", orderby="@id", limit=1)
    assert page["results"] == [min(ids)] and page["_page"]["count"] == 1 and page["_page"]["next"]
    assert listing("application/vnd.adobe.xdm-v2+json")["results"][1]["@id"] == d2["@id"]
    only = listing("application/vnd.adobe.xdm-id+json", property=f"xdm:sourceProperty==/{NS}/accountid")
    assert only == {"xdm:descriptorIdentity": [d2["@id"]]}
    assert listing("application/vnd.adobe.xdm-id+json", property="xdm:sourceSchema==nope") == {}
    assert DataApi(emulator, sandbox + "-y").get(DESCRIPTORS, headers={"Accept": "application/vnd.adobe.xdm+json"}
                                                 ).json() == {}
    for bad in ("application/vnd.adobe.xed-id+json", "application/vnd.adobe.xdm+json; version=1", "", "*/*"):
        r = api.get(DESCRIPTORS, headers={"Accept": bad})
        assert r.status_code == 400 and _code(r) == "XDM-1008-400", (bad, r.text)


def test_a_schema_has_at_most_one_primary_identity(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    schema = api.schema()
    namespace(api)
    first = descriptor(api, schema)
    r = api.post(DESCRIPTORS, descriptor_body(schema, prop=f"/{NS}/accountid", ns="Email"))
    assert r.status_code == 400 and _code(r) == "XDM-1033-400"
    assert first["@id"] in r.json()["detail"] and "only one primary identity" in r.json()["detail"]
    # Rewriting the primary itself is fine; a secondary identity is fine.
    assert api.put(f"{DESCRIPTORS}/{first['@id']}", descriptor_body(schema)).status_code == 201
    descriptor(api, schema, prop=f"/{NS}/accountid", ns="Email", primary=False)


def test_bad_descriptors_are_400s_naming_the_rule(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    schema = api.schema()
    namespace(api)
    cases = [
        ({"xdm:sourceSchema": "https://ns.adobe.com/extconndev/schemas/0000"}, "XDM-1011-400", "does not exist"),
        ({"xdm:sourceProperty": f"{NS}/visitorid"}, "XDM-1031-400", "begins with '/'"),
        ({"xdm:sourceProperty": f"/{NS}/visitorid/"}, "XDM-1031-400", "begins with '/'"),
        ({"xdm:sourceProperty": f"/properties/{NS}/properties/visitorid"}, "XDM-1031-400", "fields only"),
        ({"xdm:sourceProperty": f"/{NS}/nosuchfield"}, "XDM-1031-400", "is not a field"),
        ({"xdm:sourceProperty": f"/{NS}"}, "XDM-1031-400", "must be a string"),
        ({"xdm:namespace": "NOSUCHNS"}, "XDM-1032-400", "is not an identity namespace"),
        ({"xdm:namespace": "4", "xdm:property": "xdm:name"}, "XDM-1030-400", "'xdm:property'"),
        ({"xdm:sourceVersion": 2}, "XDM-1030-400", "major version"),
        ({"xdm:isPrimary": "yes"}, "XDM-1030-400", "'xdm:isPrimary'"),
        ({"@type": "xdm:alternateDisplayInfo"}, "XDM-1030-400", "is not emulated"),
    ]
    for change, code, words in cases:
        r = api.post(DESCRIPTORS, {**descriptor_body(schema), **change})
        assert r.status_code == 400 and _code(r) == code and words in r.json()["detail"], (change, r.text)
    # By numeric id, and by code in another letter case: both name a namespace the sandbox sees.
    descriptor(api, schema, prop=f"/{NS}/accountid", ns="6", primary=False, **{"xdm:property": "xdm:id"})
    descriptor(api, schema, prop=f"/{NS}/eventname", ns="pendovisitor", primary=False)


def test_deleting_a_schema_deletes_its_descriptors(emulator, sandbox):
    api = DataApi(emulator, sandbox)
    schema = api.schema()
    namespace(api)
    d = descriptor(api, schema)
    assert api.delete(f"{SR}/tenant/schemas/{quote(schema['$id'])}").status_code == 204
    assert api.get(f"{DESCRIPTORS}/{d['@id']}").status_code == 404
