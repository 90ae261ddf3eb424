"""The client transport: settings, the secret, the IMS token, sessions and the one retry loop.

Every AEP service module (flow_service, data_prep, schema_registry, catalog) is a
`Transport` with its endpoints; `providers.client.AEPClient` is all of them in one. What
a request may repeat is the caller's choice (`idempotent`, `resolve`); the loop itself,
its time budget, full jitter and `Retry-After`, is `tenacity` driven by `_retry`, and the
IMS token request goes through the same loop. Errors are typed in providers/errors.py.
"""

from __future__ import annotations

import email.utils
import importlib
import itertools
import json
import logging
import math
import os
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import tenacity

from .errors import MASK, AEPError, AuthError, TransportError, http_error

log = logging.getLogger("providers.client")


class _OnFirstUse:
    """A module imported when one of its names is first used.

    `requests` (with urllib3) takes about 0.09 s to import, and both the program and the
    provider process import this module; a no-op preview calls no AEP API in either, so it
    never pays for it. The import lock makes the first use safe from any thread.
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


requests: Any = _OnFirstUse("requests")

DEFAULT_ENDPOINT = "https://platform.adobe.io"
DEFAULT_IMS_URL = "https://ims-na1.adobelogin.com/ims/token/v3"
DEFAULT_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"


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
        return f"Secret({MASK!r})"

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
    "identity_endpoint": ("AEP_IDENTITY_ENDPOINT", "aep:identityEndpoint"),
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
    # Identity Service's host: Adobe's docs show a regional one (platform-<region>.adobe.io).
    # Empty means the endpoint's; `identity_base` is the URL to use.
    identity_endpoint: str = ""
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
        if "identity_endpoint" in raw:
            kwargs["identity_endpoint"] = str(raw["identity_endpoint"]).rstrip("/")
        for attr in ("retry_budget", "retry_base_delay", "connect_timeout", "read_timeout"):
            if attr in raw:
                try:
                    kwargs[attr] = float(raw[attr])
                except (TypeError, ValueError):
                    env_name, cfg_key = SETTING_NAMES[attr]
                    raise ConfigurationError(
                        f"{env_name} / {cfg_key} must be a number of seconds, got {raw[attr]!r}") from None
        return cls(**kwargs)

    @property
    def identity_base(self) -> str:
        """The base URL of Identity Service calls: its own setting, else the endpoint."""
        return self.identity_endpoint or self.endpoint


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


def plain(v: Any, *, numeric_strings: bool = False) -> Any:
    """The comparable form of a JSON value: integral floats become ints, recursively.

    Numbers cross Pulumi's wire as doubles, so 9.0 must equal 9. With `numeric_strings`,
    digit strings count as numbers too ("0" is 0), as some AEP answers send them.
    """
    if isinstance(v, bool) or v is None:
        return v
    if numeric_strings and isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v):
        v = float(v)
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [plain(x, numeric_strings=numeric_strings) for x in v]
    if isinstance(v, dict):
        return {k: plain(x, numeric_strings=numeric_strings) for k, x in v.items()}
    return v


def q(id_: str) -> str:
    """Quote an id for a path segment (schema `$id`s are URIs and must be encoded)."""
    return urllib.parse.quote(str(id_), safe="")


@dataclass
class Created:
    """The outcome of a create: the server's answer, or the object adopted after a lost response."""

    id: str
    body: Any
    adopted: bool = False


# What to do after an attempt whose outcome is unknown. Returning a value ends the call with
# it; returning None means "definitely not applied: try again".
Resolver = Callable[[], Any]


class _Again(Exception):
    """Internal: this attempt failed in a way that may be repeated (429, 5xx, no response)."""

    def __init__(self, problem: str, resp: requests.Response | None = None):
        super().__init__(problem)
        self.problem = problem
        self.resp = resp


def _retry_after(resp: requests.Response | None) -> float:
    """The server's Retry-After in seconds (a number or an HTTP date); 0 without one."""
    ra = resp.headers.get("Retry-After") if resp is not None else None
    if not ra:
        return 0.0
    try:
        return float(ra)
    except ValueError:
        try:
            return email.utils.parsedate_to_datetime(ra).timestamp() - time.time()
        except (TypeError, ValueError):
            return 0.0


