"""The spec's checks of what `up` would otherwise fail on: unique titles (the Schema Registry's rule),
renames (`previous_names`, and a rename that collides with the deployed state), strict YAML, and
the forms of `adopt` ids."""

from __future__ import annotations

import json

import pytest

from pipelines import renames
from pipelines.spec import SpecError, load, load_resolved
from pipelines.unique import field_group_title, title_key
from providers.models import XdmSchemaArgs
from providers.xdm_schema import _field_group_body
from tests.emulator.data_helpers import SR, DataApi, pendo_field_group_body, pendo_schema_body

from .test_spec import KW, problems

FLOW_ID = "c341617b-e143-43d5-aff1-da02b3e028b6"
SCHEMA_HASH = "945546112b746524bfd9f1264b26c2b7d8e7f5b7fadb953a"


def two(title_a: str, title_b: str, **b) -> list[dict]:
    """Two pipelines of one sandbox that differ in every name but their schema titles."""
    return [{"name": "a", "schema": {"title": title_a}, "flow": {"name": "fa"}, "dataset": {"name": "da"}},
            {"name": "b", "schema": {"title": title_b}, "flow": {"name": "fb"}, "dataset": {"name": "db"}, **b}]


# ---------------------------------------------------------------------------------------------
# Unique titles
# ---------------------------------------------------------------------------------------------


def test_schema_titles_that_differ_only_in_case_are_refused():
    (msg,) = problems(two("Pendo events", "PENDO Events"))
    assert msg == ("aep-pipelines:pipelines[1].schema.title: 'PENDO Events' is also the schema title of "
                   "aep-pipelines:pipelines[0] as 'Pendo events': schema titles are unique per sandbox, compared "
                   "ignoring letter case (docs/emulator.md, Unique titles); AEP would refuse the second with "
                   "XDM-3005-400. Give each pipeline its own schema.title")


def test_equal_titles_in_two_sandboxes_and_distinct_titles_pass():
    assert len(load(two("Pendo events", "pendo events", sandbox="eu"), **KW)) == 2
    assert len(load(two("Pendo events", "Pendo  events"), **KW)) == 2  # inner spaces are not folded


def test_the_field_group_title_is_the_one_the_provider_gives():
    args = XdmSchemaArgs.model_validate({"sandbox": "dev", "title": "Pendo events", "tenant_id": "extconndev",
                                         "fields": {"a": {"type": "string"}}})
    assert _field_group_body(args, "extconndev")["title"] == field_group_title("Pendo events") == \
        "Pendo events fields"


# Pairs whose clash the emulator decides; the spec must decide each the same way.
PAIRS = [("Pendo events", "PENDO EVENTS", True), ("Ärger", "äRGER", True), ("ΟΔΟΣ", "οδος", True),
         ("Straße", "STRASSE", False), ("Pendo events", "Pendo  events", False), ("pendo-events", "pendo_events", False),
         ("Pendo events", "Pendo events2", False)]


@pytest.mark.parametrize("a, b, clash", PAIRS)
def test_the_spec_and_the_emulator_apply_the_same_title_rule(emulator, sandbox, a, b, clash):
    api = DataApi(emulator, sandbox)
    fg = api.field_group(title=field_group_title(a))
    assert api.post(f"{SR}/tenant/schemas", pendo_schema_body(fg["$id"], a)).status_code == 201
    schema = api.post(f"{SR}/tenant/schemas", pendo_schema_body(fg["$id"], b))
    group = api.post(f"{SR}/tenant/fieldgroups", pendo_field_group_body(title=field_group_title(b)))
    refused = [r.status_code == 400 and r.json()["type"].endswith("XDM-3005-400") for r in (schema, group)]
    try:
        load(two(a, b), **KW)
        spec_refuses = False
    except SpecError as e:
        assert all(p.path.endswith("schema.title") for p in e.problems)
        spec_refuses = True
    assert refused == [clash, clash] and spec_refuses is clash and (title_key(a) == title_key(b)) is clash


# ---------------------------------------------------------------------------------------------
# previous_names
# ---------------------------------------------------------------------------------------------


