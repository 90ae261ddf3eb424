"""IdentityNamespace and IdentityDescriptor against a real emulator: the calls each step makes,
create-or-adopt after a 409 or on an already described field, AEP's no-delete of namespaces,
and the errors that name the object, the status, AEP's code and the next step."""

from __future__ import annotations

import logging
import socket
import uuid

import pytest

from emulator import config as dev
from providers import IdentityDescriptorProvider, IdentityNamespaceProvider
from providers.base import ProviderError

from .support import SR, TENANT, Harness, route

ID = "/data/core/idnamespace"
NS_LIST = route("GET", ID, "/identities")
NS_POST = route("POST", ID, "/identities")
NS_GET = route("GET", ID, "/identities/{namespace_id}")
NS_PUT = route("PUT", ID, "/identities/{namespace_id}")
D_LIST = route("GET", SR, "/{container}/descriptors")
D_POST = route("POST", SR, "/tenant/descriptors")
D_GET = route("GET", SR, "/{container}/descriptors/{descriptor_id}")
D_PUT = route("PUT", SR, "/tenant/descriptors/{descriptor_id}")
D_DELETE = route("DELETE", SR, "/tenant/descriptors/{descriptor_id}")
VISITOR = f"/_{TENANT}/visitorId"
ACCOUNT = f"/_{TENANT}/accountId"


def code() -> str:
    return "NS" + uuid.uuid4().hex[:10].upper()


def namespace(h: Harness, **inputs):
    p = h.provider(IdentityNamespaceProvider)
    return p, h.check(p, {"id_type": "Cross_device", **inputs})


def test_namespace_lifecycle_update_in_place_and_delete_leaves_it(h, caplog):
    c = code()
    p, news = namespace(h, code=c.lower(), id_type="CROSS_DEVICE")
    assert news["name"] == c.lower() and news["id_type"] == "Cross_device"
    h.reset()
    created = p.create(news)
    assert h.calls() == {NS_POST: 1}
    assert created.outs["namespace_id"] == created.id and created.outs["code"] == c.lower()

    h.reset()
    read = p.read(created.id, created.outs)
    assert h.calls() == {NS_GET: 1}
    assert p.diff(created.id, read.outs, news).changes is False
    assert h.check(p, read.inputs, olds=news) == read.inputs
    # Another letter case of the code is the same namespace for AEP.
    assert p.diff(created.id, read.outs, h.check(p, {**news, "code": c.upper()})).changes is False

    renamed = h.check(p, {**news, "name": "Pendo visitor", "description": "visitors"}, olds=news)
    diff = p.diff(created.id, read.outs, renamed)
    assert diff.changes is True and diff.replaces == []
    h.reset()
    p.update(created.id, read.outs, renamed)
    assert h.calls() == {NS_PUT: 1}
    live = p.read(created.id, read.outs)
    assert (live.outs["name"], live.outs["description"]) == ("Pendo visitor", "visitors")

    assert p.diff(created.id, live.outs, h.check(p, {**renamed, "code": c + "X"})).replaces == ["code"]
    with pytest.raises(ProviderError, match=r"one-way door.*cannot change its id_type.*new code"):
        p.diff(created.id, live.outs, p.check(news, {**renamed, "id_type": "Email"}).inputs)  # checked in this run

    h.reset()
    with caplog.at_level(logging.WARNING, logger="providers"):
        p.delete(created.id, live.outs)
    assert h.calls() == {}
    assert "stays in sandbox" in caplog.text and c.lower() in caplog.text
    assert p.read(created.id, live.outs).id == created.id


