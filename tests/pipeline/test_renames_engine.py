"""Renaming a pipeline, and specs that `up` would refuse half way, through the real engine.

* `previous_names` makes a rename a move of Pulumi state: no AEP call on `up`, nothing
  replaced, the same ids and webhook URL.
* A rename without it, whose new schema would take the title the old one still holds,
  is refused by `make preview` and `make up` (the CLI reads the stack's state) before any
  AEP call, with the fix spelled out.
* Titles that differ only in letter case, and duplicate YAML keys, fail the preview of the
  program itself (Automation API), with no AEP call.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pulumi import automation as auto

from tests.support.engine import TEST_PASSPHRASE, engine_env, require_cli

from .helpers import Project, copy_real_project, outputs, unique_sandbox

pytestmark = pytest.mark.engine

IDS = ("schemaId", "datasetId", "sourceConnectionId", "targetConnectionId", "mappingSetId", "flowId", "webhookUrl")


@pytest.fixture(scope="module")
def project(tmp_path_factory, emulator):
    return Project(tmp_path_factory.mktemp("renames"), emulator)


def _cli(project: Project, stack: str, *args: str) -> subprocess.CompletedProcess:
    """`make <command> STACK=<stack>` in the project copy, on its test backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AEP_"))}
    env.update(engine_env(project.state))
    env["PULUMI_CONFIG_PASSPHRASE"] = TEST_PASSPHRASE
    env["YES"] = "1"  # as CI runs it: no terminal to confirm on
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args, "--stack", stack], cwd=project.dir, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_a_rename_with_previous_names_changes_no_aep_object(project):
    sandbox = unique_sandbox("rename")
    spec = project.default_spec()
    st = project.stack("rename", sandbox, spec_file=project.write_spec("rename.yaml", spec))
    before = outputs(project.up(st)[0])

    pipe = spec["pipelines"][0]
    pipe["name"], pipe["previous_names"] = "pendo-zero", ["pendo"]
    # The mapping set's and target connection's names default from the pipeline's name: with
    # previous_names they keep deriving from the first one, so they stay as they are.
    project.write_spec("rename.yaml", spec)
    project.emu.reset_metrics()
    pre, plan = project.preview(st)
    assert plan.ops == {}, plan.ops  # only same steps: the aliases match every old resource
    assert project.api_calls() == {"reads": 0, "writes": 0, "ims": 0, "requests": {}}

    project.emu.reset_metrics()
    up, plan = project.up(st)
    calls = project.api_calls()
    after = outputs(up)
    assert calls == {"reads": 0, "writes": 0, "ims": 0, "requests": {}}, calls
    assert up.summary.resource_changes == {"same": 8}, up.summary.resource_changes
    assert plan.ops == {}, plan.ops
    assert {k: after["pipelines"]["pendo-zero"][k] for k in IDS} == {k: before[k] for k in IDS}
    assert "pendo" not in after["pipelines"]
    assert project.managed_objects(sandbox) == {"schema": 1, "fieldGroup": 1, "dataset": 1, "sourceConnection": 1,
                                                "targetConnection": 1, "mappingSet": 1, "flow": 1}
    urns = [r["urn"] for r in st.export_stack().deployment["resources"]]
    assert any(u.endswith("::pendo-zero-schema") for u in urns) and not any(u.endswith("::pendo-schema")
                                                                             for u in urns), urns
    # previous_names stays in the spec: the next runs find the moved state and change nothing.
    _, plan = project.preview(st)
    assert plan.ops == {}, plan.ops
    st.destroy(on_output=lambda _l: None)
    assert project.managed_objects(sandbox) == {}


def test_a_rename_without_previous_names_is_refused_before_any_call(project):
    sandbox = unique_sandbox("rename-no-alias")
    spec = project.default_spec()
    st = project.stack("noalias", sandbox, spec_file=project.write_spec("noalias.yaml", spec))
    project.up(st)
    spec["pipelines"][0]["name"] = "pendo-zero"
    project.write_spec("noalias.yaml", spec)

    for command in ("preview", "up"):
        project.emu.reset_metrics()
        r = _cli(project, "noalias", command)
        calls = project.emu.metrics()
        assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
        assert calls["total"] == 0, (command, calls)  # not even a token: pulumi never ran
        err = r.stderr
        assert "pipelines[0].schema.title" in err and "'Pendo events'" in err and "pipeline 'pendo'" in err, err
        assert "add `previous_names: [pendo]` to pipelines[0]" in err, err
        assert "XDM-3005-400" in err and "Traceback" not in err, err
    assert project.managed_objects(sandbox)["sourceConnection"] == 1  # no second source connection

    # The fix the message gives: the same commands then pass, and `up` changes nothing in AEP.
    spec["pipelines"][0]["previous_names"] = ["pendo"]
    project.write_spec("noalias.yaml", spec)
    project.emu.reset_metrics()
    r = _cli(project, "noalias", "up", "--no-refresh")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "8 unchanged" in r.stdout and "Pipeline 'pendo-zero'" in r.stdout, r.stdout
    assert project.emu.metrics()["total"] == 0
    st.destroy(on_output=lambda _l: None)


