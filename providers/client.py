"""One HTTP client for every AEP service the providers call: `AEPClient`.

The client follows the real Adobe Experience Platform contract
(../shared/reference/aep-api-contract.md); the local emulator is just another base URL.
It owns everything the resource modules should not have to think about:

* settings and credentials (environment first, then Pulumi config), with the secret
  wrapped so that it never reaches a repr, a log line, a pickle or an exception;
* the IMS client-credentials token: fetched lazily, cached, renewed before it expires,
  renewed once more if the gateway still answers 401, and guarded by a lock because the
  dynamic-provider process serves up to four RPCs at once;
* one `requests.Session` per thread, since `Session` is not documented thread-safe;
* retries inside a bounded time budget, with full-jitter exponential backoff that
  honours `Retry-After`; what is retried depends on whether a repeat is safe:

  - GET, PUT and DELETE are idempotent: retried on 429, 5xx and connection errors.
    (A Data Prep PUT is idempotent in content, not in numbering: a repeat after a lost
    response creates one more, identical, mapping version. The caller takes the version
    from the response it finally gets, so that is harmless.)
  - POST that creates an object is never repeated blindly. 429 and a connection that was
    never established mean "not processed" and are retried. A timeout, a dropped
    connection or a 5xx leave the outcome unknown: the client looks the object up by
    its unique name and adopts it if it is there, and only otherwise posts again.
  - PATCH with If-Match is not safe to repeat after a lost response either: if the
    first attempt committed, the etag has rotated and the repeat gets 412, which would
    look exactly like someone else's edit. On an unknown outcome the client reads the
    object back: an unchanged etag proves nothing was applied, so it patches again; a
    new etag with every operation visible in the object means our patch landed; a new
    etag with the operations *not* visible is an out-of-band edit, reported as 412.
  - Schema Registry and Catalog PATCH carry no etag; the operations we send only set
    absolute values (`replace`/`add`/`remove` of whole fields), so they are repeatable.
  - The IMS token request has no side effects: retried on 429, 5xx and connection
    errors, in the same loop and within its own budget.

* typed errors (`AEPError` and subclasses) carrying the HTTP status, the AEP error code,
  the request id and the message, with the token and the client secret scrubbed out.

Laid out as one transport and one module per AEP service: transport.py (settings, the
secret, sessions, the token and the one retry loop), errors.py, and flow_service.py,
data_prep.py, schema_registry.py, catalog.py, identity_service.py (the endpoints, with the
lookups that settle a lost response). This module puts them together and keeps every public name importable
from `providers.client`.
"""

from __future__ import annotations

import threading

from .catalog import CATALOG, EMULATOR_EXPORT, Catalog
from .data_prep import DATA_PREP, DataPrep
from .errors import (
    AEPError,
    AuthError,
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServerError,
    TransportError,
)
from .flow_service import FLOW_SERVICE, FlowService, etag_value
from .identity_service import IDENTITY_SERVICE, IdentityService
from .profile_access import ProfileAccess
from .schema_registry import (
    IDENTITY_DESCRIPTOR,
    SCHEMA_REGISTRY,
    XDM_DESCRIPTORS,
    XED_FULL_LOOKUP,
    XED_LISTING,
    XED_LOOKUP,
    SchemaRegistry,
)
from .transport import (
    CONFIG_KEYS,
    DEFAULT_ENDPOINT,
    DEFAULT_IMS_URL,
    DEFAULT_SCOPES,
    SETTING_NAMES,
    AEPSettings,
    ConfigurationError,
    Created,
    Resolver,
    Secret,
    Transport,
)


class AEPClient(FlowService, DataPrep, SchemaRegistry, Catalog, IdentityService, ProfileAccess):
    """All AEP endpoints the providers use, one method each. Thread-safe."""


# ---------------------------------------------------------------------------------------------
# Process-wide client cache
# ---------------------------------------------------------------------------------------------

_CLIENTS: dict[AEPSettings, AEPClient] = {}
_CLIENTS_LOCK = threading.Lock()


def get_client(settings: AEPSettings) -> AEPClient:
    """The one client for these settings in this process, so every provider shares one token."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(settings)
        if client is None:
            client = _CLIENTS[settings] = AEPClient(settings)
        return client


def clear_client_cache() -> None:
    """Forget cached clients (tests that restart an emulator on the same port use this)."""
    with _CLIENTS_LOCK:
        _CLIENTS.clear()


__all__ = [
    "AEPClient", "AEPError", "AEPSettings", "AuthError", "BadRequest", "CATALOG", "CONFIG_KEYS", "Catalog",
    "ConfigurationError", "Conflict", "Created", "DATA_PREP", "DEFAULT_ENDPOINT", "DEFAULT_IMS_URL",
    "DEFAULT_SCOPES", "DataPrep", "EMULATOR_EXPORT", "FLOW_SERVICE", "FlowService", "IDENTITY_DESCRIPTOR",
    "IDENTITY_SERVICE", "IdentityService", "NotFound",
    "PreconditionFailed", "RateLimited", "Resolver", "SCHEMA_REGISTRY", "SETTING_NAMES", "SchemaRegistry", "Secret",
    "ServerError", "Transport", "TransportError", "XDM_DESCRIPTORS", "XED_FULL_LOOKUP", "XED_LISTING", "XED_LOOKUP",
    "clear_client_cache", "etag_value", "get_client",
]