def test_namespace_409_adopts_the_same_namespace_and_refuses_another(h):
    c = code()
    p, news = namespace(h, code=c, name=f"Visitors {c}")
    first = p.create(news)
    h.reset()
    again = p.create(h.check(p, {**news, "code": c.lower(), "description": "new text"}))
    assert again.id == first.id and again.outs["code"] == c  # AEP's spelling
    assert h.calls() == {NS_POST: 1, NS_LIST: 1, NS_PUT: 1}  # the description is brought to the declared one
    assert p.read(first.id, again.outs).outs["description"] == "new text"

    with pytest.raises(ProviderError) as err:
        p.create(h.check(p, {**news, "id_type": "Email"}))
    text = str(err.value)
    assert f"IdentityNamespace {c!r}" in text and "HTTP 409 INTEGRATION_CODE_EXISTS" in text
    assert f"id {first.id}" in text and f"adopt_id={first.id!r}" in text

    with pytest.raises(ProviderError, match=rf"HTTP 409 INTEGRATION_NAME_EXISTS.*namespace {c!r}.*another name"):
        p.create(h.check(p, {**news, "code": code()}))

    other = h.check(p, {**news, "code": code(), "name": None})
    made = p.create(other)
    with pytest.raises(ProviderError, match=r"update failed: HTTP 409 INTEGRATION_NAME_EXISTS.*choose another name"):
        p.update(made.id, made.outs, h.check(p, {**other, "name": f"Visitors {c}"}))


def test_namespace_adopt_id_brings_the_name_to_the_declared_one(h):
    c = code()
    p, news = namespace(h, code=c)
    first = p.create(news)
    h.reset()
    adopted = p.create(h.check(p, {**news, "name": "Adopted", "adopt_id": first.id}))
    assert adopted.id == first.id and h.calls() == {NS_GET: 1, NS_PUT: 1}
    with pytest.raises(ProviderError, match=r"cannot be adopted.*id_type: declared 'Email', AEP has 'Cross_device'"):
        p.create(h.check(p, {**news, "id_type": "Email", "adopt_id": first.id}))


def schema_and_namespace(h: Harness) -> tuple[str, str]:
    c = code()
    p, news = namespace(h, code=c)
    p.create(news)
    return h.schema()[0], c


def descriptor(h: Harness, schema_id: str, ns: str, **inputs):
    p = h.provider(IdentityDescriptorProvider)
    return p, h.check(p, {"schema_id": schema_id, "source_property": VISITOR, "namespace": ns, **inputs})


def test_descriptor_lifecycle(h):
    schema_id, c = schema_and_namespace(h)
    p, news = descriptor(h, schema_id, c, primary=True)
    h.reset()
    created = p.create(news)
    assert h.calls() == {D_LIST: 1, D_POST: 1}  # the list: is the field described already?
    assert created.outs["descriptor_id"] == created.id

    h.reset()
    read = p.read(created.id, created.outs)
    assert h.calls() == {D_GET: 1}
    assert p.diff(created.id, read.outs, news).changes is False
    assert h.check(p, read.inputs, olds=news) == read.inputs

    changed = h.check(p, {**news, "namespace": "ECID", "primary": False}, olds=news)
    diff = p.diff(created.id, read.outs, changed)
    assert diff.changes is True and diff.replaces == []
    h.reset()
    p.update(created.id, read.outs, changed)
    assert h.calls() == {D_PUT: 1}
    live = p.read(created.id, read.outs)
    assert (live.outs["namespace"], live.outs["primary"]) == ("ECID", False)
    assert p.diff(created.id, live.outs, h.check(p, {**changed, "namespace": "ecid"})).changes is False

    h.reset()
    p.delete(created.id, live.outs)
    assert h.calls() == {D_DELETE: 1}
    assert p.read(created.id, live.outs).id is None
    p.delete(created.id, live.outs)  # 404: already gone


def test_a_primary_identity_moving_field_is_deleted_first(h):
    schema_id, c = schema_and_namespace(h)
    p, news = descriptor(h, schema_id, c, primary=True)
    moved = h.check(p, {**news, "source_property": ACCOUNT})
    diff = p.diff("x", news, moved)
    assert diff.replaces == ["source_property"] and diff.delete_before_replace is True
    assert p.diff("x", news, {**moved, "primary": False}).delete_before_replace is None
    other_schema = h.check(p, {**moved, "schema_id": schema_id + "0"})
    assert p.diff("x", news, other_schema).delete_before_replace is None


