"""Property-based contract testing of the emulator with schemathesis, driven from plain pytest tests.

Adobe's OpenAPI files (../shared/reference/openapi) describe every operation; schemathesis
turns each one into requests: its deterministic coverage cases (boundary values, wrong types,
missing required parameters and headers, unexpected methods) and hypothesis-generated ones,
valid (positive) and invalid (negative). Only operations the emulator serves are sent
(it lists them at `GET /_emulator/routes`). Every answer is checked here:

* never a 5xx;
* a 4xx is AEP-shaped: JSON in the owning service's error format, its code naming the status;
* a 2xx/3xx body fits the response schema the spec documents for that status, except where
  BASELINE widens the spec, each entry with its reason (docs/emulator.md lists them too).

Failures are collected, not raised one by one, so a run reports every distinct problem.
"""

from __future__ import annotations

import collections
import json
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

import pytest
import requests
import yaml

from emulator import seed
from emulator.config import DEV_CLIENT_ID, DEV_ORG_ID, TENANT_ID
from emulator.process import EmulatorProcess
from tests.support.credentials import DEV_CLIENT_SECRET

from .data_helpers import DataApi
from .fs_helpers import FlowApi

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

# Spec file -> the path prefix its operations live under (its `servers` / `basePath`).
SPECS = {
    "flow-service.yaml": "/data/foundation/flowservice",
    "data-prep.yaml": "/data/foundation/conversion",
    "schema-registry.yaml": "/data/foundation/schemaregistry",
    "catalog.yaml": "/data/foundation/catalog",
    "streaming-ingestion.yaml": "",
    "identity-service.yaml": "/data/core",
}
# Bounded so the whole fuzz run stays well inside `make test`; raise them for a deeper local run.
EXAMPLES = int(os.environ.get("AEP_FUZZ_EXAMPLES", "4"))        # hypothesis cases per operation and mode
COVERAGE_CASES = int(os.environ.get("AEP_FUZZ_COVERAGE", "20"))  # coverage cases per operation (sampled)
AUTH_HEADERS = ("authorization", "x-api-key", "x-gw-ims-org-id", "x-sandbox-name")


# -- the baseline: where the emulator deliberately differs from a spec's response schema -------


def _either(*types: str) -> Callable[[dict], None]:
    def widen(node: dict) -> None:
        node["type"] = list(types) if len(types) > 1 else types[0]
        node.pop("format", None)
    return widen


def _array_of_self(node: dict) -> None:
    item = dict(node)
    node.clear()
    node.update({"type": "array", "items": item})


def _or_array_of_self(node: dict) -> None:
    item = dict(node)
    node.clear()
    node["oneOf"] = [item, {"type": "array", "items": item}]


@dataclass(frozen=True)
class Deviation:
    """One widening of one spec node (a path of keys from the document root), and why.

    A path of ("**",) with `select` widens every node of the document that `select` accepts.
    """
    spec: str
    path: tuple[str, ...]
    widen: Callable[[dict], None]
    reason: str
    select: Callable[[dict], bool] | None = None

    def nodes(self, raw: dict[str, Any]) -> list[dict]:
        """The nodes this entry widens (KeyError when its path is gone from the spec)."""
        if self.path == ("**",):
            return [n for n in _walk(raw) if self.select(n)]
        node: Any = raw
        for key in self.path:
            node = node[key]
        return [node]


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _add_response(status: str, schema: dict) -> Callable[[dict], None]:
    def widen(node: dict) -> None:
        node[status] = {"description": "emulator", "schema": schema}
    return widen


def _or_string_items(node: dict) -> None:
    node["items"] = {"oneOf": [node["items"], {"type": "string"}]}


_ID_TYPES = ["Cookie", "Cross_device", "Device", "Email", "Mobile", "Non_people", "Phone"]


def _every_id_type_spelling(node: dict) -> None:
    node["enum"] = list(dict.fromkeys([*node["enum"], *_ID_TYPES, *(t.upper() for t in _ID_TYPES)]))


def _add_enum(*values: str) -> Callable[[dict], None]:
    def widen(node: dict) -> None:
        node["enum"] = [*node["enum"], *values]
    return widen


