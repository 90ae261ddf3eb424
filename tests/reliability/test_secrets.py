"""Secrets: a canary client secret, every token IMS issued for it, and a canary base-connection
secret (a Kinesis account's `secretKey`, before and after rotation) never appear in
`pulumi stack export`, in the backend's files, in verbose engine logs, or in error text.

The emulator accepts the canary through `--client ID:SECRET:ORG`. The secret reaches the
providers once through encrypted stack config and once through AEP_CLIENT_SECRET; the
tokens are read back from the emulator's own token table afterwards. The Kinesis secret is
the stack's secret config `aep-pipelines:kinesis-secretKey`, which examples/kinesis.yaml
references as `{secret: kinesis-secretKey}`.
"""

from __future__ import annotations

import pathlib
import sqlite3
import uuid

import pytest
import yaml

from emulator import config as dev
from tests.support.engine import ROOT

from .support import Deployment

pytestmark = [pytest.mark.engine, pytest.mark.slow]

CLIENT = "canary-client"
VERBOSE = ("-v=9", "--logtostderr")


def _issued_tokens(emu) -> list[str]:
    db = sqlite3.connect(f"file:{pathlib.Path(emu.data_dir, 'aep.sqlite3')}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT id FROM objects WHERE kind = 'token'")]
    finally:
        db.close()


def _add_kinesis(d: Deployment, secret_key: str) -> None:
    """The Kinesis example beside the bench pipeline, its credentials in secret stack config."""
    spec = yaml.safe_load((d.dir / "spec.yaml").read_text())
    spec["pipelines"] += yaml.safe_load((ROOT / "examples" / "kinesis.yaml").read_text())["pipelines"]
    (d.dir / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    d.run("config", "set-all", "--secret=aep-pipelines:kinesis-accessKeyId=AKIACANARYEXAMPLE",
          f"--secret=aep-pipelines:kinesis-secretKey={secret_key}").ok()


def _backend_text(d: Deployment) -> str:
    root = pathlib.Path(d.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("via", ["config", "env"])
def test_canary_secret_and_tokens_never_leak(tmp_path, make_emulator, figures, via):
    canary = f"CANARY-{uuid.uuid4().hex}"
    emu = make_emulator("--client", f"{CLIENT}:{canary}:{dev.DEV_ORG_ID}")
    d = Deployment(tmp_path, emu, f"secrets-{via}", pipelines=1, client_id=CLIENT,
                   secret=canary if via == "config" else "", env={"AEP_CLIENT_SECRET": canary} if via == "env" else None)
    key_canary, rotated = f"CANARY-kinesis-{uuid.uuid4().hex}", f"CANARY-rotated-{uuid.uuid4().hex}"
    _add_kinesis(d, key_canary)

    outputs = []
    outputs.append(d.up(*VERBOSE).ok())
    deployed_export = d.run("stack", "export").ok().stdout  # the state with every resource in it
    # The account is in the state, its secret only encrypted: --show-secrets reveals it.
    assert ":BaseConnection::clickstream-account" in deployed_export
    assert key_canary in d.run("stack", "export", "--show-secrets").ok().stdout
    outputs.append(d.run("preview", "--refresh", *VERBOSE).ok())
    # Error text too: a flow update that AEP keeps refusing until the retry budget runs out.
    d.run("config", "set", "aep:retryBudget", "1").ok()
    # ... and a rotated account secret whose PATCH AEP keeps refusing.
    emu.set_faults({"rules": [{"fault": 503, "probability": 1.0, "methods": "writes", "route": "flows|connections"}]})
    (d.dir / "spec.yaml").write_text((d.dir / "spec.yaml").read_text().replace("bench-000 flow", "renamed flow"))
    d.run("config", "set", "--secret", "aep-pipelines:kinesis-secretKey", rotated).ok()
    failed = d.up(*VERBOSE)
    assert failed.rc != 0 and "503" in failed.output, failed.output[-3000:]
    assert ("error: BaseConnection 'AWS Kinesis clickstream account' (" in failed.output
            and "update failed: HTTP 503 FLOW-1503-503" in failed.output), failed.output[-3000:]
    outputs.append(failed)
    emu.clear_faults()
    outputs.append(d.run("destroy", "--yes", "--skip-preview", *VERBOSE).ok())

    tokens = _issued_tokens(emu)
    assert tokens, "the emulator issued no token: the test would prove nothing"
    export = d.run("stack", "export").ok().stdout
    haystacks = {"stack export after up": deployed_export, "stack export after destroy": export,
                 "backend files (state, history, backups)": _backend_text(d),
                 **{f"pulumi {' '.join(r.args[:2])} #{i} (stdout+stderr, -v=9)": r.output
                    for i, r in enumerate(outputs)}}
    figures[via] = {"tokens_issued": len(tokens), "log_bytes": sum(len(r.output) for r in outputs),
                    "export_bytes": len(deployed_export)}
    for where, text in haystacks.items():
        assert canary not in text, f"the client secret appears in {where}"
        assert key_canary not in text and rotated not in text, f"the Kinesis secretKey appears in {where}"
        for tok in tokens:
            assert tok not in text, f"an access token appears in {where}"
            # A JWT's signature alone would be enough to misuse it.
            assert tok.rsplit(".", 1)[-1] not in text, f"an access token's signature appears in {where}"
    # The errors still say what went wrong.
    assert "Dataflow" in failed.output and "Next:" in failed.output
