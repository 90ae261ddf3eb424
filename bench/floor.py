"""The engine's floor for `pulumi up` of N pipelines: the same resource graph with no payload.

    python -m bench.floor --size 50 --repeat 3

First a real `up` of N tutorial pipelines (bench.cost's `default`). Its state gives the graph:
every resource's type, name, parent, dependencies and id, and the stack's outputs. Then the
"floor" program registers exactly that graph: the same components, the same dynamic-resource
types and names, the same parents, `depends_on` edges and ids, and the same stack outputs.
Each resource has no inputs and no outputs, and its provider does nothing. It has one stack
frame (recordStackTraces=false), and its provider is pickled by reference, like the
project's. A second run, `inputs-once`, gives each resource the real resource's inputs and
still nothing of them in its outputs: less than any design that keeps the desired state and
what AEP reported could store.

The floor is what the engine costs for this graph with the file backend, whatever the
resources hold: no change to the resources' payload can make `up` faster than that. It runs
interleaved with `main` (bench.cost's "what main did" variant) and the default, on one
emulator at 0 ms. `default` with PULUMI_SKIP_CHECKPOINTS shows the part that is not
checkpoints. `make bench` runs it too (`--floor-size`, default 50).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import secrets
import shutil
from typing import Any

from emulator.process import EmulatorProcess

from . import cost
from .engine import Workspace

FLOOR_GRAPH_ENV = "AEP_BENCH_FLOOR_GRAPH"
# Set to 1: each resource takes the real resource's inputs (once, as inputs; its outputs hold
# nothing of them), the least any design that keeps the desired state could store.
FLOOR_INPUTS_ENV = "AEP_BENCH_FLOOR_INPUTS"

# The floor's resource module, importable in both the program and the provider process (the
# project copy is their working directory), so its provider is pickled by reference.
FLOOR_MODULE = '''"""Empty dynamic resources for the floor study (bench/floor.py)."""
import json
import os

import pulumi
import pulumi.dynamic

with open(os.environ["''' + FLOOR_GRAPH_ENV + '''"]) as f:
    _graph = json.load(f)


class EmptyProvider(pulumi.dynamic.ResourceProvider):
    """Creates nothing; answers with the ids the real resources of its kind had, so ids weigh the same."""

    serialize_as_secret_always = False
    kind = ""

    def create(self, props):
        return pulumi.dynamic.CreateResult(next(_ids[self.kind]), {})

    def delete(self, id, props):
        pass


# One provider class per kind, defined when the module is imported (in the program and in the
# provider process alike), so each pickles by reference as floor_resources.<Kind>Provider.
_ids = {}
for _r in _graph["resources"]:
    if _r["kind"] is not None and _r["kind"] not in _ids:
        _ids[_r["kind"]] = iter([r["id"] for r in _graph["resources"] if r["kind"] == _r["kind"]])
        globals()[_r["kind"] + "Provider"] = type(_r["kind"] + "Provider", (EmptyProvider,),
                                                  {"kind": _r["kind"], "__module__": __name__})

_types = {}


def resource(kind, name, props, opts):
    """A dynamic resource typed pulumi-python:dynamic/aep:<kind>, as the project's are, whose
    provider stores nothing of `props` in its outputs."""
    if kind not in _types:
        _types[kind] = type(kind, (pulumi.dynamic.Resource,), {}, module="aep", name=kind)
    return _types[kind](globals()[kind + "Provider"](), name, dict(props), opts)
'''

FLOOR_PROGRAM = '''"""The floor program (bench/floor.py): the real stack's graph, without its payload."""
import json
import os

import pulumi

import providers  # noqa: F401  (the project's one-layer pickler, providers/sdk_serialize.py)
from floor_resources import resource
from pipelines import sdk_logs, sdk_wait, stack_traces

stack_traces.apply(stack_traces.parse("false"))
sdk_wait.apply(True)
sdk_logs.apply(False)

with open(os.environ["''' + FLOOR_GRAPH_ENV + '''"]) as f:
    graph = json.load(f)
with_inputs = os.environ.get("''' + FLOOR_INPUTS_ENV + '''") == "1"
made = {}
for r in graph["resources"]:
    opts = pulumi.ResourceOptions(parent=made.get(r["parent"]), depends_on=[made[d] for d in r["deps"]] or None)
    if r["kind"] is None:
        made[r["name"]] = pulumi.ComponentResource(r["type"], r["name"], None, opts)
    else:
        made[r["name"]] = resource(r["kind"], r["name"], r["inputs"] if with_inputs else {}, opts)
for key, value in graph["outputs"].items():
    pulumi.export(key, value)