BASELINE: list[Deviation] = [
    Deviation("flow-service.yaml", ("components", "schemas", "FlowSpecItemDTO", "properties", "transformationSpecs"),
              _array_of_self, "real flow specs carry an array of transformation specs; the DTO declares one object"),
    Deviation("flow-service.yaml", ("components", "schemas", "TransformationSpecDTO", "properties", "mappingVersion"),
              _either("string", "integer"), "mappingVersion is returned in the JSON type the client sent "
                                            "(the Pendo tutorial sends an integer)"),
    Deviation("flow-service.yaml", ("components", "schemas", "ScheduleSpecDTO", "properties", "interval"),
              _either("string", "integer"), "schedule interval is returned in the JSON type the client sent"),
    Deviation("flow-service.yaml", ("components", "schemas", "ScheduleSpecDTO", "properties", "startTime"),
              _either("integer", "string"), "schedule startTime is returned in the JSON type the client sent"),
    Deviation("data-prep.yaml", ("**",), _either("string", "integer"),
              "Data Prep types its timestamps as date-time strings; every Data Prep example, and AEP, "
              "sends epoch milliseconds", select=lambda n: n.get("format") == "date-time"),
    Deviation("data-prep.yaml", ("components", "schemas", "SourceType"),
              _add_enum("text/x.schema-path", "text/x.aep-xl"),
              "stored mappings report sourceType as a media type, as Data Prep's own MappingOperation example shows"),
    Deviation("data-prep.yaml", ("components", "schemas", "PreviewResponse"), _or_array_of_self,
              "preview answers an array of {data, errors} when `data` is an array of rows, as the docs show; "
              "one object (the spec's shape) for a single row"),
    Deviation("schema-registry.yaml", ("definitions", "createDescriptor", "properties", "xdm:sourceVersion"),
              _either("string", "integer"), "xdm:sourceVersion is returned in the JSON type the client sent "
                                            "(Experience League's descriptor examples send the integer 1)"),
    Deviation("schema-registry.yaml", ("paths", "/tenant/descriptors/{DESCRIPTOR_ID}", "put", "responses"),
              _add_response("201", {"type": "object", "properties": {"@id": {"type": "string"}}}),
              "a descriptor PUT answers 201 with its @id, as Experience League's descriptors guide shows "
              "(the spec declares 200 with the descriptor)"),
    Deviation("schema-registry.yaml", ("definitions", "listDescriptorsResponse", "properties",
                                       "xdm:descriptorIdentity"), _or_string_items,
              "the xdm-id and xdm-link listings give @ids and paths, not objects (the spec's own Accept table)"),
    Deviation("identity-service.yaml", ("**",), _every_id_type_spelling,
              "idType is taken in any letter case and returned as stored: standard namespaces in upper case "
              "(list-namespaces.md), custom ones in the create enum's spelling; the spec's enums mix both",
              select=lambda n: isinstance(n.get("enum"), list) and "Non_people" in n["enum"]),
]


@dataclass(frozen=True)
class Leniency:
    """Input the spec calls invalid that the emulator accepts on purpose: operation and component regexes."""
    operation: str  # searched in "METHOD /base/path/{TEMPLATE}"
    component: str  # searched in schemathesis' "Invalid component" text
    reason: str

    def matches(self, label: str, component: str) -> bool:
        return re.search(self.operation, label) is not None and re.search(self.component, component) is not None


