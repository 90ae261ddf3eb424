"""Crashes: the emulator SIGKILLed mid-`up`, and `pulumi up` itself SIGKILLed mid-run.

Both end the same way: one more `up` (after the documented recovery, for the second) leaves
exactly the declared objects, nothing lost and nothing duplicated (docs/reliability.md).
"""

from __future__ import annotations

import time

import pytest

from .support import Deployment, kill_group, recover_after_crash, wait_for

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
    if r.rc != 0 and "XDM-3005-400" in r.output and "fieldgroups" in r.output:
        # About half the runs: the kill lands between XdmSchema's two POSTs (the providers bug
        # below, reported on issue 6). Anything else still fails the test.
        pytest.xfail("a field group orphaned by the kill blocks its schema's create (XDM-3005-400)")
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
    kill_group(proc)  # the CLI, the language host, the program and the provider process
    time.sleep(1)  # requests already in the emulator finish (and commit) without anyone to answer
    figures["objects_when_killed"] = _total(d)
    emu.set_faults({})

    figures.update(recover_after_crash(d))
    figures["objects"] = d.assert_converged()
    assert d.run("preview", "--refresh", "--expect-no-changes").rc == 0


@pytest.mark.xfail(strict=True, reason="providers bug (reported on issue 6): XdmSchema.create_object POSTs the field "
                   "group, then the schema; when the schema POST fails and AEP is still unreachable for the cleanup "
                   "DELETE, the field group stays, and every later create fails on its title (XDM-3005-400)")
def test_schema_create_interrupted_between_its_two_posts_can_be_retried(tmp_path, make_emulator):
    """The deterministic form of what SIGKILLing the emulator mid-`up` hits about half the time."""
    from providers import XdmSchemaProvider  # noqa: PLC0415
    from tests.providers.support import FIELDS, TENANT, Harness  # noqa: PLC0415

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
    # AEP is back: `pulumi up` calls create again with the same inputs.
    p.create(inputs)
