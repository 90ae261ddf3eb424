"""Nothing secret is pickled into state, logged, or put into an exception."""

from __future__ import annotations

import base64
import json
import logging
import pickle
import traceback
import uuid

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from providers import (
    BaseConnectionProvider,
    DataflowProvider,
    DatasetProvider,
    MappingSetProvider,
    SourceConnectionProvider,
    TargetConnectionProvider,
    XdmSchemaProvider,
)
from providers.client import AEPSettings, Secret, clear_client_cache
from providers.models import HTTP_STREAMING_SPEC, PENDO_SPEC

from .support import FS, Harness

PROVIDERS = [XdmSchemaProvider, DatasetProvider, SourceConnectionProvider, TargetConnectionProvider,
             MappingSetProvider, DataflowProvider, BaseConnectionProvider]


@pytest.mark.parametrize("cls", PROVIDERS, ids=lambda c: c.__name__)
def test_provider_is_pickled_by_reference(cls):
    raw = base64.b64decode(serialize_provider(cls()))
    assert len(raw) < 200
    assert b"_create_code" not in raw and b"_create_type" not in raw
    assert cls.__module__.encode() in raw and cls.__qualname__.encode() in raw
    assert cls.serialize_as_secret_always is False


@pytest.mark.parametrize("cls", PROVIDERS, ids=lambda c: c.__name__)
def test_a_configured_provider_pickles_to_the_same_bytes(cls):
    canary = f"CANARY-{uuid.uuid4().hex}"
    p = cls()
    from pulumi.dynamic import Config, ConfigureRequest
    p.configure(ConfigureRequest(Config({"aep:clientSecret": canary, "aep:clientId": "c", "aep:orgId": "o"}, "x")))
    assert serialize_provider(p) == serialize_provider(cls())
    assert canary.encode() not in base64.b64decode(serialize_provider(p))


def test_secret_never_shows_itself():
    s = Secret("hunter2")
    assert "hunter2" not in repr(s) + str(s) + f"{s}" + f"{s!r}"
    assert s.reveal() == "hunter2" and s == Secret("hunter2") and hash(s) == hash(Secret("hunter2"))
    with pytest.raises(TypeError):
        pickle.dumps(s)
    settings = AEPSettings(client_id="id", client_secret=s, org_id="org")
    assert "hunter2" not in repr(settings)
    with pytest.raises(TypeError):
        pickle.dumps(settings)


