"""The export round trip through the real engine: a sandbox built by hand (raw HTTP) -> `export` ->
`up` on a fresh stack writes nothing -> the drift check is clean;
and the dev -> prod promotion: the spec without adopt ids creates the same pipelines afresh."""

from __future__ import annotations

import pytest
import yaml
from pulumi import automation as auto

from pipelines import export as ex
from providers.client import AEPClient, AEPSettings

from .foreign import Foreign
from .helpers import Project, unique_sandbox
from .test_export import AUTH, env_for

pytestmark = pytest.mark.engine


def _export(emu, sandbox: str, adopt: bool = True) -> ex.Export:
    api = AEPClient(AEPSettings.load(env=env_for(emu)))
    return ex.export(ex.read_sandbox(api, sandbox), sandbox, adopt=adopt)


def _secrets(out: ex.Export) -> dict[str, auto.ConfigValue]:
    return {f"aep-pipelines:{key}": auto.ConfigValue(AUTH[param], secret=True) for _p, param, key in out.secrets}


def test_an_exported_sandbox_is_adopted_without_writes_and_promoted_afresh(tmp_path, emulator):
    project = Project(tmp_path, emulator)
    dev_sb, prod_sb = unique_sandbox("export-dev"), unique_sandbox("export-prod")
    f = Foreign(emulator, dev_sb)
    f.pendo_pipeline("a", flow_name="Pendo → AEP (UI) événements", two_groups=True)
    f.http_pipeline("b", auth=AUTH, flow_name="HTTP events")
    f.http_pipeline("u", auth={**AUTH, "dataType": "xdm"}, flow_name="XDM events", mapped=False)
    f.batch_flow("c")

    adopted = _export(emulator, dev_sb)
    assert [p["name"] for p in adopted.pipelines] == ["http-events", "pendo-aep-ui-evenements", "xdm-events"]
    assert len(adopted.left_out) == 2  # the batch flow, and the schema's second field group
    (project.dir / "exported.yaml").write_text(ex.render(adopted))
    st = project.stack("adopter", dev_sb, spec_file="exported.yaml")
    st.set_all_config(_secrets(adopted))
    before = project.managed_objects(dev_sb)
    emulator.reset_metrics()
    up, plan = project.up(st)
    calls = project.api_calls()
    # The stack, three components and their 6 + 7 + 6 AEP objects, all adopted: nothing is created in AEP...
    assert up.summary.resource_changes == {"create": 23}
    assert project.managed_objects(dev_sb) == before
    # ...and nothing is written: not even the accounts' credentials, which AEP never shows and
    # adoption takes as declared.
    writes = {k: v for k, v in calls["requests"].items() if not k.startswith("GET ")}
    assert writes == {}, calls
    project.preview(st, refresh=True, expect_no_changes=True)  # `make drift`: clean

    # Promotion: the same spec without ids, on a stack of another sandbox, creates everything...
    fresh = _export(emulator, dev_sb, adopt=False)
    (project.dir / "promoted.yaml").write_text(ex.render(fresh))
    prod = project.stack("prod", prod_sb, spec_file="promoted.yaml")
    prod.set_all_config(_secrets(fresh))
    up, _ = project.up(prod)
    assert up.summary.resource_changes == {"create": 23}
    assert project.managed_objects(prod_sb) == {"schema": 3, "fieldGroup": 3, "dataset": 3, "sourceConnection": 3,
                                                "targetConnection": 3, "mappingSet": 2, "flow": 3, "connection": 2}
    # ...and prod, exported in turn, is dev's spec again.
    again = _export(emulator, prod_sb, adopt=False)
    assert yaml.safe_load(ex.render(again))["pipelines"] == yaml.safe_load(ex.render(fresh))["pipelines"]
    assert again.left_out == []


def test_a_profile_pipeline_built_in_the_ui_is_exported_and_adopted_without_writes(tmp_path, emulator):
    project = Project(tmp_path, emulator)
    sb = unique_sandbox("export-profile")
    built = Foreign(emulator, sb).profile_pipeline("p", flow_name="Pendo visitors")
    out = _export(emulator, sb)
    (pipe,) = out.pipelines
    assert pipe["profile"] is True and "tags" not in pipe["dataset"]  # the Profile tags are what profile: says
    assert pipe["schema"]["fields"]["visitorId"]["identity"] == {"namespace": built["namespace"], "primary": True}
    assert pipe["schema"]["fields"]["email"]["identity"] == {"namespace": "Email", "primary": False}
    (ns,) = pipe["namespaces"]
    assert (ns["code"], ns["name"], ns["id_type"]) == (built["namespace"], "Pendo visitor p", "Cross_device")
    assert out.left_out == []

    (project.dir / "exported.yaml").write_text(ex.render(out))
    st = project.stack("profile-adopter", sb, spec_file="exported.yaml")
    before = project.managed_objects(sb)
    emulator.reset_metrics()
    up, _ = project.up(st)
    writes = {k: v for k, v in project.api_calls()["requests"].items() if not k.startswith("GET ")}
    # Stack, component, namespace, schema, two identities, Profile and the five other objects: all adopted.
    assert up.summary.resource_changes == {"create": 12}
    assert writes == {}, writes
    assert project.managed_objects(sb) == before
    project.preview(st, refresh=True, expect_no_changes=True)
