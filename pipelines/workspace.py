"""The offline Pulumi workspace: where state lives and the environment every Pulumi command gets.

The CLI (`make up`, `make drift`, ...), `make env`, the GitOps steps and the program itself
read it from here, so that a user's own shell (`eval "$(make -s env)"`) runs `pulumi` exactly
as `make` does.
"""

from __future__ import annotations

import ipaddress
import os
import pathlib
import shlex
import sys
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
STATE = ROOT / ".state"
TOOLS_BIN = ROOT / ".tools" / "pulumi" / "bin"
DEV_PASSPHRASE = "aep-pipelines-dev-only"

# Set for every stack; each one only where the caller has not set it (an empty value counts
# as unset: an unset CI secret arrives as "").
_OFFLINE = {
    "PULUMI_HOME": str(STATE / "pulumi-home"),
    "PULUMI_BACKEND_URL": f"file://{STATE / 'backend'}",
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
}


def defaults(stack: str) -> dict[str, str]:
    """The offline settings for `stack`: the dev passphrase only for `dev`, whose one secret is the
    emulator's documented development client secret; real stacks bring their own."""
    out = dict(_OFFLINE)
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
