"""Schema Registry: tenant schemas and field groups, and the org's tenant id.

Titles are unique per sandbox and kind, so a create whose answer is lost is settled by
looking its title up. Schema Registry PATCHes carry no etag and set absolute values, so
they are repeated like any idempotent call. Descriptors have no title: one is found again by
its schema, type and field (`xdm:sourceSchema` + `xdm:sourceProperty`).
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any

from .transport import AEPSettings, Created, Transport, q

SCHEMA_REGISTRY = "/data/foundation/schemaregistry"
XED_LOOKUP = "application/vnd.adobe.xed+json; version=1"
# The same lookup with every referenced class and field group resolved into `properties`.
XED_FULL_LOOKUP = "application/vnd.adobe.xed-full+json; version=1"
XED_LISTING = "application/vnd.adobe.xed-id+json"
# Descriptors take their own media types, without a version: this one lists them in full,
# grouped by `@type`, and is the example the registry's Accept errors give for a lookup.
XDM_DESCRIPTORS = "application/vnd.adobe.xdm+json"
IDENTITY_DESCRIPTOR = "xdm:descriptorIdentity"
# A listing with every resource in full, `$ref`s and `allOf` as stored (listings take no version).
XED_FULL_LISTING = "application/vnd.adobe.xed+json"


class SchemaRegistry(Transport):
    """The Schema Registry endpoints the providers use."""

    def __init__(self, settings: AEPSettings):
        """Nothing happens on the network until the first call."""
        super().__init__(settings)
        self._tenant_lock = threading.Lock()
        self._tenant_id: str | None = None

    def get_stats(self, sandbox: str) -> dict:
        """GET /stats -> {imsOrg, tenantId, ...}."""
        return self._call("GET", f"{SCHEMA_REGISTRY}/stats", sandbox=sandbox,
                          accept="application/json", idempotent=True)

    def tenant_id(self, sandbox: str) -> str:
        """The org's tenant namespace (without the leading underscore); fetched once per client."""
        with self._tenant_lock:
            if self._tenant_id is None:
                self._tenant_id = str(self.get_stats(sandbox)["tenantId"]).lstrip("_")
            return self._tenant_id

    def _sr_create(self, kind: str, sandbox: str, body: dict) -> Created:
        # Titles are unique in a sandbox's registry, so a same-titled object is ours.
        return self._create(f"{SCHEMA_REGISTRY}/tenant/{kind}", sandbox, body, kind=kind,
                            answer_id=lambda out: out["$id"],
                            find=lambda: [(r["$id"], r) for r in self._sr_find(kind, sandbox, body["title"])])

    def _sr_find(self, kind: str, sandbox: str, title: str) -> list[dict]:
        body = self._call("GET", f"{SCHEMA_REGISTRY}/tenant/{kind}", sandbox=sandbox,
                          params={"property": f"title=={title}"}, accept=XED_LISTING, idempotent=True) or {}
        return [r for r in body.get("results") or [] if r.get("title") == title]

    def _sr_list(self, kind: str, sandbox: str, page_size: int) -> list[dict]:
        """Every tenant resource of a kind in full, paged by title: `orderby=title&start=<last title>`."""
        out: list[dict] = []
        params: dict[str, Any] = {"orderby": "title", "limit": page_size}
        for _ in range(1000):
            body = self._call("GET", f"{SCHEMA_REGISTRY}/tenant/{kind}", sandbox=sandbox, params=params,
                              accept=XED_FULL_LISTING, idempotent=True) or {}
            out.extend(body.get("results") or [])
            start = _next_start(body)
            if start is None:
                break
            params = {"orderby": "title", "limit": page_size, "start": start}
        return out

    def list_schemas(self, sandbox: str, page_size: int = 300) -> list[dict]:
        """GET /tenant/schemas (Accept xed+json: each schema in full, allOf as stored), every page.

        Idempotent: each page is retried on 429, 5xx and connection errors within the retry
        budget. A listing has no xed-full rendering, so the fields come from the field groups'
        listing (`list_field_groups`), not from a GET per schema.
        """
        return self._sr_list("schemas", sandbox, page_size)

    def list_field_groups(self, sandbox: str, page_size: int = 300) -> list[dict]:
        """GET /tenant/fieldgroups (Accept xed+json: each group in full, definitions included), every page.

        Idempotent: each page is retried on 429, 5xx and connection errors within the retry budget.
        """
        return self._sr_list("fieldgroups", sandbox, page_size)

    # -- field groups ----------------------------------------------------------------------------

    def create_field_group(self, sandbox: str, body: dict) -> Created:
        """POST /tenant/fieldgroups -> 201 full field group."""
        return self._sr_create("fieldgroups", sandbox, body)

    def get_field_group(self, sandbox: str, id_: str) -> dict:
        """GET /tenant/fieldgroups/{altId or encoded $id}."""
        return self._call("GET", f"{SCHEMA_REGISTRY}/tenant/fieldgroups/{q(id_)}", sandbox=sandbox,
                          accept=XED_LOOKUP, idempotent=True)

    def find_field_groups(self, sandbox: str, title: str) -> list[dict]:
        """GET /tenant/fieldgroups?property=title==<title>."""
        return self._sr_find("fieldgroups", sandbox, title)

    def replace_field_group(self, sandbox: str, id_: str, body: dict) -> dict:
        """PUT /tenant/fieldgroups/{id} -> the rewritten field group."""
        return self._call("PUT", f"{SCHEMA_REGISTRY}/tenant/fieldgroups/{q(id_)}", sandbox=sandbox,
                          body=body, idempotent=True)

    def delete_field_group(self, sandbox: str, id_: str) -> None:
        """DELETE /tenant/fieldgroups/{id} -> 204."""
        self._call("DELETE", f"{SCHEMA_REGISTRY}/tenant/fieldgroups/{q(id_)}", sandbox=sandbox,
                   idempotent=True)

    # -- schemas ---------------------------------------------------------------------------------

    def create_schema(self, sandbox: str, body: dict) -> Created:
        """POST /tenant/schemas -> 201 full schema ($id, meta:altId, version)."""
        return self._sr_create("schemas", sandbox, body)

    def get_schema(self, sandbox: str, id_: str, full: bool = False) -> dict:
        """GET /tenant/schemas/{altId or encoded $id}; `full` asks for the xed-full rendering."""
        return self._call("GET", f"{SCHEMA_REGISTRY}/tenant/schemas/{q(id_)}", sandbox=sandbox,
                          accept=XED_FULL_LOOKUP if full else XED_LOOKUP, idempotent=True)

    def find_schemas(self, sandbox: str, title: str) -> list[dict]:
        """GET /tenant/schemas?property=title==<title>."""
        return self._sr_find("schemas", sandbox, title)

    def find_schemas_using(self, sandbox: str, ref: str) -> list[dict]:
        """GET /tenant/schemas?property=meta:extends==<$id>: the schemas that take fields from `ref`.

        `==` on a list property matches a member, as the documented
        `property=meta:intendedToExtend==<class>` filter on field groups does.
        """
        body = self._call("GET", f"{SCHEMA_REGISTRY}/tenant/schemas", sandbox=sandbox,
                          params={"property": f"meta:extends=={ref}"}, accept=XED_LISTING, idempotent=True) or {}
        return list(body.get("results") or [])

    def patch_schema(self, sandbox: str, id_: str, ops: list[dict]) -> dict:
        """PATCH /tenant/schemas/{id} (no If-Match in the Schema Registry) -> the schema."""
        return self._call("PATCH", f"{SCHEMA_REGISTRY}/tenant/schemas/{q(id_)}", sandbox=sandbox,
                          body=ops, idempotent=True)

    def delete_schema(self, sandbox: str, id_: str) -> None:
        """DELETE /tenant/schemas/{id} -> 204."""
        self._call("DELETE", f"{SCHEMA_REGISTRY}/tenant/schemas/{q(id_)}", sandbox=sandbox, idempotent=True)

    # -- descriptors -----------------------------------------------------------------------------

    def create_descriptor(self, sandbox: str, body: dict) -> Created:
        """POST /tenant/descriptors -> 201 with the descriptor (`@id`). Never repeated blindly:
        after a lost response, a descriptor of the same type on the same schema and field is adopted."""
        def find() -> list[tuple[str, dict]]:
            return [(d["@id"], d) for d in self.list_descriptors(sandbox, body["xdm:sourceSchema"], body["@type"])
                    if d.get("xdm:sourceProperty") == body["xdm:sourceProperty"]]

        return self._create(f"{SCHEMA_REGISTRY}/tenant/descriptors", sandbox, body, kind="descriptor",
                            answer_id=lambda out: out["@id"], find=find)

    def get_descriptor(self, sandbox: str, id_: str) -> dict:
        """GET /tenant/descriptors/{@id} -> the descriptor. Retried."""
        return self._call("GET", f"{SCHEMA_REGISTRY}/tenant/descriptors/{q(id_)}", sandbox=sandbox,
                          accept=XDM_DESCRIPTORS, idempotent=True)

    def list_descriptors(self, sandbox: str, schema_id: str, type_: str = IDENTITY_DESCRIPTOR) -> list[dict]:
        """GET /tenant/descriptors?property=xdm:sourceSchema==<$id> -> the schema's descriptors of one
        `@type` (the listing groups them by type). Retried."""
        body = self._call("GET", f"{SCHEMA_REGISTRY}/tenant/descriptors", sandbox=sandbox,
                          params={"property": f"xdm:sourceSchema=={schema_id}"}, accept=XDM_DESCRIPTORS,
                          idempotent=True) or {}
        return [d for d in body.get(type_) or [] if isinstance(d, dict) and d.get("xdm:sourceSchema") == schema_id]

    def list_sandbox_descriptors(self, sandbox: str, type_: str = IDENTITY_DESCRIPTOR) -> list[dict]:
        """GET /tenant/descriptors -> every descriptor of one `@type` in the sandbox, in one call (the
        listing groups them by type). Retried."""
        body = self._call("GET", f"{SCHEMA_REGISTRY}/tenant/descriptors", sandbox=sandbox, accept=XDM_DESCRIPTORS,
                          idempotent=True) or {}
        return [d for d in body.get(type_) or [] if isinstance(d, dict)]

    def replace_descriptor(self, sandbox: str, id_: str, body: dict) -> dict:
        """PUT /tenant/descriptors/{@id} with the full body -> {"@id"}. Retried: a rewrite is idempotent."""
        return self._call("PUT", f"{SCHEMA_REGISTRY}/tenant/descriptors/{q(id_)}", sandbox=sandbox, body=body,
                          idempotent=True)

    def delete_descriptor(self, sandbox: str, id_: str) -> None:
        """DELETE /tenant/descriptors/{@id} -> 204. Retried (a repeat after success is a 404, which is gone)."""
        self._call("DELETE", f"{SCHEMA_REGISTRY}/tenant/descriptors/{q(id_)}", sandbox=sandbox, idempotent=True)

def _next_start(body: dict) -> str | None:
    """The `start` of a listing's next page, None on the last page.

    The next page is `_links.next.href` (or `_links.next` itself; a URL on AEP's public host: only its query is taken,
    so the call goes to the configured endpoint) or `_page.next`, a URL or the value itself.
    """
    page_next = (body.get("_page") or {}).get("next")
    link = (body.get("_links") or {}).get("next")
    for nxt in (link.get("href") if isinstance(link, dict) else link, page_next):
        if isinstance(nxt, str) and nxt:
            if "?" not in nxt:
                return nxt if nxt is page_next else None
            found = urllib.parse.parse_qs(urllib.parse.urlsplit(nxt).query).get("start")
            if found:
                return found[0]
    return None
