"""Small request helpers shared by the Data Prep, Schema Registry, Catalog and inlet routers."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any, Callable

from fastapi import Request

from ..errors import AEPError

_INTEGER = re.compile(r"-?[0-9]+")


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds, the unit every AEP timestamp here uses."""
    return int(time.time() * 1000)


def hex_id(nbytes: int) -> str:
    """A random lower-case hex id of 2*nbytes characters (AEP ids are 24, 32, 48 or 64 hex)."""
    return secrets.token_hex(nbytes)


async def read_json(request: Request, error: Callable[[str], AEPError]) -> Any:
    """The request body as JSON; `error(message)` builds the service's own 400 when it is not."""
    raw = await request.body()
    if not raw.strip():
        raise error("The request body is empty")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"The request body is not valid JSON: {exc}") from None


def query_int(request: Request, name: str, default: int | None, error: Callable[[str], AEPError],
              minimum: int = 0, maximum: int | None = None) -> int | None:
    """An integer query parameter (`default` when absent); 400 in the service's shape when malformed.

    An empty value (`?limit=`) counts as absent only when there is a default to fall back on;
    for a parameter without one it is malformed, as in AEP (a 400, never a None to trip over).
    """
    raw = request.query_params.get(name)
    if raw is None or (raw == "" and default is not None):
        return default
    # int() alone would also take " 5", "+5" and "1_000"; AEP's parsers take digits only.
    if not _INTEGER.fullmatch(raw):
        raise error(f"Query parameter '{name}' must be an integer, got '{raw}'")
    value = int(raw)
    if value < minimum:
        raise error(f"Query parameter '{name}' must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise error(f"Query parameter '{name}' must be <= {maximum}")
    return value
