"""The aep-pipelines Pulumi program: the stack's pipeline spec -> AEP objects, plus their ids as outputs.

Everything lives in the `pipelines` package; see the README and docs/pipelines.md.
"""

import pulumi

from pipelines import build_overlap, sdk_logs, sdk_wait, shards, stack_traces
from pipelines.spec import SpecError, load_from_stack
from providers import rpc_workers

try:
    specs = load_from_stack()
    rpc_workers.workers()  # a bad AEP_PROVIDER_RPC_WORKERS is refused here, not in the provider process
    shard_count = shards.from_stack(len(specs))
    # aep-pipelines:recordStackTraces: the project's own frames by default (pipelines/stack_traces.py).
    stack_traces.apply(stack_traces.from_stack())
    # The SDK's end-of-program wait in linear time (aep-pipelines:linearOutputWait, default true).
    sdk_wait.apply(sdk_wait.from_stack())
    # The SDK's per-resource debug messages, one blocking engine call each (aep-pipelines:sdkDebugLogs).
    sdk_logs.apply(sdk_logs.from_stack())
    # Each pipeline's registrations leave while the next is built (aep-pipelines:overlapBuild).
    overlap = build_overlap.from_stack()
except (SpecError, shards.ShardConfigError, stack_traces.StackTraceConfigError, sdk_wait.OutputWaitConfigError,
        sdk_logs.SdkLogsConfigError, rpc_workers.RpcWorkersConfigError,
        build_overlap.OverlapBuildConfigError) as err:
    # RunError: the message alone, no traceback; raised before any resource is registered,
    # so an invalid spec or setting never reaches AEP.
    raise pulumi.RunError(str(err)) from None


def export(built: dict) -> None:
    """The stack's outputs: every pipeline's ids under `pipelines`, and a lone pipeline's at the top level."""
    outputs = {name: p.outputs() for name, p in built.items()}
    pulumi.export("pipelines", outputs)
    if len(outputs) == 1:
        # One pipeline, the usual case: its outputs at the top level too (`pulumi stack output webhookUrl`).
        for key, value in next(iter(outputs.values())).items():
            pulumi.export(key, value)


# One provider process with a wide RPC pool (providers/rpc_workers.py), or K of them as
# aep-pipelines:providerShards says or an SDK without the wide pool needs (pipelines/shards.py).
build_overlap.run(overlap, specs, shards.providers(shard_count), export)
