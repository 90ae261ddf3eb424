"""SQLite persistence for every emulated object.

One table holds JSON documents keyed by (kind, org, sandbox, id); another holds the
records that the streaming inlet appends to datasets. Every write runs in its own
transaction, so a server killed with SIGKILL restarts with every acknowledged write.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from typing import Any, Iterator

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT NOT NULL,
    org     TEXT NOT NULL,
    sandbox TEXT NOT NULL,
    id      TEXT NOT NULL,
    doc     TEXT NOT NULL,
    UNIQUE (kind, org, sandbox, id)
);
CREATE TABLE IF NOT EXISTS records (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    org        TEXT NOT NULL,
    sandbox    TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    doc        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_dataset ON records (org, sandbox, dataset_id);
"""


class Store:
    """A small document store. Thread-safe: one connection behind one lock.

    `kind` names the object type ("flow", "sourceConnection", "mappingSet", ...).
    Global objects (tokens, seeded specs) use org "" and sandbox "".
    """

    def __init__(self, path: str):
        self._lock = threading.RLock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per write.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed transaction is in the WAL file (the OS page cache)
        # before the response leaves, so a killed process loses nothing it acknowledged; only
        # a power cut could. That is the emulator's durability promise, at a fraction of
        # FULL's fsync cost per write.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0
        # Bumped by every put/delete of a kind not in `volatile_kinds` (runs and tokens, which only the
        # inlet and IMS write and no cached view depends on), under the store lock: a
        # reader that caches what it derived from such documents (the inlet writer's targets)
        # compares it to know its cache is still exact.
        self.generation = 0
        self.volatile_kinds: frozenset[str] = frozenset(("run", "token"))

    @contextlib.contextmanager
    def tx(self) -> Iterator["Store"]:
        """Run the enclosed reads and writes as one atomic transaction (re-entrant)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            else:
                self._depth -= 1
                if outer:
                    self._db.execute("COMMIT")

    # -- documents -----------------------------------------------------------------

    def get(self, kind: str, org: str, sandbox: str, id_: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT doc FROM objects WHERE kind=? AND org=? AND sandbox=? AND id=?",
                (kind, org, sandbox, id_),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, org: str, sandbox: str, id_: str, doc: dict[str, Any]) -> None:
        """Insert or replace a document, keeping its original position in listings."""
        text = json.dumps(doc, separators=(",", ":"))
        with self.tx():
            if kind not in self.volatile_kinds:
                self.generation += 1
            self._db.execute(
                "INSERT INTO objects (kind, org, sandbox, id, doc) VALUES (?,?,?,?,?) "
                "ON CONFLICT (kind, org, sandbox, id) DO UPDATE SET doc=excluded.doc",
                (kind, org, sandbox, id_, text),
            )

    def delete(self, kind: str, org: str, sandbox: str, id_: str) -> bool:
        with self.tx():
            if kind not in self.volatile_kinds:
                self.generation += 1
            cur = self._db.execute(
                "DELETE FROM objects WHERE kind=? AND org=? AND sandbox=? AND id=?",
                (kind, org, sandbox, id_),
            )
        return cur.rowcount > 0

    def list(self, kind: str, org: str, sandbox: str) -> list[dict[str, Any]]:
        """All documents of a kind in one (org, sandbox), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT doc FROM objects WHERE kind=? AND org=? AND sandbox=? ORDER BY seq",
                (kind, org, sandbox),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def count(self, kind: str | None = None) -> dict[str, int]:
        """Object counts by kind across every org and sandbox (for tests and the admin API)."""
        with self._lock:
            if kind:
                rows = self._db.execute(
                    "SELECT kind, COUNT(*) FROM objects WHERE kind=? GROUP BY kind", (kind,)
                ).fetchall()
            else:
                rows = self._db.execute("SELECT kind, COUNT(*) FROM objects GROUP BY kind").fetchall()
        return {k: n for k, n in rows}

    # -- dataset records -------------------------------------------------------------

    def append_record_texts(self, org: str, sandbox: str, dataset_id: str, texts: list[str]) -> None:
        """Append records already serialised as compact JSON (the inlet measures their size anyway)."""
        with self.tx():
            self._db.executemany(
                "INSERT INTO records (org, sandbox, dataset_id, doc) VALUES (?,?,?,?)",
                [(org, sandbox, dataset_id, t) for t in texts],
            )

    def records(self, org: str, sandbox: str, dataset_id: str, limit: int = 1000, start: int = 0) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT doc FROM records WHERE org=? AND sandbox=? AND dataset_id=? ORDER BY seq LIMIT ? OFFSET ?",
                (org, sandbox, dataset_id, limit, start),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
