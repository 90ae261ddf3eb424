"""One HTTP client for every AEP service the providers call.

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

* typed errors (`AEPError` and subclasses) carrying the HTTP status, the AEP error code,
  the request id and the message, with the token and the client secret scrubbed out.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger("providers.client")

DEFAULT_ENDPOINT = "https://platform.adobe.io"
DEFAULT_IMS_URL = "https://ims-na1.adobelogin.com/ims/token/v3"
DEFAULT_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"

FLOW_SERVICE = "/data/foundation/flowservice"
DATA_PREP = "/data/foundation/conversion"
SCHEMA_REGISTRY = "/data/foundation/schemaregistry"
CATALOG = "/data/foundation/catalog"
# Not an AEP service: the local emulator's reader of what its inlet stored (docs/emulator.md).
EMULATOR_EXPORT = "/data/foundation/export"

XED_LOOKUP = "application/vnd.adobe.xed+json; version=1"
# The same lookup with every referenced class and field group resolved into `properties`.
XED_FULL_LOOKUP = "application/vnd.adobe.xed-full+json; version=1"
XED_LISTING = "application/vnd.adobe.xed-id+json"

_MASK = "********"


# ---------------------------------------------------------------------------------------------
# Secrets and settings
# ---------------------------------------------------------------------------------------------


class Secret:
    """A string that never shows itself: repr/str print a mask and pickling is refused."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        """Wrap `value` (a plain string)."""
        object.__setattr__(self, "_value", str(value))

    def reveal(self) -> str:
        """The plain value, for the one place that must send it (the IMS form body)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    __str__ = __repr__

    def __format__(self, _spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __setattr__(self, *_: Any) -> None:
        raise AttributeError("Secret is immutable")

    def __reduce__(self):
        # Pickling is how secrets end up in Pulumi state (the provider is pickled into it).
        raise TypeError("refusing to pickle a Secret")


# Environment variable and Pulumi config key for every setting, in lookup order.
SETTING_NAMES: dict[str, tuple[str, str]] = {
    "client_id": ("AEP_CLIENT_ID", "aep:clientId"),
    "client_secret": ("AEP_CLIENT_SECRET", "aep:clientSecret"),
    "org_id": ("AEP_ORG_ID", "aep:orgId"),
    "scopes": ("AEP_SCOPES", "aep:scopes"),
    "endpoint": ("AEP_ENDPOINT", "aep:endpoint"),
    "ims_url": ("AEP_IMS_URL", "aep:imsUrl"),
    "retry_budget": ("AEP_RETRY_BUDGET", "aep:retryBudget"),
    "retry_base_delay": ("AEP_RETRY_BASE_DELAY", "aep:retryBaseDelay"),
    "connect_timeout": ("AEP_CONNECT_TIMEOUT", "aep:connectTimeout"),
    "read_timeout": ("AEP_READ_TIMEOUT", "aep:readTimeout"),
}
CONFIG_KEYS = tuple(cfg for _env, cfg in SETTING_NAMES.values())


class ConfigurationError(Exception):
    """Settings are missing or malformed; the message says which name to set."""


@dataclass(frozen=True)
class AEPSettings:
    """Everything the client needs. Frozen and hashable: it keys the process-wide client cache."""

    client_id: str
    client_secret: Secret
    org_id: str
    scopes: str = DEFAULT_SCOPES
    endpoint: str = DEFAULT_ENDPOINT
    ims_url: str = DEFAULT_IMS_URL
    retry_budget: float = 60.0
    retry_base_delay: float = 0.5
    retry_max_delay: float = 20.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    # Renew this long before IMS says the token expires (capped at a tenth of its lifetime).
    token_margin: float = 300.0

    @classmethod
    def load(cls, config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> "AEPSettings":
        """Build settings from the environment first, then Pulumi config (`aep:*` keys).

        `config` is anything with `.get(key)`: a `pulumi.dynamic.Config` or a plain dict.
        """
        env = os.environ if env is None else env
        raw: dict[str, Any] = {}
        for attr, (env_name, cfg_key) in SETTING_NAMES.items():
            value = env.get(env_name)
            if value in (None, "") and config is not None:
                value = config.get(cfg_key)
            if isinstance(value, Secret):
                value = value.reveal()
            if value not in (None, ""):
                raw[attr] = value
        missing = [f"{SETTING_NAMES[a][0]} (or config {SETTING_NAMES[a][1]})"
                   for a in ("client_id", "client_secret", "org_id") if a not in raw]
        if missing:
            raise ConfigurationError(
                "AEP credentials are not configured: set " + ", ".join(missing)
                + ". See docs/configuration.md.")
        kwargs: dict[str, Any] = {
            "client_id": str(raw["client_id"]).strip(),
            "client_secret": Secret(raw["client_secret"]),
            "org_id": str(raw["org_id"]).strip(),
        }
        if "scopes" in raw:
            kwargs["scopes"] = ",".join(s.strip() for s in str(raw["scopes"]).split(",") if s.strip())
        if "endpoint" in raw:
            kwargs["endpoint"] = str(raw["endpoint"]).rstrip("/")
            # One override points everything, IMS included, at the emulator.
            kwargs["ims_url"] = kwargs["endpoint"] + "/ims/token/v3"
        if "ims_url" in raw:
            kwargs["ims_url"] = str(raw["ims_url"])
        for attr in ("retry_budget", "retry_base_delay", "connect_timeout", "read_timeout"):
            if attr in raw:
                try:
                    kwargs[attr] = float(raw[attr])
                except (TypeError, ValueError):
                    env_name, cfg_key = SETTING_NAMES[attr]
                    raise ConfigurationError(
                        f"{env_name} / {cfg_key} must be a number of seconds, got {raw[attr]!r}") from None
        return cls(**kwargs)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


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

    def _render(self) -> str:
        where = f"{self.method} {self.path}: " if self.method else ""
        status = f"HTTP {self.status}" if self.status else "no response"
        code = f" {self.code}" if self.code else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{where}{status}{code}{tries}: {self.message}{rid}"


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


def _error_code(body: Any) -> str | None:
    """AEP's own error code: FLOW-1404-412 / XDM-1012-404 from `type`, or a gateway `error_code`."""
    if not isinstance(body, dict):
        return None
    typ = body.get("type")
    if isinstance(typ, str):
        m = _CODE_IN_TYPE.search(typ.rstrip("/").rsplit("/", 1)[-1])
        if m:
            return m.group(1)
    for key in ("error_code", "code", "error"):
        val = body.get(key)
        if isinstance(val, (str, int)) and not isinstance(val, bool):
            return str(val)
    return None


def _error_message(body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        report = body.get("report") if isinstance(body.get("report"), dict) else {}
        for val in (report.get("detailed-message"), body.get("errorMessage"), body.get("detail"),
                    body.get("message"), body.get("error_description"), body.get("title"),
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


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


@dataclass
class Created:
    """The outcome of a create: the server's answer, or the object adopted after a lost response."""

    id: str
    body: Any
    adopted: bool = False


class _Unknown(Exception):
    """Internal: the request may or may not have been processed."""

    def __init__(self, reason: str, status: int | None = None, resp: requests.Response | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.resp = resp


# What to do after an attempt whose outcome is unknown. Returning a value ends the call with
# it; returning None means "definitely not applied: try again".
Resolver = Callable[[], Any]


class AEPClient:
    """All AEP endpoints the providers use, one method each. Thread-safe."""

    def __init__(self, settings: AEPSettings):
        """Nothing happens on the network until the first call."""
        self.settings = settings
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expiry = 0.0
        self._local = threading.local()
        self._tenant_lock = threading.Lock()
        self._tenant_id: str | None = None

    # -- plumbing ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        """This thread's session, created on first use."""
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            # Retries are ours, with per-method safety rules; urllib3 must not add its own.
            adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=4)
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            self._local.session = s
        return s

    def _scrub(self, text: str) -> str:
        """Remove the client secret and any bearer token from `text`."""
        secret = self.settings.client_secret.reveal()
        if secret:
            text = text.replace(secret, _MASK)
        tok = self._token
        if tok:
            text = text.replace(tok, _MASK)
        return re.sub(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/=]+", r"\1" + _MASK, text)

    def _scrub_obj(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self._scrub(obj)
        if isinstance(obj, list):
            return [self._scrub_obj(v) for v in obj]
        if isinstance(obj, dict):
            return {k: self._scrub_obj(v) for k, v in obj.items()}
        return obj

    def _error(self, resp: requests.Response, method: str, path: str, attempts: int) -> AEPError:
        try:
            body = resp.json() if resp.content else None
        except ValueError:
            body = resp.text
        body = self._scrub_obj(body)
        status = resp.status_code
        cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else AEPError)
        return cls(self._scrub(_error_message(body, resp.reason or "error")), status=status,
                   code=_error_code(body), request_id=_request_id(resp, body), method=method,
                   path=self._scrub(path), body=body, attempts=attempts)

    def _delay(self, attempt: int, resp: requests.Response | None) -> float:
        """Full-jitter exponential backoff, but never sooner than the server's Retry-After."""
        s = self.settings
        delay = random.uniform(0, min(s.retry_max_delay, s.retry_base_delay * (2 ** (attempt - 1))))
        ra = resp.headers.get("Retry-After") if resp is not None else None
        if ra:
            try:
                wait = float(ra)
            except ValueError:
                try:
                    wait = email.utils.parsedate_to_datetime(ra).timestamp() - time.time()
                except (TypeError, ValueError):
                    wait = 0.0
            delay = max(delay, wait)
        return max(0.0, delay)

    @staticmethod
    def _never_sent(exc: requests.RequestException) -> bool:
        """True when the request provably never reached the server (connect phase failed)."""
        if isinstance(exc, requests.ConnectTimeout):
            return True
        text = repr(exc)
        return any(marker in text for marker in ("NewConnectionError", "NameResolutionError",
                                                  "Connection refused", "ConnectionRefusedError"))

    def _send(self, method: str, url: str, *, headers: dict[str, str], data: Any = None,
              params: Any = None) -> requests.Response:
        s = self.settings
        return self._session().request(method, url, headers=headers, data=data, params=params,
                                       timeout=(s.connect_timeout, s.read_timeout), allow_redirects=False)

    def _call(self, method: str, path: str, *, sandbox: str | None = None, body: Any = None,
              params: Any = None, accept: str | None = None, content_type: str = "application/json",
              extra_headers: dict[str, str] | None = None, idempotent: bool,
              resolve: Resolver | None = None, ok: Iterable[int] = (200, 201, 202, 204)) -> Any:
        """One logical AEP call with retries, token renewal and typed errors.

        `idempotent` calls are repeated on 429, 5xx and connection errors. Others are repeated
        only when the server provably did not process them (429, connect failure); when the
        outcome is unknown, `resolve` decides (see `Resolver`), and without one the call fails.
        Returns the parsed JSON body (None for an empty body).
        """
        url = self.settings.endpoint + path
        shown = path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        deadline = time.monotonic() + self.settings.retry_budget
        attempt = 0
        renewed = False
        ok = tuple(ok)
        while True:
            attempt += 1
            token = self._access_token()
            headers = {"Authorization": f"Bearer {token}", "x-api-key": self.settings.client_id,
                       "x-gw-ims-org-id": self.settings.org_id}
            if sandbox is not None:
                headers["x-sandbox-name"] = sandbox
            if accept:
                headers["Accept"] = accept
            if data is not None:
                headers["Content-Type"] = content_type
            if extra_headers:
                headers.update(extra_headers)
            resp: requests.Response | None = None
            problem: str
            try:
                resp = self._send(method, url, headers=headers, data=data, params=params)
            except requests.RequestException as exc:
                problem = type(exc).__name__
                if not (idempotent or self._never_sent(exc)):
                    outcome = self._resolve(resolve, method, shown, problem, attempt)
                    if outcome is not None:
                        return outcome
            else:
                status = resp.status_code
                log.debug("AEP %s %s -> %s (attempt %d)", method, shown, status, attempt)
                if status in ok:
                    return self._parse(resp)
                if status == 401 and not renewed:
                    # An expired or revoked token: the request was rejected at the gateway,
                    # so it is safe to renew once and send it again whatever the method.
                    renewed = True
                    self._invalidate_token(token)
                    attempt -= 1
                    continue
                if status == 429:
                    problem = "HTTP 429"
                elif status >= 500:
                    problem = f"HTTP {status}"
                    if not idempotent:
                        outcome = self._resolve(resolve, method, shown, problem, attempt, resp)
                        if outcome is not None:
                            return outcome
                else:
                    raise self._error(resp, method, shown, attempt)
            delay = self._delay(attempt, resp)
            if time.monotonic() + delay > deadline:
                if resp is not None:
                    raise self._error(resp, method, shown, attempt)
                raise TransportError(f"no response from AEP ({problem}); gave up within the "
                                     f"{self.settings.retry_budget:g}s retry budget",
                                     method=method, path=shown, attempts=attempt)
            log.warning("AEP %s %s: %s; retrying in %.2fs (attempt %d)", method, shown, problem, delay, attempt)
            time.sleep(delay)

    def _resolve(self, resolve: Resolver | None, method: str, shown: str, problem: str, attempt: int,
                 resp: requests.Response | None = None) -> Any:
        """Settle an unknown outcome through `resolve`; None means "not applied, retry"."""
        if resolve is None:
            if resp is not None:
                raise self._error(resp, method, shown, attempt)
            raise TransportError(f"the outcome is unknown ({problem}) and this request is not safe to "
                                 "repeat; check the object in AEP, then run `pulumi refresh`",
                                 method=method, path=shown, attempts=attempt)
        log.warning("AEP %s %s: outcome unknown (%s); checking whether it was applied", method, shown, problem)
        return resolve()

    @staticmethod
    def _parse(resp: requests.Response) -> Any:
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            return resp.text

    # -- IMS ------------------------------------------------------------------------------

    def _access_token(self) -> str:
        """A valid access token, fetching or renewing it under the lock when needed."""
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_expiry:
                self._token, self._token_expiry = self._fetch_token()
            return self._token

    def _invalidate_token(self, token: str) -> None:
        with self._token_lock:
            # Only drop the token that failed: another thread may already have renewed it.
            if self._token == token:
                self._token = None

    def _fetch_token(self) -> tuple[str, float]:
        """POST the client-credentials grant to IMS (form body, never the query string)."""
        s = self.settings
        form = {"grant_type": "client_credentials", "client_id": s.client_id,
                "client_secret": s.client_secret.reveal(), "scope": s.scopes}
        deadline = time.monotonic() + s.retry_budget
        attempt = 0
        shown = urllib.parse.urlsplit(s.ims_url).path
        while True:
            attempt += 1
            started = time.monotonic()
            resp = None
            try:
                resp = self._send("POST", s.ims_url, data=form,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
            except requests.RequestException as exc:
                problem = type(exc).__name__
            else:
                log.debug("IMS POST %s -> %s (attempt %d)", shown, resp.status_code, attempt)
                if resp.status_code == 200:
                    body = resp.json()
                    ttl = float(body.get("expires_in", 0))
                    margin = min(s.token_margin, ttl / 10)
                    return body["access_token"], started + ttl - margin
                if resp.status_code != 429 and resp.status_code < 500:
                    err = self._error(resp, "POST", shown, attempt)
                    raise AuthError(f"IMS refused the client-credentials grant: {err.message}. Check "
                                    "AEP_CLIENT_ID / AEP_CLIENT_SECRET / AEP_SCOPES (or aep:clientId, "
                                    "aep:clientSecret, aep:scopes)", status=err.status, code=err.code,
                                    request_id=err.request_id, method="POST", path=shown, attempts=attempt)
                problem = f"HTTP {resp.status_code}"
            delay = self._delay(attempt, resp)
            if time.monotonic() + delay > deadline:
                if resp is not None:
                    raise self._error(resp, "POST", shown, attempt)
                raise TransportError(f"IMS unreachable ({problem})", method="POST", path=shown, attempts=attempt)
            log.warning("IMS token request: %s; retrying in %.2fs", problem, delay)
            time.sleep(delay)

    # -- shared Flow Service helpers ---------------------------------------------------------

    def _fs_create(self, collection: str, sandbox: str, body: dict, match: Callable[[dict], bool]) -> Created:
        """POST a Flow Service object; on an unknown outcome adopt a same-named match if one exists."""
        def resolve():
            found = [i for i in self._fs_find(collection, sandbox, body["name"]) if match(i)]
            if not found:
                return None
            item = max(found, key=lambda i: i.get("createdAt") or 0)
            return Created(item["id"], {"id": item["id"], "etag": item.get("etag")}, adopted=True)

        out = self._call("POST", f"{FLOW_SERVICE}/{collection}", sandbox=sandbox, body=body,
                         idempotent=False, resolve=resolve)
        if isinstance(out, Created):
            log.warning("adopted %s %s created by an earlier attempt whose response was lost", collection, out.id)
            return out
        return Created(out["id"], out)

    def _fs_get(self, collection: str, sandbox: str, id_: str) -> dict:
        body = self._call("GET", f"{FLOW_SERVICE}/{collection}/{_q(id_)}", sandbox=sandbox, idempotent=True)
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

        return self._call("PATCH", f"{FLOW_SERVICE}/{collection}/{_q(id_)}", sandbox=sandbox, body=ops,
                          extra_headers={"If-Match": etag}, idempotent=False, resolve=resolve)

    def _fs_delete(self, collection: str, sandbox: str, id_: str) -> None:
        self._call("DELETE", f"{FLOW_SERVICE}/{collection}/{_q(id_)}", sandbox=sandbox, idempotent=True)

    # -- Flow Service: base connections (/connections) -------------------------------------

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

    # -- Flow Service: source connections --------------------------------------------------

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

    # -- Flow Service: target connections --------------------------------------------------

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

    # -- Flow Service: flows -----------------------------------------------------------------

    def create_flow(self, sandbox: str, body: dict) -> Created:
        """POST /flows -> {id, etag}."""
        return self._fs_create("flows", sandbox, body,
                               _matches(body, ("flowSpec.id", "sourceConnectionIds", "targetConnectionIds")))

    def get_flow(self, sandbox: str, id_: str) -> dict:
        """GET /flows/{id} -> the item, with options.inletUrl and state."""
        return self._fs_get("flows", sandbox, id_)

    def find_flows(self, sandbox: str, name: str) -> list[dict]:
        """GET /flows?property=name==<name>."""
        return self._fs_find("flows", sandbox, name)

    def list_flows(self, sandbox: str, *filters: str) -> list[dict]:
        """GET /flows?property=<filter>... (all pages)."""
        return self._fs_list("flows", sandbox, filters)

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

        return self._call("POST", f"{FLOW_SERVICE}/flows/{_q(id_)}/action", sandbox=sandbox,
                          params={"op": op}, extra_headers={"If-Match": etag} if etag else None,
                          idempotent=False, resolve=resolve)

    def delete_flow(self, sandbox: str, id_: str) -> None:
        """DELETE /flows/{id}."""
        self._fs_delete("flows", sandbox, id_)

    # -- Flow Service: runs ------------------------------------------------------------------

    def list_runs(self, sandbox: str, flow_id: str, limit: int | None = 100) -> list[dict]:
        """GET /runs?property=flowId==<id> -> every run of the flow, in AEP's order.

        `limit` is the page size AEP is asked for, not a cap: every `_links.next` page is
        followed. AEP documents no order for runs; sort by `createdAt` for the newest.
        """
        return self._fs_list("runs", sandbox, [f"flowId=={flow_id}"], limit=limit)

    # -- Data Prep ------------------------------------------------------------------------

    def create_mapping_set(self, sandbox: str, body: dict) -> Created:
        """POST /mappingSets -> 200 {id, version, ...}; adopts a same-named set after a lost response."""
        def resolve():
            found = [m for m in self.find_mapping_sets(sandbox, body["name"])
                     if _same_schema(m, body)]
            if not found:
                return None
            item = max(found, key=lambda m: m.get("createdDate") or 0)
            return Created(item["id"], item, adopted=True)

        out = self._call("POST", f"{DATA_PREP}/mappingSets", sandbox=sandbox, body=body,
                         idempotent=False, resolve=resolve)
        if isinstance(out, Created):
            log.warning("adopted mapping set %s created by an earlier attempt whose response was lost", out.id)
            return out
        return Created(out["id"], out)

    def get_mapping_set(self, sandbox: str, id_: str, version: int | None = None) -> dict:
        """GET /mappingSets/{id}[?version=N] (latest version without one)."""
        params = {"version": version} if version is not None else None
        return self._call("GET", f"{DATA_PREP}/mappingSets/{_q(id_)}", sandbox=sandbox, params=params,
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

    def update_mapping_set(self, sandbox: str, id_: str, body: dict) -> dict:
        """PUT /mappingSets/{id} -> the set with `version` incremented."""
        return self._call("PUT", f"{DATA_PREP}/mappingSets/{_q(id_)}", sandbox=sandbox, body=body,
                          idempotent=True)

    def delete_mapping_set(self, sandbox: str, id_: str) -> None:
        """DELETE /mappingSets/{id} (undocumented by Adobe; used by common AEP clients)."""
        self._call("DELETE", f"{DATA_PREP}/mappingSets/{_q(id_)}", sandbox=sandbox, idempotent=True)

    # -- Schema Registry ------------------------------------------------------------------

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
        def resolve():
            found = self._sr_find(kind, sandbox, body["title"])
            if not found:
                return None
            # Titles are unique in a sandbox's registry, so a same-titled object is ours.
            return Created(found[0]["$id"], found[0], adopted=True)

        out = self._call("POST", f"{SCHEMA_REGISTRY}/tenant/{kind}", sandbox=sandbox, body=body,
                         idempotent=False, resolve=resolve)
        if isinstance(out, Created):
            log.warning("adopted %s %s created by an earlier attempt whose response was lost", kind, out.id)
            return out
        return Created(out["$id"], out)

    def _sr_find(self, kind: str, sandbox: str, title: str) -> list[dict]:
        body = self._call("GET", f"{SCHEMA_REGISTRY}/tenant/{kind}", sandbox=sandbox,
                          params={"property": f"title=={title}"}, accept=XED_LISTING, idempotent=True) or {}
        return [r for r in body.get("results") or [] if r.get("title") == title]

    def create_field_group(self, sandbox: str, body: dict) -> Created:
        """POST /tenant/fieldgroups -> 201 full field group."""
        return self._sr_create("fieldgroups", sandbox, body)

    def get_field_group(self, sandbox: str, id_: str) -> dict:
        """GET /tenant/fieldgroups/{altId or encoded $id}."""
        return self._call("GET", f"{SCHEMA_REGISTRY}/tenant/fieldgroups/{_q(id_)}", sandbox=sandbox,
                          accept=XED_LOOKUP, idempotent=True)

    def find_field_groups(self, sandbox: str, title: str) -> list[dict]:
        """GET /tenant/fieldgroups?property=title==<title>."""
        return self._sr_find("fieldgroups", sandbox, title)

    def replace_field_group(self, sandbox: str, id_: str, body: dict) -> dict:
        """PUT /tenant/fieldgroups/{id} -> the rewritten field group."""
        return self._call("PUT", f"{SCHEMA_REGISTRY}/tenant/fieldgroups/{_q(id_)}", sandbox=sandbox,
                          body=body, idempotent=True)

    def delete_field_group(self, sandbox: str, id_: str) -> None:
        """DELETE /tenant/fieldgroups/{id} -> 204."""
        self._call("DELETE", f"{SCHEMA_REGISTRY}/tenant/fieldgroups/{_q(id_)}", sandbox=sandbox,
                   idempotent=True)

    def create_schema(self, sandbox: str, body: dict) -> Created:
        """POST /tenant/schemas -> 201 full schema ($id, meta:altId, version)."""
        return self._sr_create("schemas", sandbox, body)

    def get_schema(self, sandbox: str, id_: str, full: bool = False) -> dict:
        """GET /tenant/schemas/{altId or encoded $id}; `full` asks for the xed-full rendering."""
        return self._call("GET", f"{SCHEMA_REGISTRY}/tenant/schemas/{_q(id_)}", sandbox=sandbox,
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
        return self._call("PATCH", f"{SCHEMA_REGISTRY}/tenant/schemas/{_q(id_)}", sandbox=sandbox,
                          body=ops, idempotent=True)

    def delete_schema(self, sandbox: str, id_: str) -> None:
        """DELETE /tenant/schemas/{id} -> 204."""
        self._call("DELETE", f"{SCHEMA_REGISTRY}/tenant/schemas/{_q(id_)}", sandbox=sandbox, idempotent=True)

    # -- Catalog ----------------------------------------------------------------------------

    def create_dataset(self, sandbox: str, body: dict) -> Created:
        """POST /dataSets -> 201 ["@/dataSets/<id>"]; adopts a same-named match after a lost response."""
        def resolve():
            found = {i: d for i, d in self.find_datasets(sandbox, body["name"]).items()
                     if ((d.get("schemaRef") or {}).get("id")) == (body.get("schemaRef") or {}).get("id")}
            if not found:
                return None
            id_ = max(found, key=lambda i: found[i].get("created") or 0)
            return Created(id_, found[id_], adopted=True)

        out = self._call("POST", f"{CATALOG}/dataSets", sandbox=sandbox, body=body, idempotent=False,
                         resolve=resolve)
        if isinstance(out, Created):
            log.warning("adopted dataset %s created by an earlier attempt whose response was lost", out.id)
            return out
        return Created(_catalog_id(out), out)

    def get_dataset(self, sandbox: str, id_: str) -> dict:
        """GET /dataSets/{id} -> the dataset (unwrapped from its id-keyed object)."""
        body = self._call("GET", f"{CATALOG}/dataSets/{_q(id_)}", sandbox=sandbox, idempotent=True) or {}
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

    def patch_dataset(self, sandbox: str, id_: str, ops: list[dict]) -> None:
        """PATCH /dataSets/{id} with a JSON Patch of absolute values (repeatable)."""
        self._call("PATCH", f"{CATALOG}/dataSets/{_q(id_)}", sandbox=sandbox, body=ops,
                   content_type="application/json-patch+json", idempotent=True)

    def delete_dataset(self, sandbox: str, id_: str) -> bool:
        """DELETE /dataSets/{id}. False when Catalog says it had nothing to delete (200 [])."""
        body = self._call("DELETE", f"{CATALOG}/dataSets/{_q(id_)}", sandbox=sandbox, idempotent=True)
        return not (isinstance(body, list) and not body)

    # -- Emulator only ------------------------------------------------------------------------

    def emulator_dataset_records(self, sandbox: str, dataset_id: str, limit: int = 100, start: int = 0
                                 ) -> list[dict]:
        """EMULATOR ONLY: GET /data/foundation/export/datasets/{id}/records?limit=&start=.

        One page of the XDM records the local emulator's inlet stored in a dataset, oldest
        first (`limit` at most 10,000, `start` an offset). Real AEP has no such endpoint (the
        call fails with an AEPError there): query a real dataset with Query Service instead.
        """
        body = self._call("GET", f"{EMULATOR_EXPORT}/datasets/{_q(dataset_id)}/records", sandbox=sandbox,
                          params={"limit": limit, "start": start}, idempotent=True) or {}
        return list(body.get("records") or [])


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _q(id_: str) -> str:
    """Quote an id for a path segment (schema `$id`s are URIs and must be encoded)."""
    return urllib.parse.quote(str(id_), safe="")


def etag_value(etag: Any) -> str:
    """An etag without W/ and surrounding quotes, for comparisons only (send it as received)."""
    s = str(etag or "").strip()
    if s.startswith("W/"):
        s = s[2:]
    return s.strip('"')


def _etag_eq(a: Any, b: Any) -> bool:
    return etag_value(a) == etag_value(b)


def _catalog_id(body: Any) -> str:
    """The id out of Catalog's ["@/dataSets/<id>"] answer."""
    if isinstance(body, list) and body:
        return str(body[0]).rsplit("/", 1)[-1]
    raise AEPError(f"unexpected Catalog create response {body!r}")


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


def _loose(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v):
        return float(v)
    if isinstance(v, list):
        return [_loose(x) for x in v]
    if isinstance(v, dict):
        return {k: _loose(x) for k, x in v.items()}
    return v


def _dig(doc: Any, dotted: str) -> Any:
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
        return all(_loose(_dig(item, k)) == _loose(_dig(body, k)) for k in keys)

    return match


def _same_schema(mapping_set: dict, body: dict) -> bool:
    want = _dig(body, "outputSchema.schemaRef.id")
    got = _dig(mapping_set, "outputSchema.schemaRef.id") or _dig(mapping_set, "outputSchema.id")
    return got is None or got == want


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
    "AEPClient", "AEPError", "AEPSettings", "AuthError", "BadRequest", "CONFIG_KEYS", "ConfigurationError",
    "Conflict", "Created", "NotFound", "PreconditionFailed", "RateLimited", "Secret", "ServerError",
    "SETTING_NAMES", "TransportError", "clear_client_cache", "etag_value", "get_client",
]