def test_a_renamed_pipeline_keeps_the_default_names_of_its_first_name():
    (old,) = load([{"name": "pendo"}], **KW)
    (new,) = load([{"name": "pendo-zero", "previous_names": ["pendo"]}], **KW)
    names = ("schema_title", "dataset_name", "source_name", "target_name", "mapping_set_name", "flow_name")
    assert {n: getattr(new, n) for n in names} == {n: getattr(old, n) for n in names}
    assert (new.name, new.previous_names, new.identity, old.identity) == ("pendo-zero", ("pendo",), "pendo", "pendo")
    (twice,) = load([{"name": "pendo-two", "previous_names": ["pendo", "pendo-zero"]}], **KW)
    assert twice.mapping_set_name == "pendo-mapping" and twice.identity == "pendo"
    (plain,) = load([{"name": "pendo-zero"}], **KW)
    assert plain.mapping_set_name == "pendo-zero-mapping" and plain.schema_title == "pendo-zero events"


@pytest.mark.parametrize("spec, expected", [
    ([{"name": "a", "previous_names": ["a"]}], "pipelines[0].previous_names[0]: 'a' is this pipeline's own name"),
    ([{"name": "a", "schema": {"title": "A"}, "flow": {"name": "A"}, "dataset": {"name": "A"}},
      {"name": "b", "previous_names": ["a"]}], "pipelines[1].previous_names[0]: 'a' is the name of "
     "aep-pipelines:pipelines[0]"),
    ([{"name": "b", "previous_names": ["x"]}, {"name": "c", "previous_names": ["x"], "schema": {"title": "C"},
                                                "flow": {"name": "C"}, "dataset": {"name": "C"}}],
     "pipelines[1].previous_names[0]: 'x' is also a previous name of aep-pipelines:pipelines[0]"),
    ([{"name": "b", "previous_names": ["x", "x"]}], "pipelines[0].previous_names[1]: 'x' is listed twice"),
    ([{"name": "b", "previous_names": ["Pendo"]}], "pipelines[0].previous_names[0]: 'Pendo' is not a pipeline name"),
    ([{"name": "b", "previous_names": "pendo"}], "pipelines[0].previous_names: Input should be a valid list"),
])
def test_bad_previous_names(spec, expected):
    assert any(expected in m for m in problems(spec)), problems(spec)


# ---------------------------------------------------------------------------------------------
# A rename that collides with what the stack has deployed (pipelines/renames.py)
# ---------------------------------------------------------------------------------------------


def deployment(*pipelines: tuple[str, str, str]) -> dict:
    """A `pulumi stack export` deployment holding (pipeline, sandbox, schema title) components."""
    res = [{"urn": "urn:pulumi:dev::aep-pipelines::pulumi:pulumi:Stack::aep-pipelines-dev",
            "type": "pulumi:pulumi:Stack"}]
    for name, sandbox, title in pipelines:
        comp = f"urn:pulumi:dev::aep-pipelines::aep-pipelines:index:PendoPipeline::{name}"
        res.append({"urn": comp, "type": "aep-pipelines:index:PendoPipeline", "parent": res[0]["urn"]})
        res.append({"urn": f"urn:pulumi:dev::aep-pipelines::aep-pipelines:index:PendoPipeline$"
                           f"pulumi-python:dynamic/aep:XdmSchema::{name}-schema",
                    "type": renames.SCHEMA_TYPE, "parent": comp, "custom": True,
                    "inputs": {"sandbox": sandbox, "title": title}, "outputs": {"sandbox": sandbox, "title": title}})
    return {"resources": res}


def clashes(spec: list[dict], dep: dict) -> list[str]:
    _, pipes = load_resolved(spec, **KW)
    return [str(p) for p in renames.collisions(pipes, dep)]


def test_a_rename_without_previous_names_collides_with_the_deployed_title():
    (msg,) = clashes([{"name": "pendo-zero", "schema": {"title": "Pendo events"}}],
                     deployment(("pendo", "dev", "Pendo events")))
    assert msg.startswith("aep-pipelines:pipelines[0].schema.title: 'Pendo events' is the schema title of pipeline "
                          "'pendo', which this stack deployed in sandbox 'dev' and this spec no longer declares")
    assert "XDM-3005-400" in msg and "add `previous_names: [pendo]` to aep-pipelines:pipelines[0]" in msg
    # Case is ignored, as AEP ignores it; the title AEP holds is quoted.
    (msg,) = clashes([{"name": "pendo-zero", "schema": {"title": "PENDO EVENTS"}}],
                     deployment(("pendo", "dev", "Pendo events")))
    assert "(as 'Pendo events')" in msg


