"""The user-facing Resource classes in a Pulumi program (runtime mocks: wiring and pickling, no provider calls)."""

from __future__ import annotations

import base64

import pulumi
import pytest

import providers
from providers import BaseConnection, Dataflow, Dataset, MappingSet, SourceConnection, TargetConnection, XdmSchema
from providers.models import HTTP_STREAMING_SPEC, PENDO_SPEC

REGISTERED: list[pulumi.runtime.MockResourceArgs] = []


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        REGISTERED.append(args)
        return [f"{args.name}-id", dict(args.inputs)]

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@pytest.fixture(scope="module", autouse=True)
def mocked_runtime():
    pulumi.runtime.set_mocks(Mocks(), project="aep-pipelines", stack="test", preview=False)
    pulumi.runtime.set_all_config({"aep:sandbox": "dev"})
    yield
    pulumi.runtime.set_all_config({})


FIELDS = {"accountId": {"type": "string"}, "guide": {"type": "object", "properties": {"name": {"type": "string"}}}}


@pulumi.runtime.test
def test_a_pipeline_wires_up_and_schema_paths_are_known_at_construction():
    REGISTERED.clear()
    schema = XdmSchema("events", tenant_id="extconndev", fields=FIELDS)
    # A plain list, available while the program runs, long before the schema exists.
    assert schema.known_field_paths == ["_id", "timestamp", "eventType", "producedBy", "_extconndev",
                                        "_extconndev.accountId", "_extconndev.guide", "_extconndev.guide.name"]
    dataset = Dataset("events", schema_id=schema.schema_id)
    source = SourceConnection("pendo", connection_spec_id=PENDO_SPEC)
    target = TargetConnection("lake", dataset_id=dataset.id, schema_id=schema.schema_id)
    mapping = MappingSet("pendo", schema_id=schema.schema_id, schema_field_paths=schema.known_field_paths,
                         mappings=[{"source": "accountId", "destination": "_extconndev.accountId"}])
    flow = Dataflow("pendo", source_connection_id=source.id, target_connection_id=target.id,
                    mapping_id=mapping.id, mapping_version=mapping.version)

    def check(_):
        assert {a.typ for a in REGISTERED} == {f"pulumi-python:dynamic/aep:{n}" for n in (
            "XdmSchema", "Dataset", "SourceConnection", "TargetConnection", "MappingSet", "Dataflow")}
        for a in REGISTERED:
            assert a.inputs["sandbox"] == "dev"  # from stack config aep:sandbox
            raw = base64.b64decode(a.inputs["__provider"])
            assert len(raw) < 200 and b"providers." in raw  # by reference, not encrypted
        return True

    return pulumi.Output.all(flow.id, schema.id).apply(check)


@pulumi.runtime.test
def test_schema_paths_are_unknown_without_a_tenant_id():
    assert XdmSchema("s2", fields=FIELDS).known_field_paths is None
    assert XdmSchema("s3", tenant_id=pulumi.Output.from_input("t"), fields=FIELDS).known_field_paths is None


@pulumi.runtime.test
def test_base_connection_auth_params_are_secret():
    REGISTERED.clear()
    conn = BaseConnection("acct", connection_spec_id=HTTP_STREAMING_SPEC, auth_spec_name="Streaming Connection",
                          auth_params={"token": "t0ps3cret"})

    def check(_):
        (args,) = [a for a in REGISTERED if a.name == "acct"]
        assert b"t0ps3cret" not in base64.b64decode(args.inputs["__provider"])
        return True

    return pulumi.Output.all(conn.id, pulumi.Output.secret(1)).apply(check)


def test_package_exports():
    for name in ("XdmSchema", "Dataset", "SourceConnection", "TargetConnection", "MappingSet", "Dataflow",
                 "BaseConnection"):
        assert isinstance(getattr(providers, name), type)
