"""Typed AEP errors: the HTTP status, AEP's error code, the request id and the message.

Never containing the access token or the client secret: the transport scrubs both out of
every message, path and body before an error is built.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import requests

MASK = "********"


class AEPError(Exception):
    """An AEP call failed. Never contains the access token or the client secret."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 request_id: str | None = None, method: str | None = None, path: str | None = None,
                 body: Any = None, attempts: int = 1):
        """`path` is the URL path and query (no host); `body` the parsed error body."""
        self.status = status
        self.code = code
        self.request_id = request_id
        self.message = message
        self.method = method
        self.path = path
        self.body = body
        self.attempts = attempts
        super().__init__(self._render())

    def _status(self) -> str:
        code = f" {self.code}" if self.code else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{'HTTP ' + str(self.status) if self.status else 'no response'}{code}{tries}"

    def _render(self) -> str:
        where = f"{self.method} {self.path}: " if self.method else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}{self._status()}: {self.message}{rid}"

    @property
    def cause(self) -> str:
        """The error as a provider message quotes it: status, AEP code, attempts, message, request, id.

        e.g. `HTTP 400 FLOW-1412-400: Invalid mapping version ... on POST /flows, request id 11c4...`
        """
        where = f" on {self.method} {self.path}" if self.method else ""
        rid = f", request id {self.request_id}" if self.request_id else ""
        return f"{self._status()}: {self.message}{where}{rid}"


class BadRequest(AEPError):
    """400: the request was refused as invalid."""


class AuthError(AEPError):
    """401/403: credentials, token, org or permissions."""


class NotFound(AEPError):
    """404: the object (or sandbox) does not exist."""


class Conflict(AEPError):
    """409: the request conflicts with existing state (e.g. a non-unique title)."""


class PreconditionFailed(AEPError):
    """412: If-Match no longer matches; someone else changed the object."""


class RateLimited(AEPError):
    """429 that outlasted the retry budget."""


class ServerError(AEPError):
    """5xx that outlasted the retry budget."""


class TransportError(AEPError):
    """No HTTP response at all (connection refused, dropped, timed out) after retries."""


_BY_STATUS: dict[int, type[AEPError]] = {400: BadRequest, 401: AuthError, 403: AuthError, 404: NotFound,
                                         409: Conflict, 412: PreconditionFailed, 429: RateLimited}

_CODE_IN_TYPE = re.compile(r"((?:[A-Z]+-)?\d+-\d{3})\s*$")


def http_error(resp: requests.Response, method: str, path: str, attempts: int,
               scrub: Callable[[str], str]) -> AEPError:
    """The typed error for a refused response; `scrub` takes secrets out of every text in it."""
    try:
        body = resp.json() if resp.content else None
    except ValueError:
        body = resp.text
    body = _scrub_obj(body, scrub)
    status = resp.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else AEPError)
    return cls(scrub(_error_message(body, resp.reason or "error")), status=status, code=_error_code(body),
               request_id=_request_id(resp, body), method=method, path=scrub(path), body=body, attempts=attempts)


def _scrub_obj(obj: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, list):
        return [_scrub_obj(v, scrub) for v in obj]
    if isinstance(obj, dict):
        return {k: _scrub_obj(v, scrub) for k, v in obj.items()}
    return obj


def _error_code(body: Any) -> str | None:
    """AEP's own error code: FLOW-1404-412 / XDM-1012-404 from `type`, or a gateway `error_code`."""
    if not isinstance(body, dict):
        return None
    typ = body.get("type")
    if isinstance(typ, str):
        m = _CODE_IN_TYPE.search(typ.rstrip("/").rsplit("/", 1)[-1])
        if m:
            return m.group(1)
    # Identity Service puts its code in `error` and `report.code` (the spec's 409 only there).
    report = body.get("report") if isinstance(body.get("report"), dict) else {}
    for val in (body.get("error_code"), body.get("code"), body.get("error"), report.get("code")):
        if isinstance(val, (str, int)) and not isinstance(val, bool):
            return str(val)
    return None


def _error_message(body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        report = body.get("report") if isinstance(body.get("report"), dict) else {}
        # Identity Service's text is its `description`; its `title` is a category.
        for val in (report.get("detailed-message"), body.get("errorMessage"), body.get("detail"),
                    body.get("message"), body.get("description"), body.get("error_description"), body.get("title"),
                    report.get("message")):
            if isinstance(val, str) and val.strip():
                return val.strip()
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return fallback


def _request_id(resp: requests.Response, body: Any) -> str | None:
    for h in ("x-request-id", "x-adobe-request-id", "request-id"):
        if resp.headers.get(h):
            return resp.headers[h]
    if isinstance(body, dict) and isinstance(body.get("report"), dict):
        rep = body["report"]
        return rep.get("request-id") or rep.get("registryRequestId")
    return None
