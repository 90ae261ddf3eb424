"""The shared listing module on its own (no HTTP): property filters, ordering, pages, tokens."""

from __future__ import annotations

import pytest

from emulator.errors import AEPError
from emulator.services import listing
from emulator.services.catalog import FILTERS as CATALOG
from emulator.services.flowservice import FILTERS as FLOW
from emulator.services.schemaregistry import FILTERS as REGISTRY

FLOWS = [
    {"id": "a", "name": "one", "state": "enabled", "createdAt": 9, "sourceConnectionIds": ["s1", "s2"],
     "inheritedAttributes": {"sourceConnections": [{"id": "s1"}, {"id": "s2"}]}, "options": {"on": True}},
    {"id": "b", "name": "two", "state": "disabled", "createdAt": 10, "sourceConnectionIds": ["s3"],
     "inheritedAttributes": {"sourceConnections": [{"id": "s3"}]}},
]


def ids(docs):
    return [d["id"] for d in docs]


def test_flow_filters_go_through_arrays_and_take_alternatives():
    assert ids(FLOW.select(FLOWS, ["sourceConnectionIds[]==s2,s3"])) == ["a", "b"]
    assert ids(FLOW.select(FLOWS, ["inheritedAttributes.sourceConnections.id==s3"])) == ["b"]
    assert ids(FLOW.select(FLOWS, ["state!=enabled"])) == ["b"]
    assert ids(FLOW.select(FLOWS, ["name == one "])) == ["a"]  # values are stripped
    assert ids(FLOW.select(FLOWS, ["options.on==true"])) == ["a"]  # booleans as JSON text
    assert ids(FLOW.select(FLOWS, ["options"])) == ["a"]  # a bare path: it exists
    assert ids(FLOW.select(FLOWS, ["state==enabled", "name==two"])) == []  # repeated filters AND


def test_ordering_filters_compare_numbers_as_numbers():
    # "10" < "9" as text; as numbers 10 > 9.
    assert ids(FLOW.select(FLOWS, ["createdAt>9"])) == ["b"]
    assert ids(FLOW.select(FLOWS, ["createdAt<=9"])) == ["a"]
    assert ids(FLOW.select(FLOWS, ["name~^t"])) == ["b"]


@pytest.mark.parametrize("expr", ["name=x", "na me==x", "!name", "name~(", ""])
def test_flow_rejects_a_filter_it_cannot_read(expr):
    with pytest.raises(AEPError) as err:
        FLOW.parse(expr)
    assert err.value.status == 400 and "FLOW-1400-400" in err.value.body["type"]


def test_registry_takes_values_whole_and_tilde_as_a_substring():
    docs = [{"id": "1", "title": "Events, v2", "meta:extends": ["x", "y"]}, {"id": "2", "title": "a.b"}]
    assert ids(REGISTRY.select(docs, ["title==Events, v2"])) == ["1"]  # the comma is part of the title
    assert ids(REGISTRY.select(docs, ["meta:extends==y"])) == ["1"]  # on a list, a member
    assert ids(REGISTRY.select(docs, ["title~."])) == ["2"]  # a substring, not a regex
    # A filter it cannot read matches nothing instead of failing the request.
    assert REGISTRY.select(docs, ["no such key=="]) == []


def test_catalog_negates_a_bare_path_and_rejects_a_bad_regex():
    docs = [{"id": "1", "name": "x", "schemaRef": {"id": "s"}}, {"id": "2", "name": "y"}]
    assert ids(CATALOG.select(docs, ["!schemaRef"])) == ["2"]
    assert ids(CATALOG.select(docs, ["schemaRef.id==s"])) == ["1"]
    with pytest.raises(AEPError) as err:
        CATALOG.parse("name~[")
    assert "CAT-1003-400" in err.value.body["type"] and "regular expression" in err.value.body["message"]


def test_ordered_is_total_over_mixed_values_and_puts_missing_last():
    docs = [{"k": "b"}, {"k": 10}, {}, {"k": 9}, {"k": True}]
    assert [d.get("k") for d in listing.ordered(docs, ["k"])] == [9, 10, "b", True, None]
    assert [d.get("k") for d in listing.ordered(docs, ["k"], descending=True)][0] is None


def test_page_and_continuation_token_round_trip():
    items, more = listing.page(list(range(5)), 2, 2)
    assert (items, more) == ([2, 3], True)
    assert listing.page(list(range(5)), 4, 2) == ([4], False)
    token = listing.encode_token({"p": ["name==x"], "s": 100})
    assert "=" not in token and listing.decode_token(token, AEPError) == {"p": ["name==x"], "s": 100}
    with pytest.raises(AEPError):
        listing.decode_token("not a token", lambda m: AEPError(400, m))
