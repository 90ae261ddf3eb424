"""Drive the real aep-pipelines project (a copy of it) through the engine, against an emulator process.

`Project` is one copy of the repository's Pulumi project with its own file backend; its
stacks point `aep:endpoint` at the test's emulator and each gets a sandbox of its own.
The plan of every preview/up is collected from engine events as {resource name: ops}, so
a test can say "this resource is updated and nothing else changes".
"""

from __future__ import annotations

import pathlib
import uuid
from typing import Any

import pytest
import requests
import yaml
from pulumi import automation as auto
from pulumi.automation.events import EngineEvent, OpType

from emulator import config as dev
from emulator.process import EmulatorProcess
from tests.support.credentials import DEV_CLIENT_SECRET
from tests.support.engine import ROOT, copy_project, stack

FS = "/data/foundation/flowservice"
IMS = "POST /ims/token/v3"
# Object kinds the pipeline creates in the emulator (emulator/kinds.py); runs and records
# are ingestion history written by the inlet, not objects Pulumi manages.
MANAGED_KINDS = ("schema", "fieldGroup", "dataset", "sourceConnection", "targetConnection", "mappingSet", "flow",
                 "connection")
QUIET = {"on_output": lambda _line: None}
_IGNORED_OPS = {OpType.SAME, OpType.REFRESH, OpType.READ}


