"""One dynamic-provider process serves more than the SDK's 4 RPCs at once
(providers/rpc_workers.py), through the real engine, against a real emulator with latency:
the emulator's own count of requests in flight is the measure."""

from __future__ import annotations

import pytest

from pipelines import shards
from providers import rpc_workers

from .helpers import Project, unique_sandbox

pytestmark = pytest.mark.engine

NAMES = ("w1", "w2", "w3", "w4")


def spec() -> dict:
    return {"pipelines": [{"name": n, "source": {"kind": "pendo", "name": f"{n} source"},
                           "schema": {"title": f"{n} events"}, "dataset": {"name": f"{n} events"},
                           "mapping_set": {"name": f"{n}-mapping"}, "flow": {"name": f"{n} flow"}}
                          for n in NAMES]}


def test_one_provider_process_makes_more_than_four_calls_at_once(tmp_path, make_emulator):
    # 200 ms a call: 4 pipelines start with 8 independent creates (4 field groups, 4 source
    # connections), which overlap only if the provider runs more than 4 RPCs at once.
    emu = make_emulator("--latency-ms", "200")
    project = Project(tmp_path, emu)
    sandbox = unique_sandbox("pipe-rpc-workers")
    st = project.stack("wide", sandbox, spec_file=project.write_spec("wide.yaml", spec()))
    try:
        emu.reset_metrics()
        project.up(st, parallel=shards.parallel_for(0))
        state = st.export_stack().deployment["resources"]
        providers = [r["urn"] for r in state if r["type"] == "pulumi:providers:pulumi-python"]
        assert len(providers) == 1 and providers[0].split("::")[-1] == "default", providers  # one process
        in_flight = emu.metrics()["max_in_flight"]
        assert in_flight > rpc_workers.SDK_WORKERS, in_flight
    finally:
        st.destroy(on_output=lambda _l: None)
    assert project.managed_objects(sandbox) == {}
