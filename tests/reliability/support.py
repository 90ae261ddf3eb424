"""A stack of the real project driven through the Pulumi CLI, for crash and concurrency tests.

The Automation API cannot SIGKILL a run half way or capture the engine's stderr verbatim, so
these tests run the CLI themselves, with the same offline environment as every engine test
(tests/support/engine.py). Each `Deployment` is one copy of the project, one file backend
and one stack pointed at one emulator.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Any

import yaml

from bench.spec import spec
from emulator import config as dev
from emulator.process import EmulatorProcess
from tests.conftest import kill_marked
from tests.pipeline.helpers import copy_real_project
from tests.support.credentials import DEV_CLIENT_SECRET
from tests.support.engine import engine_env, require_cli

IMS = "POST /ims/token/v3"
# Set on each command Deployment.start runs, with a value unique to that start (see kill_run).
RUN_VAR = "AEP_TEST_RUN"
# The AEP object kinds one Pendo pipeline owns in the emulator (emulator/kinds.py).
KINDS = ("schema", "fieldGroup", "dataset", "sourceConnection", "targetConnection", "mappingSet", "flow")
# The name each kind's objects carry, to tell duplicates apart from distinct objects.
NAME_KEY = {"schema": "title", "fieldGroup": "title", "dataset": "name", "sourceConnection": "name",
            "targetConnection": "name", "mappingSet": "name", "flow": "name"}


@dataclass
class Run:
    args: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def ok(self) -> "Run":
        assert self.rc == 0, f"pulumi {' '.join(self.args)} exited {self.rc}:\n{self.output[-6000:]}"
        return self


class Deployment:
    """One project copy + backend + stack `name` on `emu`, in `sandbox`, with N bench pipelines."""

    def __init__(self, tmp: pathlib.Path, emu: EmulatorProcess, sandbox: str, pipelines: int = 1,
                 name: str = "rel", config: dict[str, str] | None = None, secret: str = DEV_CLIENT_SECRET,
                 client_id: str = dev.DEV_CLIENT_ID, env: dict[str, str] | None = None,
                 share: "Deployment | None" = None):
        """`share`: another Deployment whose project copy and backend this stack joins."""
        self.cli = str(require_cli() / "pulumi")
        if share is None:
            self.dir = copy_real_project(tmp / "project")
            self.env = {**os.environ, **engine_env(tmp / "state", env)}
        else:
            self.dir, self.env = share.dir, {**share.env, **(env or {})}
        self.emu, self.sandbox, self.name = emu, sandbox, name
        self.write_spec(pipelines)
        self.run("stack", "init", name).ok()
        settings = {"aep:endpoint": emu.base_url, "aep:clientId": client_id, "aep:orgId": dev.DEV_ORG_ID,
                    "aep:sandbox": sandbox, "aep:tenantId": dev.TENANT_ID,
                    "aep-pipelines:specFile": "spec.yaml",
                    # Faults and crashes need room to retry; the backoff stays short so tests stay fast.
                    "aep:retryBaseDelay": "0.05", "aep:retryBudget": "30", **(config or {})}
        args = [f"--plaintext={k}={v}" for k, v in settings.items()]
        if secret:
            args.append(f"--secret=aep:clientSecret={secret}")
        self.run("config", "set-all", *args).ok()

    def write_spec(self, pipelines: int) -> None:
        self.pipelines = pipelines
        (self.dir / "spec.yaml").write_text(yaml.safe_dump(spec(pipelines), sort_keys=False))

    # -- the CLI ------------------------------------------------------------------------------------

    def command(self, *args: str) -> list[str]:
        stack = [] if args[:2] == ("stack", "init") else ["--stack", self.name]
        return [self.cli, *args, *stack, "--non-interactive", "--color", "never"]

    def run(self, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> Run:
        t0 = time.monotonic()
        p = subprocess.run(self.command(*args), cwd=self.dir, env={**self.env, **(env or {})},
                           capture_output=True, text=True, timeout=timeout)
        return Run(args, p.returncode, p.stdout, p.stderr, time.monotonic() - t0)

    def start(self, *args: str, stderr_path: pathlib.Path | None = None) -> subprocess.Popen:
        """The command in its own process group, marked so that kill_run finds all it starts.

        The mark (RUN_VAR, unique to this start) is inherited by the CLI's language host, the
        program and the provider plugins, which the CLI starts in process groups of their own.
        """
        err = open(stderr_path, "w") if stderr_path else subprocess.DEVNULL
        mark = uuid.uuid4().hex
        proc = subprocess.Popen(self.command(*args), cwd=self.dir, env={**self.env, RUN_VAR: mark},
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        proc.run_mark = mark  # type: ignore[attr-defined]
        return proc

    def up(self, *extra: str) -> Run:
        return self.run("up", "--yes", "--skip-preview", *extra)

    def export(self) -> dict[str, Any]:
        r = self.run("stack", "export").ok()
        return json.loads(r.stdout)

    def resources(self) -> list[dict[str, Any]]:
        return self.export()["deployment"].get("resources") or []

    # -- the emulator's view ------------------------------------------------------------------------

    def objects(self, kind: str) -> list[dict[str, Any]]:
        return self.emu.admin("GET", f"objects/{kind}", params={"org": dev.DEV_ORG_ID, "sandbox": self.sandbox})

    def inventory(self) -> dict[str, list[dict[str, Any]]]:
        return {k: self.objects(k) for k in KINDS}

    def assert_converged(self) -> dict[str, int]:
        """Exactly one object per pipeline of every kind, no two of one name, each one in the state.

        Returns the counts. Orphans (in AEP, not in state) and duplicates both fail here.
        """
        inv = self.inventory()
        counts = {k: len(v) for k, v in inv.items()}
        assert counts == {k: self.pipelines for k in KINDS}, f"expected {self.pipelines} of each kind: {counts}"
        for kind, items in inv.items():
            names = [_object_name(kind, i) for i in items]
            assert len(set(names)) == len(names), f"duplicate {kind} names: {sorted(names)}"
        state_ids = {r.get("id") for r in self.resources() if r.get("id")}
        for kind in ("dataset", "sourceConnection", "targetConnection", "mappingSet", "flow"):
            stray = [i for i in inv[kind] if _object_id(kind, i) not in state_ids]
            assert not stray, f"{kind} objects in AEP but not in the state (orphans): {stray}"
        schemas = {r["outputs"].get("schema_id") for r in self.resources() if r["type"].endswith(":XdmSchema")}
        assert {i.get("$id") for i in inv["schema"]} == schemas, "schemas in AEP and in the state differ"
        return counts

    def api_calls(self) -> dict[str, Any]:
        m = self.emu.metrics()
        ims = m["requests"].get(IMS, 0)
        return {"reads": m["reads"], "writes": m["writes"] - ims, "ims": ims, "total": m["total"]}


def _object_name(kind: str, item: dict[str, Any]) -> str:
    # A mapping set is stored with all its versions; the name is the latest version's.
    doc = (item.get("versions") or [{}])[-1] if kind == "mappingSet" else item
    return str(doc.get(NAME_KEY[kind]))


def _object_id(kind: str, item: dict[str, Any]) -> Any:
    return item.get("id") or item.get("@id") or item.get("$id")


def kill_run(proc: subprocess.Popen) -> dict[int, dict[str, str]]:
    """SIGKILL a command started by Deployment.start and everything it started; returns what was killed.

    Its process group holds the CLI, but the CLI starts its language host and each provider
    plugin in a group of their own, and a SIGKILLed CLI cannot stop them: they would run on,
    re-parented to init. They all carry the run's mark, so they are found by it.
    """
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(30)
    return kill_marked(RUN_VAR, proc.run_mark)  # type: ignore[attr-defined]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ---------------------------------------------------------------------------------------------
# Recovery after `pulumi up` was killed (docs/reliability.md, "Recovering from a killed run")
# ---------------------------------------------------------------------------------------------


def _finder(api, kind: str, sandbox: str, name: str) -> list[str]:
    """Ids of the AEP objects of this resource type that carry `name`: the real API's name lookups."""
    if kind == "XdmSchema":
        return [s["$id"] for s in api.find_schemas(sandbox, name)]
    if kind == "Dataset":
        return list(api.find_datasets(sandbox, name))
    finder = {"SourceConnection": api.find_source_connections, "TargetConnection": api.find_target_connections,
              "Dataflow": api.find_flows, "MappingSet": api.find_mapping_sets,
              "BaseConnection": api.find_base_connections}[kind]
    return [i["id"] for i in finder(sandbox, name)]


