"""The spec's identity and Profile rules: every problem named at its path, before any API call."""

from __future__ import annotations

import pytest

from pipelines import parts
from pipelines.spec import load

from .test_spec import KW, problems

VISITOR = {"type": "string", "identity": {"namespace": "PENDOVISITOR", "primary": True}}
NAMESPACE = {"code": "PENDOVISITOR", "name": "Pendo visitor", "id_type": "cross_device"}
MAPPING = {"source": "visitorId", "destination": "_{tenantId}.visitorId"}


def pipeline(**kw):
    spec = {"schema": {"fields": {"visitorId": VISITOR, "email": {"type": "string"}}}, "mappings": [MAPPING],
            "namespaces": [NAMESPACE], "profile": True}
    spec.update(kw)
    return spec


def test_identity_profile_and_namespaces_resolve_into_the_resources_inputs():
    (p,) = load([pipeline()], **KW)
    i = parts.inputs(p)
    assert p.fields == {"visitorId": {"type": "string"}, "email": {"type": "string"}}
    assert i["identities"] == [{"source_property": "/_extconndev/visitorId", "namespace": "PENDOVISITOR",
                                "primary": True, "sandbox": "dev"}]
    assert i["dataset"]["tags"] == parts.PROFILE_TAGS and i["schema"]["profile"] is True
    assert p.namespaces == ({"code": "PENDOVISITOR", "name": "Pendo visitor", "description": None,
                             "id_type": "Cross_device", "adopt_id": None},)


def test_a_standard_namespace_is_used_by_its_code_in_any_case():
    fields = {"visitorId": VISITOR | {"identity": {"namespace": "email", "primary": True}}}
    (p,) = load([pipeline(schema={"fields": fields}, namespaces=[])], **KW)
    assert parts.inputs(p)["identities"][0]["namespace"] == "Email"


def test_nested_identity_fields_take_their_xdm_path():
    fields = {"visitorId": {"type": "string"},
              "contact": {"type": "object", "properties": {"email": {
                  "type": "string", "identity": {"namespace": "Email", "primary": True}}}}}
    mappings = [MAPPING, {"source": "email", "destination": "_{tenantId}.contact.email"}]
    (p,) = load([pipeline(schema={"fields": fields}, mappings=mappings, namespaces=[])], **KW)
    assert parts.inputs(p)["identities"][0]["source_property"] == "/_extconndev/contact/email"


@pytest.mark.parametrize("spec, expected", [
    (pipeline(namespaces=[]), "pipelines[0].schema.fields.visitorId.identity.namespace: 'PENDOVISITOR' is neither a "
                              "standard namespace nor one the stack declares"),
    (pipeline(schema={"fields": {"visitorId": VISITOR | {"identity": {"namespace": "Emial"}}}}, namespaces=[],
              profile=False), "did you mean 'Email'?"),
    (pipeline(schema={"fields": {"visitorId": VISITOR, "email": VISITOR | {"identity": {
        "namespace": "Email", "primary": True}}}}),
     "pipelines[0].schema.fields.email.identity.primary: email is a second primary identity (the first is visitorId)"),
    (pipeline(mappings=[{"source": "x", "destination": "_{tenantId}.email"}]),
     "pipelines[0].schema.fields.visitorId.identity.primary: visitorId is the primary identity, but no mapping fills it"),
    (pipeline(schema={"fields": {"visitorId": {"type": "string"}}}),
     "pipelines[0].profile: Profile stitches records on the schema's primary identity"),
    (pipeline(namespaces=[NAMESPACE | {"code": "ECID"}]), "pipelines[0].namespaces[0].code: 'ECID' is the standard "
                                                          "namespace ECID"),
    (pipeline(namespaces=[NAMESPACE | {"code": "PENDO-VISITOR"}]), "pipelines[0].namespaces[0].code: 'PENDO-VISITOR' "
                                                                   "is not a namespace code"),
    (pipeline(namespaces=[NAMESPACE | {"id_type": "person"}]), "pipelines[0].namespaces[0].id_type: 'person' is not "
                                                               "an identity type"),
    (pipeline(schema={"fields": {"visitorId": VISITOR | {"identity": {"namespace": "PENDOVISITOR", "primry": 1}}}}),
     "pipelines[0].schema.fields.visitorId.identity.primry: unknown field: did you mean 'primary'?"),
])
def test_identity_and_profile_problems(spec, expected):
    assert any(expected in m for m in problems([spec])), problems([spec])


def test_a_namespace_is_declared_once_per_sandbox_and_used_by_others():
    other = pipeline(name="chat", namespaces=[])
    (_a, b) = load([pipeline(), other], **KW)
    assert parts.inputs(b)["identities"][0]["namespace"] == "PENDOVISITOR"
    msgs = problems([pipeline(), pipeline(name="chat")])
    assert any(m.startswith("aep-pipelines:pipelines[1].namespaces[0].code: 'pendovisitor' is also declared by "
                            "aep-pipelines:pipelines[0]: declare a namespace once per sandbox") for m in msgs), msgs