def test_titles_that_differ_only_in_case_fail_the_preview_with_no_call(project):
    spec = project.default_spec()
    second = {**spec["pipelines"][0], "name": "pendo-eu", "schema": {**spec["pipelines"][0]["schema"],
                                                                     "title": "PENDO EVENTS"},
              "dataset": {"name": "Pendo EU events"}, "flow": {"name": "Pendo EU flow"}}
    spec["pipelines"].append(second)
    st = project.stack("case", unique_sandbox("case"), spec_file=project.write_spec("case.yaml", spec))
    project.emu.reset_metrics()
    with pytest.raises(auto.errors.CommandError) as err:
        st.preview(on_output=lambda _l: None)
    message = str(err.value)
    assert "pipelines[1].schema.title: 'PENDO EVENTS' is also the schema title of pipelines[0] as 'Pendo events'" \
        in message, message
    assert "docs/emulator.md, Unique titles" in message and "Traceback" not in message
    assert project.emu.metrics()["total"] == 0


def test_a_duplicate_yaml_key_fails_the_preview_naming_file_line_and_key(project):
    text = (project.dir / "pipelines.yaml").read_text().replace(
        "    flow:\n", "    flow:\n      name: First name\n", 1)
    (project.dir / "dup.yaml").write_text(text)
    line = text.splitlines().index("      name: Streaming Dataflow for Pendo") + 1
    st = project.stack("dup", unique_sandbox("dup"), spec_file="dup.yaml")
    project.emu.reset_metrics()
    with pytest.raises(auto.errors.CommandError) as err:
        st.preview(on_output=lambda _l: None)
    message = str(err.value)
    assert f"dup.yaml, line {line}: duplicate key 'name' (first at line {line - 1})" in message, message
    assert "<unicode string>" not in message and "Traceback" not in message
    assert project.emu.metrics()["total"] == 0


def test_a_rename_that_ran_without_the_cli_is_recovered_the_way_the_message_says(project):
    """A raw `pulumi up` skips the CLI's check: it stops at the schema with XDM-3005-400 after
    creating a second source connection. Adding previous_names then would not help (the new
    names exist, so the engine applies no alias); the CLI says so and gives the way back."""
    sandbox = unique_sandbox("rename-raw")
    spec = project.default_spec()
    st = project.stack("raw", sandbox, spec_file=project.write_spec("raw.yaml", spec))
    before = outputs(project.up(st)[0])
    spec["pipelines"][0]["name"] = "pendo-zero"
    project.write_spec("raw.yaml", spec)
    with pytest.raises(auto.errors.CommandError) as err:
        project.up(st)
    assert "XDM-3005-400" in str(err.value)
    assert project.managed_objects(sandbox)["sourceConnection"] == 2

    spec["pipelines"][0]["previous_names"] = ["pendo"]
    project.write_spec("raw.yaml", spec)
    project.emu.reset_metrics()
    r = _cli(project, "raw", "preview")
    assert r.returncode == 1 and project.emu.metrics()["total"] == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "the stack holds both 'pendo' and 'pendo-zero'" in r.stderr, r.stderr
    assert "Set the name back to 'pendo' and run `make up`" in r.stderr, r.stderr

    spec["pipelines"][0]["name"] = "pendo"
    del spec["pipelines"][0]["previous_names"]
    project.write_spec("raw.yaml", spec)
    r = _cli(project, "raw", "up")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert project.managed_objects(sandbox)["sourceConnection"] == 1
    spec["pipelines"][0].update(name="pendo-zero", previous_names=["pendo"])
    project.write_spec("raw.yaml", spec)
    project.emu.reset_metrics()
    r = _cli(project, "raw", "up", "--no-refresh")
    assert r.returncode == 0 and project.emu.metrics()["total"] == 0, r.stdout[-2000:] + r.stderr[-2000:]
    after = outputs(st)
    assert {k: after["pipelines"]["pendo-zero"][k] for k in IDS} == {k: before[k] for k in IDS}
    st.destroy(on_output=lambda _l: None)
    assert project.managed_objects(sandbox) == {}


def test_the_pr_preview_comment_says_why_a_rename_is_refused(tmp_path, emulator):
    """scripts/gitops preview (the PR workflow's step) runs the same check: the comment shows the
    refusal and its fix instead of a plan, and no AEP call is made."""
    project = copy_real_project(tmp_path / "project")
    dev = project / "stacks" / "Pulumi.dev.yaml"
    sandbox = unique_sandbox("pr-rename")
    dev.write_text(dev.read_text().replace("http://127.0.0.1:8765", emulator.base_url)
                   .replace("aep:sandbox: dev", f"aep:sandbox: {sandbox}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AEP_", "GITHUB_"))}
    env["PATH"] = f"{require_cli()}{os.pathsep}{env.get('PATH', '')}"

    def run(module: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", module, *args, "--stack", "dev"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300)

    spec = project / "pipelines.yaml"
    original = spec.read_text()
    up = run("pipelines.cli", "up", "--no-refresh")
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    try:
        spec.write_text(original.replace("  - name: pendo ", "  - name: pendo-zero ", 1))
        emulator.reset_metrics()
        pr = run("pipelines.gitops", "preview")
        assert pr.returncode == 1, pr.stdout[-2000:] + pr.stderr[-2000:]
        assert emulator.metrics()["total"] == 0
        body = (project / ".state" / "gitops" / "preview-dev.md").read_text()
        assert "### `dev`: preview FAILED (exit status 1)" in body, body
        assert "add `previous_names: [pendo]` to pipelines[0]" in body and "XDM-3005-400" in body, body
    finally:
        spec.write_text(original)
        down = run("pipelines.cli", "destroy")
    assert down.returncode == 0, down.stdout[-2000:] + down.stderr[-2000:]