def test_no_collision_with_previous_names_another_sandbox_another_title_or_an_empty_state():
    dep = deployment(("pendo", "dev", "Pendo events"))
    assert clashes([{"name": "pendo-zero", "previous_names": ["pendo"]}], dep) == []
    assert clashes([{"name": "pendo-zero", "sandbox": "eu", "schema": {"title": "Pendo events"}}], dep) == []
    assert clashes([{"name": "pendo-zero"}], dep) == []  # its default title is 'pendo-zero events'
    assert clashes([{"name": "pendo"}], dep) == []       # the same pipeline keeps its own title
    assert clashes([{"name": "pendo-zero", "schema": {"title": "Pendo events"}}], {"resources": []}) == []


def test_a_title_moved_from_a_kept_pipeline_in_the_same_run_is_refused():
    spec = [{"name": "pendo", "schema": {"title": "Old Pendo events"}},
            {"name": "pendo-eu", "schema": {"title": "Pendo events"}, "flow": {"name": "EU"},
             "dataset": {"name": "EU"}}]
    (msg,) = clashes(spec, deployment(("pendo", "dev", "Pendo events")))
    assert msg.startswith("aep-pipelines:pipelines[1].schema.title: 'Pendo events' is the schema title pipeline "
                          "'pendo' (aep-pipelines:pipelines[0]) holds in sandbox 'dev'")
    assert "Move the title in two runs" in msg


def test_check_reads_the_stack_config_and_the_export_text(tmp_path):
    export = json.dumps({"version": 3, "deployment": deployment(("pendo", "dev", "Pendo events"))})
    (tmp_path / "p.yaml").write_text("pipelines:\n  - name: pendo-zero\n    schema: {title: Pendo events}\n")
    config = {"aep:sandbox": "dev", "aep:tenantId": "extconndev", "aep-pipelines:specFile": "p.yaml"}
    err = renames.check(config, export, tmp_path)
    assert err is not None and err.origin.endswith("compared with what the stack has deployed")
    assert [p.path for p in err.problems] == ["pipelines[0].schema.title"]
    # The program reports an invalid spec itself; a stack never deployed has nothing to compare.
    (tmp_path / "p.yaml").write_text("pipelines:\n  - name: pendo-zero\n    schema: {titel: Pendo events}\n")
    assert renames.check(config, export, tmp_path) is None
    assert renames.check(config, json.dumps({"version": 3, "deployment": {}}), tmp_path) is None
    assert renames.check(config, "not json", tmp_path) is None


# ---------------------------------------------------------------------------------------------
# The spec file: duplicate keys, syntax errors, the top level
# ---------------------------------------------------------------------------------------------


def file_problems(tmp_path, text: str | bytes) -> list[str]:
    path = tmp_path / "spec.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return problems(spec_file="spec.yaml", base_dir=tmp_path)


@pytest.mark.parametrize("text, expected", [
    ("pipelines:\n  - name: pendo\n    flow:\n      name: a\n      name: b\n",
     "spec.yaml, line 5: duplicate key 'name' (first at line 4): YAML keeps only the last value"),
    ("pipelines:\n  - name: pendo\n    flow: {enabled: true}\n    flow: {name: x}\n",
     "spec.yaml, line 4: duplicate key 'flow' (first at line 3)"),
    ("pipelines: []\npipelines:\n  - name: pendo\n", "spec.yaml, line 2: duplicate key 'pipelines' (first at line 1)"),
    ("pipelines:\n  - {name: a, name: b}\n", "spec.yaml, line 2: duplicate key 'name' (first at line 2)"),
])
def test_a_duplicate_key_names_the_file_the_line_and_the_key(tmp_path, text, expected):
    (msg,) = file_problems(tmp_path, text)
    assert msg.startswith(expected), msg


