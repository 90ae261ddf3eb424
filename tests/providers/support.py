"""Helpers for driving the providers directly against a real emulator process.

`Harness` configures providers the way the dynamic-provider server does
(`configure(ConfigureRequest(Config(...)))`), counts the API calls they make through the
emulator's metrics, and builds the upstream objects a resource under test needs, through
the providers themselves. Out-of-band changes go through a separate raw HTTP session.
"""

from __future__ import annotations

from typing import Any

import requests
from pulumi.dynamic import Config, ConfigureRequest

from emulator import config as dev
from emulator.process import EmulatorProcess
from providers import (
    BaseConnectionProvider,
    DataflowProvider,
    DatasetProvider,
    MappingSetProvider,
    SourceConnectionProvider,
    TargetConnectionProvider,
    XdmSchemaProvider,
)
from providers.models import HTTP_STREAMING_SPEC, PENDO_SPEC
from tests.support.credentials import DEV_CLIENT_SECRET

FS = "/data/foundation/flowservice"
SR = "/data/foundation/schemaregistry"
CAT = "/data/foundation/catalog"
DP = "/data/foundation/conversion"
IMS = "POST /ims/token/v3"

TENANT = dev.TENANT_ID
FIELDS = {
    "accountId": {"type": "string"},
    "visitorId": {"type": "string"},
    "uniqueId": {"type": "string"},
    "eventTime": {"type": "date-time"},
    "guide": {"type": "object", "properties": {"name": {"type": "string"}, "stepCount": {"type": "integer"}}},
}
MAPPINGS = [
    {"source": "accountId", "destination": f"_{TENANT}.accountId"},
    {"source": "visitorId", "destination": f"_{TENANT}.visitorId"},
    {"source": "properties.guideProperties.name", "destination": f"_{TENANT}.guide.name"},
]


def route(method: str, service: str, template: str) -> str:
    """A metrics key: "METHOD /service/route/template"."""
    return f"{method} {service}{template}"


class Harness:
    """One sandbox on one emulator, with configured providers and call counting."""

    def __init__(self, emu: EmulatorProcess, sandbox: str, **config: Any):
        self.emu = emu
        self.sandbox = sandbox
        self.config = {
            "aep:endpoint": emu.base_url,
            "aep:clientId": dev.DEV_CLIENT_ID,
            "aep:clientSecret": DEV_CLIENT_SECRET,
            "aep:orgId": dev.DEV_ORG_ID,
            "aep:retryBaseDelay": "0.01",
            "aep:retryBudget": "10",
            **{k if ":" in k else f"aep:{k}": v for k, v in config.items()},
        }
        self._raw: requests.Session | None = None
        self._memo: dict[str, tuple[str, dict]] = {}

    # -- providers ---------------------------------------------------------------------------

    def provider(self, cls):
        """A provider instance configured as the dynamic-provider server would."""
        p = cls()
        p.configure(ConfigureRequest(Config(self.config, "aep-pipelines")))
        return p

    def check(self, p, inputs: dict, olds: dict | None = None) -> dict:
        """check() that must pass; returns the checked inputs (without the engine-internal `__` keys)."""
        result = p.check(olds or {}, {"sandbox": self.sandbox, **inputs})
        assert not result.failures, [(f.property, f.reason) for f in result.failures]
        return {k: v for k, v in result.inputs.items() if not k.startswith("__")}

    def create(self, cls, **inputs) -> tuple[str, dict]:
        """check + create through a provider; returns (id, outs)."""
        p = self.provider(cls)
        res = p.create(self.check(p, inputs))
        return res.id, res.outs

    # -- raw access, metrics ------------------------------------------------------------------

    @property
    def raw(self) -> requests.Session:
        """An independent authenticated session: changes through it are out of band."""
        if self._raw is None:
            c = self.config
            s = requests.Session()
            s.headers.update({
                "Authorization": f"Bearer {self.emu.token(c['aep:clientId'], c['aep:clientSecret'])}",
                "x-api-key": c["aep:clientId"], "x-gw-ims-org-id": c["aep:orgId"], "x-sandbox-name": self.sandbox})
            self._raw = s
        return self._raw

    def url(self, path: str) -> str:
        return self.emu.base_url + path

    def reset(self) -> None:
        self.emu.reset_metrics()

    def calls(self, ims: bool = False) -> dict[str, int]:
        """Requests since the last reset by route template (IMS left out unless asked)."""
        reqs = self.emu.metrics()["requests"]
        return {k: v for k, v in reqs.items() if ims or k != IMS}

    # -- upstream objects, built once per harness -------------------------------------------------

    def _once(self, key: str, build) -> tuple[str, dict]:
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def schema(self) -> tuple[str, dict]:
        return self._once("schema", lambda: self.create(XdmSchemaProvider, tenant_id=TENANT, fields=FIELDS))

    def dataset(self) -> tuple[str, dict]:
        return self._once("dataset", lambda: self.create(DatasetProvider, schema_id=self.schema()[0]))

    def source(self) -> tuple[str, dict]:
        return self._once("source", lambda: self.create(SourceConnectionProvider, connection_spec_id=PENDO_SPEC))

    def target(self) -> tuple[str, dict]:
        return self._once("target", lambda: self.create(
            TargetConnectionProvider, dataset_id=self.dataset()[0], schema_id=self.schema()[0]))

    def mapping(self) -> tuple[str, dict]:
        return self._once("mapping", lambda: self.create(
            MappingSetProvider, schema_id=self.schema()[0], mappings=MAPPINGS,
            schema_field_paths=self.schema()[1]["field_paths"]))

    def flow(self) -> tuple[str, dict]:
        return self._once("flow", lambda: self.create(
            DataflowProvider, source_connection_id=self.source()[0], target_connection_id=self.target()[0],
            mapping_id=self.mapping()[0], mapping_version=float(self.mapping()[1]["version"])))

    def base_connection(self) -> tuple[str, dict]:
        return self._once("base", lambda: self.create(
            BaseConnectionProvider, connection_spec_id=HTTP_STREAMING_SPEC, auth_spec_name="Streaming Connection",
            auth_params={"sourceId": "pendo-events", "dataType": "raw", "name": "acct"}))

    # -- out-of-band edits through the raw session ------------------------------------------------

    def fs_etag(self, collection: str, id_: str) -> str:
        r = self.raw.get(self.url(f"{FS}/{collection}/{id_}"))
        r.raise_for_status()
        return r.json()["items"][0]["etag"]

    def fs_patch(self, collection: str, id_: str, ops: list[dict]) -> None:
        r = self.raw.patch(self.url(f"{FS}/{collection}/{id_}"), json=ops,
                           headers={"If-Match": self.fs_etag(collection, id_)})
        assert r.status_code == 200, r.text

    def delete(self, path: str) -> None:
        r = self.raw.delete(self.url(path))
        assert r.status_code in (200, 204), r.text
