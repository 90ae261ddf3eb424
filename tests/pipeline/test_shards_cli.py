"""pipelines.cli with provider shards: the engine's --parallel, and `drift` on a sharded stack."""

from __future__ import annotations

import json
import subprocess

import pytest

from pipelines import cli, drift, shards, workspace


@pytest.fixture
def stack_with(monkeypatch):
    monkeypatch.delenv("PULUMI_PARALLEL", raising=False)
    monkeypatch.setattr(shards, "default_engine_parallel", lambda: 8)
    # The SDK's 4-worker provider process (the wide pool's --parallel: test_shards_auto.py).
    monkeypatch.setattr(shards, "wide_pool", lambda: False)

    def set_config(**config):
        monkeypatch.setattr(workspace, "stack_config", lambda _stack: config)
    return set_config


def test_the_cli_passes_parallel_for_a_sharded_stack(stack_with, monkeypatch):
    stack_with()
    assert workspace.engine_args("dev", ["--diff"]) == ["--diff"]
    stack_with(**{"aep-pipelines:providerShards": "0"})
    assert workspace.engine_args("dev", []) == []
    stack_with(**{"aep-pipelines:providerShards": "4"})
    assert workspace.engine_args("dev", ["--diff"]) == ["--diff", "--parallel", "20"]
    stack_with(**{"aep-pipelines:providerShards": 2})  # an unquoted YAML number
    assert workspace.engine_args("dev", []) == ["--parallel", "12"]
    # The user's own choice wins, on the command line or in the environment.
    assert workspace.engine_args("dev", ["--parallel", "3"]) == ["--parallel", "3"]
    assert workspace.engine_args("dev", ["-p", "3"]) == ["-p", "3"]
    assert workspace.engine_args("dev", ["--parallel=3"]) == ["--parallel=3"]
    monkeypatch.setenv("PULUMI_PARALLEL", "6")
    assert workspace.engine_args("dev", []) == []


def test_the_cli_refuses_a_bad_shard_count_before_running_pulumi(stack_with):
    stack_with(**{"aep-pipelines:providerShards": "lots"})
    with pytest.raises(cli.CliError, match=r"providerShards must be a whole number .* \(in stacks/Pulumi.dev.yaml\)"):
        workspace.engine_args("dev", [])


SHARD_URN = "urn:pulumi:prod::aep-pipelines::pulumi:providers:pulumi-python::aep-shard-{}"
FLOW_URN = "urn:pulumi:prod::aep-pipelines::aep-pipelines:index:PendoPipeline$pulumi-python:dynamic/aep:Dataflow::f"


def _setting_changed_report() -> dict:
    # What `pulumi preview --refresh --json` plans after `pulumi config set aep:retryBudget 11` on a
    # sharded stack: each shard provider is updated (its inputs hold the setting), AEP is untouched.
    step = {"op": "update", "oldState": {"inputs": {"aep:retryBudget": "10"}},
            "newState": {"inputs": {"aep:retryBudget": "11"}}}
    return {"steps": [{**step, "urn": SHARD_URN.format(0)}, {**step, "urn": SHARD_URN.format(1)},
                      {"op": "refresh", "urn": FLOW_URN}, {"op": "same", "urn": FLOW_URN}]}


def test_a_changed_setting_on_the_shard_providers_is_not_drift(stack_with, monkeypatch, capsys):
    report = _setting_changed_report()
    assert drift.changes(report) == []
    assert drift.provider_updates(report) == ["aep-shard-0", "aep-shard-1"]

    # `make drift`: --expect-no-changes fails on the provider updates; the CLI says what it is.
    stack_with(**{"aep-pipelines:providerShards": "2"})
    monkeypatch.setattr(cli, "ensure_emulator", lambda _stack: None)
    monkeypatch.setattr(cli, "select_stack", lambda _stack, create: None)
    monkeypatch.setattr(workspace, "pulumi", lambda *_a, **_k: subprocess.CompletedProcess(
        [], 7, json.dumps(report), "error: no changes were expected for preview but changes were proposed"))
    assert cli.main(["drift", "--stack", "prod"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("No drift")
    assert "no AEP object drifted, but the provider settings (aep:*, aep-pipelines:providerShards) changed" in out.err
    assert "aep-shard-0, aep-shard-1 would change" in out.err
    assert "make up STACK=prod" in out.err