ACCEPTED: list[Leniency] = [
    Leniency(r"^GET /data/foundation/catalog/dataSets$", r"parameter `(limit|start)` in query - violates `type`",
             "an empty `limit=` or `start=` counts as absent (the default): query_int's documented rule; any "
             "other non-integer is a 400 (tests/emulator/test_catalog.py)"),
    Leniency(r"^POST /collection/", r".",
             "the inlet takes what webhook senders send: raw bodies (Pendo sends no XDM envelope), any or no "
             "Content-Type, unknown query parameters; only syncValidation=true turns validation on"),
    Leniency(r"^POST /data/foundation/flowservice/flows/\{FLOW_ID\}/action$", r".",
             "a flow action is its query (op); its body is ignored, as clients send none"),
    Leniency(r"^PATCH /data/foundation/schemaregistry/tenant/", r"value: Incorrect type",
             "JSON Patch (RFC 6902) allows any JSON value; what the patched document must hold is checked after"),
    Leniency(r"^POST /data/foundation/flowservice/connections$", r"auth -> params",
             "auth.params are stored as given: the emulator does not type-check them against the spec's authSpec"),
    Leniency(r"^POST /data/foundation/conversion/mappingSets(/validate|/preview)?$",
             r"\b(inputSchema|jsonSchema|createdBy|modifiedBy|createdDate|modifiedDate|supportVersion)\b"
             r"|(in body - |-> |/properties/|invalid items: )(id|version)\b",
             "server-set fields (the set's and each mapping's id, version, created/modified date and user, "
             "supportVersion) are the server's, a sent value is ignored; inputSchema and outputSchema.jsonSchema "
             "are stored as given (a preview uses only the mappings and the output schema reference)"),
    Leniency(r"^POST /data/foundation/flowservice/(connections|sourceConnections|targetConnections|flows)$",
             r"(connectionSpec|flowSpec) -> (Missing required property: version|version: Incorrect type)",
             "a spec reference without `version` (absent or null; any other non-string is a 400) means the "
             "current one (1.0), as Experience League's examples use"),
    Leniency(r"^(POST|PUT|PATCH) /data/foundation/catalog/dataSets",
             r"^(?!.*(schemaRef|\bname\b|description)).*body",
             "Catalog stores dataset fields the emulator does not interpret (fileDescription, observableSchema, "
             "unknown ones) as given; name, description, tags and schemaRef are checked"),
    Leniency(r"^(POST|PUT) /data/foundation/conversion/mappingSets",
             r"in body - ((name|description)|mappings -> Array with invalid items: (source|sourceAttribute)): "
             r"Incorrect type",
             "null name, description or mapping source means not sent (this project's own provider sends "
             "name: null; a null source is an empty one); any other wrong type is a 400"),
    Leniency(r"^(GET|PUT) /data/core/idnamespace/identities/\{ID\}$", r"parameter `ID` in path - incorrect type",
             "not what was sent: half the cases get a real namespace id in the path (Run.prepare), which replaces "
             "the mistyped one; a non-integer id is a 400 (tests/emulator/test_identity.py)"),
    Leniency(r"^(POST|PUT|PATCH) ", r"(?i)parameter `content-type` in header - violates `required`",
             "not what was sent: the HTTP client sets Content-Type itself for a JSON body"),
]


def deviations_for(spec_file: str) -> list[Deviation]:
    return [d for d in BASELINE if d.spec == spec_file]


def load_raw(spec_dir, spec_file: str) -> dict[str, Any]:
    """The spec as plain JSON data (YAML dates stay strings, as schemathesis expects)."""
    with open(os.path.join(spec_dir, spec_file), encoding="utf-8") as f:
        return json.loads(json.dumps(yaml.safe_load(f), default=str))


def apply_baseline(raw: dict[str, Any], deviations: list[Deviation]) -> dict[str, Any]:
    for d in deviations:
        for node in d.nodes(raw):
            d.widen(node)
    return raw


def load_schema(raw: dict[str, Any]):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return schemathesis.openapi.from_dict(raw)


# -- which spec operations the emulator serves --------------------------------------------------


def route_regex(template: str) -> re.Pattern:
    out, pos = "", 0
    for m in re.finditer(r"\{([^}:]+)(:path)?\}", template):
        out += re.escape(template[pos:m.start()]) + (".+" if m.group(2) else "[^/]+")
        pos = m.end()
    return re.compile("^" + out + re.escape(template[pos:]) + "$")


def served(emu: EmulatorProcess, base: str, operation) -> bool:
    """Whether the emulator routes this spec operation (a sample value in each path parameter)."""
    routes = getattr(emu, "_fuzz_routes", None)
    if routes is None:
        routes = emu._fuzz_routes = [(r["method"], route_regex(r["path"])) for r in emu.admin("GET", "routes")]
    concrete = base + re.sub(r"\{[^}]+\}", "x1", operation.path)
    return any(m == operation.method.upper() and rx.match(concrete) for m, rx in routes)


