"""bench/floor.py registers the real stack's graph and nothing else: the same resources,
parents, dependencies, ids and stack outputs, with no payload (or, for `inputs-once`, the real
inputs and nothing mirrored in the outputs). Through the real engine, at N = 2."""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from bench import cost, floor
from emulator.process import EmulatorProcess

pytestmark = pytest.mark.skipif(not (cost.PULUMI_BIN / "pulumi").exists(), reason="needs make toolchain")


def resources(path):
    """URN -> resource of a state file, the default provider's (its id is a fresh UUID) left out."""
    found = json.loads(path.read_text())["checkpoint"]["latest"]["resources"]
    return {r["urn"]: r for r in found if not r["type"].startswith("pulumi:providers:")}


def test_the_floor_is_the_real_graph_without_its_payload(tmp_path):
    emu = EmulatorProcess(data_dir=str(tmp_path / "emulator"), client_secret=secrets.token_urlsafe(24)).start()
    try:
        real_state = tmp_path / "real.json"
        cost.run_variant(emu, tmp_path, "default", 2, 0, keep_state=real_state)
        graph = tmp_path / "graph.json"
        graph.write_text(json.dumps(floor.graph_of(real_state)))
        kept = {}
        for label, env in (("floor", {}), ("inputs-once", {floor.FLOOR_INPUTS_ENV: "1"})):
            kept[label] = tmp_path / f"{label}.json"
            row = floor.run_floor(emu, tmp_path, graph, 2, 0, env=env, label=label, keep_state=kept[label])
            assert row["up_calls"] == 0
    finally:
        emu.stop()

    real = resources(real_state)
    assert len(real) == 2 * 7 + 1  # the stack, and per pipeline its component and six AEP resources
    for label, path in kept.items():
        got = resources(path)
        assert got.keys() == real.keys(), label
        # The real ids of each kind, handed out in the order the resources are created.
        for kind in {r["type"] for r in real.values()}:
            ids = sorted(r.get("id", "") for r in real.values() if r["type"] == kind)
            assert sorted(g.get("id", "") for g in got.values() if g["type"] == kind) == ids, (label, kind)
        for urn, r in real.items():
            g = got[urn]
            for key in ("type", "custom", "parent"):
                assert g.get(key) == r.get(key), (label, urn, key)
            assert sorted(g.get("dependencies", [])) == sorted(r.get("dependencies", [])), (label, urn)
            if r["type"] == "pulumi:pulumi:Stack":
                assert g["outputs"] == r["outputs"]
                continue
            if not r["custom"]:
                continue
            # Its provider is pickled by reference to the floor's module, as the project's are to theirs.
            assert b"floor_resources" in base64.b64decode(g["inputs"]["__provider"]), urn
            assert g["outputs"] == {"__provider": g["inputs"]["__provider"]}, (label, urn)
            inputs = {k: v for k, v in g["inputs"].items() if k != "__provider"}
            want = {k: v for k, v in r["inputs"].items() if k != "__provider"} if label == "inputs-once" else {}
            assert inputs == want, (label, urn)
            assert len(g["stackTrace"]) == 1, (label, urn)
