"""The guardrails policy pack (policies/) through the real engine, against a real emulator.

Every case is a small program on the project's providers (tests/policies/program/cases.py)
previewed with `--policy-pack policies`: the policy pack runs through the language host's
RunPlugin (the project's fallback host here). For each policy a violating program trips it
and nothing else, and a passing program trips nothing. Mandatory violations fail the
preview, and `pulumi up` (which previews first, as `make up` does) stops with no AEP write;
an advisory one is reported and the operation goes on.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess

import pytest
from pulumi import automation as auto

from emulator import config as dev
from emulator.process import EmulatorProcess
from tests.pipeline.helpers import IMS, Project, unique_sandbox
from tests.support.credentials import DEV_CLIENT_SECRET
from tests.support.engine import ROOT, copy_project, engine_env, stack

pytestmark = pytest.mark.engine

PROGRAM = pathlib.Path(__file__).parent / "program"
PACK = ROOT / "policies"
NAMING = {"naming": {"enforcementLevel": "advisory", "pattern": "^ACME ", "description": "the team prefix 'ACME '"}}

# policy, level, violating case, passing case, the resource the violation names
CASES = [
    ("no-plaintext-credentials", "mandatory", "credentials-bad", "credentials-good", "events-account"),
    ("sandbox-of-the-stack", "mandatory", "sandbox-bad", "sandbox-good", "events-schema"),
    ("protect-production-data", "mandatory", "protect-bad", "protect-good", "events-dataset"),
    ("enabled-flow-has-mapping", "mandatory", "flow-bad", "flow-good", "events-flow"),
    ("naming", "advisory", "naming-bad", "naming-good", "events-schema"),
    ("identity-in-production", "advisory", "identity-bad", "identity-good", "events-mapping"),
]


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    """A private emulator: its metrics count this module's calls alone."""
    e = EmulatorProcess(data_dir=str(tmp_path_factory.mktemp("policy-emulator"))).start()
    yield e
    e.stop()


class Run:
    """One case program in a stack of its own (private backend), with the guardrails."""

    def __init__(self, tmp: pathlib.Path, emu: EmulatorProcess, case: str, stack_name: str = "prod",
                 secret_client: bool = True, policy_config: dict | None = None):
        self.dir = copy_project(PROGRAM, tmp / "program")
        self.state, self.emu, self.events = tmp / "state", emu, []
        self.sandbox = unique_sandbox(case)
        self.config_file = None
        if policy_config:
            self.config_file = tmp / "policy-config.json"
            self.config_file.write_text(json.dumps(policy_config))
        self.st = stack(self.dir, stack_name, self.state, config={
            "policy-cases:case": case, "aep:endpoint": emu.base_url, "aep:clientId": dev.DEV_CLIENT_ID,
            "aep:clientSecret": auto.ConfigValue(DEV_CLIENT_SECRET, secret=secret_client),
            "aep:orgId": dev.DEV_ORG_ID, "aep:sandbox": self.sandbox, "aep:tenantId": dev.TENANT_ID,
            "aep:retryBaseDelay": "0.01",
            # A stack on the local emulator holds no data worth protecting unless it says so:
            # these stand for real sandboxes.
            **({"aep-pipelines:protectData": "true"} if stack_name != "dev" else {})})

    def pack_args(self) -> dict:
        return {"policy_packs": [str(PACK)],
                "policy_pack_configs": [str(self.config_file)] if self.config_file else None}

    def preview(self) -> tuple[bool, list]:
        """(did the preview succeed, the policy events as (policy, level, resource name, message))."""
        self.events = []

        def on_event(e):
            if e.policy_event:
                p = e.policy_event
                self.events.append((p.policy_name, p.enforcement_level, (p.resource_urn or "").split("::")[-1],
                                    p.message))
        try:
            self.st.preview(on_event=on_event, on_output=lambda _l: None, **self.pack_args())
            return True, self.events
        except auto.CommandError:
            return False, self.events

    def up_as_make_does(self) -> subprocess.CompletedProcess:
        """`pulumi up --yes` with the pack: it previews before it updates, as `make up` runs it."""
        args = ["pulumi", "up", "--yes", "--stack", self.st.name, "--policy-pack", str(PACK), "--non-interactive"]
        if self.config_file:
            args += ["--policy-pack-config", str(self.config_file)]
        return subprocess.run(args, cwd=self.dir, env=engine_env(self.state), capture_output=True, text=True,
                              timeout=600)

    def aep_writes(self) -> int:
        m = self.emu.metrics()
        return m["writes"] - m["requests"].get(IMS, 0)


def violations(events: list) -> set[tuple[str, str, str]]:
    return {(policy, level, name) for policy, level, name, _msg in events}


