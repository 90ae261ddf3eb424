"""Error bodies in each AEP service's own shape, raised as one exception type.

Handlers raise `AEPError`; the app turns it into a JSON response with the given
status, body and headers.
"""

from __future__ import annotations

import time
import uuid
from typing import Any


class AEPError(Exception):
    """An HTTP error response, body already in the owning service's shape."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def request_id() -> str:
    return uuid.uuid4().hex


def gateway_error(status: int, error_code: str, message: str) -> AEPError:
    """Adobe I/O gateway errors use their own `{error_code, message}` shape."""
    return AEPError(status, {"error_code": error_code, "message": message})


def content_type_error() -> AEPError:
    return AEPError(
        400,
        {
            "type": "/placeholder/type/uri",
            "status": 400,
            "title": "BadRequestError",
            "detail": "A valid content-type must be specified",
        },
    )


def flow_error(status: int, code: int | str, message: str, **report: Any) -> AEPError:
    """Flow Service Problem-JSON-like body: type FLOW-<code>-<status>, report, errorMessage/errorDetails."""
    rid = request_id()
    return AEPError(
        status,
        {
            "type": f"https://ns.adobe.com/aep/errors/FLOW-{code}-{status}",
            "title": _TITLES.get(status, "Error"),
            "status": status,
            "report": {"detailed-message": message, "request-id": rid, **report},
            "errorMessage": message,
            "errorDetails": message,
        },
        {"x-request-id": rid},
    )


def xdm_error(status: int, code: int | str, title: str, message: str) -> AEPError:
    """Schema Registry `errorBasic` body."""
    rid = request_id()
    return AEPError(
        status,
        {
            "type": f"http://ns.adobe.com/aep/errors/XDM-{code}-{status}",
            "title": title,
            "status": status,
            "report": {
                "registryRequestId": rid,
                "timestamp": time.strftime("%m-%d-%Y %H:%M:%S"),
                "detailed-message": message,
                "sub-errors": [],
            },
            "detail": message,
        },
        {"x-request-id": rid},
    )


def service_error(status: int, code: str, message: str) -> AEPError:
    """Data Prep and Catalog publish no error schema; this is the body they send in practice."""
    rid = request_id()
    return AEPError(
        status,
        {"type": f"https://ns.adobe.com/aep/errors/{code}-{status}", "title": _TITLES.get(status, "Error"),
         "status": status, "message": message, "errorMessage": message, "report": {"request-id": rid}},
        {"x-request-id": rid},
    )


def identity_error(status: int, title: str, description: str, code: str) -> AEPError:
    """Identity Service's namespace error body: `namespacevalidation` type, `report.code` (identity-service.yaml)."""
    return AEPError(
        status,
        {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
         "type": "http://ns.adobe.com/adobecloud/problem/namespacevalidation", "status": status, "title": title,
         "error": code, "description": description, "report": {"code": code, "message": description}},
        {"x-request-id": request_id()},
    )


def profile_error(status: int, message: str) -> AEPError:
    """Profile Access error body (`ResponseErrorContext` in profile.yaml): the status as a string."""
    return AEPError(status, {"message": message, "cause": message, "statusCode": str(status)})


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


# Codes for a path or method that no emulated service serves. Where the service documents a
# not-found code (FLOW-1101-404, XDM-1012-404) it is used; the rest are the emulator's.
_ROUTE_CODES = {
    "flow": {400: 1400, 404: 1101, 405: 1000},
    "xdm": {400: 1000, 404: 1012, 405: 1405},
    "DP": {400: "DP-1001", 404: "DP-1404", 405: "DP-1405"},
    "CAT": {400: "CAT-1003", 404: "CAT-1101", 405: "CAT-1405"},
}


def route_error(path: str, status: int, message: str) -> AEPError:
    """A 404 (no such path), 405 (method not served) or 400 in the shape of the service owning `path`.

    Without this, FastAPI would answer `{"detail": ...}`, a shape no AEP service uses.
    """
    if status not in (400, 404, 405):
        status = 404
    if path.startswith("/data/foundation/flowservice"):
        return flow_error(status, _ROUTE_CODES["flow"][status], message)
    if path.startswith("/data/foundation/schemaregistry"):
        return xdm_error(status, _ROUTE_CODES["xdm"][status], _TITLES[status], message)
    if path.startswith("/data/foundation/conversion"):
        return service_error(status, _ROUTE_CODES["DP"][status], message)
    if path.startswith("/data/foundation/catalog"):
        return service_error(status, _ROUTE_CODES["CAT"][status], message)
    if path.startswith("/data/core/idnamespace"):
        code = {400: "INVALID_REQUEST_PARAMS", 404: "NAMESPACE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}[status]
        return identity_error(status, "Namespace validation", message, code)
    if path.startswith("/data/core/ups"):
        return profile_error(status, message)
    if path.startswith("/collection"):
        slug = {400: "bad-request", 404: "not-found", 405: "method-not-allowed"}[status]
        return AEPError(status, {"type": f"https://ns.adobe.com/adobecloud/problem/data-collection-service-{slug}",
                                 "status": str(status), "title": _TITLES[status], "report": {"message": message}})
    if path.startswith("/ims/"):
        return AEPError(status, {"error": "invalid_request", "error_description": message})
    # Nothing owns the path: the Adobe I/O gateway answers, in its own shape.
    return gateway_error(status, f"{status}050", message)
