"""Data Prep (conversion service): mapping sets. Every PUT is a new, numbered version."""

from __future__ import annotations

from .flow_service import dig
from .transport import Created, Transport, q

DATA_PREP = "/data/foundation/conversion"


class DataPrep(Transport):
    """The Data Prep endpoints the providers use."""

    def create_mapping_set(self, sandbox: str, body: dict) -> Created:
        """POST /mappingSets -> 200 {id, version, ...}; adopts a same-named set after a lost response."""
        return self._create(
            f"{DATA_PREP}/mappingSets", sandbox, body, kind="mapping set", answer_id=lambda out: out["id"],
            find=lambda: [(m["id"], m) for m in self.find_mapping_sets(sandbox, body["name"]) if _same_schema(m, body)],
            newest="createdDate")

    def get_mapping_set(self, sandbox: str, id_: str, version: int | None = None) -> dict:
        """GET /mappingSets/{id}[?version=N] (latest version without one)."""
        params = {"version": version} if version is not None else None
        return self._call("GET", f"{DATA_PREP}/mappingSets/{q(id_)}", sandbox=sandbox, params=params,
                          idempotent=True)

    def find_mapping_sets(self, sandbox: str, name: str) -> list[dict]:
        """GET /mappingSets?limit=&start=&name= (both paging params are required)."""
        out: list[dict] = []
        start, limit = 0, 100
        for _ in range(100):
            body = self._call("GET", f"{DATA_PREP}/mappingSets", sandbox=sandbox,
                              params={"limit": limit, "start": start, "name": name}, idempotent=True) or {}
            page = body.get("data") or []
            out.extend(m for m in page if m.get("name") == name)
            if len(page) < limit:
                break
            start += limit
        return out

    def preview_mapping_set(self, sandbox: str, mapping_set: dict, rows: list) -> list[dict]:
        """POST /mappingSets/preview -> one {data, errors} per row: the records a proposed mapping set
        makes of sample rows. Stores nothing, so it is retried like a read."""
        body = self._call("POST", f"{DATA_PREP}/mappingSets/preview", sandbox=sandbox,
                          body={"mappingSet": mapping_set, "data": rows}, idempotent=True)
        return body if isinstance(body, list) else [body or {}]

    def list_mapping_sets(self, sandbox: str, page_size: int = 100) -> list[dict]:
        """GET /mappingSets?limit=&start=, every page -> the latest version of each set, mappings included.

        Pages are asked for until one comes back short. Idempotent: each page is retried on
        429, 5xx and connection errors within the retry budget.
        """
        out: list[dict] = []
        for start in range(0, 100 * page_size, page_size):
            body = self._call("GET", f"{DATA_PREP}/mappingSets", sandbox=sandbox,
                              params={"limit": page_size, "start": start}, idempotent=True) or {}
            page = body.get("data") or []
            out.extend(page)
            if len(page) < page_size:
                break
        return out

    def update_mapping_set(self, sandbox: str, id_: str, body: dict) -> dict:
        """PUT /mappingSets/{id} -> the set with `version` incremented."""
        return self._call("PUT", f"{DATA_PREP}/mappingSets/{q(id_)}", sandbox=sandbox, body=body,
                          idempotent=True)

    def delete_mapping_set(self, sandbox: str, id_: str) -> None:
        """DELETE /mappingSets/{id} (undocumented by Adobe; used by common AEP clients)."""
        self._call("DELETE", f"{DATA_PREP}/mappingSets/{q(id_)}", sandbox=sandbox, idempotent=True)


def _same_schema(mapping_set: dict, body: dict) -> bool:
    want = dig(body, "outputSchema.schemaRef.id")
    got = dig(mapping_set, "outputSchema.schemaRef.id") or dig(mapping_set, "outputSchema.id")
    return got is None or got == want
