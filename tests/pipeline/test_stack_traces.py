"""aep-pipelines:recordStackTraces (pipelines/stack_traces.py): the setting, the SDK's private
function it replaces (these tests fail loudly when the SDK changes it), and, through the real
engine, the frames each mode keeps in the state, and a change of mode that plans nothing."""

from __future__ import annotations

import inspect
import json
import pathlib
import sys

import pytest
from pulumi import automation as auto
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

from pipelines import stack_traces

from .helpers import Project, assert_plans_nothing, refusal, unique_sandbox


@pytest.mark.parametrize("raw, expected", [(None, "project"), ("", "project"), ("project", "project"),
                                           ("true", "full"), ("False", "caller"), (False, "caller"), (True, "full")])
def test_the_setting(raw, expected):
    assert stack_traces.parse(raw) == expected


@pytest.mark.parametrize("raw", ["no", "0", "off", 2])
def test_a_bad_setting_names_the_key_and_the_fix(raw):
    with pytest.raises(stack_traces.StackTraceConfigError, match="recordStackTraces must be true, project or false"):
        stack_traces.parse(raw)


def test_the_sdk_still_has_the_private_function_we_replace():
    """If this fails, the Pulumi SDK changed how it records stack traces: revisit pipelines/stack_traces.py
    (the setting would silently stop saving anything, or break registration)."""
    fn = getattr(sdk_resource, stack_traces.SDK_FUNCTION, None)
    assert callable(fn), f"pulumi.runtime.resource.{stack_traces.SDK_FUNCTION} is gone"
    assert inspect.signature(fn).parameters == {}
    assert "traceback.extract_stack()" in inspect.getsource(fn)
    # Both call sites look the function up as a module global when a resource is registered or read,
    # so replacing the module attribute is what they call.
    for caller in (sdk_resource.register_resource, sdk_resource.read_resource):
        assert f"{stack_traces.SDK_FUNCTION}()" in inspect.getsource(caller), caller.__name__
    assert sdk_resource._get_source_position.__code__.co_varnames[0] == "stack"


class _Base:
    def __init__(self):
        # Both from the same frame, as register_resource calls the SDK's.
        self.sdk = sdk_resource._get_stack_trace()
        self.ours = stack_traces.caller_only()
        self.project = stack_traces.project_frames()


class _Middle(_Base):
    def __init__(self):
        super().__init__()


class _Concrete(_Middle):
    def __init__(self):
        super().__init__()


def _user_code():
    return _Concrete()


def test_the_replacement_keeps_the_sdks_first_frame_and_only_it():
    made = _user_code()
    assert isinstance(made.ours, source_pb2.StackTrace)
    assert len(made.sdk.frames) > 1 and len(made.ours.frames) == 1
    assert made.ours.frames[0] == made.sdk.frames[0]
    assert made.ours.frames[0].pc.uri.endswith("test_stack_traces.py")
    # The source position the engine stores is the same either way.
    assert sdk_resource._get_source_position(made.ours) == sdk_resource._get_source_position(made.sdk)


def test_the_project_mode_keeps_the_sdks_frames_in_project_files_only():
    made = _user_code()
    sdk = [(f.pc.uri, f.pc.line) for f in made.sdk.frames]
    ours = [(f.pc.uri, f.pc.line) for f in made.project.frames]
    # The tests run from the repository root: the frames under it, outside the virtualenv.
    root = pathlib.Path.cwd().as_uri() + "/"
    venv = pathlib.Path(sys.prefix).as_uri() + "/"
    expected = [sdk[0]] + [(u, n) for u, n in sdk[1:] if u.startswith(root) and not u.startswith(venv)]
    assert ours == expected and 1 < len(ours) < len(sdk), (ours, sdk)
    assert sdk_resource._get_source_position(made.project) == sdk_resource._get_source_position(made.sdk)


def test_apply_replaces_the_sdk_function_only_when_asked(monkeypatch):
    original = sdk_resource._get_stack_trace
    monkeypatch.setattr(sdk_resource, "_get_stack_trace", original)
    assert stack_traces.apply("full") is False and sdk_resource._get_stack_trace is original
    assert stack_traces.apply("caller") is True and sdk_resource._get_stack_trace is stack_traces.caller_only
    assert stack_traces.apply("project") is True and sdk_resource._get_stack_trace is stack_traces.project_frames


def frames_by_mode(st, project) -> dict[str, int]:
    project.up(st)
    state = st.export_stack().deployment["resources"]
    registered = [r for r in state if r["type"].startswith(("pulumi-python:dynamic", "aep-pipelines:"))]
    assert registered
    for r in registered:
        assert r["sourcePosition"].startswith("project://"), r
    return {r["urn"]: r["stackTrace"] for r in registered}


@pytest.mark.engine
def test_state_keeps_the_frames_of_each_mode_and_a_change_of_mode_plans_nothing(tmp_path, emulator):
    project = Project(tmp_path, emulator)
    st = project.stack("traces", unique_sandbox("pipe-traces"), spec_file="pipelines.yaml",
                       extra={stack_traces.CONFIG_KEY: "false"})
    try:
        for trace in frames_by_mode(st, project).values():
            assert len(trace) == 1
        # Each change of mode: not a change of any resource, and no AEP call.
        for mode in ("true", "project"):
            st.set_config(stack_traces.CONFIG_KEY, auto.ConfigValue(mode))
            assert_plans_nothing(project, st)
        # The state keeps what the mode in effect at the last write recorded; `up` with the
        # default writes nothing, so a fresh stack shows the default's frames.
        st.destroy(on_output=lambda _l: None)
        st.remove_config(stack_traces.CONFIG_KEY)
        for urn, trace in frames_by_mode(st, project).items():
            uris = [f.get("sourcePosition", "") for f in trace]
            assert 1 < len(uris) <= 6 and all(u.startswith("project:///") for u in uris), (urn, uris)
            assert not any(".venv" in u or "/../" in u for u in uris), (urn, uris)
        assert ("aep-pipelines:recordStackTraces must be true, project or false, got 'sometimes'"
                in refusal(st, stack_traces.CONFIG_KEY, "sometimes"))
    finally:
        st.destroy(on_output=lambda _l: None)
    assert json.dumps(project.managed_objects(st.name)) == "{}"