# -- real objects for path parameters -------------------------------------------------------------


def build_world(emu: EmulatorProcess, sandbox: str) -> dict[str, list[str]]:
    """One Pendo pipeline and a GCS base connection in `sandbox`: real values for each path parameter."""
    data = DataApi(emu, sandbox)
    p = data.pipeline()
    fs = FlowApi(emu, sandbox, data.s)
    base = fs.gcs_base_connection()
    run = fs.put_run(p["flow"], 1_700_000_000_000, "partialSuccess")
    mapping_id = data.get(f"/data/foundation/conversion/mappingSets/{p['mapping']}").json()["mappings"][0]["id"]
    fg = data.get("/data/foundation/schemaregistry/tenant/fieldgroups",
                  headers={"Accept": "application/vnd.adobe.xed-id+json"}).json()["results"][0]
    schema = p["schema"]
    ns = data.post("/data/core/idnamespace/identities",
                   {"name": "Fuzz visitors", "code": "FUZZVISITOR", "idType": "Cross_device"}).json()
    desc = data.post("/data/foundation/schemaregistry/tenant/descriptors", {
        "@type": "xdm:descriptorIdentity", "xdm:sourceSchema": schema["$id"], "xdm:sourceVersion": 1,
        "xdm:sourceProperty": f"/_{TENANT_ID}/visitorid",
        "xdm:namespace": "FUZZVISITOR", "xdm:property": "xdm:code", "xdm:isPrimary": False}).json()
    return {
        "ID": [str(ns["id"]), "4"], "DESCRIPTOR_ID": [desc["@id"]],
        "BASE_CONNECTION_ID": [base], "CONNECTION_SPEC_ID": [seed.PENDO_SPEC_ID, seed.GCS_SPEC_ID],
        "FLOW_ID": [p["flow"]], "FLOW_SPEC_ID": [seed.STREAMING_FLOW_SPEC_ID], "RUN_ID": [run],
        "SOURCE_CONNECTION_ID": [p["source"]], "TARGET_CONNECTION_ID": [p["target"]],
        "MAPPING_SET_ID": [p["mapping"]], "MAPPING_ID": [mapping_id],
        "CONTAINER_ID": ["tenant", "global"],
        "SCHEMA_ID": [schema["meta:altId"], quote(schema["$id"], safe="")],
        "FIELD_GROUP_ID": [fg["meta:altId"]], "MIXIN_ID": [fg["meta:altId"]],
        "CLASS_ID": [quote("https://ns.adobe.com/xdm/context/experienceevent", safe="")],
        "DATASET_ID": [p["dataset"]], "CONNECTION_ID": [p["inlet_url"].rsplit("/", 1)[1]],
    }


# -- the checks -------------------------------------------------------------------------------------

_CODE_TYPES = [
    ("/data/foundation/flowservice", re.compile(r"^https://ns\.adobe\.com/aep/errors/FLOW-\d+-(\d{3})$")),
    ("/data/foundation/schemaregistry", re.compile(r"^http://ns\.adobe\.com/aep/errors/XDM-\d+-(\d{3})$")),
    ("/data/foundation/conversion", re.compile(r"^https://ns\.adobe\.com/aep/errors/DP-\d+-(\d{3})$")),
    ("/data/foundation/catalog", re.compile(r"^https://ns\.adobe\.com/aep/errors/CAT-\d+-(\d{3})$")),
]
_NAMESPACE_PROBLEM = "http://ns.adobe.com/adobecloud/problem/namespacevalidation"
_PROBLEM = re.compile(r"^https://ns\.adobe\.com/adobecloud/problem/data-collection-service(-[a-z-]+)?$")


