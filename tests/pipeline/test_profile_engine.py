"""The repository's pipelines.yaml, as a user runs it: Pendo events stitched into Real-Time
Customer Profile on a primary identity, and Profile's one-way doors refused before any write.

Through the CLI (`python -m pipelines.cli`), against a private emulator whose metrics count
exactly what each command did.
"""

from __future__ import annotations

import copy

import pytest

from .test_guards_cli import IMS, Cli, _out

pytestmark = [pytest.mark.engine, pytest.mark.slow]

ORG = "AEPPIPELINESDEV0000000000@AdobeOrg"


@pytest.fixture
def cli(tmp_path, fresh_emulator):
    c = Cli(tmp_path, fresh_emulator, spec=None)
    up = c.run("up")
    assert up.returncode == 0, _out(up)
    assert "+ 11 created" in up.stdout  # the component, namespace, schema, identity, Profile and the tutorial's 6
    return c


def _calls(cli: Cli) -> dict[str, int]:
    return {k: v for k, v in cli.emu.metrics()["requests"].items() if k != IMS}


def test_profile_pipeline_deploys_stitches_and_shows_no_drift(cli):
    # `up` of the new stack (docs/benchmarks.md): one write per object (the schema is its field
    # group and itself; Profile is a PATCH of the schema), the descriptor's look for an existing
    # primary identity and the flow's read of its inletUrl. Plus one token request.
    assert _calls(cli) == {
        "POST /data/core/idnamespace/identities": 1,
        "POST /data/foundation/schemaregistry/tenant/fieldgroups": 1,
        "POST /data/foundation/schemaregistry/tenant/schemas": 1,
        "GET /data/foundation/schemaregistry/{container}/descriptors": 1,
        "POST /data/foundation/schemaregistry/tenant/descriptors": 1,
        "PATCH /data/foundation/schemaregistry/tenant/schemas/{schema_id:path}": 1,
        "POST /data/foundation/catalog/dataSets": 1,
        "POST /data/foundation/flowservice/sourceConnections": 1,
        "POST /data/foundation/flowservice/targetConnections": 1,
        "POST /data/foundation/conversion/mappingSets": 1,
        "POST /data/foundation/flowservice/flows": 1,
        "GET /data/foundation/flowservice/flows/{flow_id}": 1,
    }
    assert cli.emu.metrics()["requests"].get(IMS) == 1
    cli.emu.reset_metrics()
    assert cli.run("preview").returncode == 0
    assert _calls(cli) == {}, "a no-op preview makes no AEP call"

    clean = cli.run("drift")
    assert clean.returncode == 0 and clean.stdout.startswith("No drift"), _out(clean)
    gets = _calls(cli)
    assert all(k.startswith("GET ") for k in gets), gets
    # One GET per resource: the schema's own (its full form holds its fields) and the Profile
    # enablement's (the schema's union tag) are the two schema GETs.
    assert gets == {
        "GET /data/core/idnamespace/identities/{namespace_id}": 1,
        "GET /data/foundation/schemaregistry/{container}/schemas/{schema_id:path}": 2,
        "GET /data/foundation/schemaregistry/{container}/descriptors/{descriptor_id}": 1,
        "GET /data/foundation/catalog/dataSets/{dataset_id}": 1,
        "GET /data/foundation/flowservice/sourceConnections/{conn_id}": 1,
        "GET /data/foundation/flowservice/targetConnections/{conn_id}": 1,
        "GET /data/foundation/conversion/mappingSets/{set_id}": 1,
        "GET /data/foundation/flowservice/flows/{flow_id}": 1,
    }

    demo = cli.run("demo")
    assert demo.returncode == 0, _out(demo)
    assert "Profile of PENDOVISITOR 'visitor-42' in Real-Time Customer Profile, stitched on visitorId:" in demo.stdout
    assert '"code": "PENDOVISITOR"' in demo.stdout and "partialSuccess" in demo.stdout


def test_taking_profile_away_is_refused_before_any_write(cli):
    cli.emu.reset_metrics()
    off = copy.deepcopy(cli.spec)
    off["pipelines"][0]["profile"] = False
    cli.write_spec(off)
    for command in ("preview", "up"):
        refused = cli.run(command)
        assert refused.returncode == 1, _out(refused)
        assert "refused (one-way door): Profile cannot be taken away from a schema" in refused.stdout + refused.stderr
        assert "AEP cannot disable Profile on a schema: keep `profile: true`" in _out(refused)
        assert "Traceback" not in _out(refused)

    fewer = copy.deepcopy(cli.spec)
    pipe = fewer["pipelines"][0]
    del pipe["schema"]["fields"]["guideName"]
    pipe["mappings"] = [m for m in pipe["mappings"] if not m["destination"].endswith(".guideName")]
    cli.write_spec(fewer)
    refused = cli.run("preview")
    assert refused.returncode == 1, _out(refused)
    assert ("schema 'Pendo events' is enabled for Profile, and AEP does not let a Profile schema take away or retype "
            "field(s) guideName") in _out(refused)
    writes = cli.emu.metrics()["writes"] - cli.emu.metrics()["requests"].get(IMS, 0)
    assert writes == 0


def test_destroy_leaves_the_profile_schema_in_aep(cli):
    schemas = cli.emu.admin("GET", "objects/schema", params={"org": ORG, "sandbox": "dev"})
    down = cli.run("destroy")
    assert down.returncode == 0, _out(down)
    left = cli.emu.admin("GET", "objects/schema", params={"org": ORG, "sandbox": "dev"})
    assert [s["$id"] for s in left] == [s["$id"] for s in schemas] and len(left) == 1
    assert "union" in left[0]["meta:immutableTags"]
    assert cli.emu.admin("GET", "objects/dataset", params={"org": ORG, "sandbox": "dev"}) == []
