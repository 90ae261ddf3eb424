"""Crashes: the emulator SIGKILLed mid-`up`, and `pulumi up` itself SIGKILLed mid-run.

Both end the same way: one more `up` (after the documented recovery, for the second) leaves
exactly the declared objects, nothing lost and nothing duplicated (docs/reliability.md).
"""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import marked_processes

from .support import RUN_VAR, Deployment, kill_run, recover_after_crash, wait_for

pytestmark = [pytest.mark.engine, pytest.mark.slow]

PIPELINES = 6


def _total(d: Deployment) -> int:
    return sum(len(v) for v in d.inventory().values())


def test_emulator_sigkilled_mid_up_then_up_again_converges(tmp_path, make_emulator, figures):
    emu = make_emulator()
    # A short retry budget, so the interrupted `up` gives up soon after the emulator dies.
    d = Deployment(tmp_path, emu, "emukill", pipelines=PIPELINES, config={"aep:retryBudget": "4"})
    emu.set_faults({"latency_ms": 50})
    proc = d.start("up", "--yes", "--skip-preview")
    wait_for(lambda: _total(d) >= 2 * PIPELINES, 120, "the first objects")
    before = _total(d)
    emu.kill()
    rc = proc.wait(180)
    figures["objects_when_killed"] = before
    figures["interrupted_up_rc"] = rc

    emu.start()  # same port, same data directory: every acknowledged write survived
    r = d.up()
    figures["recovery_up_seconds"] = round(r.seconds, 1)
    figures["recovery_up_rc"] = r.rc
    # In most runs the kill lands between some XdmSchema's two POSTs and leaves its field group
    # behind: this `up` must take that group over, not fail on its title.
    figures["field_groups_reused"] = emu.metrics()["requests"].get(
        "PUT /data/foundation/schemaregistry/tenant/fieldgroups/{fg_id:path}", 0)
    r.ok()
    figures["objects"] = d.assert_converged()
    assert d.run("preview", "--expect-no-changes").rc == 0


def test_pulumi_up_sigkilled_mid_run_recovers_through_the_documented_path(tmp_path, make_emulator, figures):
    emu = make_emulator()
    d = Deployment(tmp_path, emu, "clikill", pipelines=PIPELINES)
    # Slow calls, so that creates are in flight at the moment of the kill.
    emu.set_faults({"latency_ms": 150})
    proc = d.start("up", "--yes", "--skip-preview", stderr_path=tmp_path / "killed-up.err")
    wait_for(lambda: _total(d) >= 2 * PIPELINES, 120, "the first objects")
    assert proc.poll() is None, "the run ended before it could be killed: " + (tmp_path / "killed-up.err").read_text()
    killed = kill_run(proc)  # the CLI, the language host, the program and the provider process
    # The CLI's plugins run in process groups of their own: killing the CLI's group alone left them
    # running. They are gone now, and were found by the run's mark (docs/reliability.md says how).
    assert any("pulumi-resource-pulumi-python" in p["cmd"] or "pulumi.dynamic" in p["cmd"] for p in killed.values()), \
        f"expected the dynamic provider among the killed processes: {killed}"
    assert not marked_processes(RUN_VAR, proc.run_mark)
    figures["processes_killed"] = sorted(" ".join(os.path.basename(w) for w in p["cmd"].split()[:3])
                                         for p in killed.values())
    time.sleep(1)  # requests already in the emulator finish (and commit) without anyone to answer
    figures["objects_when_killed"] = _total(d)
    emu.set_faults({})

    figures.update(recover_after_crash(d))
    figures["objects"] = d.assert_converged()
    assert d.run("preview", "--refresh", "--expect-no-changes").rc == 0


def test_schema_create_interrupted_between_its_two_posts_can_be_retried(tmp_path, make_emulator):
    """The deterministic form of what SIGKILLing the emulator mid-`up` used to hit about half the time."""
    from providers import XdmSchemaProvider  # noqa: PLC0415
    from tests.providers.support import FIELDS, SR, TENANT, Harness, route  # noqa: PLC0415

    emu = make_emulator()
    h = Harness(emu, "interrupted", retryBudget="0.5")
    p = h.provider(XdmSchemaProvider)
    inputs = h.check(p, {"title": "interrupted events", "tenant_id": TENANT, "fields": FIELDS})
    # AEP goes away right after the field group is made: the schema POST and the cleanup both fail.
    emu.set_faults({"rules": [{"fault": 503, "probability": 1.0,
                               "route": r"^(POST /data/foundation/schemaregistry/tenant/schemas"
                                        r"|DELETE /data/foundation/schemaregistry/tenant/fieldgroups)"}]})
    with pytest.raises(Exception):
        p.create(inputs)
    emu.clear_faults()
    (orphan,) = h.emu.admin("GET", f"objects/fieldGroup?org={h.config['aep:orgId']}&sandbox={h.sandbox}")

    # AEP is back: `pulumi up` calls create again with the same inputs.
    h.reset()
    created = p.create(inputs)
    # The field-group POST is refused on its title; the group is found by title, no schema
    # uses it, so the declared definition is PUT onto it and the schema is made with it.
    assert h.calls() == {route("POST", SR, "/tenant/fieldgroups"): 1, route("GET", SR, "/{container}/fieldgroups"): 1,
                         route("GET", SR, "/{container}/schemas"): 1,
                         route("PUT", SR, "/tenant/fieldgroups/{fg_id:path}"): 1,
                         route("POST", SR, "/tenant/schemas"): 1}
    assert created.outs["field_group_id"] == orphan["$id"]
    assert created.outs["field_group_alt_id"] == orphan["meta:altId"]
    groups = h.emu.admin("GET", f"objects/fieldGroup?org={h.config['aep:orgId']}&sandbox={h.sandbox}")
    assert [g["$id"] for g in groups] == [orphan["$id"]]
    read = p.read(created.id, created.outs)
    assert p.diff(created.id, read.outs, inputs).changes is False
