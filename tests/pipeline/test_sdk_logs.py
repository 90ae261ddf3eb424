"""aep-pipelines:sdkDebugLogs (pipelines/sdk_logs.py): the setting, the SDK modules it reaches
into (these tests fail when the SDK stops logging through them), and, through the real engine,
`pulumi preview --debug` without and with the SDK's per-resource messages."""

from __future__ import annotations

import importlib
import inspect

import pytest
from pulumi import automation as auto
from pulumi import log as sdk_log

from pipelines import sdk_logs

from .helpers import Project, unique_sandbox


@pytest.mark.parametrize("raw, expected", [(None, False), ("", False), ("true", True), ("False", False),
                                           (True, True)])
def test_the_setting(raw, expected):
    assert sdk_logs.parse(raw) is expected


def test_a_bad_setting_names_the_key_and_the_fix():
    with pytest.raises(sdk_logs.SdkLogsConfigError, match="sdkDebugLogs must be true or false"):
        sdk_logs.parse("verbose")


def test_the_sdk_still_logs_each_resource_through_the_modules_we_quiet():
    """If this fails, the SDK moved its per-resource logging: revisit pipelines/sdk_logs.py."""
    for name in sdk_logs.SDK_MODULES:
        assert importlib.import_module(name).log is sdk_log, name
    from pulumi.runtime import resource  # noqa: PLC0415

    assert "log.debug(" in inspect.getsource(resource.register_resource)


def test_only_debug_is_dropped(monkeypatch):
    sent = []
    for name in ("debug", "info", "warn", "error"):
        monkeypatch.setattr(sdk_log, name, lambda msg, *a, _n=name, **k: sent.append((_n, msg)))
    for name in sdk_logs.SDK_MODULES:
        monkeypatch.setattr(importlib.import_module(name), "log", sdk_log)  # restored after the test
    assert sdk_logs.apply(True) == []
    assert sdk_logs.apply(False) == list(sdk_logs.SDK_MODULES)
    from pulumi.runtime import resource  # noqa: PLC0415

    resource.log.debug("registering resource: ty=x")
    resource.log.info("an info")
    resource.log.warn("a warning")
    resource.log.error("an error")
    sdk_log.debug("the project's own debug message")
    assert sent == [("info", "an info"), ("warn", "a warning"), ("error", "an error"),
                    ("debug", "the project's own debug message")]


@pytest.mark.engine
def test_preview_debug_shows_the_sdk_messages_only_when_asked(tmp_path, emulator):
    project = Project(tmp_path, emulator)
    st = project.stack("sdklogs", unique_sandbox("pipe-sdk-logs"))
    seen: dict[bool, list[str]] = {}
    for send in (False, True):
        st.set_config(sdk_logs.CONFIG_KEY, auto.ConfigValue(str(send).lower()))
        lines: list[str] = []
        st.preview(debug=True, on_output=lines.append)
        # (The SDK registers the stack itself before the program, and so before the setting, runs.)
        seen[send] = [line for line in lines if "registering resource:" in line and "ty=pulumi:pulumi:Stack" not in line]
    assert seen[False] == [], seen[False][:3]
    assert len(seen[True]) >= 7, seen[True]  # the pipeline and its six resources at least
