"""Secrets: a canary client secret, and every token IMS issued for it, never appear in
`pulumi stack export`, in the backend's files, in verbose engine logs, or in error text.

The emulator accepts the canary through `--client ID:SECRET:ORG`. The secret reaches the
providers once through encrypted stack config and once through AEP_CLIENT_SECRET; the
tokens are read back from the emulator's own token table afterwards.
"""

from __future__ import annotations

import pathlib
import sqlite3
import uuid

import pytest

from emulator import config as dev

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


def _backend_text(d: Deployment) -> str:
    root = pathlib.Path(d.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("via", ["config", "env"])
def test_canary_secret_and_tokens_never_leak(tmp_path, make_emulator, figures, via):
    canary = f"CANARY-{uuid.uuid4().hex}"
    emu = make_emulator("--client", f"{CLIENT}:{canary}:{dev.DEV_ORG_ID}")
    d = Deployment(tmp_path, emu, f"secrets-{via}", pipelines=1, client_id=CLIENT,
                   secret=canary if via == "config" else "", env={"AEP_CLIENT_SECRET": canary} if via == "env" else None)

    outputs = []
    outputs.append(d.up(*VERBOSE).ok())
    deployed_export = d.run("stack", "export").ok().stdout  # the state with every resource in it
    outputs.append(d.run("preview", "--refresh", *VERBOSE).ok())
    # Error text too: a flow update that AEP keeps refusing until the retry budget runs out.
    d.run("config", "set", "aep:retryBudget", "1").ok()
    emu.set_faults({"rules": [{"fault": 503, "probability": 1.0, "methods": "writes", "route": "flows"}]})
    (d.dir / "spec.yaml").write_text((d.dir / "spec.yaml").read_text().replace("bench-000 flow", "renamed flow"))
    failed = d.up(*VERBOSE)
    assert failed.rc != 0 and "503" in failed.output, failed.output[-3000:]
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
        for tok in tokens:
            assert tok not in text, f"an access token appears in {where}"
            # A JWT's signature alone would be enough to misuse it.
            assert tok.rsplit(".", 1)[-1] not in text, f"an access token's signature appears in {where}"
    # The errors still say what went wrong.
    assert "Dataflow" in failed.output and "Next:" in failed.output
