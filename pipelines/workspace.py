"""The offline Pulumi workspace: where state lives and the environment every Pulumi command gets.

The CLI (`make up`, `make drift`, ...), `make env`, the GitOps steps and the program itself
read it from here, so that a user's own shell (`eval "$(make -s env)"`) runs `pulumi` exactly
as `make` does.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import urllib.parse
from typing import Any

import yaml

from pipelines import shards

ROOT = pathlib.Path(__file__).resolve().parent.parent
STATE = ROOT / ".state"
TOOLS_BIN = ROOT / ".tools" / "pulumi" / "bin"
DEV_PASSPHRASE = "aep-pipelines-dev-only"
DEFAULT_ENDPOINT = "https://platform.adobe.io"


class CliError(Exception):
    """A failure the user can act on; printed without a traceback."""


def note(msg: str) -> None:
    """A line for the user on stderr, apart from Pulumi's own output."""
    print(f"[aep-pipelines] {msg}", file=sys.stderr, flush=True)

# Every Pulumi command here runs with these: no update check or plugin download (there is no
# network but the package registries), and the Automation API accepts the pinned CLI.
OFFLINE = {
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
}


def private_env(home: pathlib.Path, backend: pathlib.Path, passphrase: str) -> dict[str, str]:
    """A workspace of its own (tests, benchmarks): the CLI first on PATH, a file backend and
    PULUMI_HOME under the caller's directories, a passphrase, and the project's Python."""
    home.mkdir(parents=True, exist_ok=True)
    backend.mkdir(parents=True, exist_ok=True)
    return {"PATH": search_path(), "PULUMI_HOME": str(home), "PULUMI_BACKEND_URL": f"file://{backend}",
            "PULUMI_CONFIG_PASSPHRASE": passphrase, "PULUMI_SKIP_CONFIRMATIONS": "true",
            "PULUMI_PYTHON_CMD": sys.executable, **OFFLINE}


def defaults(stack: str) -> dict[str, str]:
    """The checkout's own workspace for `stack`, each value only where the caller has not set it
    (an empty value counts as unset: an unset CI secret arrives as ""): the dev passphrase
    only for `dev`, whose one secret is the emulator's documented development client secret;
    real stacks bring their own."""
    out = {"PULUMI_HOME": str(STATE / "pulumi-home"), "PULUMI_BACKEND_URL": f"file://{STATE / 'backend'}",
           **OFFLINE}
    if stack == "dev":
        out["PULUMI_CONFIG_PASSPHRASE"] = DEV_PASSPHRASE
    return out


def search_path(current: str | None = None) -> str:
    """PATH with the bootstrapped CLI and the project virtualenv first."""
    first = [str(TOOLS_BIN), str(pathlib.Path(sys.executable).parent)]
    rest = (current if current is not None else os.environ.get("PATH", "")).split(os.pathsep)
    return os.pathsep.join(first + [d for d in rest if d and d not in first])


