"""Provider shards: a stack's AEP resources spread over K dynamic-provider processes.

Why this exists. Every dynamic resource of a deployment is served by one `pulumi-python`
provider process, and the SDK's server answers at most 4 RPCs at once
(`ThreadPoolExecutor(max_workers=4)` in `pulumi/dynamic/__main__.py`). With many pipelines
and a slow AEP the fifth create waits for one of the first four, whatever the engine's
`--parallel` says (docs/benchmarks.md, "The 4-call ceiling"). Each explicit provider
resource is a process of its own with workers of its own.

Since `providers/rpc_workers.py` widens that pool to 64 workers, one process serves the
whole stack, so by default there are no shards at all (`auto` is 0) and `pipelines.cli`
passes the engine `--parallel PARALLEL`: fewer processes to start, one IMS token, and no
plan change as a stack grows. Shards remain for a stack that asks for them
(`aep-pipelines:providerShards`) and, automatically, for an SDK whose server this project
cannot widen (`rpc_workers.sdk_matches()` false): then the rule below applies again.

How it is done, and why each piece is so:

* Without the wide pool the stack's size sets K (`auto`): no explicit provider up to a
  handful of pipelines (one process serves them, and each shard costs a process start and a
  token), then one shard per ten pipelines, at least two (one explicit provider is still one
  process) and at most AUTO_MAX. The rule depends on the pipeline count and the pinned SDK
  alone, never on the machine, so every machine plans the same providers for the same spec.
* Stack config `aep-pipelines:providerShards` overrides it: 0 registers no provider at all,
  so every resource stays on the default provider, exactly as before the setting existed.
* An explicit provider is configured from its own inputs, not from the stack config the
  default provider receives, so each shard carries every `aep:*` setting the providers read
  (`providers.client.CONFIG_KEYS`). Secret values go in as secrets: they are stored in the
  state encrypted, as the default provider stores the stack config.
* A pipeline's shard is `crc32(name) % K`: a hash of its name, never its position, so adding
  or removing a pipeline never moves another one. The pipeline component takes `provider=`
  and its resources inherit it.
* Changing K moves resources between providers without touching AEP: the dynamic provider
  implements no DiffConfig, so the engine does not replace a resource whose provider changed
  but diffs it as usual, and its inputs (the provider pickle included) are unchanged.
* The engine's own parallelism is the second ceiling (`--parallel`, by default 4 x
  GOMAXPROCS, 8 on 2 cores): `parallel_for(K)` is what `pipelines.cli` passes.

The parsing and arithmetic need no Pulumi runtime (the CLI uses them); the functions that
register providers import pulumi when called.
"""

from __future__ import annotations

import os
import zlib
from typing import TYPE_CHECKING, Any, Sequence

from providers import rpc_workers

if TYPE_CHECKING:
    import pulumi

CONFIG_KEY = "aep-pipelines:providerShards"
# The automatic count: none below AUTO_FROM pipelines, then one per PIPELINES_PER_SHARD,
# between 2 and AUTO_MAX (docs/benchmarks.md measures the choice).
AUTO_FROM = 6
PIPELINES_PER_SHARD = 10
AUTO_MAX = 10
# Each shard is a Python process (pulumi, pydantic and the providers imported, one IMS token);
# past 16 the machine, not the 4-call ceiling, is what limits a deployment.
MAX_SHARDS = 16
# The SDK's dynamic-provider gRPC worker count (pulumi/dynamic/__main__.py), when not widened.
CALLS_PER_PROCESS = rpc_workers.SDK_WORKERS
# The engine --parallel the CLI passes when one provider process has the wide pool: AEP calls
# at once. N = 50 at 500 ms a call: 16 -> 22.3 s, 32 -> 20.8 s, 48 -> 23.2 s (docs/benchmarks.md).
PARALLEL = 32
PROVIDER_PACKAGE = "pulumi-python"


class ShardConfigError(ValueError):
    """`aep-pipelines:providerShards` is not a whole number from 0 to MAX_SHARDS."""


