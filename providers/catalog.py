"""Catalog: datasets. Catalog answers a create with `["@/dataSets/<id>"]` and wraps every
object in `{<id>: {...}}`; its PATCHes carry no etag and set absolute values."""

from __future__ import annotations

import re
from typing import Any

from .errors import AEPError, NotFound
from .transport import Created, Transport, q

CATALOG = "/data/foundation/catalog"
# Not an AEP service: the local emulator's reader of what its inlet stored (docs/emulator.md).
EMULATOR_EXPORT = "/data/foundation/export"


class Catalog(Transport):
    """The Catalog endpoints the providers use, and the emulator's record reader."""

    def create_dataset(self, sandbox: str, body: dict) -> Created:
        """POST /dataSets -> 201 ["@/dataSets/<id>"]; adopts a same-named match after a lost response."""
        schema = (body.get("schemaRef") or {}).get("id")
        return self._create(
            f"{CATALOG}/dataSets", sandbox, body, kind="dataset", answer_id=_catalog_id, newest="created",
            find=lambda: [(i, d) for i, d in self.find_datasets(sandbox, body["name"]).items()
                          if (d.get("schemaRef") or {}).get("id") == schema])

    def get_dataset(self, sandbox: str, id_: str) -> dict:
        """GET /dataSets/{id} -> the dataset (unwrapped from its id-keyed object)."""
        body = self._call("GET", f"{CATALOG}/dataSets/{q(id_)}", sandbox=sandbox, idempotent=True) or {}
        if id_ in body:
            return body[id_]
        if len(body) == 1 and isinstance(next(iter(body.values())), dict):
            return next(iter(body.values()))
        raise NotFound(f"dataset {id_} not found", status=404, method="GET", path=f"{CATALOG}/dataSets/{id_}")

    def find_datasets(self, sandbox: str, name: str) -> dict[str, dict]:
        """GET /dataSets?property=name==<name> -> {id: dataset}."""
        # Catalog reads a comma in `==` as "any of"; such a name is matched by an anchored regex.
        prop = f"name=={name}" if "," not in name else f"name~^{re.escape(name)}$"
        body = self._call("GET", f"{CATALOG}/dataSets", sandbox=sandbox,
                          params={"property": prop, "limit": 100}, idempotent=True) or {}
        return {i: d for i, d in body.items() if isinstance(d, dict) and d.get("name") == name}

    def list_datasets(self, sandbox: str, page_size: int = 100) -> dict[str, dict]:
        """GET /dataSets?limit=&start=&orderBy=asc:created, every page -> {id: dataset}.

        Catalog answers a page as one object keyed by id, with no link to the next page, so
        pages are asked for until one comes back short (100, Catalog's largest page, is the
        default size). Idempotent: each page is retried on 429, 5xx and connection errors
        within the retry budget.
        """
        out: dict[str, dict] = {}
        for start in range(0, 100 * page_size, page_size):
            body = self._call("GET", f"{CATALOG}/dataSets", sandbox=sandbox, idempotent=True,
                              params={"limit": page_size, "start": start, "orderBy": "asc:created"}) or {}
            page = {i: d for i, d in body.items() if isinstance(d, dict)}
            out.update(page)
            if len(page) < page_size:
                break
        return out

    def patch_dataset(self, sandbox: str, id_: str, ops: list[dict]) -> None:
        """PATCH /dataSets/{id} with a JSON Patch of absolute values (repeatable)."""
        self._call("PATCH", f"{CATALOG}/dataSets/{q(id_)}", sandbox=sandbox, body=ops,
                   content_type="application/json-patch+json", idempotent=True)

    def delete_dataset(self, sandbox: str, id_: str) -> bool:
        """DELETE /dataSets/{id}. False when Catalog says it had nothing to delete (200 [])."""
        body = self._call("DELETE", f"{CATALOG}/dataSets/{q(id_)}", sandbox=sandbox, idempotent=True)
        return not (isinstance(body, list) and not body)

    # -- emulator only ---------------------------------------------------------------------------

    def emulator_dataset_records(self, sandbox: str, dataset_id: str, limit: int = 100, start: int = 0
                                 ) -> list[dict]:
        """EMULATOR ONLY: GET /data/foundation/export/datasets/{id}/records?limit=&start=.

        One page of the XDM records the local emulator's inlet stored in a dataset, oldest
        first (`limit` at most 10,000, `start` an offset). Real AEP has no such endpoint (the
        call fails with an AEPError there): query a real dataset with Query Service instead.
        """
        body = self._call("GET", f"{EMULATOR_EXPORT}/datasets/{q(dataset_id)}/records", sandbox=sandbox,
                          params={"limit": limit, "start": start}, idempotent=True) or {}
        return list(body.get("records") or [])


def _catalog_id(body: Any) -> str:
    """The id out of Catalog's ["@/dataSets/<id>"] answer."""
    if isinstance(body, list) and body:
        return str(body[0]).rsplit("/", 1)[-1]
    raise AEPError(f"unexpected Catalog create response {body!r}")