def pulumi_env(stack: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (the process environment by default) completed with the offline settings."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = search_path(env.get("PATH", ""))
    for key, value in defaults(stack).items():
        if not env.get(key):
            env[key] = value
    backend = env["PULUMI_BACKEND_URL"]
    if backend.startswith("file://"):
        pathlib.Path(backend[len("file://"):]).mkdir(parents=True, exist_ok=True)
    return env


def exports(stack: str) -> str:
    """`export` lines a POSIX shell can eval to run `pulumi` as `make STACK=<stack>` does."""
    env = pulumi_env(stack)
    keys = ["PATH", *defaults(stack)]
    lines = [f"export {k}={shlex.quote(env[k])}" for k in keys]
    if stack != "dev" and not os.environ.get("PULUMI_CONFIG_PASSPHRASE"):
        lines.append(f"# stack {stack!r} brings its own secrets: export PULUMI_CONFIG_PASSPHRASE (or use its "
                     "secrets provider)")
    lines.append(f"# then: pulumi stack select {stack}")
    return "\n".join(lines)


def is_loopback(url: str) -> bool:
    """Whether a URL's host is this machine (the local emulator's kind of endpoint)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- stack config ----------------------------------------------------------------------------


def stack_file(stack: str) -> pathlib.Path:
    return ROOT / "stacks" / f"Pulumi.{stack}.yaml"


def stack_config(stack: str) -> dict[str, Any]:
    """The stack's committed config, read straight from its file (secure values stay encrypted)."""
    path = stack_file(stack)
    if not path.exists():
        return {}
    return (yaml.safe_load(path.read_text()) or {}).get("config") or {}


def secrets_provider(stack: str) -> str | None:
    """The `secretsprovider` of the stack's committed file (a KMS URL), if it names one."""
    path = stack_file(stack)
    return (yaml.safe_load(path.read_text()) or {}).get("secretsprovider") if path.exists() else None


def endpoint_of(stack: str) -> str:
    """The AEP base URL the providers will use: AEP_ENDPOINT first, as the client reads it."""
    value = os.environ.get("AEP_ENDPOINT") or stack_config(stack).get("aep:endpoint") or DEFAULT_ENDPOINT
    return str(value).rstrip("/")


# -- running pulumi ----------------------------------------------------------------------------


def pulumi(stack: str, *args: str, capture: bool = False, check: bool = True) -> subprocess.CompletedProcess:
    """Run the pulumi CLI in the project root; output streams to the terminal unless captured."""
    env = pulumi_env(stack)
    if not shutil.which("pulumi", path=env["PATH"]):
        raise CliError("the Pulumi CLI is not installed: run `make up` (it runs scripts/bootstrap) or "
                       "scripts/bootstrap")
    cmd = ["pulumi", *args]
    # A captured command cannot show a prompt, so it gets no stdin: Pulumi then says what to set.
    proc = subprocess.run(cmd, cwd=ROOT, env=env, text=True, stdin=subprocess.DEVNULL if capture else None,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None)
    if check and proc.returncode != 0:
        detail = f":\n{proc.stderr.strip()}" if capture and proc.stderr else ""
        raise CliError(f"`{' '.join(cmd)}` failed with exit status {proc.returncode}{detail}")
    return proc


def select_stack(stack: str, create: bool) -> None:
    args = ["stack", "select", stack] + (["--create"] if create else [])
    if create and (provider := secrets_provider(stack)):
        # A stack new to this backend keeps the KMS its committed file names (and that file's
        # encryptedkey, so its secure values still decrypt); Pulumi alone would ask for a passphrase.
        args += ["--secrets-provider", provider]
    proc = pulumi(stack, *args, capture=True, check=False)
    if proc.returncode != 0:
        if not create and "no stack named" in (proc.stderr or "").lower():
            raise CliError(f"stack {stack!r} has never been deployed from here: run `make up STACK={stack}` first")
        hint = ("\nSet PULUMI_CONFIG_PASSPHRASE for this stack, or give it a secrets provider "
                "(docs/real-sandbox.md, State and secrets)" if "passphrase must be set" in (proc.stderr or "") else "")
        raise CliError(f"`pulumi {' '.join(args)}` failed:\n{(proc.stderr or '').strip()}{hint}")
    if create and "Created stack" in (proc.stdout or "") + (proc.stderr or ""):
        note(f"created stack {stack!r} (config: {rel(stack_file(stack))})")


def pipeline_count(config: dict[str, Any]) -> int:
    """How many pipelines the stack's committed config declares, counted as the program will
    (inline `aep-pipelines:pipelines`, the `specFile`, else the one default pipeline), without
    validating them: 0 when the spec cannot be read, which the program then reports."""
    inline = config.get("aep-pipelines:pipelines")
    if isinstance(inline, str):
        try:
            inline = json.loads(inline)
        except json.JSONDecodeError:
            return 0
    if inline is not None:
        return len(inline) if isinstance(inline, list) else 0
    spec_file = config.get("aep-pipelines:specFile")
    if not spec_file:
        return 1
    try:
        data = yaml.safe_load((ROOT / str(spec_file)).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return 0
    pipes = data.get("pipelines") if isinstance(data, dict) else None
    return len(pipes) if isinstance(pipes, list) else 0


def shard_count(stack: str) -> int:
    """The stack's provider shards as its program will choose them (pipelines/shards.py)."""
    config = stack_config(stack)
    value = config.get(shards.CONFIG_KEY)
    try:
        return shards.parse(value) if shards.is_set(value) else shards.auto(pipeline_count(config))
    except shards.ShardConfigError as e:
        raise CliError(f"{e} (in {rel(stack_file(stack))})") from None


def engine_args(stack: str, pulumi_args: list[str]) -> list[str]:
    """The user's extra pulumi arguments, plus the `--parallel` the stack's provider processes
    can serve (pipelines/shards.py `parallel_for`).

    One provider process with the wide pool (providers/rpc_workers.py), or K shard processes,
    serve many calls at once, but the engine starts no more steps than its own parallelism
    (4 x GOMAXPROCS by default, 8 on a 2-core runner), which would throttle them again. A
    `--parallel` or PULUMI_PARALLEL the user chose wins.
    """
    count = shard_count(stack)
    chosen = any(a in ("-p", "--parallel") or a.startswith(("--parallel=", "-p=")) for a in pulumi_args)
    parallel = shards.parallel_for(count)
    if parallel is None or chosen or os.environ.get("PULUMI_PARALLEL"):
        return list(pulumi_args)
    if count:
        note(f"{count} provider shards: running pulumi with --parallel {parallel}")
    return [*pulumi_args, "--parallel", str(parallel)]


POLICY_PACK = "aep-guardrails"  # policies/PulumiPolicy.yaml


def policy_args(stack: str) -> list[str]:
    """The guardrails policy pack (policies/, docs/policies.md), with the stack's enforcement levels."""
    config = ROOT / "policies" / "config" / f"{stack}.json"
    pack = ["--policy-pack", str(ROOT / "policies")]
    return [*pack, "--policy-pack-config", str(config)] if config.exists() else pack


def stack_outputs(stack: str) -> dict[str, Any]:
    proc = pulumi(stack, "stack", "output", "--json", "--stack", stack, capture=True)
    return json.loads(proc.stdout or "{}")


def pipeline_outputs(stack: str) -> dict[str, dict[str, Any]]:
    pipes = stack_outputs(stack).get("pipelines") or {}
    if not pipes:
        raise CliError(f"stack {stack!r} has no pipelines deployed: run `make up STACK={stack}`")
    return pipes


def resolved_config(stack: str) -> dict[str, str]:
    """The stack's config with secrets decrypted (the CLI reads them the way the providers do)."""
    proc = pulumi(stack, "config", "--json", "--show-secrets", "--stack", stack, capture=True)
    raw = json.loads(proc.stdout or "{}")
    return {k: v.get("value") for k, v in raw.items() if isinstance(v, dict) and v.get("value") is not None}


def aep_client(stack: str):
    """The providers' own client, configured as the providers are: environment first, then stack config."""
    from providers.client import AEPSettings, ConfigurationError, get_client  # noqa: PLC0415 - heavy, lazy

    try:
        return get_client(AEPSettings.load(resolved_config(stack)))
    except ConfigurationError as e:
        raise CliError(str(e)) from None


def preview_json(stack: str, *flags: str, pulumi_args: list[str] | None = None) -> tuple[dict | None, int, str]:
    """`pulumi preview --json` with `flags`: its parsed report (None if it printed none), exit status, stderr."""
    proc = pulumi(stack, "preview", "--json", "--stack", stack, *flags, *engine_args(stack, pulumi_args or []),
                  capture=True, check=False)
    try:
        report = json.loads(proc.stdout)
    except (json.JSONDecodeError, TypeError):
        report = None
    return report if isinstance(report, dict) else None, proc.returncode, proc.stderr or ""


def rel(path: pathlib.Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def tail(path: pathlib.Path, n: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except FileNotFoundError:
        return "(no log)"