def test_merge_keys_may_still_override_what_they_bring_in(tmp_path):
    (tmp_path / "spec.yaml").write_text("base: &flow {name: Base flow, enabled: false}\n"
                                        "pipelines:\n  - flow:\n      <<: *flow\n      name: Mine\n")
    (msg,) = problems(spec_file="spec.yaml", base_dir=tmp_path)
    assert msg.startswith("base: unknown top-level key: the file holds one key, `pipelines:`")


@pytest.mark.parametrize("text, expected", [
    ("pipelines:\n  - name: pendo\n   flow: x\n", "spec.yaml, line 3, column 4: is not valid YAML: expected <block "
     "end>, but found '<block mapping start>' (while parsing a block collection at line 2)"),
    ("pipelines:\n  - name: 'pendo\n", "spec.yaml, line 3, column 1: is not valid YAML: found unexpected end of "
     "stream (while scanning a quoted scalar at line 2)"),
    ("pipelines:\n  - name: pendo\x07\n", "spec.yaml, line 2: is not valid YAML: character U+0007 is not allowed"),
    (b"pipelines:\n  - name: \xffpendo\n", "spec.yaml, line 2: is not UTF-8 text (byte 0xFF): save it as UTF-8"),
    ("", "spec.yaml: is empty: it must hold `pipelines:`"),
    ("- name: pendo\n", "spec.yaml: must be a mapping with a `pipelines:` list"),
])
def test_yaml_errors_name_the_file_and_the_line(tmp_path, text, expected):
    (msg,) = file_problems(tmp_path, text)
    assert msg.startswith(expected), msg
    assert "<unicode string>" not in msg and "\n" not in msg


def test_libyaml_reads_every_spec_file_as_the_python_loader_does(tmp_path):
    # The fast path (pipelines/yamlfile.py): libyaml parses, and a file it refuses is read again
    # by StrictLoader for its errors (the cases above). A valid file must give the same data.
    import pathlib  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    from bench.spec import spec  # noqa: PLC0415
    from pipelines import yamlfile  # noqa: PLC0415

    assert yamlfile._FastStrictLoader is not None, "the pinned PyYAML wheel ships libyaml"
    root = pathlib.Path(__file__).resolve().parents[2]
    (tmp_path / "bench.yaml").write_text(yaml.safe_dump(spec(3), sort_keys=False))
    files = [root / "pipelines.yaml", *sorted((root / "examples").glob("*.yaml")), tmp_path / "bench.yaml"]
    for path in files:
        text = path.read_text()
        expected = yaml.load(text, Loader=yamlfile.StrictLoader)
        assert yaml.load(text, Loader=yamlfile._FastStrictLoader) == expected, path  # libyaml reads it itself
        assert yamlfile.load_file(path, path.name) == expected, path


def test_a_typo_at_the_top_level_is_reported_where_it_is_with_a_suggestion(tmp_path):
    assert file_problems(tmp_path, "pipeline:\n  - name: pendo\n") == [
        "pipeline: unknown top-level key: did you mean 'pipelines'? the file holds one key, `pipelines:`, a list of "
        "pipelines"]
    msgs = file_problems(tmp_path, "pipelines:\n  - name: pendo\nsandbox: prod\n")
    assert msgs == ["sandbox: unknown top-level key: the file holds one key, `pipelines:`, a list of pipelines"]


# ---------------------------------------------------------------------------------------------
# adopt ids
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field, value", [
    ("flow", FLOW_ID), ("source", FLOW_ID), ("target", FLOW_ID), ("dataset", "63dca52231a6031c07280614"),
    ("mapping_set", "bae11501021646e58cecc1182451af22"),
    ("schema", f"https://ns.adobe.com/extconndev/schemas/{SCHEMA_HASH}"), ("schema", f"_extconndev.schemas.{SCHEMA_HASH}"),
    ("schema", "https://ns.adobe.com/extconndev/schemas/e7bc97acfaf14832fd666cbd6b3629e1"),
])
def test_adopt_ids_in_the_form_aep_gives_them_pass(field, value):
    (p,) = load([{"adopt": {field: value}}], **KW)
    assert p.adopt == {field: value}


