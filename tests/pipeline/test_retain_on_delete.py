"""Stack config `aep-pipelines:retainOnDelete`: a stack-wide retain_on_delete (prod keeps its data)."""

from __future__ import annotations

import contextvars

import pytest
import yaml
from pulumi.runtime.config import set_all_config

from pipelines import spec
from tests.support.engine import ROOT


def load_with(config: dict[str, str]) -> list[spec.Pipeline]:
    """The running program's pipelines for this stack config (in a context of their own)."""
    def run() -> list[spec.Pipeline]:
        set_all_config({"aep:sandbox": "prod", "aep:tenantId": "acme", **config})
        return spec.load_from_stack()
    return contextvars.copy_context().run(run)


def test_pipelines_are_retained_only_when_the_stack_says_so():
    assert [p.retain_on_delete for p in load_with({})] == [False]
    assert [p.retain_on_delete for p in load_with({"aep-pipelines:retainOnDelete": "false"})] == [False]
    assert [p.retain_on_delete for p in load_with({"aep-pipelines:retainOnDelete": "true"})] == [True]


def test_a_value_that_is_not_a_boolean_is_refused_naming_the_key():
    with pytest.raises(spec.SpecError, match=r"aep-pipelines:retainOnDelete.*must be true or false"):
        load_with({"aep-pipelines:retainOnDelete": "yes please"})


def test_the_prod_stack_retains_and_dev_does_not():
    def setting(stack: str):
        return (yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
                .get("aep-pipelines:retainOnDelete"))
    assert setting("prod") is True and setting("dev") is None