'''


def graph_of(state: pathlib.Path) -> dict[str, Any]:
    """The resources of a state file (in state order) and the stack's outputs, without payload."""
    resources = json.loads(state.read_text())["checkpoint"]["latest"]["resources"]
    name = lambda urn: urn.rsplit("::", 1)[1]  # noqa: E731
    graph: dict[str, Any] = {"resources": [], "outputs": {}}
    for r in resources:
        if r["type"] == "pulumi:pulumi:Stack":
            graph["outputs"] = r.get("outputs", {})
            continue
        if r["type"].startswith("pulumi:providers:"):
            continue
        dynamic = r["type"].startswith("pulumi-python:dynamic/aep:")
        parent = r.get("parent", "")
        graph["resources"].append({
            "name": name(r["urn"]), "type": r["type"], "kind": r["type"].rsplit(":", 1)[1] if dynamic else None,
            "id": r.get("id", ""),
            "inputs": {k: v for k, v in r.get("inputs", {}).items() if k != "__provider"},
            "deps": [name(d) for d in r.get("dependencies", [])],
            "parent": None if parent.endswith(":pulumi:pulumi:Stack::" + name(parent)) else name(parent)})
    return graph


def run_floor(emu: EmulatorProcess, out: pathlib.Path, graph_file: pathlib.Path, n: int, rep: int,
              env: dict[str, str] | None = None, label: str = "floor",
              keep_state: pathlib.Path | None = None) -> dict[str, Any]:
    """One `up` of the floor program on a new stack; a row shaped like bench.cost's."""
    tag = f"{label}-n{n}-r{rep}"
    ws = Workspace(out / tag, env={FLOOR_GRAPH_ENV: str(graph_file), **(env or {})})
    (ws.work / "floor_resources.py").write_text(FLOOR_MODULE)
    (ws.work / "__main__.py").write_text(FLOOR_PROGRAM)
    ws.new_stack("bench", {})
    emu.reset_metrics()
    up = cost.timed(ws, "up", "--yes", "--skip-preview", "--parallel", "32")
    row = {"kind": "floor", "variant": label, "n": n, "rep": rep, "up": up, "up_calls": emu.metrics()["total"],
           "state": cost.state_cost(cost.state_file(ws)), "load1": round(os.getloadavg()[0], 2)}
    if keep_state is not None:
        shutil.copyfile(cost.state_file(ws), keep_state)
    shutil.rmtree(out / tag, ignore_errors=True)
    return row


def study(out: pathlib.Path, n: int, repeat: int, log: Any = print) -> list[dict[str, Any]]:
    """main, default, floor, inputs-once and the default without checkpoints, interleaved, on one
    emulator at 0 ms; `repeat` rounds."""
    data = out / "emulator-floor"
    shutil.rmtree(data, ignore_errors=True)
    emu = EmulatorProcess(data_dir=str(data), client_secret=secrets.token_urlsafe(24)).start()
    graph_file = out / f"floor-graph-n{n}.json"
    rows = []
    try:
        for rep in range(repeat):
            for name in ("main", "default", "floor", "inputs-once", "skip-checkpoints"):
                if name == "floor":
                    row = run_floor(emu, out, graph_file, n, rep)
                elif name == "inputs-once":
                    row = run_floor(emu, out, graph_file, n, rep, env={FLOOR_INPUTS_ENV: "1"}, label=name)
                else:
                    keep = out / f"floor-state-n{n}.json" if name == "default" else None
                    row = cost.run_variant(emu, out, name, n, rep, keep_state=keep)
                    if keep is not None:
                        graph_file.write_text(json.dumps(graph_of(keep)))
                row["kind"] = "floor"
                rows.append(row)
                st = row["state"]
                log(f"  floor {name:17} N={n:<3} up {row['up']['seconds']:6.2f}s cpu {row['up']['cpu']} "
                    f"state {st['file_bytes']} B ({st['file_bytes'] // st['resources']} B/resource) "
                    f"calls {row['up_calls']}  load {row['load1']}", flush=True)
    finally:
        emu.stop()
    return rows


def summary(rows: list[dict[str, Any]]) -> str:
    """The study's table and what it means for halving `main`'s `up` (bench.report_goals.floor)."""
    from .report_goals import floor as floor_lines  # noqa: PLC0415

    return "\n".join(floor_lines(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    from .run import OUT  # noqa: PLC0415

    OUT.mkdir(parents=True, exist_ok=True)
    rows = study(OUT, args.size, args.repeat)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1))
    print(summary(rows))


if __name__ == "__main__":
    main()