def unique_sandbox(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Plan:
    """Collects the engine's per-resource operations of one preview or update."""

    def __init__(self) -> None:
        self.ops: dict[str, set[str]] = {}
        self.diffs: dict[str, set[str]] = {}

    def __call__(self, event: EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is None or pre.metadata is None:
            return
        meta = pre.metadata
        if meta.op in _IGNORED_OPS:
            return
        name = meta.urn.split("::")[-1]
        self.ops.setdefault(name, set()).add(meta.op.value)
        # The display's [diff: ...]: dynamic providers report no diff keys, so compare inputs.
        old = (meta.old.inputs if meta.old else None) or {}
        new = (meta.new.inputs if meta.new else None) or {}
        self.diffs.setdefault(name, set()).update(
            k for k in set(old) | set(new) if not k.startswith("__") and old.get(k) != new.get(k))


TUTORIAL = pathlib.Path(__file__).parent / "data" / "tutorial.yaml"


def copy_real_project(dest: pathlib.Path, spec: pathlib.Path | None = TUTORIAL) -> pathlib.Path:
    """A copy of the repository's Pulumi project (see copy_project) whose pipelines.yaml is
    `spec`: by default the tutorial pipeline (data lake only), which the call counts and the
    fidelity table are measured on; None keeps the repository's own (identity and Profile)."""
    work = copy_project(ROOT, dest)
    if spec is not None:
        (work / "pipelines.yaml").write_text(spec.read_text())
    return work


class Project:
    """A copy of the real project, with its own state backend, against one emulator."""

    def __init__(self, tmp: pathlib.Path, emu: EmulatorProcess):
        self.dir = copy_real_project(tmp / "project")
        self.state = tmp / "state"
        self.emu = emu
        self.stacks: dict[str, auto.Stack] = {}

    def write_spec(self, name: str, spec: dict[str, Any]) -> str:
        (self.dir / name).write_text(yaml.safe_dump(spec, sort_keys=False))
        return name

    def default_spec(self) -> dict[str, Any]:
        """The tutorial pipeline (tests/pipeline/data/tutorial.yaml), as data to modify."""
        return yaml.safe_load(TUTORIAL.read_text())

    def stack(self, name: str, sandbox: str, spec_file: str | None = None,
              extra: dict[str, Any] | None = None) -> auto.Stack:
        config: dict[str, Any] = {
            "aep:endpoint": self.emu.base_url,
            "aep:clientId": dev.DEV_CLIENT_ID,
            "aep:clientSecret": auto.ConfigValue(DEV_CLIENT_SECRET, secret=True),
            "aep:orgId": dev.DEV_ORG_ID,
            "aep:sandbox": sandbox,
            "aep:tenantId": dev.TENANT_ID,
            "aep:retryBaseDelay": "0.01",
            "aep:retryBudget": "10",
        }
        if spec_file:
            config["aep-pipelines:specFile"] = spec_file
        st = stack(self.dir, name, self.state, config=config)
        if extra:
            st.set_all_config({k: v if isinstance(v, auto.ConfigValue) else auto.ConfigValue(str(v))
                               for k, v in extra.items()}, path=True)
        self.stacks[name] = st
        return st

    # -- engine operations with their plans -------------------------------------------------------

    @staticmethod
    def preview(st: auto.Stack, **kw) -> tuple[auto.PreviewResult, Plan]:
        plan = Plan()
        return st.preview(on_event=plan, **QUIET, **kw), plan

    @staticmethod
    def up(st: auto.Stack, **kw) -> tuple[auto.UpResult, Plan]:
        plan = Plan()
        return st.up(on_event=plan, **QUIET, **kw), plan

    # -- the emulator, as an independent client sees it ----------------------------------------------

    def session(self, sandbox: str) -> requests.Session:
        return self.emu.session(sandbox)

    def get(self, sandbox: str, path: str) -> requests.Response:
        return self.session(sandbox).get(self.emu.base_url + path)

    def flow(self, sandbox: str, flow_id: str) -> dict[str, Any]:
        r = self.get(sandbox, f"{FS}/flows/{flow_id}")
        r.raise_for_status()
        return r.json()["items"][0]

    def records(self, sandbox: str, dataset_id: str) -> list[dict[str, Any]]:
        r = self.get(sandbox, f"/data/foundation/export/datasets/{dataset_id}/records?limit=1000")
        r.raise_for_status()
        return r.json()["records"]

    def objects(self, sandbox: str, kind: str) -> list[dict[str, Any]]:
        return self.emu.admin("GET", f"objects/{kind}", params={"org": dev.DEV_ORG_ID, "sandbox": sandbox})

    def managed_objects(self, sandbox: str) -> dict[str, int]:
        counts = {k: len(self.objects(sandbox, k)) for k in MANAGED_KINDS}
        return {k: n for k, n in counts.items() if n}

    def api_calls(self) -> dict[str, Any]:
        """Emulator metrics since the last reset, with the IMS token requests split out."""
        m = self.emu.metrics()
        ims = m["requests"].get(IMS, 0)
        return {"reads": m["reads"], "writes": m["writes"] - ims, "ims": ims,
                "requests": {k: v for k, v in m["requests"].items() if k != IMS}}


def assert_plans_nothing(project: Project, st: auto.Stack) -> None:
    """A no-op preview: no resource changes (the default provider's config is internal to it,
    as for any stack setting) and no AEP call."""
    project.emu.reset_metrics()
    _, plan = project.preview(st, expect_no_changes=True)
    assert {n: ops for n, ops in plan.ops.items() if not n.startswith("default")} == {}, plan.ops
    assert project.emu.metrics()["total"] == 0


def refusal(st: auto.Stack, key: str, value: str) -> str:
    """The message of a preview with stack setting `key` = `value`, which the program must
    refuse without a Python traceback."""
    st.set_config(key, auto.ConfigValue(value))
    with pytest.raises(auto.errors.CommandError) as err:
        st.preview(on_output=lambda _l: None)
    assert "Traceback" not in str(err.value)
    return str(err.value)


def outputs(result: auto.UpResult | auto.Stack) -> dict[str, Any]:
    outs = result.outputs if isinstance(result, auto.UpResult) else result.outputs()
    return {k: v.value for k, v in outs.items()}


def pendo_event(kind: str = "guideDisplayed", guide: str = "Welcome tour", **extra: Any) -> dict[str, Any]:
    """A Pendo webhook event as Pendo posts it (the fields the tutorial maps, plus noise)."""
    return {"type": kind, "accountId": "acme-corp", "visitorId": "visitor-42", "uniqueId": str(uuid.uuid4()),
            "timestamp": 1767225600000, "browserTime": 1767225600000, "remoteIp": "203.0.113.7",
            "properties": {"guideProperties": {"id": "guide-1", "name": guide},
                           "stepProperties": {"id": "step-1"}}, **extra}