@pytest.mark.parametrize("field, value, expected", [
    ("flow", "my-flow", "adopt.flow: 'my-flow' is not a dataflow id: it has the wrong form. Expected a UUID, e.g. "
     f"{FLOW_ID} (the `x-adobe-flow-id` of the webhook URL"),
    ("flow", FLOW_ID.upper(), "adopt.flow: '" + FLOW_ID.upper() + "' is not a dataflow id: AEP writes its ids in lower "
     "case"),
    ("source", "63dca52231a6031c07280614", "adopt.source: '63dca52231a6031c07280614' is not a source connection id: "
     "it is 24 hex digits (a dataset id), the id of another kind of object. Expected a UUID"),
    ("dataset", FLOW_ID, f"adopt.dataset: '{FLOW_ID}' is not a Catalog dataset id: it is a UUID (a Flow Service id), "
     "the id of another kind of object. Expected 24 hex digits, e.g. 63dca52231a6031c07280614 (the target "
     "connection's `params.dataSetId`)"),
    ("dataset", "@/dataSets/63dca52231a6031c07280614", "adopt.dataset: '@/dataSets/63dca52231a6031c07280614' is not a "
     "Catalog dataset id: that is the Catalog reference; the id is 63dca52231a6031c07280614"),
    ("mapping_set", "bae11501021646e58cecc1182451af2", "adopt.mapping_set: 'bae11501021646e58cecc1182451af2' is not a "
     "Data Prep mapping set id: it has the wrong form. Expected 32 hex digits"),
    ("schema", "Pendo events", "adopt.schema: 'Pendo events' is not a schema id: it has the wrong form. Expected the "
     "schema's $id `https://ns.adobe.com/{tenant}/schemas/<hex>` or its meta:altId `_{tenant}.schemas.<hex>`, e.g. "
     "https://ns.adobe.com/extconndev/schemas/945546112b746524bfd9f1264b26c2b7"),
    ("schema", f"https://ns.adobe.com/acme/schemas/{SCHEMA_HASH}", "adopt.schema: 'https://ns.adobe.com/acme/schemas/"
     f"{SCHEMA_HASH}' is not a schema id: it belongs to tenant 'acme', and this pipeline's tenant is 'extconndev'"),
    ("schema", f"https%3A%2F%2Fns.adobe.com%2Fextconndev%2Fschemas%2F{SCHEMA_HASH}", "is not a schema id: it is "
     f"URL-encoded: write it decoded, 'https://ns.adobe.com/extconndev/schemas/{SCHEMA_HASH}'"),
    ("schema", f"_extconndev.mixins.{SCHEMA_HASH}", "is not a schema id: it is a field group's id, not a schema's"),
    ("schema", "_extconndev.schemas.abc", "adopt.schema: '_extconndev.schemas.abc' is not a schema id: it has the "
     "wrong form"),
])
def test_adopt_ids_in_another_form_are_refused_naming_the_field_and_the_form(field, value, expected):
    msgs = problems([{"adopt": {field: value}}])
    assert any(expected in m for m in msgs), msgs


def test_two_pipelines_cannot_adopt_one_object():
    msgs = problems([{"name": "a", "adopt": {"flow": FLOW_ID}, "schema": {"title": "A"}, "flow": {"name": "A"},
                      "dataset": {"name": "A"}}, {"name": "b", "adopt": {"flow": FLOW_ID}}])
    assert msgs == [f"aep-pipelines:pipelines[1].adopt.flow: '{FLOW_ID}' is also adopted by aep-pipelines:"
                    "pipelines[0]: one AEP object can be managed by one pipeline only; remove one of them"]


def test_a_rename_that_stopped_half_way_is_refused_with_the_way_back():
    # What a raw `pulumi up` of a rename without previous_names leaves: both components
    # (tests/pipeline/test_renames_engine.py makes it for real).
    dep = deployment(("pendo", "dev", "Pendo events"))
    dep["resources"].append({"urn": "urn:pulumi:dev::aep-pipelines::aep-pipelines:index:PendoPipeline::pendo-zero",
                             "type": "aep-pipelines:index:PendoPipeline"})
    (msg,) = clashes([{"name": "pendo-zero", "previous_names": ["pendo"]}], dep)
    assert msg.startswith("aep-pipelines:pipelines[0].previous_names: the stack holds both 'pendo' and 'pendo-zero': "
                          "a rename that ran without previous_names stopped half way")
    assert "Set the name back to 'pendo' and run `make up`" in msg
    assert clashes([{"name": "pendo"}], dep) == []  # the way back passes