def aep_error_problem(path: str, status: int, body: Any) -> str | None:
    """Why a 4xx body is not in the AEP shape of the service owning `path` (None when it is)."""
    if not isinstance(body, dict):
        return f"error body is not a JSON object: {str(body)[:120]}"
    if "error_code" in body:  # the Adobe I/O gateway answers before any service
        ok = isinstance(body.get("message"), str) and str(body["error_code"]).startswith(str(status))
        return None if ok else f"gateway error code {body.get('error_code')} does not name status {status}"
    if body.get("type") == "/placeholder/type/uri":  # the gateway's content-type rejection, verbatim AEP
        return None if status == 400 and body.get("detail") else "bad content-type error body"
    if path.startswith("/collection"):
        if not _PROBLEM.match(str(body.get("type", ""))) or body.get("status") != str(status):
            return f"not a Data Collection problem body for {status}: {json.dumps(body)[:160]}"
        return None
    if path.startswith("/data/core/idnamespace"):
        ok = body.get("type") == _NAMESPACE_PROBLEM and body.get("status") == status and body.get("title")
        return None if ok else f"not an Identity Service namespacevalidation body for {status}: {json.dumps(body)[:160]}"
    if path.startswith("/data/core/ups"):
        return None if body.get("statusCode") == str(status) else f"not a Profile error body: {json.dumps(body)[:160]}"
    for prefix, rx in _CODE_TYPES:
        if path.startswith(prefix):
            m = rx.match(str(body.get("type", "")))
            if not m:
                return f"error type is not the service's code URI: {json.dumps(body)[:160]}"
            if int(m.group(1)) != status or body.get("status") != status:
                return f"error code {body['type'].rsplit('/', 1)[1]} / status {body.get('status')} for HTTP {status}"
            return None
    return f"no AEP service owns {path}"


@dataclass
class Run:
    """What one spec's fuzz run sent and found."""
    emu: EmulatorProcess
    base: str
    headers: dict[str, str]
    world: dict[str, list[str]]
    session: requests.Session = field(default_factory=requests.Session)
    sent: int = 0
    seconds: float = 0.0
    operations: list[str] = field(default_factory=list)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    per_operation: collections.Counter = field(default_factory=collections.Counter)
    op_seconds: collections.Counter = field(default_factory=collections.Counter)
    lenient: collections.Counter = field(default_factory=collections.Counter)  # ACCEPTED reason -> count
    failures: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def fail(self, label: str, kind: str, detail: str) -> None:
        self.failures.setdefault((label, kind), []).append(detail)

    def send(self, case, label: str) -> None:
        """Send one case and check the answer."""
        url_base = self.emu.base_url + self.base
        try:
            r = case.call(base_url=url_base, session=self.session, timeout=15)
        except requests.RequestException as exc:
            self.fail(label, "transport", repr(exc)[:200])
            return
        self.sent += 1
        self.per_operation[label] += 1
        self.statuses[r.status_code] += 1
        what = f"{r.request.method} {r.request.url[len(self.emu.base_url):][:200]} body={str(r.request.body)[:160]}"
        if r.status_code >= 500:
            self.fail(label, f"HTTP {r.status_code}", f"{what} -> {r.text[:200]}")
            return
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = r.text
            problem = aep_error_problem(r.request.path_url, r.status_code, body)
            if problem:
                self.fail(label, f"non-AEP {r.status_code}", f"{what}: {problem}")
            return
        if case.method.upper() != case.operation.method.upper():
            return  # an unexpected-method probe the emulator serves (e.g. DELETE /mappingSets/{id})
        self.check_rejection(case, r, label, what)
        try:
            case.operation.validate_response(r, case=case)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - schemathesis raises FailureGroup
            for sub in getattr(exc, "exceptions", [exc]):
                lines = [x for x in str(sub).strip().splitlines() if x.strip()]
                self.fail(label, f"schema {r.status_code}", f"{what}: {' / '.join(lines[:4])[:400]}")

    def check_rejection(self, case, r, label: str, what: str) -> None:
        """A success for a request schemathesis made invalid on purpose: a failure, unless ACCEPTED says why."""
        from schemathesis.specs.openapi.checks import negative_data_rejection

        try:
            case.validate_response(r, checks=[negative_data_rejection])
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - schemathesis raises FailureGroup
            unexcused = []
            for part in _invalid_components(str(exc)):
                entry = next((e for e in ACCEPTED if e.matches(label, part)), None)
                if entry is None:
                    unexcused.append(part)
                else:
                    self.lenient[entry.reason] += 1
            if unexcused:
                self.fail(label, f"malformed input accepted ({r.status_code})", f"{what}: {' | '.join(unexcused)[:300]}")

    def prepare(self, case, use_world: bool) -> None:
        """Valid credentials where the case carries the auth headers (absent ones stay absent);
        real ids in the path when asked."""
        for name in list(case.headers or {}):
            if name.lower() in AUTH_HEADERS:
                case.headers[name] = self.headers[name.lower()]
        if use_world:
            for name in list(case.path_parameters or {}):
                values = self.world.get(name)
                if values:
                    case.path_parameters[name] = values[self.sent % len(values)]

    def report(self) -> str:
        lines = []
        for (label, kind), details in sorted(self.failures.items()):
            lines.append(f"{label}: {kind} x{len(details)}")
            lines += [f"    {d}" for d in list(dict.fromkeys(details))[:3]]
        return "\n".join(lines)


