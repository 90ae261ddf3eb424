"""Adobe IMS: the OAuth Server-to-Server (client credentials) token endpoint, v3.

Tokens are stored as global `kinds.TOKEN` documents so the gateway can check them and
so they survive a restart, like real IMS tokens outlive any one API call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .. import config, kinds

router = APIRouter()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def clients(settings: dict) -> dict[str, tuple[str, str]]:
    """Every client the emulator accepts: client id -> (SHA-256 of its secret, org)."""
    known = {config.DEV_CLIENT_ID: (config.DEV_CLIENT_SECRET_SHA256, config.DEV_ORG_ID)}
    extra = {**config.EXTRA_CLIENTS, **(settings.get("clients") or {})}
    known.update({cid: (_digest(secret), org) for cid, (secret, org) in extra.items()})
    return known


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    # IMS does not document its error body; this is the standard OAuth 2.0 shape (RFC 6749 §5.2).
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _jwt_like(claims: dict) -> str:
    # Real IMS access tokens are JWTs; some clients peek at the payload, so keep the shape.
    def seg(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()

    sig = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return f"{seg({'alg': 'RS256', 'typ': 'JWT', 'x5u': 'emulator.cer'})}.{seg(claims)}.{sig}"


@router.post("/ims/token/v3")
async def token(request: Request):
    """Issue an access token for a known client (form body, or query parameters)."""
    params = dict(request.query_params)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if body and ctype in ("application/x-www-form-urlencoded", ""):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    grant = params.get("grant_type")
    missing = [f for f in ("grant_type", "client_id", "client_secret", "scope") if not params.get(f)]
    if missing:
        return _oauth_error(400, "invalid_request", f"missing required parameter(s): {', '.join(missing)}")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")

    known = clients(request.app.state.settings)
    client_id = params["client_id"]
    entry = known.get(client_id)
    if entry is None or not secrets.compare_digest(entry[0], _digest(params["client_secret"])):
        return _oauth_error(401, "invalid_client", "invalid client_id or client_secret")

    ttl = int(request.app.state.settings.get("token_ttl") or config.DEFAULT_TOKEN_TTL)
    now = time.time()
    access_token = _jwt_like({
        "id": secrets.token_hex(8), "type": "access_token", "client_id": client_id, "org": entry[1],
        "scope": params["scope"], "created_at": str(int(now * 1000)), "expires_in": str(ttl * 1000),
    })
    request.app.state.store.put(kinds.TOKEN, "", "", access_token,
                                {"clientId": client_id, "org": entry[1], "expiresAt": now + ttl})
    return JSONResponse({"access_token": access_token, "token_type": "bearer", "expires_in": ttl})
