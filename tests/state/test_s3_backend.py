"""Team state on S3: `make up`, `make drift`, `make destroy` with PULUMI_BACKEND_URL=s3://...

Every Pulumi command here goes through Pulumi's own DIY backend to a real S3 API (moto in
server mode, tests/state/s3server.py) and every AEP call to a private emulator. The
commands are the Makefile's: `python -m pipelines.cli up|drift|destroy --stack X` in a copy
of the project. The lock, concurrency and crash tests reuse the reliability support code
(tests/reliability/support.py), whose `Deployment` takes the S3 backend through its env.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest
import yaml

from tests.pipeline.helpers import MANAGED_KINDS, copy_real_project
from tests.reliability.support import Deployment, recover_after_crash, wait_for
from tests.support.credentials import DEV_CLIENT_SECRET
from tests.support.engine import require_cli

from .s3server import LOCKS, MotoS3

pytestmark = pytest.mark.engine

BUCKET = "team-state"
STACKS = ".pulumi/stacks/aep-pipelines/"


def cli(cwd: pathlib.Path, env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`make <command> STACK=<stack> YES=1`: the module the Makefile runs, in the project copy, as CI
    runs it (no terminal, so stacks other than dev need the explicit YES=1)."""
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=cwd, env={**env, "YES": "1"},
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def start_cli(cwd: pathlib.Path, env: dict[str, str], log: pathlib.Path, *args: str) -> subprocess.Popen:
    """The same in the background, in a session of its own (so kill_all ends it and its children)."""
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "pipelines.cli", *args], cwd=cwd, env={**env, "YES": "1"},
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def kill_all(proc: subprocess.Popen) -> None:
    """SIGKILL every process of a start_cli command's session, then reap it.

    The Pulumi CLI starts each plugin (language host, dynamic provider) in a process group of
    its own inside that session, so SIGKILLing the CLI's group alone would orphan them. The
    session id is the command's pid, which stays ours until it is reaped.
    """
    if proc.poll() is not None:
        return  # ended and reaped: Pulumi stopped its plugins, and the pid may be reused
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == proc.pid:  # field 6 of /proc/<pid>/stat: the session id
            try:
                os.kill(int(stat.parent.name), signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(30)


def output(p: subprocess.CompletedProcess) -> str:
    return (p.stdout or "") + (p.stderr or "")


def stack_state(s3: MotoS3, stack: str) -> dict:
    """The stack's checkpoint as Pulumi stored it in the bucket."""
    return json.loads(s3.read(BUCKET, f"{STACKS}{stack}.json"))


def dev_project_on_bucket(tmp_path: pathlib.Path, s3: MotoS3, emu) -> tuple[pathlib.Path, dict[str, str]]:
    """A project copy whose dev stack points at `emu`, and a user's shell for it: no Pulumi, AEP or
    AWS settings of its own, the CLI on PATH, then the team's backend (the moto bucket)."""
    bin_dir = require_cli()
    project = copy_real_project(tmp_path / "project")
    dev_file = project / "stacks" / "Pulumi.dev.yaml"
    dev_file.write_text(dev_file.read_text().replace("http://127.0.0.1:8765", emu.base_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AEP_", "AWS_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.update(s3.env(BUCKET))
    return project, env


def test_up_drift_destroy_of_the_dev_stack_keep_the_state_in_the_bucket(tmp_path, s3, fresh_emulator):
    project, env = dev_project_on_bucket(tmp_path, s3, fresh_emulator)

    up = cli(project, env, "up", "--stack", "dev")
    assert up.returncode == 0, output(up)[-4000:]
    assert "+ 8 created" in up.stdout and "Stack 'dev' is up" in up.stdout
    assert not (project / ".state" / "backend").exists(), "the file backend was used instead of S3"

    keys = s3.keys(BUCKET)
    assert ".pulumi/meta.yaml" in keys and f"{STACKS}dev.json" in keys, keys
    history = [k for k in keys if k.startswith(".pulumi/history/aep-pipelines/dev/")]
    assert any(k.endswith(".history.json") for k in history) and any(k.endswith(".checkpoint.json") for k in history)
    assert not s3.keys(BUCKET, LOCKS), "the lock stays behind after a finished up"
    raw = s3.read(BUCKET, f"{STACKS}dev.json")
    resources = json.loads(raw)["checkpoint"]["latest"]["resources"]
    # The 8 of `make up`'s summary (the stack, the component, six AEP objects), plus their provider.
    assert len([r for r in resources if not r["type"].startswith("pulumi:providers:")]) == 8
    assert DEV_CLIENT_SECRET not in raw, "the client secret is in the state in plaintext"

    drift = cli(project, env, "drift", "--stack", "dev")
    assert drift.returncode == 0 and drift.stdout.startswith("No drift"), output(drift)[-3000:]

    destroy = cli(project, env, "destroy", "--stack", "dev")
    assert destroy.returncode == 0, output(destroy)[-3000:]
    left = {k: n for k, n in fresh_emulator.objects().items() if n and k in MANAGED_KINDS}
    assert not left, f"AEP objects left after destroy: {left}"
    assert not stack_state(s3, "dev")["checkpoint"]["latest"].get("resources")
    assert not s3.keys(BUCKET, LOCKS)


def test_a_zstd_state_in_the_bucket_serves_a_teammate_whose_cli_writes_plain_json(tmp_path, s3, fresh_emulator):
    """PULUMI_DIY_BACKEND_ZSTD=true (docs/state.md, "Compressed state"): the project's commands work
    on a compressed state, and a CLI without the setting reads it and writes it back as plain JSON."""
    project, plain = dev_project_on_bucket(tmp_path, s3, fresh_emulator)
    zstd = {**plain, "PULUMI_DIY_BACKEND_ZSTD": "true"}

    up = cli(project, zstd, "up", "--stack", "dev")
    assert up.returncode == 0 and "+ 8 created" in up.stdout, output(up)[-4000:]
    keys = s3.keys(BUCKET, STACKS)
    assert f"{STACKS}dev.json.zst" in keys and f"{STACKS}dev.json" not in keys, keys
    raw = s3.client().get_object(Bucket=BUCKET, Key=f"{STACKS}dev.json.zst")["Body"].read()
    assert raw[:4] == b"\x28\xb5\x2f\xfd", "not a zstd frame"
    drift = cli(project, zstd, "drift", "--stack", "dev")
    assert drift.returncode == 0 and drift.stdout.startswith("No drift"), output(drift)[-3000:]

    # A teammate's CLI without the setting: it reads the compressed state, plans nothing, and
    # its next write is plain JSON in place of the compressed file.
    drift = cli(project, plain, "drift", "--stack", "dev")
    assert drift.returncode == 0 and drift.stdout.startswith("No drift"), output(drift)[-3000:]
    again = cli(project, plain, "up", "--stack", "dev")
    assert again.returncode == 0 and "8 unchanged" in again.stdout, output(again)[-3000:]
    keys = s3.keys(BUCKET, STACKS)
    assert f"{STACKS}dev.json" in keys and f"{STACKS}dev.json.zst" not in keys, keys
    resources = stack_state(s3, "dev")["checkpoint"]["latest"]["resources"]
    assert len([r for r in resources if not r["type"].startswith("pulumi:providers:")]) == 8

    destroy = cli(project, zstd, "destroy", "--stack", "dev")
    assert destroy.returncode == 0, output(destroy)[-3000:]
    left = {k: n for k, n in fresh_emulator.objects().items() if n and k in MANAGED_KINDS}
    assert not left, f"AEP objects left after destroy: {left}"


@pytest.mark.slow
def test_two_stacks_on_two_sandboxes_up_at_once_on_one_bucket(tmp_path, s3, fresh_emulator):
    a = Deployment(tmp_path, fresh_emulator, "s3-par-a", pipelines=2, name="a", env=s3.env(BUCKET))
    b = Deployment(tmp_path, fresh_emulator, "s3-par-b", pipelines=2, name="b", share=a)
    fresh_emulator.set_faults({"latency_ms": 20})
    procs = {d.name: start_cli(d.dir, d.env, tmp_path / f"{d.name}.log", "up", "--stack", d.name) for d in (a, b)}
    try:
        # Both runs hold their stack's lock in the bucket at the same moment.
        wait_for(lambda: {k.split("/")[4] for k in s3.keys(BUCKET, LOCKS)} == {"a", "b"}, 120,
                 "both stacks' locks at once")
        rcs = {name: p.wait(300) for name, p in procs.items()}
    finally:
        for p in procs.values():
            kill_all(p)
    logs = {name: (tmp_path / f"{name}.log").read_text() for name in procs}
    assert rcs == {"a": 0, "b": 0}, {name: log[-3000:] for name, log in logs.items()}
    assert "Stack 'a' is up: 2 pipeline(s)" in logs["a"] and "Stack 'b' is up: 2 pipeline(s)" in logs["b"]

    assert {f"{STACKS}a.json", f"{STACKS}b.json"} <= set(s3.keys(BUCKET))
    assert not s3.keys(BUCKET, LOCKS)
    assert a.assert_converged() == b.assert_converged()
    ids_a = {r["id"] for r in a.resources() if r.get("id")}
    ids_b = {r["id"] for r in b.resources() if r.get("id")}
    assert ids_a and ids_b and not ids_a & ids_b


@pytest.mark.slow
def test_a_second_up_of_one_stack_is_refused_by_the_lock_in_the_bucket(tmp_path, s3, fresh_emulator):
    d = Deployment(tmp_path, fresh_emulator, "s3-lock", pipelines=2, name="lock", env=s3.env(BUCKET))
    fresh_emulator.set_faults({"latency_ms": 300})  # long enough for a second command to start meanwhile
    first = start_cli(d.dir, d.env, tmp_path / "first.log", "up", "--stack", "lock")
    try:
        lock = wait_for(lambda: s3.keys(BUCKET, LOCKS), 60, "the first up's lock object in the bucket")
        assert lock[0].startswith(f"{LOCKS}organization/aep-pipelines/lock/"), lock
        second = cli(d.dir, d.env, "up", "--stack", "lock")
        still_running = first.poll() is None
        rc = first.wait(300)
    finally:
        kill_all(first)
    assert rc == 0, (tmp_path / "first.log").read_text()[-4000:]
    assert still_running, "the first up ended before the second was refused: raise the latency"
    assert second.returncode != 0, "a second concurrent up of the same stack must be refused"
    assert "the stack is currently locked by 1 lock(s)" in output(second), output(second)[-3000:]

    # The state is intact: it parses, holds every object once, agrees with AEP; the lock is gone.
    json.dumps(d.export())
    assert d.assert_converged() == {k: 2 for k in d.inventory()}
    assert not s3.keys(BUCKET, LOCKS)
    drift = cli(d.dir, d.env, "drift", "--stack", "lock")
    assert drift.returncode == 0 and drift.stdout.startswith("No drift"), output(drift)[-3000:]


@pytest.mark.slow
def test_an_up_killed_mid_run_recovers_through_the_documented_steps(tmp_path, s3, fresh_emulator):
    pipelines = 4
    d = Deployment(tmp_path, fresh_emulator, "s3-kill", pipelines=pipelines, name="kill", env=s3.env(BUCKET))
    fresh_emulator.set_faults({"latency_ms": 150})  # creates are in flight at the moment of the kill
    proc = start_cli(d.dir, d.env, tmp_path / "killed.log", "up", "--stack", "kill")
    try:
        wait_for(lambda: sum(len(v) for v in d.inventory().values()) >= 2 * pipelines, 120, "the first objects")
        assert proc.poll() is None, "the run ended before it could be killed: " + (tmp_path / "killed.log").read_text()
    finally:
        kill_all(proc)  # pipelines.cli, pulumi, the language host, the program and the provider
    fresh_emulator.set_faults({})
    # The dead run's lock stays in the bucket, as it stays in a file backend's directory.
    assert s3.keys(BUCKET, LOCKS)

    found = recover_after_crash(d)
    assert found["pending_creates"] > 0, found
    assert not s3.keys(BUCKET, LOCKS)
    d.assert_converged()
    drift = cli(d.dir, d.env, "drift", "--stack", "kill")
    assert drift.returncode == 0 and drift.stdout.startswith("No drift"), output(drift)[-3000:]


@pytest.mark.slow
def test_secrets_move_from_the_passphrase_to_an_awskms_key(tmp_path, s3, fresh_emulator):
    """`pulumi stack change-secrets-provider awskms://...` on a deployed stack, then `make up` with no passphrase."""
    key_id = s3.kms_key("aep-pipelines")
    provider = f"awskms://alias/aep-pipelines?region=us-east-1&endpoint={s3.url}"
    d = Deployment(tmp_path, fresh_emulator, "s3-kms", name="kms", env=s3.env(BUCKET))
    d.up().ok()  # deployed on the passphrase, as every new stack starts

    d.run("stack", "change-secrets-provider", provider).ok()  # needs the old passphrase and the new key
    settings = yaml.safe_load((d.dir / "stacks" / "Pulumi.kms.yaml").read_text())
    assert settings["secretsprovider"] == provider and "encryptionsalt" not in settings
    # The stack's data key is now wrapped by that KMS key: KMS itself unwraps it.
    data_key = s3.client("kms").decrypt(CiphertextBlob=base64.b64decode(settings["encryptedkey"]))
    assert data_key["KeyId"].endswith(key_id) and len(data_key["Plaintext"]) == 32
    assert settings["config"]["aep:clientSecret"]["secure"]

    # No passphrase in the environment from here on: a passphrase stack fails ("passphrase must be set").
    env = {k: v for k, v in d.env.items() if k != "PULUMI_CONFIG_PASSPHRASE"}
    up = cli(d.dir, env, "up", "--stack", "kms")
    assert up.returncode == 0 and "8 unchanged" in up.stdout, output(up)[-4000:]
    assert DEV_CLIENT_SECRET not in s3.read(BUCKET, f"{STACKS}kms.json")

    # The stack leaves the backend (`make destroy` + `pulumi stack rm`); its committed file stays.
    gone = cli(d.dir, env, "destroy", "--remove", "--stack", "kms")
    assert gone.returncode == 0, output(gone)[-3000:]
    assert f"{STACKS}kms.json" not in s3.keys(BUCKET)
    # `make up` makes it again on the KMS key the file names, and the file's secrets still decrypt.
    again = cli(d.dir, env, "up", "--stack", "kms")
    assert again.returncode == 0 and "+ 8 created" in again.stdout, output(again)[-4000:]
    assert yaml.safe_load((d.dir / "stacks" / "Pulumi.kms.yaml").read_text()) == settings
    d.assert_converged()


def test_a_stack_moves_from_the_file_backend_to_the_bucket(tmp_path, s3, fresh_emulator):
    """docs/state.md's move: `stack export` on the old backend, `stack init` + `stack import` on the bucket."""
    d = Deployment(tmp_path, fresh_emulator, "s3-move", name="move")  # the file backend of engine_env
    d.up().ok()
    d.run("stack", "export", "--file", str(tmp_path / "move.json")).ok()

    d.env.update(s3.env(BUCKET))
    d.run("stack", "init", "move").ok()  # the committed file's encryptionsalt: the same passphrase
    d.run("stack", "import", "--file", str(tmp_path / "move.json")).ok()
    assert f"{STACKS}move.json" in s3.keys(BUCKET)
    drift = cli(d.dir, d.env, "drift", "--stack", "move")
    assert drift.returncode == 0 and drift.stdout.startswith("No drift"), output(drift)[-3000:]
    d.assert_converged()
