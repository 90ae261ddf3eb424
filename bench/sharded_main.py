"""The aep-pipelines program, with each pipeline on one of `bench:shards` provider instances.

bench/run.py copies this over the project's `__main__.py` in its scratch copy to measure the
4-call ceiling. It is the root program plus one thing: a `provider=` on each pipeline
component, which its children (all `pulumi-python` dynamic resources) inherit. Each explicit
`pulumi-python` provider is a separate provider process with its own 4 gRPC workers.
"""

import pulumi

from bench.spec import shard_of
from pipelines.spec import SpecError, load_from_stack
from pipelines.streaming import PendoPipeline, StreamingPipeline
from providers.client import CONFIG_KEYS

try:
    specs = load_from_stack()
except SpecError as err:
    raise pulumi.RunError(str(err)) from None

shards = pulumi.Config("bench").get_int("shards") or 0
# The default provider gets the whole stack config; an explicit one only its own inputs, so
# hand each shard the `aep:*` keys the providers read (secrets stay secret in state).
aep = pulumi.Config("aep")
settings = {key: (aep.get_secret if key == "aep:clientSecret" else aep.get)(key.split(":", 1)[1])
            for key in CONFIG_KEYS}
settings = {k: v for k, v in settings.items() if v is not None}
instances = [pulumi.ProviderResource("pulumi-python", f"aep-shard-{k}", settings) for k in range(shards)]

outputs = {}
for p in specs:
    opts = pulumi.ResourceOptions(provider=instances[shard_of(p.name, shards)]) if shards else None
    cls = PendoPipeline if p.source_kind == "pendo" else StreamingPipeline
    outputs[p.name] = cls(p.name, p, opts=opts).outputs()
pulumi.export("pipelines", outputs)
