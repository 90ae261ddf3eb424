"""The streaming inlet's backend: hand a post's events to the ingest engine, read what it stored.

What happens to the events (resolve the inlet's flow, map, validate, store, count the run) is
emulator/ingest.py's; this is the inlet's side of it, callable without HTTP.
"""

from __future__ import annotations

from typing import Any

from ... import kinds
from ...errors import service_error
from ...gateway import RequestContext
from ...ingest import IngestWriter, Job, Outcome
from ...store import Store


class Inlet:
    """The inlet backend over one Store: one IngestWriter (one writer thread, started on first use)."""

    def __init__(self, store: Store):
        self.store = store
        self.writer = IngestWriter(store)

    async def ingest(self, inlet_id: str, events: list[Any], *, flow_hint: str | None, auth: str, nbytes: int,
                     received: int) -> list[Outcome]:
        """Ingest a post's events; one Outcome per event. Raises AEPError when the inlet, its flow or
        its authentication refuse the whole post (a 404, 400 or 401 in the inlet's problem shape)."""
        job = Job(inlet_id=inlet_id, flow_hint=flow_hint, auth=auth, events=events, nbytes=nbytes,
                  received=received)
        await self.writer.submit(job)
        if job.error is not None:
            raise job.error
        return job.outcomes

    def check_dataset(self, ctx: RequestContext, dataset_id: str) -> None:
        """404 for a dataset that does not exist in the caller's sandbox."""
        if kinds.dataset(self.store, ctx.org, ctx.sandbox, dataset_id) is None:
            raise service_error(404, "EXPORT-1404", f"Dataset {dataset_id} was not found")

    def records(self, ctx: RequestContext, dataset_id: str, limit: int, start: int) -> list[dict[str, Any]]:
        """The records the inlet stored in a dataset, oldest first; 404 for a dataset that does not exist."""
        self.check_dataset(ctx, dataset_id)
        return self.store.records(ctx.org, ctx.sandbox, dataset_id, limit=limit, start=start)
