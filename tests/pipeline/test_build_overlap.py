"""aep-pipelines:overlapBuild (pipelines/build_overlap.py): the setting, and, under the SDK's own
runtime with Pulumi's mocks in place of the engine, that the first pipeline's registrations
have reached the monitor before the second pipeline is built, and that building them at once
(the setting's `false`) sends none before the end. The plan and the engine's side are the same
either way: every engine test runs with the default."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from pulumi import automation as auto

from pipelines import build_overlap
from tests.support.engine import ROOT

from .helpers import Project, assert_plans_nothing, outputs, refusal, unique_sandbox


@pytest.mark.parametrize("raw, expected", [(None, True), ("", True), ("false", False), ("True", True),
                                           (False, False)])
def test_the_setting(raw, expected):
    assert build_overlap.parse(raw) is expected


def test_a_bad_setting_names_the_key_and_the_fix():
    with pytest.raises(build_overlap.OverlapBuildConfigError,
                       match="overlapBuild must be true or false.*pulumi config set aep-pipelines:overlapBuild"):
        build_overlap.parse("sometimes")


# A child process: set_mocks() is process-global. For each pipeline, how many resources the
# monitor had registered when its construction began.
SEEN = textwrap.dedent("""
    import json, sys
    import pulumi
    from pulumi.runtime.settings import set_root_resource
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    registered = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            registered.append(args.name)
            return f"id-{args.name}", dict(args.inputs)

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=True)
    set_root_resource(None)  # run_in_stack makes the stack, as the language host does

    from pipelines import build_overlap, streaming
    from pipelines.spec import load

    # A pause long enough for a whole pipeline's chain of registrations (each waits for its
    # parent's URN and its inputs' ids) on any machine; the default is shorter.
    build_overlap.PAUSE_S = 0.05
    seen = {}
    init = streaming.PendoPipeline.__init__

    def counting_init(self, name, *args, **kwargs):
        seen[name] = len(registered)
        init(self, name, *args, **kwargs)

    streaming.PendoPipeline.__init__ = counting_init
    pipes = load([{"name": "first"}, {"name": "second"}, {"name": "third"}], sandbox="dev", tenant_id="extconndev")

    def program():
        # What __main__.py does, with the setting from the command line.
        build_overlap.run(sys.argv[1] == "overlap", pipes, (), lambda built: seen.update(exported=sorted(built)))

    _sync_await(run_in_stack(program))  # the SDK's entry for a program, on its own event loop
    seen["total"] = len(registered)
    print(json.dumps(seen))
""")


def seen(mode: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", SEEN, mode], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_each_pipeline_is_registered_while_the_next_is_built():
    assert 0 < build_overlap.PAUSE_S < 0.01
    got = seen("overlap")
    assert got["exported"] == ["first", "second", "third"]
    per_pipeline = got["total"] // 3
    # The component and its six AEP objects: all of the first pipeline's, before the second begins.
    assert per_pipeline == 7
    assert got["first"] == 0
    assert got["second"] >= per_pipeline
    assert got["third"] >= 2 * per_pipeline


def test_built_at_once_nothing_leaves_before_the_end():
    """The control: without the pauses the same program registers nothing while it builds."""
    got = seen("at-once")
    assert got["exported"] == ["first", "second", "third"]
    assert got["total"] == 21
    assert got["first"] == got["second"] == got["third"] == 0


@pytest.mark.engine
def test_either_way_the_same_stack_and_a_change_of_setting_plans_nothing(tmp_path, emulator):
    project = Project(tmp_path, emulator)
    st = project.stack("overlap", unique_sandbox("pipe-overlap"), extra={build_overlap.CONFIG_KEY: "false"})
    try:
        at_once, _ = project.up(st)
        for value in ("true", "false", "true"):
            st.set_config(build_overlap.CONFIG_KEY, auto.ConfigValue(value))
            assert_plans_nothing(project, st)
        again, _ = project.up(st)
        assert again.summary.resource_changes.get("same") == at_once.summary.resource_changes.get("create")
        assert outputs(again) == outputs(at_once)
        assert ("aep-pipelines:overlapBuild must be true or false, got 'sometimes'"
                in refusal(st, build_overlap.CONFIG_KEY, "sometimes"))
    finally:
        st.destroy(on_output=lambda _l: None)