def test_importing_providers_has_no_side_effects():
    import subprocess
    import sys
    code = ("import sys, threading, pulumi.runtime.settings as s; before = threading.active_count(); "
            "import providers; assert threading.active_count() == before; "
            "assert 'requests.sessions' not in [type(v).__module__ for v in vars(providers).values()]; "
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": "/usr/bin"})
    assert out.stdout.strip() == "ok", out.stderr


def test_check_failure_on_a_secret_input_does_not_echo_it():
    p = BaseConnectionProvider()
    result = p.check({}, {"sandbox": "dev", "connection_spec_id": HTTP_STREAMING_SPEC, "auth_spec_name": "x",
                          "auth_params": "CANARY-in-a-string"})
    assert result.failures and all("CANARY" not in f.reason for f in result.failures)


@pytest.fixture
def canary_env(make_emulator, sandbox):
    """A private emulator that knows one extra client whose secret is a canary."""
    canary = f"CANARY-{uuid.uuid4().hex}"
    org = "CANARYORG000000000000000@AdobeOrg"
    emu = make_emulator("--client", f"canary-client:{canary}:{org}")
    clear_client_cache()
    return Harness(emu, sandbox, clientId="canary-client", clientSecret=canary, orgId=org), canary


def test_canary_secret_appears_in_no_log_exception_or_output(canary_env, caplog, capsys):
    h, canary = canary_env
    caplog.set_level(logging.DEBUG)  # everything, urllib3's request lines included
    texts: list[str] = []

    def failing(fn, *args):
        with pytest.raises(Exception) as e:
            fn(*args)
        texts.extend([str(e.value), repr(e.value), "".join(traceback.format_exception(e.value))])

    outs = [h.schema()[1], h.dataset()[1], h.mapping()[1], h.flow()[1], h.base_connection()[1]]
    p = h.provider(SourceConnectionProvider)
    news = h.check(p, {"connection_spec_id": PENDO_SPEC})
    c = p.create(news)
    outs += [c.outs, p.read(c.id, c.outs).outs]
    h.fs_patch("sourceConnections", c.id, [{"op": "replace", "path": "/name", "value": "edited"}])
    failing(p.update, c.id, c.outs, {**news, "name": "x"})                         # 412
    h.emu.set_faults({"retry_after": 0, "script": [{"route": f"GET {FS}/sourceConnections/{{conn_id}}",
                                                    "responses": [503, "ok"]}]})
    p.read(c.id, c.outs)                                                          # a logged retry
    failing(h.provider(DataflowProvider).create, h.check(h.provider(DataflowProvider), {
        "source_connection_id": c.id, "target_connection_id": h.target()[0],
        "mapping_id": h.mapping()[0], "mapping_version": 9}))                     # 400
    token = p.client()._token
    assert token

    h.config["aep:clientSecret"] = canary + "-wrong"                              # IMS refuses it
    clear_client_cache()
    bad = h.provider(SourceConnectionProvider)
    failing(bad.create, news)

    captured = capsys.readouterr()
    haystacks = {"log": caplog.text, "stdout": captured.out, "stderr": captured.err,
                 "exceptions": "\n".join(texts), "outs": json.dumps(outs)}
    assert "HTTP 401" in haystacks["exceptions"] and "HTTP 412" in haystacks["exceptions"]
    for where, text in haystacks.items():
        assert canary not in text, f"the client secret leaked into {where}"
        assert token not in text, f"the access token leaked into {where}"


def test_error_bodies_that_echo_a_secret_are_scrubbed():
    import requests

    from providers.client import AEPClient
    api = AEPClient(AEPSettings(client_id="id", client_secret=Secret("CANARY-echo"), org_id="org"))
    api._token = "tok.en.value"
    resp = requests.Response()
    resp.status_code = 400
    resp._content = json.dumps({"error": "invalid_request", "error_description":
                                "bad secret CANARY-echo with Authorization: Bearer tok.en.value"}).encode()
    err = api._error(resp, "POST", "/ims/token/v3", 1)
    text = str(err) + repr(err.body)
    assert "CANARY-echo" not in text and "tok.en.value" not in text and "********" in text


def test_a_base_connection_secret_appears_in_no_log_exception_or_check_message(canary_env, caplog, capsys):
    """A Kinesis account's `secretKey` (and its rotated value): created, read (AEP masks it), refused
    by check, rotated against a retried 503 and a 412, never in a log line or an error's text."""
    h, _client_secret = canary_env
    key, rotated = f"CANARY-kinesis-{uuid.uuid4().hex}", f"CANARY-rotated-{uuid.uuid4().hex}"
    auth = {"accessKeyId": "AKIAEXAMPLE", "secretKey": key, "region": "us-east-1"}
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    def failing(fn, *args):
        with pytest.raises(Exception) as e:
            fn(*args)
        texts.extend([str(e.value), repr(e.value), "".join(traceback.format_exception(e.value))])

    p = h.provider(BaseConnectionProvider)
    news = h.check(p, {"source_kind": "kinesis", "auth_params": auth})
    c = p.create(news)
    read = p.read(c.id, c.outs)
    r = h.raw.get(h.url(f"{FS}/connections/{c.id}"), timeout=10)
    assert r.json()["items"][0]["auth"]["params"]["secretKey"] == "********" and key not in r.text
    bad = p.check({}, {"sandbox": h.sandbox, "source_kind": "kinesis", "auth_spec_name": "Aws Kinesis",
                       "auth_params": {"secretKey": key}})
    texts += [f.reason for f in bad.failures]
    assert bad.failures
    texts.append(repr(vars(p.diff(c.id, read.outs, {**news, "auth_params": {**auth, "secretKey": rotated}}))))

    new_auth = {**news, "auth_params": {**auth, "secretKey": rotated}}
    h.emu.set_faults({"retry_after": 0, "script": [{"route": f"PATCH {FS}/connections/{{conn_id}}",
                                                    "responses": [503, "ok"]}]})
    done = p.update(c.id, read.outs, new_auth)                                   # a logged retry, then ok
    h.fs_patch("connections", c.id, [{"op": "replace", "path": "/name", "value": "edited"}])
    failing(p.update, c.id, done.outs, {**new_auth, "auth_params": {**auth, "secretKey": key}})   # 412
    p.delete(c.id, done.outs)

    captured = capsys.readouterr()
    haystacks = {"log": caplog.text, "stdout": captured.out, "stderr": captured.err,
                 "exceptions, check failures and diffs": "\n".join(texts)}
    assert "HTTP 412" in haystacks["exceptions, check failures and diffs"] and "retry" in caplog.text.lower()
    for where, text in haystacks.items():
        assert key not in text and rotated not in text, f"the Kinesis secretKey leaked into {where}"