@pytest.mark.parametrize("policy,level,bad,good,resource", CASES, ids=[c[0] for c in CASES])
def test_the_violating_program_trips_the_policy_and_only_it(tmp_path, emu, policy, level, bad, good, resource):
    run = Run(tmp_path, emu, bad, policy_config=NAMING if policy == "naming" else None)
    emu.reset_metrics()
    ok, events = run.preview()
    assert violations(events) == {(policy, level, resource)}, events
    message = events[0][3]
    assert f"«{resource}»" in message and "Fix:" in message, message
    assert ok == (level == "advisory"), "a mandatory violation fails the preview, an advisory one does not"
    assert run.aep_writes() == 0


@pytest.mark.parametrize("policy,level,bad,good,resource", CASES, ids=[c[0] for c in CASES])
def test_the_passing_program_trips_nothing(tmp_path, emu, policy, level, bad, good, resource):
    run = Run(tmp_path, emu, good, policy_config=NAMING if policy == "naming" else None)
    ok, events = run.preview()
    assert ok and events == [], events


@pytest.mark.parametrize("case", ["protect-good-protected", "protect-good-profile-schema", "flow-good-xdm-source"])
def test_more_ways_to_pass(tmp_path, emu, case):
    ok, events = Run(tmp_path, emu, case).preview()
    assert ok and events == [], events


def test_a_profile_schema_in_production_must_be_kept(tmp_path, emu):
    ok, events = Run(tmp_path, emu, "protect-bad-profile-schema").preview()
    assert not ok and violations(events) == {("protect-production-data", "mandatory", "events-schema")}, events
    assert "enabled for Profile but neither protected nor retained on delete" in events[0][3]


def test_a_plaintext_client_secret_in_the_stack_config_is_refused(tmp_path, emu):
    run = Run(tmp_path, emu, "sandbox-good", secret_client=False)
    ok, events = run.preview()
    assert not ok and violations(events) == {("no-plaintext-credentials", "mandatory", "events-schema")}, events
    assert "aep:clientSecret as plaintext config" in events[0][3] and "pulumi config set --secret" in events[0][3]
    assert DEV_CLIENT_SECRET not in events[0][3], "the secret itself is never reported"


def test_datasets_of_a_dev_stack_need_no_protection(tmp_path, emu):
    ok, events = Run(tmp_path, emu, "protect-bad", stack_name="dev").preview()
    assert ok and events == [], events


@pytest.mark.parametrize("case", ["credentials-bad", "sandbox-bad", "protect-bad", "flow-bad"])
def test_a_mandatory_violation_stops_up_before_any_aep_write(tmp_path, emu, case):
    run = Run(tmp_path, emu, case)
    emu.reset_metrics()
    proc = run.up_as_make_does()
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "[mandatory]" in proc.stdout, proc.stdout[-3000:]
    assert run.aep_writes() == 0, emu.metrics()


def test_an_advisory_violation_is_printed_and_up_goes_on(tmp_path, emu):
    run = Run(tmp_path, emu, "naming-bad", policy_config=NAMING)
    emu.reset_metrics()
    proc = run.up_as_make_does()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "[advisory]" in proc.stdout and "naming" in proc.stdout and "the team prefix 'ACME '" in proc.stdout
    assert run.aep_writes() > 0 and re.search(r"\+ \d+ created", proc.stdout), proc.stdout[-2000:]


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_projects_own_stacks_pass_the_guardrails(tmp_path, emu, name):
    # The repository's pipelines.yaml and stack files, with the stack's policy config, as make preview runs them.
    project = Project(tmp_path, emu)
    if name == "dev":
        # Its committed file is encrypted for the dev passphrase; the test sets the same settings.
        (project.dir / "stacks" / "Pulumi.dev.yaml").unlink()
    st = project.stack(name, unique_sandbox(f"own-{name}"), spec_file="pipelines.yaml")
    config = [str(PACK / "config" / f"{name}.json")]
    events: list = []
    st.preview(policy_packs=[str(PACK)], policy_pack_configs=config, on_output=lambda _l: None,
               on_event=lambda e: events.append(e.policy_event.policy_name) if e.policy_event else None)
    assert events == []
    if name == "prod":
        # stacks/Pulumi.prod.yaml retains its objects; without that, and with the protection
        # turned off, a dataset of a real sandbox is refused (a preview makes no AEP call).
        st.set_config("aep-pipelines:retainOnDelete", auto.ConfigValue("false"))
        st.set_config("aep-pipelines:protectData", auto.ConfigValue("false"))
        st.set_config("aep:endpoint", auto.ConfigValue("https://platform.adobe.io"))
        with pytest.raises(auto.CommandError, match=r"protect-production-data"):
            st.preview(policy_packs=[str(PACK)], policy_pack_configs=config, on_output=lambda _l: None)
