"""Offline pieces: the component's wiring (Pulumi mocks), the drift summary, the PR comment, URLs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap

from pipelines import cli, gitops
from pipelines.streaming import webhook_url
from providers.client import AEPClient
from tests.support.engine import ROOT


def test_webhook_url():
    assert webhook_url("https://dcs.adobedc.net/collection/abc", "f1") == \
        "https://dcs.adobedc.net/collection/abc?x-adobe-flow-id=f1"
    assert webhook_url("https://x/collection/abc?syncValidation=true", "f1").endswith("&x-adobe-flow-id=f1")
    assert webhook_url(None, "f1") is None


# The component under Pulumi's mocks, in a child process: set_mocks() is process-global.
WIRING = textwrap.dedent("""
    import json, sys
    import pulumi

    calls = {}

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            outs = dict(args.inputs)
            kind = args.typ.rsplit(":", 1)[-1]
            rid = f"id-{args.name}"
            if kind == "XdmSchema":
                # A schema's Pulumi id is its $id, and so is its schema_id output.
                rid = outs["schema_id"] = f"https://ns.adobe.com/extconndev/schemas/{args.name}"
            if kind == "MappingSet":
                outs["version"] = 3
            if kind == "Dataflow":
                outs["inlet_url"] = "https://dcs.adobedc.net/collection/inlet1"
            calls[args.name] = {"type": args.typ, "inputs": args.inputs}
            return rid, outs

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)

    from pipelines.spec import load
    from pipelines.streaming import build

    pipes = load([{"name": "pendo"},
                  {"name": "http", "source": {"kind": "http-streaming",
                                              "account": {"auth_params": {"sourceId": "s", "dataType": "raw"}}},
                   "flow": {"name": "HTTP flow"}}], sandbox="dev", tenant_id="extconndev")
    built = build(pipes)

    @pulumi.runtime.test
    def check():
        outs = {n: p.outputs() for n, p in built.items()}
        return pulumi.Output.from_input(outs).apply(lambda o: print(json.dumps({"outs": o, "calls": calls},
                                                                               default=str)))

    check()
""")


def test_the_component_passes_each_id_on():
    proc = subprocess.run([sys.executable, "-c", WIRING], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    calls, outs = data["calls"], data["outs"]
    schema_id = "https://ns.adobe.com/extconndev/schemas/pendo-schema"
    assert calls["pendo"]["type"] == "aep-pipelines:index:PendoPipeline"
    assert calls["http"]["type"] == "aep-pipelines:index:StreamingPipeline"
    assert calls["pendo-dataset"]["inputs"]["schema_id"] == schema_id
    assert calls["pendo-target"]["inputs"]["dataset_id"] == "id-pendo-dataset"
    assert calls["pendo-target"]["inputs"]["schema_id"] == schema_id
    assert calls["pendo-mapping"]["inputs"]["schema_id"] == schema_id
    assert "_extconndev.guideName" in calls["pendo-mapping"]["inputs"]["schema_field_paths"]
    flow = calls["pendo-flow"]["inputs"]
    assert (flow["source_connection_id"], flow["target_connection_id"], flow["mapping_id"],
            flow["mapping_version"]) == ("id-pendo-source", "id-pendo-target", "id-pendo-mapping", 3)
    assert "pendo-account" not in calls
    # A source that needs an account gets a base connection, and the source connection its id.
    assert calls["http-source"]["inputs"]["base_connection_id"] == "id-http-account"
    assert calls["http-account"]["type"].endswith("aep:BaseConnection")
    assert outs["pendo"]["webhookUrl"] == "https://dcs.adobedc.net/collection/inlet1?x-adobe-flow-id=id-pendo-flow"
    assert outs["pendo"]["flowId"] == "id-pendo-flow" and outs["pendo"]["mappingVersion"] == 3
    assert outs["http"]["baseConnectionId"] == "id-http-account"


def test_preview_comment():
    out = ("Previewing update (prod):\n ~ pulumi-python:dynamic/aep:Dataflow pendo-flow update [diff: ~name]\n"
           "Resources:\n    ~ 1 to update\n    7 unchanged\n")
    md = gitops.preview_markdown("prod", 0, out)
    assert md.startswith("<!-- aep-pipelines:preview:prod -->\n### `prod`: changes planned")
    assert "~ 1 to update" in md and "<details>" in md
    assert "no changes" in gitops.preview_markdown("prod", 0, "Resources:\n    8 unchanged\n")
    assert "preview FAILED (exit status 1)" in gitops.preview_markdown("prod", 1, "error: boom")


def test_gh_paginated_json():
    assert gitops._json_pages('[{"id": 1}]\n[{"id": 2}]') == [{"id": 1}, {"id": 2}]
    assert gitops._json_pages("") == []


def test_loopback_detection_and_stack_endpoints():
    assert cli.is_loopback("http://127.0.0.1:8765") and cli.is_loopback("http://localhost:1")
    assert not cli.is_loopback("https://platform.adobe.io")
    assert cli.stack_config("dev")["aep:endpoint"] == "http://127.0.0.1:8765"
    assert gitops.emulator_stack("dev") and not gitops.emulator_stack("prod")


def test_the_spec_example_in_the_docs_is_valid():
    import re

    import yaml

    from pipelines.spec import load

    text = (ROOT / "docs" / "pipelines.md").read_text()
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    (p,) = load(example["pipelines"], sandbox="dev", tenant_id="extconndev")
    assert p.sandbox == "prod" and p.tenant_id == "mytenant"
    assert [m["destination"] for m in p.mappings] == ["_mytenant.accountId", "_mytenant.guide.name", "_mytenant.key"]


def test_graph_labels_are_short():
    dot = 'R0 [label="urn:pulumi:dev::aep-pipelines::aep-pipelines:index:PendoPipeline$pulumi-python:dynamic/aep:' \
          'Dataflow::pendo-flow"];\nR1 [label="urn:pulumi:dev::aep-pipelines::pulumi:pulumi:Stack::aep-pipelines-dev"];'
    assert cli.short_labels(dot) == 'R0 [label="Dataflow\\npendo-flow"];\nR1 [label="pulumi:pulumi:Stack\\naep-pipelines-dev"];'


def test_the_cli_uses_only_the_clients_public_methods():
    """status/demo go through AEPClient's public API (list_runs, emulator_dataset_records)."""
    tree = ast.Module(body=[node for f in ("cli.py", "demo.py")
                            for node in ast.parse((ROOT / "pipelines" / f).read_text()).body], type_ignores=[])
    private = sorted({n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                      and isinstance(n.value, ast.Name) and n.value.id == "api" and n.attr.startswith("_")})
    assert private == []
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == "api"}
    assert {"list_runs", "emulator_dataset_records"} <= used and all(hasattr(AEPClient, m) for m in used)
