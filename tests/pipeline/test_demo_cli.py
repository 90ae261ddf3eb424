"""`make demo PIPELINE=<name>` for a webhook source and an authenticated streaming source, as a
user runs it: `python -m pipelines.cli demo --pipeline <name>` on a stack deploying
examples/chatlio.yaml (webhook, identity and Profile) and examples/kinesis.yaml (an account
whose secret is set with `pulumi config set --secret`), against a private emulator.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from pipelines.samples import samples_for
from tests.support.engine import ROOT

from .test_guards_cli import Cli, _out

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SECRET_KEY = "CANARY-demo-kinesis-secretKey"


def _set_secret(cli: Cli, key: str, value: str) -> None:
    """`pulumi config set --secret aep-pipelines:<key>` on the copy's dev stack, through the CLI's own
    environment (its backend and passphrase)."""
    code = ("import sys; from pipelines import workspace as w; w.select_stack('dev', create=True); "
            "w.pulumi('dev', 'config', 'set', '--secret', sys.argv[1], sys.argv[2], '--stack', 'dev', capture=True)")
    proc = subprocess.run([sys.executable, "-c", code, f"aep-pipelines:{key}", value], cwd=cli.dir, env=cli.env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def cli(tmp_path_factory, make_module_emulator):
    c = Cli(tmp_path_factory.mktemp("demo"), make_module_emulator(), spec=None)
    pipes = [yaml.safe_load((ROOT / "examples" / f).read_text())["pipelines"][0]
             for f in ("chatlio.yaml", "kinesis.yaml")]
    c.write_spec({"pipelines": pipes})
    _set_secret(c, "kinesis-accessKeyId", "AKIAEXAMPLEDEMO")
    _set_secret(c, "kinesis-secretKey", SECRET_KEY)
    up = c.run("up")
    assert up.returncode == 0, _out(up)[-4000:]
    return c


def test_demo_of_a_webhook_source_posts_to_the_webhook_url_and_shows_the_stitched_profile(cli):
    demo = cli.run("demo", "--pipeline", "chatlio")
    text = _out(demo)
    assert demo.returncode == 0, text
    assert "Posting sample Chatlio payloads to pipeline 'chatlio':" in text and "?x-adobe-flow-id=" in text
    assert text.count("-> HTTP 200") == 3, text
    assert "holds 2 record(s)" in text and '"message": "Thanks, that helps!"' in text
    uuid = samples_for("chatlio")[0][1]["visitor"]["UUID"]
    assert (f"Profile of CHATLIOVISITOR '{uuid}' in Real-Time Customer Profile, stitched on visitorUuid:"
            in text), text
    # The record without the primary identity fails in the run, with AEP's error.
    assert "partialSuccess  3   2         1" in text and "error INGEST-1213-400: Missing primary identity" in text
    assert "Traceback" not in text


def test_demo_of_an_authenticated_stream_posts_to_its_inlet(cli):
    demo = cli.run("demo", "--pipeline", "clickstream")
    text = _out(demo)
    assert demo.returncode == 0, text
    assert "Posting sample Amazon Kinesis records to pipeline 'clickstream' through the emulator's stand-in" in text
    url = next(line.strip() for line in text.splitlines() if "/collection/" in line)
    assert "x-adobe-flow-id" not in url, url  # the inlet URL; the flow goes in the header
    assert text.count("-> HTTP 200") == 3, text
    assert "holds 2 record(s)" in text and '"pageTitle": "Cart"' in text
    assert "Profile of" not in text  # not a Profile pipeline
    assert "error INGEST-1212-400: _extconndev.occurredAt: [n/a] is not a valid date-time" in text
    assert SECRET_KEY not in text and "Traceback" not in text


def test_demo_of_an_unknown_pipeline_names_the_ones_there_are(cli):
    demo = cli.run("demo", "--pipeline", "nope")
    assert demo.returncode == 1
    assert "no pipeline 'nope' in stack 'dev'; it has: chatlio, clickstream" in _out(demo)