class _Backoff:
    """Full-jitter exponential backoff, but never sooner than the server's Retry-After."""

    def __init__(self, s: AEPSettings):
        self._jitter = tenacity.wait_random_exponential(multiplier=s.retry_base_delay, max=s.retry_max_delay)

    def __call__(self, state: tenacity.RetryCallState) -> float:
        again = state.outcome.exception() if state.outcome else None
        return max(0.0, self._jitter(state), _retry_after(getattr(again, "resp", None)))


# ---------------------------------------------------------------------------------------------
# The transport
# ---------------------------------------------------------------------------------------------


class Transport:
    """Sessions, the token and the retry loop that every AEP service module sends through."""

    def __init__(self, settings: AEPSettings):
        """Nothing happens on the network until the first call."""
        self.settings = settings
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expiry = 0.0
        self._local = threading.local()

    def _session(self) -> requests.Session:
        """This thread's session, created on first use."""
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            # Retries are ours, with per-method safety rules; urllib3 must not add its own.
            adapter = requests.adapters.HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=4)
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            self._local.session = s
        return s

    def _scrub(self, text: str) -> str:
        """Remove the client secret and any bearer token from `text`."""
        secret = self.settings.client_secret.reveal()
        if secret:
            text = text.replace(secret, MASK)
        tok = self._token
        if tok:
            text = text.replace(tok, MASK)
        return re.sub(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/=]+", r"\1" + MASK, text)

    def _error(self, resp: requests.Response, method: str, path: str, attempts: int) -> AEPError:
        """The typed error for a refused request, with secrets scrubbed from message, path and body."""
        return http_error(resp, method, path, attempts, self._scrub)

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

    def _retry(self, attempt: Callable[[int], Any], label: str, method: str, shown: str, unreachable: str) -> Any:
        """The one retry loop: run `attempt(n)` until it returns or raises anything but `_Again`.

        An `_Again` is repeated after full-jitter backoff (never sooner than Retry-After) while
        the retry budget lasts; then the last refusal is raised as its typed error, or, when
        no response ever came, a TransportError saying `unreachable` (with `{problem}`).
        """
        s = self.settings
        count = itertools.count(1)

        def give_up(state: tenacity.RetryCallState) -> Any:
            again = state.outcome.exception()
            if again.resp is not None:
                raise self._error(again.resp, method, shown, state.attempt_number)
            raise TransportError(unreachable.format(problem=again.problem), method=method, path=shown,
                                 attempts=state.attempt_number)

        def warn(state: tenacity.RetryCallState) -> None:
            log.warning("%s: %s; retrying in %.2fs (attempt %d)", label, state.outcome.exception().problem,
                        state.upcoming_sleep, state.attempt_number)

        return tenacity.Retrying(
            stop=tenacity.stop_before_delay(s.retry_budget), wait=_Backoff(s),
            retry=tenacity.retry_if_exception_type(_Again), before_sleep=warn, retry_error_callback=give_up,
        )(lambda: attempt(next(count)))

    def _call(self, method: str, path: str, *, sandbox: str | None = None, body: Any = None,
              params: Any = None, accept: str | None = None, content_type: str = "application/json",
              extra_headers: dict[str, str] | None = None, idempotent: bool,
              resolve: Resolver | None = None, ok: Iterable[int] = (200, 201, 202, 204),
              base: str | None = None) -> Any:
        """One logical AEP call with retries, token renewal and typed errors.

        `idempotent` calls are repeated on 429, 5xx and connection errors. Others are repeated
        only when the server provably did not process them (429, connect failure); when the
        outcome is unknown, `resolve` decides (see `Resolver`), and without one the call fails.
        `base` is the service's host when it is not the endpoint (Identity Service's).
        Returns the parsed JSON body (None for an empty body).
        """
        url = (base or self.settings.endpoint) + path
        shown = path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        ok = tuple(ok)
        renewed = False

        def attempt(n: int) -> Any:
            nonlocal renewed
            while True:
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
                try:
                    resp = self._send(method, url, headers=headers, data=data, params=params)
                except requests.RequestException as exc:
                    problem = type(exc).__name__
                    if not (idempotent or self._never_sent(exc)):
                        outcome = self._resolve(resolve, method, shown, problem, n)
                        if outcome is not None:
                            return outcome
                    raise _Again(problem) from None
                status = resp.status_code
                log.debug("AEP %s %s -> %s (attempt %d)", method, shown, status, n)
                if status in ok:
                    return self._parse(resp)
                if status == 401 and not renewed:
                    # An expired or revoked token: the request was rejected at the gateway,
                    # so it is safe to renew once and send it again whatever the method.
                    renewed = True
                    self._invalidate_token(token)
                    continue
                if status == 429:
                    raise _Again("HTTP 429", resp)
                if status < 500:
                    raise self._error(resp, method, shown, n)
                if not idempotent:
                    outcome = self._resolve(resolve, method, shown, f"HTTP {status}", n, resp)
                    if outcome is not None:
                        return outcome
                raise _Again(f"HTTP {status}", resp)

        return self._retry(attempt, f"AEP {method} {shown}", method, shown,
                           "no response from AEP ({problem}); gave up within the "
                           f"{self.settings.retry_budget:g}s retry budget")

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

    def _create(self, path: str, sandbox: str, body: dict, *, kind: str, answer_id: Callable[[Any], str],
                find: Callable[[], list[tuple[str, Any]]], newest: str | None = None,
                base: str | None = None) -> Created:
        """POST a create, never blindly repeated: after a lost response, adopt what `find` lists.

        `find` returns (id, document) of the objects that carry this create's unique name and
        agree with `body` on its definition (an object being replaced shares the name but not
        the definition); the one with the latest `newest` is adopted, and without any the POST
        is sent again. `answer_id` takes the id out of the service's answer to the POST.
        """
        def resolve() -> Created | None:
            found = find()
            if not found:
                return None
            id_, doc = max(found, key=lambda f: f[1].get(newest) or 0) if newest else found[0]
            return Created(id_, doc, adopted=True)

        out = self._call("POST", path, sandbox=sandbox, body=body, idempotent=False, resolve=resolve, base=base)
        if isinstance(out, Created):
            log.warning("adopted %s %s created by an earlier attempt whose response was lost", kind, out.id)
            return out
        return Created(answer_id(out), out)

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
        """POST the client-credentials grant to IMS (form body, never the query string).

        Repeated like an idempotent call (429, 5xx, connection errors): it has no side effects.
        """
        s = self.settings
        form = {"grant_type": "client_credentials", "client_id": s.client_id,
                "client_secret": s.client_secret.reveal(), "scope": s.scopes}
        shown = urllib.parse.urlsplit(s.ims_url).path

        def attempt(n: int) -> tuple[str, float]:
            started = time.monotonic()
            try:
                resp = self._send("POST", s.ims_url, data=form,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
            except requests.RequestException as exc:
                raise _Again(type(exc).__name__) from None
            log.debug("IMS POST %s -> %s (attempt %d)", shown, resp.status_code, n)
            if resp.status_code == 200:
                body = resp.json()
                ttl = float(body.get("expires_in", 0))
                margin = min(s.token_margin, ttl / 10)
                return body["access_token"], started + ttl - margin
            if resp.status_code != 429 and resp.status_code < 500:
                err = self._error(resp, "POST", shown, n)
                raise AuthError(f"IMS refused the client-credentials grant: {err.message}. Check "
                                "AEP_CLIENT_ID / AEP_CLIENT_SECRET / AEP_SCOPES (or aep:clientId, "
                                "aep:clientSecret, aep:scopes)", status=err.status, code=err.code,
                                request_id=err.request_id, method="POST", path=shown, attempts=n)
            raise _Again(f"HTTP {resp.status_code}", resp)

        return self._retry(attempt, "IMS token request", "POST", shown, "IMS unreachable ({problem})")