def parse(value: Any) -> int:
    """The shard count from a raw config value (None, a string, or what YAML made of it)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    shards: int | None = None
    # YAML reads `true` as a bool, which Python would happily take for 1.
    if isinstance(value, int) and not isinstance(value, bool):
        shards = value
    elif isinstance(value, str) and value.strip().lstrip("+").isdigit():
        shards = int(value.strip())
    if shards is None or not 0 <= shards <= MAX_SHARDS:
        raise ShardConfigError(
            f"{CONFIG_KEY} must be a whole number from 0 to {MAX_SHARDS}, got {value!r}: set it with "
            f"`pulumi config set {CONFIG_KEY} 4` (0 keeps one provider process), or remove it "
            f"with `pulumi config rm {CONFIG_KEY}` (the count then follows the number of pipelines)")
    return shards


def is_set(value: Any) -> bool:
    """Whether the stack sets providerShards at all (unset or blank: the automatic count)."""
    return not (value is None or (isinstance(value, str) and not value.strip()))


def wide_pool() -> bool:
    """Whether one provider process serves many calls at once (providers/rpc_workers.py)."""
    return rpc_workers.is_wide()


def auto(pipelines: int, wide: bool | None = None) -> int:
    """The shard count for a stack of `pipelines` pipelines when the stack does not set one:
    none when the provider process has the wide pool (`wide`, by default `wide_pool()`)."""
    if wide is None:
        wide = wide_pool()
    if wide or pipelines < AUTO_FROM:
        return 0
    return min(AUTO_MAX, max(2, -(-pipelines // PIPELINES_PER_SHARD)))


def resolve(value: Any, pipelines: int) -> int:
    """The shard count in effect: the stack's setting if it has one, else `auto(pipelines)`."""
    return parse(value) if is_set(value) else auto(pipelines)


def shard_of(name: str, shards: int) -> int:
    """The shard a pipeline lives on: a hash of its name, stable across runs and Python versions."""
    return zlib.crc32(name.encode()) % shards


def default_engine_parallel() -> int:
    """What the engine uses without --parallel: 4 x GOMAXPROCS (Go counts the CPUs this process may use)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return 4 * cpus


def parallel_for(shards: int, default: int | None = None, wide: bool | None = None) -> int | None:
    """The engine --parallel for the stack's provider processes, never below the engine's own
    default. With the wide pool (`wide`, by default `wide_pool()`), PARALLEL whatever K is.
    Else room for every shard's 4 calls plus 4 for the steps that call no provider
    (components, the provider resources themselves), and None for an unsharded stack: leave
    the engine alone."""
    if wide is None:
        wide = wide_pool()
    floor = default_engine_parallel() if default is None else default
    if wide:
        return max(PARALLEL, floor)
    if not shards:
        return None
    return max(CALLS_PER_PROCESS * shards + CALLS_PER_PROCESS, floor)


# ---------------------------------------------------------------------------------------------
# In the Pulumi program
# ---------------------------------------------------------------------------------------------


def from_stack(pipelines: int) -> int:
    """The running program's shard count for its `pipelines` pipelines: the stack's setting,
    else the automatic one (raises ShardConfigError with the fix)."""
    import pulumi  # noqa: PLC0415 - the CLI imports this module without a Pulumi runtime

    project, key = CONFIG_KEY.split(":", 1)
    return resolve(pulumi.Config(project).get(key), pipelines)


def provider_inputs() -> dict[str, Any]:
    """Every `aep:*` setting in the stack config, as an explicit provider's inputs; secret
    values (the client secret always) as secret Outputs, so the state holds them encrypted."""
    import pulumi  # noqa: PLC0415
    from pulumi.runtime.config import is_config_secret  # noqa: PLC0415

    from providers.client import CONFIG_KEYS  # noqa: PLC0415 - imports every provider module

    aep = pulumi.Config("aep")
    inputs: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        name = key.split(":", 1)[1]
        secret = key == "aep:clientSecret" or is_config_secret(key)
        value = aep.get_secret(name) if secret else aep.get(name)
        if value is not None:
            inputs[key] = value
    return inputs


def providers(shards: int) -> list["pulumi.ProviderResource"]:
    """K explicit `pulumi-python` providers, `aep-shard-0` ... (none for K = 0)."""
    if not shards:
        return []
    import pulumi  # noqa: PLC0415

    inputs = provider_inputs()
    return [pulumi.ProviderResource(PROVIDER_PACKAGE, f"aep-shard-{k}", dict(inputs)) for k in range(shards)]


def options_for(name: str, instances: Sequence["pulumi.ProviderResource"]) -> "pulumi.ResourceOptions | None":
    """The pipeline component's options: its shard's provider, or None (the default provider)."""
    if not instances:
        return None
    import pulumi  # noqa: PLC0415

    return pulumi.ResourceOptions(provider=instances[shard_of(name, len(instances))])
