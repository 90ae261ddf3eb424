"""Flow Service: base, source and target connections, dataflows and their runs.

Every object is wrapped in `{"items": [...]}`, listings page through `_links.next`, and
writes after a create carry the object's etag in `If-Match`. A PATCH with If-Match whose
answer is lost is settled by reading the object back (see providers/client.py).
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Callable, Iterable

from .errors import NotFound, PreconditionFailed
from .transport import Created, Transport, plain, q

FLOW_SERVICE = "/data/foundation/flowservice"


class FlowService(Transport):
    """The Flow Service endpoints the providers use."""

    # -- shared by every collection ----------------------------------------------------------

    def _fs_create(self, collection: str, sandbox: str, body: dict, match: Callable[[dict], bool]) -> Created:
        """POST a Flow Service object; on an unknown outcome adopt a same-named match if one exists."""
        return self._create(
            f"{FLOW_SERVICE}/{collection}", sandbox, body, kind=collection, answer_id=lambda out: out["id"],
            find=lambda: [(i["id"], i) for i in self._fs_find(collection, sandbox, body["name"]) if match(i)],
            newest="createdAt")

    def _fs_get(self, collection: str, sandbox: str, id_: str) -> dict:
        body = self._call("GET", f"{FLOW_SERVICE}/{collection}/{q(id_)}", sandbox=sandbox, idempotent=True)
        items = (body or {}).get("items") or []
        if not items:
            raise NotFound(f"{collection} {id_} not found", status=404, method="GET",
                           path=f"{FLOW_SERVICE}/{collection}/{id_}")
        return items[0]

    def _fs_list(self, collection: str, sandbox: str, filters: Iterable[str] = (), limit: int | None = None
                 ) -> list[dict]:
        """Every item of a Flow Service listing, following `_links.next` continuation pages."""
        params: list[tuple[str, Any]] = [("property", f) for f in filters]
        if limit:
            params.append(("limit", limit))
        path = f"{FLOW_SERVICE}/{collection}"
        items: list[dict] = []
        for _ in range(100):
            body = self._call("GET", path, sandbox=sandbox, params=params or None, idempotent=True) or {}
            items.extend(body.get("items") or [])
            href = ((body.get("_links") or {}).get("next") or {}).get("href")
            if not href:
                break
            # next.href is relative to the service: "/flows?continuationToken=..."
            split = urllib.parse.urlsplit(href)
            path = FLOW_SERVICE + split.path if not split.path.startswith(FLOW_SERVICE) else split.path
            params = urllib.parse.parse_qsl(split.query)
        return items

    def _fs_find(self, collection: str, sandbox: str, name: str) -> list[dict]:
        # In a `property` filter a comma means "any of": such a name is matched here instead.
        filters = [f"name=={name}"] if "," not in name else []
        return [i for i in self._fs_list(collection, sandbox, filters) if i.get("name") == name]

    def _fs_patch(self, collection: str, sandbox: str, id_: str, ops: list[dict], etag: str,
                  unverifiable: Iterable[str] = ()) -> dict:
        """JSON Patch with If-Match; an unknown outcome is settled by reading the object back."""
        def resolve():
            current = self._fs_get(collection, sandbox, id_)
            if _etag_eq(current.get("etag"), etag):
                return None  # nothing was applied: the etag would have rotated
            if _ops_applied(current, ops, set(unverifiable)):
                return {"id": id_, "etag": current.get("etag")}
            raise PreconditionFailed(
                f"{collection} {id_} changed while our update's response was lost", status=412,
                code="FLOW-1404-412", method="PATCH", path=f"{FLOW_SERVICE}/{collection}/{id_}")

        return self._call("PATCH", f"{FLOW_SERVICE}/{collection}/{q(id_)}", sandbox=sandbox, body=ops,
                          extra_headers={"If-Match": etag}, idempotent=False, resolve=resolve)

    def _fs_delete(self, collection: str, sandbox: str, id_: str) -> None:
        self._call("DELETE", f"{FLOW_SERVICE}/{collection}/{q(id_)}", sandbox=sandbox, idempotent=True)

    # -- base connections (/connections) -------------------------------------------------------

    def create_base_connection(self, sandbox: str, body: dict) -> Created:
        """POST /connections -> {id, etag}."""
        return self._fs_create("connections", sandbox, body, _matches(body, ("connectionSpec", "auth.specName")))

    def get_base_connection(self, sandbox: str, id_: str) -> dict:
        """GET /connections/{id} -> the item (auth params come back masked by real AEP)."""
        return self._fs_get("connections", sandbox, id_)

    def find_base_connections(self, sandbox: str, name: str) -> list[dict]:
        """GET /connections?property=name==<name>."""
        return self._fs_find("connections", sandbox, name)

    def patch_base_connection(self, sandbox: str, id_: str, ops: list[dict], etag: str) -> dict:
        """PATCH /connections/{id} with If-Match -> {id, etag}. /auth/params cannot be read back."""
        return self._fs_patch("connections", sandbox, id_, ops, etag, unverifiable=("/auth/params",))

    def delete_base_connection(self, sandbox: str, id_: str) -> None:
        """DELETE /connections/{id} (FLOW-1418-400 while a flow uses it)."""
        self._fs_delete("connections", sandbox, id_)

    # -- source connections ------------------------------------------------------------------

    def create_source_connection(self, sandbox: str, body: dict) -> Created:
        """POST /sourceConnections -> {id, etag}."""
        return self._fs_create("sourceConnections", sandbox, body,
                               _matches(body, ("connectionSpec.id", "data.format", "baseConnectionId")))

    def get_source_connection(self, sandbox: str, id_: str) -> dict:
        """GET /sourceConnections/{id} -> the item."""
        return self._fs_get("sourceConnections", sandbox, id_)

    def find_source_connections(self, sandbox: str, name: str) -> list[dict]:
        """GET /sourceConnections?property=name==<name>."""
        return self._fs_find("sourceConnections", sandbox, name)

    def patch_source_connection(self, sandbox: str, id_: str, ops: list[dict], etag: str) -> dict:
        """PATCH /sourceConnections/{id} with If-Match -> {id, etag}."""
        return self._fs_patch("sourceConnections", sandbox, id_, ops, etag)

    def delete_source_connection(self, sandbox: str, id_: str) -> None:
        """DELETE /sourceConnections/{id}."""
        self._fs_delete("sourceConnections", sandbox, id_)

    # -- target connections ------------------------------------------------------------------

    def create_target_connection(self, sandbox: str, body: dict) -> Created:
        """POST /targetConnections -> {id, etag}."""
        return self._fs_create("targetConnections", sandbox, body,
                               _matches(body, ("connectionSpec.id", "data.schema.id", "params.dataSetId")))

    def get_target_connection(self, sandbox: str, id_: str) -> dict:
        """GET /targetConnections/{id} -> the item."""
        return self._fs_get("targetConnections", sandbox, id_)

    def find_target_connections(self, sandbox: str, name: str) -> list[dict]:
        """GET /targetConnections?property=name==<name>."""
        return self._fs_find("targetConnections", sandbox, name)

    def patch_target_connection(self, sandbox: str, id_: str, ops: list[dict], etag: str) -> dict:
        """PATCH /targetConnections/{id} with If-Match -> {id, etag}."""
        return self._fs_patch("targetConnections", sandbox, id_, ops, etag)

    def delete_target_connection(self, sandbox: str, id_: str) -> None:
        """DELETE /targetConnections/{id}."""
        self._fs_delete("targetConnections", sandbox, id_)

    # -- flows -----------------------------------------------------------------------------------

    def create_flow(self, sandbox: str, body: dict) -> Created:
        """POST /flows -> {id, etag}."""
        # A flow replaced for its options shares its name and connections with the new one.
        same = _matches(body, ("flowSpec.id", "sourceConnectionIds", "targetConnectionIds",
                               "options.partialIngestionPercent"))
        diagnostics = bool(dig(body, "options.errorDiagnosticsEnabled"))  # absent is false
        return self._fs_create("flows", sandbox, body,
                               lambda i: same(i) and bool(dig(i, "options.errorDiagnosticsEnabled")) == diagnostics)

    def get_flow(self, sandbox: str, id_: str) -> dict:
        """GET /flows/{id} -> the item, with options.inletUrl and state."""
        return self._fs_get("flows", sandbox, id_)

    def find_flows(self, sandbox: str, name: str) -> list[dict]:
        """GET /flows?property=name==<name>."""
        return self._fs_find("flows", sandbox, name)

    def list_flows(self, sandbox: str, *filters: str) -> list[dict]:
        """GET /flows?property=<filter>... (all pages).

        Idempotent: each page is retried on 429, 5xx and connection errors within the retry
        budget; every `_links.next` continuation page is followed.
        """
        return self._fs_list("flows", sandbox, filters)

    def list_connections(self, sandbox: str, collection: str, *filters: str) -> list[dict]:
        """GET /connections, /sourceConnections or /targetConnections (all pages), full items.

        Idempotent: each page is retried on 429, 5xx and connection errors within the retry
        budget; every `_links.next` continuation page is followed. Base connections come with
        their auth params masked by real AEP.
        """
        if collection not in ("connections", "sourceConnections", "targetConnections"):
            raise ValueError(f"not a Flow Service connection collection: {collection!r}")
        return self._fs_list(collection, sandbox, filters)

    def patch_flow(self, sandbox: str, id_: str, ops: list[dict], etag: str) -> dict:
        """PATCH /flows/{id} with If-Match -> {id, etag}."""
        return self._fs_patch("flows", sandbox, id_, ops, etag)

    def flow_action(self, sandbox: str, id_: str, op: str, etag: str | None = None) -> dict:
        """POST /flows/{id}/action?op=enable|disable -> {id, etag}.

        Not blindly repeatable (the etag rotates); an unknown outcome is settled by reading
        the flow's state back.
        """
        target = {"enable": "enabled", "disable": "disabled"}.get(op.lower())

        def resolve():
            current = self._fs_get("flows", sandbox, id_)
            if target and current.get("state") == target:
                return {"id": id_, "etag": current.get("etag")}
            return None

        return self._call("POST", f"{FLOW_SERVICE}/flows/{q(id_)}/action", sandbox=sandbox,
                          params={"op": op}, extra_headers={"If-Match": etag} if etag else None,
                          idempotent=False, resolve=resolve)

    def delete_flow(self, sandbox: str, id_: str) -> None:
        """DELETE /flows/{id}."""
        self._fs_delete("flows", sandbox, id_)

    # -- runs ------------------------------------------------------------------------------------

    def list_runs(self, sandbox: str, flow_id: str, limit: int | None = 100) -> list[dict]:
        """GET /runs?property=flowId==<id> -> every run of the flow, in AEP's order.

        `limit` is the page size AEP is asked for, not a cap: every `_links.next` page is
        followed. AEP documents no order for runs; sort by `createdAt` for the newest.
        """
        return self._fs_list("runs", sandbox, [f"flowId=={flow_id}"], limit=limit)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def etag_value(etag: Any) -> str:
    """An etag without W/ and surrounding quotes, for comparisons only (send it as received)."""
    s = str(etag or "").strip()
    if s.startswith("W/"):
        s = s[2:]
    return s.strip('"')


def _etag_eq(a: Any, b: Any) -> bool:
    return etag_value(a) == etag_value(b)


def _pointer_get(doc: Any, pointer: str) -> tuple[bool, Any]:
    cur = doc
    for raw in pointer.lstrip("/").split("/") if pointer not in ("", "/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return False, None
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return False, None
    return True, cur


def _loose(v: Any) -> Any:
    """Comparable, with AEP's digit strings taken as the numbers they spell."""
    return plain(v, numeric_strings=True)


def _ops_applied(doc: dict, ops: list[dict], unverifiable: set[str]) -> bool:
    """Whether `doc` shows every JSON Patch op in `ops` applied (numbers compared loosely)."""
    for op in ops:
        path = op.get("path", "")
        if any(path == u or path.startswith(u + "/") for u in unverifiable):
            continue
        present, value = _pointer_get(doc, path)
        kind = str(op.get("op", "")).lower()
        if kind == "remove":
            if present:
                return False
        elif not present or _loose(value) != _loose(op.get("value")):
            return False
    return True


def dig(doc: Any, dotted: str) -> Any:
    """The value at a dotted path of nested dicts, None where a step is missing."""
    for part in dotted.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _matches(body: dict, keys: Iterable[str]) -> Callable[[dict], bool]:
    """A predicate: does a listed item agree with `body` on the given (dotted) definition keys?

    After a lost create we adopt only an object that is really ours: same name *and* same
    definition. An object being replaced shares the name but differs in a definition field.
    """
    keys = tuple(keys)

    def match(item: dict) -> bool:
        return all(_loose(dig(item, k)) == _loose(dig(body, k)) for k in keys)

    return match
