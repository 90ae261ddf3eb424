"""A stack deployed by older code keeps working with the current code.

Pulumi pickles each provider class into every resource's state by module path
(`providers.source_connection.SourceConnectionProvider`), and the engine diffs the old
stored inputs with what the current program and `check()` produce. Moving a class, renaming
an input or changing a normalisation would turn an existing stack into updates or
replacements, or fail it outright. `data/` holds a real Pendo `dev` stack deployed by the
code of commit 679a659 (see data/README.md for how it was made): its exported state and the
AEP objects it manages, as that commit's emulator stored them.

The test imports the state into a fresh backend, puts the same objects (same ids, etags and
versions) into a fresh emulator, and runs `pulumi preview --refresh --expect-no-changes` with
today's code: every resource must read back as it was and plan as `same`.
"""

from __future__ import annotations

import json
import pathlib
import urllib.parse

import pytest
from pulumi import automation as auto
from pulumi.automation.events import OpType

from tests.support.engine import ROOT, copy_project, stack

pytestmark = pytest.mark.engine

DATA = pathlib.Path(__file__).parent / "data"
# The dev stack's own passphrase: the one secret in this state is the emulator's documented
# development client secret (emulator/config.py), in the provider's configuration.
DEV_PASSPHRASE = "aep-pipelines-dev-only"
IMS = "POST /ims/token/v3"


def seed(emu, seed_file: pathlib.Path) -> str:
    """Store the recorded objects in `emu` through its admin API; returns the recorded base URL."""
    data = json.loads(seed_file.read_text())
    for obj in data["objects"]:
        emu.admin("PUT", f"objects/{obj['kind']}/{urllib.parse.quote(obj['id'], safe='')}",
                  params={"org": obj["org"], "sandbox": obj["sandbox"]}, json=obj["doc"])
    return data["emulator_base_url"]


def test_a_stack_deployed_by_older_code_previews_without_changes(tmp_path, fresh_emulator):
    emu = fresh_emulator
    recorded_url = seed(emu, DATA / "pendo-dev.seed.json")
    # The inlet URL in the outputs carries the emulator's address; the new emulator listens on
    # another port, and in AEP that address never changes, so the state is moved to it.
    state = json.loads((DATA / "pendo-dev.state.json").read_text().replace(recorded_url, emu.base_url))
    assert state["deployment"]["resources"], "the fixture holds no resources"

    work = copy_project(ROOT, tmp_path / "project")
    # The stack's config file and spec as they were when it was deployed (salt included).
    (work / "stacks" / "Pulumi.dev.yaml").write_text((DATA / "Pulumi.dev.yaml").read_text())
    (work / "pipelines.yaml").write_text((DATA / "pipelines.yaml").read_text())
    st = stack(work, "dev", tmp_path / "state", config={"aep:endpoint": emu.base_url},
               env={"PULUMI_CONFIG_PASSPHRASE": DEV_PASSPHRASE})
    st.import_stack(auto.Deployment(version=state["version"], deployment=state["deployment"]))

    ops: dict[str, set[str]] = {}

    def record(event) -> None:
        pre = event.resource_pre_event
        if pre is not None and pre.metadata is not None and pre.metadata.op not in (OpType.REFRESH, OpType.READ):
            ops.setdefault(pre.metadata.urn.split("::")[-1], set()).add(pre.metadata.op.value)

    emu.reset_metrics()
    pre = st.preview(refresh=True, expect_no_changes=True, on_event=record, on_output=lambda _l: None)
    assert set(pre.change_summary) == {OpType.SAME}, pre.change_summary
    assert pre.change_summary[OpType.SAME] == len(state["deployment"]["resources"]) - 1  # not the default provider
    assert all(o == {"same"} for o in ops.values()), ops
    assert {"pendo-schema", "pendo-dataset", "pendo-source", "pendo-target", "pendo-mapping",
            "pendo-flow"} <= set(ops)
    m = emu.metrics()
    # The refresh read each of the six objects once, and nothing was written.
    assert m["writes"] - m["requests"].get(IMS, 0) == 0 and m["reads"] == 6, m
