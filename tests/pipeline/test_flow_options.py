"""The flow's options in the pipeline spec: validated at their spec path, and through the
engine onto the AEP flow, where changing one is a one-way door like any flow replacement."""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from pipelines.spec import SpecError, load

from .helpers import Project, unique_sandbox

KW = {"sandbox": "dev", "tenant_id": "extconndev"}


def test_the_spec_passes_the_options_to_the_pipeline():
    (p,) = load([{"name": "pendo", "flow": {"error_diagnostics_enabled": True, "partial_ingestion_percent": 2.5}}],
                **KW)
    assert p.flow_error_diagnostics_enabled is True and p.flow_partial_ingestion_percent == 2.5
    (default,) = load(**KW)
    assert default.flow_error_diagnostics_enabled is None and default.flow_partial_ingestion_percent is None


@pytest.mark.parametrize("value", [0, 150, "half"])
def test_a_bad_percentage_is_named_at_its_spec_path(value):
    with pytest.raises(SpecError) as err:
        load([{"name": "pendo", "flow": {"partial_ingestion_percent": value}}], **KW)
    assert [p.path for p in err.value.problems] == ["aep-pipelines:pipelines[0].flow.partial_ingestion_percent"]


@pytest.mark.engine
def test_the_options_reach_the_flow_and_a_change_is_refused_as_a_one_way_door(tmp_path, emulator):
    project = Project(tmp_path, emulator)
    sandbox = unique_sandbox("flow-options")
    spec = project.default_spec()
    spec["pipelines"][0]["flow"].update(error_diagnostics_enabled=True, partial_ingestion_percent=5)
    st = project.stack("options", sandbox, spec_file=project.write_spec("spec.yaml", spec))
    try:
        up, _ = project.up(st)
        flow = project.flow(sandbox, up.outputs["flowId"].value)
        assert flow["options"]["errorDiagnosticsEnabled"] is True and flow["options"]["partialIngestionPercent"] == 5
        project.preview(st, refresh=True, expect_no_changes=True)

        spec["pipelines"][0]["flow"]["partial_ingestion_percent"] = 10
        project.write_spec("spec.yaml", spec)
        with pytest.raises(auto.errors.CommandError, match=r"refused \(one-way door\).*partial_ingestion_percent"):
            project.preview(st)
    finally:
        st.destroy(on_output=lambda _l: None)