def _invalid_components(text: str) -> list[str]:
    """What schemathesis says it made invalid: one entry per mutation, each prefixed with its location."""
    if "Invalid component:" not in text:
        return [text.strip().splitlines()[0] if text.strip() else "?"]
    lines = text.split("Invalid component:", 1)[1].split("\n")
    header, parts = lines[0].strip(), []
    for line in lines[1:]:
        if not line.strip().startswith("- "):
            break
        parts.append(f"{header} - {line.strip()[2:]}".strip(" -"))
    return parts or [header]


def fuzz_operation(run: Run, schema, operation) -> None:
    """The coverage cases (an even sample) and hypothesis' positive and negative cases for one operation."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import errors as hyp_errors
    from schemathesis import GenerationMode

    label = f"{operation.method.upper()} {run.base}{operation.path}"
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    generation = schema.config.generation_for(operation=operation, phase="coverage")
    cases = list(schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=generation))
    step = max(1, len(cases) / COVERAGE_CASES) if COVERAGE_CASES else len(cases) + 1
    for i, case in enumerate(cases[int(k * step)] for k in range(min(len(cases), COVERAGE_CASES))):
        run.prepare(case, use_world=i % 2 == 0)
        run.send(case, label)

    fixed = {k: v for k, v in run.headers.items()}
    for mode in modes:
        strategy = operation.as_strategy(generation_mode=mode, headers=fixed)
        world = {p.name: run.world[p.name][0] for p in operation.path_parameters if p.name in run.world}
        if world:
            strategy = strategy | operation.as_strategy(generation_mode=mode, headers=fixed, path_parameters=world)

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def one(case) -> None:
            run.send(case, label)

        try:
            one()
        except hyp_errors.Unsatisfiable:
            pass  # nothing in this operation can be made invalid (every parameter is fixed or free-form)


def fuzz_spec(emu: EmulatorProcess, spec_dir, spec_file: str, sandbox: str) -> Run:
    """Fuzz every operation of `spec_file` that the emulator serves; DELETEs last, so real ids live longest."""
    base = SPECS[spec_file]
    schema = load_schema(apply_baseline(load_raw(spec_dir, spec_file), deviations_for(spec_file)))
    headers = {"authorization": f"Bearer {emu.token(client_secret=DEV_CLIENT_SECRET)}", "x-api-key": DEV_CLIENT_ID,
               "x-gw-ims-org-id": DEV_ORG_ID, "x-sandbox-name": sandbox}
    run = Run(emu, base, headers, build_world(emu, sandbox))
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = sorted((op for op in operations if served(emu, base, op)), key=lambda op: op.method == "delete")
    started = time.monotonic()
    for op in operations:
        t0 = time.monotonic()
        fuzz_operation(run, schema, op)
        run.op_seconds[f"{op.method.upper()} {base}{op.path}"] = round(time.monotonic() - t0, 2)
    run.seconds = time.monotonic() - started
    run.operations = [f"{op.method.upper()} {base}{op.path}" for op in operations]
    return run
