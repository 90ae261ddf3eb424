"""A stack of more than a thousand dynamic resources through the real engine.

The Pulumi SDK nests one more pickler wrapper per dynamic resource, and at about 985 of
them in one program the nesting passes Python's recursion limit. The program then dies with
a RecursionError, after registering most of the stack. providers/sdk_serialize.py keeps it
to one layer, and this preview of 170 tutorial pipelines (1,020 dynamic resources) shows it."""

from __future__ import annotations

import pytest

from bench.spec import spec

from .helpers import Project, unique_sandbox

pytestmark = pytest.mark.engine

PIPELINES = 170  # 6 dynamic resources each: past the SDK's limit of about 985


def test_a_preview_of_more_than_a_thousand_dynamic_resources(tmp_path, emulator):
    project = Project(tmp_path, emulator)
    st = project.stack("big", unique_sandbox("pipe-big"), spec_file=project.write_spec("big.yaml", spec(PIPELINES)))
    emulator.reset_metrics()
    result, plan = project.preview(st)
    # The stack, a component per pipeline and its 6 AEP resources, every one planned.
    assert result.change_summary == {"create": 1 + PIPELINES * 7}, result.change_summary
    flows = [name for name, ops in plan.ops.items() if name.endswith("-flow") and ops == {"create"}]
    assert len(flows) == PIPELINES
    assert emulator.metrics()["writes"] == 0
