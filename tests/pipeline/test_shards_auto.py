"""Provider shards chosen by default (pipelines/shards.py `auto`): none while the provider
process has the wide pool (providers/rpc_workers.py), else the stack's size sets them; the
CLI's --parallel to match; and, through the real engine, a stack growing across the old
threshold (5 -> 6 -> 5 pipelines) without replacing or touching a single existing AEP object."""

from __future__ import annotations

import pytest

from pipelines import shards, workspace

from .helpers import Project, outputs, unique_sandbox

IDS = ("schemaId", "datasetId", "sourceConnectionId", "targetConnectionId", "mappingSetId", "flowId")


def spec(count: int) -> dict:
    names = [f"auto{i}" for i in range(count)]
    return {"pipelines": [{"name": n, "source": {"kind": "pendo", "name": f"{n} source"},
                           "schema": {"title": f"{n} events"}, "dataset": {"name": f"{n} events"},
                           "mapping_set": {"name": f"{n}-mapping"}, "flow": {"name": f"{n} flow"}}
                          for n in names]}


@pytest.mark.parametrize("pipelines, expected", [(0, 0), (1, 0), (5, 0), (6, 2), (20, 2), (21, 3), (50, 5),
                                                 (100, 10), (1000, shards.AUTO_MAX)])
def test_without_the_wide_pool_the_default_follows_the_number_of_pipelines(pipelines, expected, monkeypatch):
    assert shards.auto(pipelines, wide=False) == expected
    monkeypatch.setattr(shards, "wide_pool", lambda: False)
    assert shards.auto(pipelines) == expected
    assert shards.resolve(None, pipelines) == shards.resolve("  ", pipelines) == expected


@pytest.mark.parametrize("pipelines", [1, 6, 50, 1000])
def test_with_the_wide_pool_one_process_serves_any_stack(pipelines):
    assert shards.wide_pool()  # the pinned SDK (tests/providers/test_rpc_workers.py)
    assert shards.auto(pipelines) == shards.resolve(None, pipelines) == 0
    assert shards.resolve("3", pipelines) == 3  # a stack that asks for shards still gets them


def test_the_stack_setting_overrides_the_default():
    assert shards.resolve("0", 50) == 0
    assert shards.resolve(3, 2) == 3
    with pytest.raises(shards.ShardConfigError):
        shards.resolve("many", 50)


def test_the_cli_passes_parallel_for_the_automatic_count(monkeypatch):
    monkeypatch.delenv("PULUMI_PARALLEL", raising=False)
    monkeypatch.setattr(shards, "default_engine_parallel", lambda: 8)
    inline = spec(50)["pipelines"]
    wide = ["--parallel", str(shards.PARALLEL)]
    cases = {True: (({"aep-pipelines:pipelines": inline}, wide),
                    ({"aep-pipelines:pipelines": inline[:5]}, wide),
                    ({}, wide),  # the one default pipeline
                    ({"aep-pipelines:pipelines": inline, shards.CONFIG_KEY: "0"}, wide),
                    ({"aep-pipelines:pipelines": inline[:2], shards.CONFIG_KEY: 2}, wide)),
             False: (({"aep-pipelines:pipelines": inline}, ["--parallel", "24"]),  # 5 shards
                     ({"aep-pipelines:pipelines": inline[:5]}, []),
                     ({}, []),
                     ({"aep-pipelines:pipelines": inline, shards.CONFIG_KEY: "0"}, []),
                     ({"aep-pipelines:pipelines": inline[:2], shards.CONFIG_KEY: 2}, ["--parallel", "12"]),
                     ({"aep-pipelines:specFile": "no-such-file.yaml"}, []))}
    for is_wide, rows in cases.items():
        monkeypatch.setattr(shards, "wide_pool", lambda w=is_wide: w)
        for config, expected in rows:
            monkeypatch.setattr(workspace, "stack_config", lambda _stack, c=config: c)
            assert workspace.engine_args("dev", []) == expected, (is_wide, config)
    monkeypatch.setattr(workspace, "stack_config", lambda _stack: {"aep-pipelines:specFile": "pipelines.yaml"})
    assert workspace.pipeline_count(workspace.stack_config("dev")) >= 1  # the repository's own spec file


@pytest.mark.engine
def test_growing_across_the_threshold_replaces_nothing(tmp_path, emulator):
    project = Project(tmp_path, emulator)
    sandbox = unique_sandbox("pipe-shards-auto")
    below, above = shards.AUTO_FROM - 1, shards.AUTO_FROM
    st = project.stack("auto", sandbox, spec_file=project.write_spec("auto.yaml", spec(below)))
    try:
        up, _ = project.up(st)
        created = outputs(up)["pipelines"]
        assert "default" in " ".join(r["urn"] for r in st.export_stack().deployment["resources"]
                                     if r["type"] == "pulumi:providers:pulumi-python")

        # One pipeline more: past the old threshold, still no shards with the wide pool; only
        # the new pipeline's objects are made.
        project.write_spec("auto.yaml", spec(above))
        emulator.reset_metrics()
        up, plan = project.up(st)
        new = f"auto{below}"
        # (The default provider goes once nothing uses it, as in test_shards_engine.)
        changed = {n: ops for n, ops in plan.ops.items() if not n.startswith((new, "default"))}
        assert changed == {f"aep-shard-{k}": {"create"} for k in range(shards.auto(above))}, plan.ops
        calls = project.api_calls()
        # Only the new pipeline's objects: 7 writes (schema and field group, dataset, source,
        # target, mapping set, flow) and the flow's read, as in the per-type table of the bench.
        assert calls["writes"] == 7 and calls["reads"] == 1, calls
        pipes = outputs(up)["pipelines"]
        assert {n: {k: pipes[n][k] for k in IDS} for n in created} == \
            {n: {k: p[k] for k in IDS} for n, p in created.items()}

        # And back below it: the new pipeline and the shard providers go, the rest stays.
        project.write_spec("auto.yaml", spec(below))
        emulator.reset_metrics()
        up, plan = project.up(st)
        changed = {n: ops for n, ops in plan.ops.items() if not n.startswith((new, "default"))}
        assert changed == {f"aep-shard-{k}": {"delete"} for k in range(shards.auto(above))}, plan.ops
        calls = project.api_calls()
        assert calls["writes"] == 7 and calls["reads"] == 0, calls  # the new pipeline's deletes alone
        assert {n: {k: p[k] for k in IDS} for n, p in outputs(up)["pipelines"].items()} == \
            {n: {k: p[k] for k in IDS} for n, p in created.items()}
    finally:
        st.destroy(on_output=lambda _l: None)
    assert project.managed_objects(sandbox) == {}