def test_descriptor_on_a_described_field_is_adopted_or_refused(h):
    schema_id, c = schema_and_namespace(h)
    p, news = descriptor(h, schema_id, c, primary=True)
    first = p.create(news)
    h.reset()
    again = p.create(h.check(p, {**news, "namespace": c.lower()}))
    assert again.id == first.id and h.calls() == {D_LIST: 1}
    with pytest.raises(ProviderError) as err:
        p.create(h.check(p, {**news, "namespace": "ECID"}))
    text = str(err.value)
    assert f"IdentityDescriptor {VISITOR!r}" in text and first.id in text and f"adopt_id={first.id!r}" in text
    assert "namespace: declared 'ECID'" in text


def test_descriptor_errors_name_status_code_and_next_step(h):
    schema_id, c = schema_and_namespace(h)
    p, news = descriptor(h, schema_id, c, primary=True)
    p.create(news)
    second = h.check(p, {**news, "source_property": ACCOUNT})
    with pytest.raises(ProviderError) as err:
        p.create(second)
    text = str(err.value)
    assert f"IdentityDescriptor {ACCOUNT!r}: create failed: HTTP 400 XDM-1033-400" in text
    assert "Next:" in text and "Traceback" not in text
    with pytest.raises(ProviderError, match=r"HTTP 400 XDM-1032-400.*POST /data/core/idnamespace/identities"):
        p.create(h.check(p, {**news, "source_property": ACCOUNT, "namespace": "NOSUCHNS", "primary": False}))


def test_identity_service_calls_go_to_their_own_host(emulator, sandbox):
    """Identity Service's host is a setting: namespaces follow it, the other services and IMS do not."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once the socket is closed
    elsewhere = Harness(emulator, sandbox, identityEndpoint=closed, retryBudget="0.3")
    p, news = namespace(elsewhere, code=code())
    elsewhere.reset()
    with pytest.raises(ProviderError, match=rf"IdentityNamespace '{news['code']}': create failed: no response"
                       r".*POST /data/core/idnamespace/identities"):
        p.create(news)
    assert elsewhere.calls() == {}
    assert elsewhere.create(IdentityDescriptorProvider, schema_id=elsewhere.schema()[0], source_property=VISITOR,
                            namespace="ECID")[0]  # Schema Registry still at the endpoint
    here = Harness(emulator, sandbox, identityEndpoint=emulator.base_url + "/")
    p, news = namespace(here, code=code())
    here.reset()
    assert p.create(news).id and here.calls() == {NS_POST: 1}


@pytest.fixture(scope="module")
def faulty(make_module_emulator):
    return make_module_emulator(name="identity-faults")


@pytest.mark.parametrize("kind", ["namespace", "descriptor"])
def test_a_create_whose_response_is_lost_leaves_one_object(faulty, sandbox, kind):
    """The POST commits and the connection drops: the object is found again (by code; by schema
    and field) and adopted, with no second POST."""
    f = Harness(faulty, sandbox)
    schema_id, c = schema_and_namespace(f)
    if kind == "namespace":
        p, news = namespace(f, code=code())
        post, lookup, stored_kind = NS_POST, NS_LIST, "identityNamespace"
    else:
        p, news = descriptor(f, schema_id, c, primary=True)
        post, lookup, stored_kind = D_POST, D_LIST, "descriptor"
    before = faulty.admin("GET", f"objects/{stored_kind}?org={dev.DEV_ORG_ID}&sandbox={sandbox}")
    faulty.set_faults({"script": [{"route": post, "responses": ["commit_then_drop"]}]})
    try:
        f.reset()
        created = p.create(news)
    finally:
        faulty.clear_faults()
    calls = f.calls()
    assert calls[post] == 1 and calls[lookup] == (1 if kind == "namespace" else 2)  # descriptors list before, too
    after = faulty.admin("GET", f"objects/{stored_kind}?org={dev.DEV_ORG_ID}&sandbox={sandbox}")
    assert len(after) == len(before) + 1
    assert created.id in {str(d.get("id") or d.get("@id")) for d in after}
    assert p.diff(created.id, p.read(created.id, created.outs).outs, news).changes is False
