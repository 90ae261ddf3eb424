"""Identity Service: identity namespaces (/data/core/idnamespace/identities).

Its host is a setting of its own (`AEPSettings.identity_base`: Adobe's docs show a regional
one), never hard-coded. A namespace code is unique in a sandbox, compared ignoring case, so a
create whose answer is lost is settled by finding that code in the listing. There is no
DELETE: AEP offers no way to remove a namespace.
"""

from __future__ import annotations

from .transport import Created, Transport, q

IDENTITY_SERVICE = "/data/core/idnamespace"


class IdentityService(Transport):
    """The Identity Service endpoints the providers use."""

    def list_namespaces(self, sandbox: str) -> list[dict]:
        """GET /identities -> every namespace the sandbox sees, standard and custom (a bare array). Retried."""
        body = self._call("GET", f"{IDENTITY_SERVICE}/identities", sandbox=sandbox, accept="application/json",
                          idempotent=True, base=self.settings.identity_base)
        return list(body or [])

    def find_namespaces(self, sandbox: str, code: str) -> list[dict]:
        """The namespaces whose code is `code`, ignoring case (AEP's own comparison). Retried."""
        return [n for n in self.list_namespaces(sandbox) if str(n.get("code", "")).lower() == code.lower()]

    def get_namespace(self, sandbox: str, id_: str | int) -> dict:
        """GET /identities/{id} -> the namespace. Retried."""
        return self._call("GET", f"{IDENTITY_SERVICE}/identities/{q(id_)}", sandbox=sandbox,
                          accept="application/json", idempotent=True, base=self.settings.identity_base)

    def create_namespace(self, sandbox: str, body: dict) -> Created:
        """POST /identities -> 200 with the namespace. Never repeated blindly: after a lost
        response the namespace is found again by its code and adopted (409 is the caller's)."""
        return self._create(f"{IDENTITY_SERVICE}/identities", sandbox, body, kind="identity namespace",
                            answer_id=lambda out: str(out["id"]),
                            find=lambda: [(str(n["id"]), n) for n in self.find_namespaces(sandbox, body["code"])
                                          if n.get("custom", True)],
                            base=self.settings.identity_base)

    def update_namespace(self, sandbox: str, id_: str | int, body: dict) -> dict:
        """PUT /identities/{id} with the full body (only name and description may change) -> the
        namespace. Retried: a full replacement is idempotent."""
        out = self._call("PUT", f"{IDENTITY_SERVICE}/identities/{q(id_)}", sandbox=sandbox, body=body,
                         accept="application/json", idempotent=True, base=self.settings.identity_base)
        # The spec answers a one-element array (updateNamespace list).
        return out[0] if isinstance(out, list) and out else out
