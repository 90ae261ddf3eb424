"""The shared lifecycle test (DataDog datadog-sync-cli style): one base, one small class per resource.

A subclass names its provider, its inputs, an in-place change, how to change and delete the
object out of band, and the exact API calls each step may make. The base drives:

create -> read (no diff) -> update (in place) -> read (no diff) -> out-of-band change (diff
after read) -> update back -> delete -> read says gone -> delete again (404 is success);
then create -> out-of-band deletion -> read says gone -> delete succeeds.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .support import Harness


class Lifecycle:
    provider: ClassVar[type]
    create_calls: ClassVar[dict[str, int]]
    read_calls: ClassVar[dict[str, int]]
    update_calls: ClassVar[dict[str, int]]
    delete_calls: ClassVar[dict[str, int]]

    def inputs(self, h: Harness) -> dict[str, Any]:
        """Inputs for a new object (upstream objects come from the harness)."""
        raise NotImplementedError

    def change(self, h: Harness, inputs: dict[str, Any]) -> dict[str, Any]:
        """The same inputs with an in-place change."""
        raise NotImplementedError

    def oob_change(self, h: Harness, id_: str, outs: dict[str, Any]) -> None:
        """Change a managed field behind Pulumi's back."""
        raise NotImplementedError

    def oob_delete(self, h: Harness, id_: str, outs: dict[str, Any]) -> None:
        """Delete the object behind Pulumi's back."""
        raise NotImplementedError

    def test_lifecycle(self, h: Harness) -> None:
        p = h.provider(self.provider)
        news = h.check(p, self.inputs(h))

        h.reset()
        created = p.create(news)
        assert h.calls() == self.create_calls
        id_, outs = created.id, created.outs
        assert {k for k in news if not k.startswith("__")} <= set(outs), "create must return every managed input"

        h.reset()
        read = p.read(id_, outs)
        assert h.calls() == self.read_calls
        assert read.id == id_
        assert p.diff(id_, read.outs, news).changes is False
        # read's inputs are normalised exactly as check() normalises them
        assert h.check(p, read.inputs, olds=news) == read.inputs

        news2 = h.check(p, self.change(h, news), olds=news)
        diff = p.diff(id_, read.outs, news2)
        assert diff.changes is True and diff.replaces == []
        h.reset()
        updated = p.update(id_, read.outs, news2)
        assert h.calls() == self.update_calls
        assert set(news2) <= set(updated.outs), "update must return every managed input"
        read2 = p.read(id_, updated.outs)
        assert p.diff(id_, read2.outs, news2).changes is False
        assert p.diff(id_, updated.outs, news2).changes is False

        self.oob_change(h, id_, read2.outs)
        read3 = p.read(id_, read2.outs)
        assert p.diff(id_, read3.outs, news2).changes is True, "an out-of-band change must show after read"
        restored = p.update(id_, read3.outs, news2)
        assert p.diff(id_, p.read(id_, restored.outs).outs, news2).changes is False

        h.reset()
        p.delete(id_, restored.outs)
        assert h.calls() == self.delete_calls
        gone = p.read(id_, restored.outs)
        assert (gone.id, gone.outs) == (None, {})
        p.delete(id_, restored.outs)  # already gone: still a success

        again = p.create(h.check(p, self.inputs(h)))
        self.oob_delete(h, again.id, again.outs)
        gone = p.read(again.id, again.outs)
        assert (gone.id, gone.outs) == (None, {})
        p.delete(again.id, again.outs)