def _delete(api, kind: str, sandbox: str, id_: str) -> None:
    if kind == "XdmSchema":
        api.delete_schema(sandbox, id_)
        return
    {"Dataset": api.delete_dataset, "SourceConnection": api.delete_source_connection,
     "TargetConnection": api.delete_target_connection, "Dataflow": api.delete_flow,
     "MappingSet": api.delete_mapping_set, "BaseConnection": api.delete_base_connection}[kind](sandbox, id_)


def recover_after_crash(d: Deployment) -> dict[str, Any]:
    """The documented recovery, step by step; returns what each step found.

    A create that was in flight when `pulumi up` died is a "pending create" in the state: AEP
    may have made the object, but its id never reached the state. Nothing can have been built
    on such an object yet (a dependant starts only after its parent's create returned), so it
    is deleted, and the final `up` makes it again. (`pulumi refresh --import-pending-creates`
    would adopt it instead, but for dynamic providers it silently drops the resource.)
    """
    from providers.client import AEPClient, AEPSettings, Secret  # noqa: PLC0415

    out: dict[str, Any] = {}
    # 1. The killed run left its lock behind: the next run is refused, naming the way out.
    refused = d.up()
    assert refused.rc != 0 and "locked" in refused.output, refused.output[-3000:]
    out["refused"] = next(line.strip() for line in refused.output.splitlines() if "locked" in line)
    # 2. `pulumi cancel` removes a DIY backend's stale lock.
    d.run("cancel", "--yes").ok()
    # 3. Pending creates: find each by its name in AEP and delete what the dead run made.
    pending = [op for op in d.export()["deployment"].get("pending_operations") or [] if op["type"] == "creating"]
    out["pending_creates"] = len(pending)
    api = AEPClient(AEPSettings(client_id=dev.DEV_CLIENT_ID, client_secret=Secret(DEV_CLIENT_SECRET),
                                org_id=dev.DEV_ORG_ID, endpoint=d.emu.base_url,
                                ims_url=d.emu.base_url + "/ims/token/v3"))
    out["orphans_deleted"], out["never_created"] = [], []
    for op in pending:
        res = op["resource"]
        kind = res["type"].rsplit(":", 1)[-1]
        name = res["inputs"].get("title" if kind == "XdmSchema" else "name")
        sandbox = res["inputs"]["sandbox"]
        found = _finder(api, kind, sandbox, name)
        # An XdmSchema's field group stays: once its schema is gone no schema uses it, and the
        # final `up` takes it over instead of failing on its title.
        for id_ in found:
            _delete(api, kind, sandbox, id_)
            out["orphans_deleted"].append(kind)
        if not found:
            out["never_created"].append(kind)
    # 4. Drop the pending creates from the state, and re-read everything else.
    d.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates").ok()
    # 5. `up` makes what is missing.
    d.emu.reset_metrics()
    r = d.up().ok()
    out["final_up_seconds"] = round(r.seconds, 1)
    out["field_groups_reused"] = d.emu.metrics()["requests"].get(
        "PUT /data/foundation/schemaregistry/tenant/fieldgroups/{fg_id:path}", 0)
    return out
