"""Concurrency: the backend lock turns a second `up` of one stack away; two stacks run side by side."""

from __future__ import annotations

import json

import pytest

from .support import Deployment, wait_for

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_two_ups_of_one_stack_at_once_the_lock_turns_one_away(tmp_path, make_emulator, figures):
    emu = make_emulator()
    d = Deployment(tmp_path, emu, "lock", pipelines=3)
    emu.set_faults({"latency_ms": 200})  # long enough that the two runs overlap
    first = d.start("up", "--yes", "--skip-preview", stderr_path=tmp_path / "first.err")
    # The first run holds the lock once it has begun creating.
    wait_for(lambda: emu.metrics()["writes"] > 0, 60, "the first up to start writing")
    second = d.up()
    assert first.wait(300) == 0, (tmp_path / "first.err").read_text()[-4000:]
    figures["second_rc"] = second.rc
    assert second.rc != 0, "a second concurrent `up` of the same stack must be refused"
    assert "locked" in second.output, second.output[-3000:]
    figures["refusal"] = next(line.strip() for line in second.output.splitlines() if "locked" in line)

    # The state is intact: it parses, it holds every object exactly once, and it agrees with AEP.
    json.dumps(d.export())
    figures["objects"] = d.assert_converged()
    assert d.run("preview", "--refresh", "--expect-no-changes").rc == 0


def test_two_stacks_on_two_sandboxes_in_parallel_both_succeed(tmp_path, make_emulator, figures):
    emu = make_emulator()
    a = Deployment(tmp_path, emu, "par-a", pipelines=3, name="a")
    b = Deployment(tmp_path, emu, "par-b", pipelines=3, name="b", share=a)
    emu.set_faults({"latency_ms": 20})
    pa = a.start("up", "--yes", "--skip-preview", stderr_path=tmp_path / "a.err")
    pb = b.start("up", "--yes", "--skip-preview", stderr_path=tmp_path / "b.err")
    rcs = pa.wait(300), pb.wait(300)
    figures["rcs"] = rcs
    assert rcs == (0, 0), [(tmp_path / f).read_text()[-3000:] for f in ("a.err", "b.err")]
    figures["objects"] = {"a": a.assert_converged(), "b": b.assert_converged()}
    # Same pipeline names, different sandboxes: neither stack sees (or adopts) the other's objects.
    ids_a = {r["id"] for r in a.resources() if r.get("id")}
    ids_b = {r["id"] for r in b.resources() if r.get("id")}
    assert not (ids_a & ids_b)
