"""scripts/bootstrap as a user meets it: `make toolchain` with an official Pulumi install on
PATH, with and without a cached build, and a cached build whose fallback language host is
older than tools/pulumi-language-python.

Each case runs in a copy of the project (the checkout's own .tools link is never touched),
with a PATH made of the directories below plus /usr/bin:/bin, where no `go` is found unless
the case puts it there, and its own XDG_CACHE_HOME.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import time

import pytest

from tests.support.engine import ROOT, copy_project, require_cli

VERSION = re.search(r"^PULUMI_CLI_VERSION=(\S+)$", (ROOT / "scripts/versions.env").read_text(), re.M).group(1)
PARTS = ("pulumi", "pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python")
BASE_PATH = "/usr/bin:/bin"


@pytest.fixture
def real_bin() -> pathlib.Path:
    """The directory the checkout's toolchain link resolves to: the binaries the fakes stand on."""
    return require_cli().resolve()


@pytest.fixture
def project(tmp_path) -> pathlib.Path:
    return copy_project(ROOT, tmp_path / "project")


def official_install(where: pathlib.Path, real_bin: pathlib.Path) -> pathlib.Path:
    """A directory laid out as the official installer leaves ~/.pulumi/bin: `pulumi` and,
    beside it, the Python language host and the dynamic-provider plugin. `pulumi` is a small
    script in front of the real binary, so the install resolves to this directory itself."""
    where.mkdir(parents=True)
    (where / "pulumi").write_text(f'#!/bin/sh\nexec "{real_bin / "pulumi"}" "$@"\n')
    (where / "pulumi").chmod(0o755)
    for name in PARTS[1:]:
        (where / name).symlink_to(real_bin / name)
    return where


def cached_build(cache_home: pathlib.Path, real_bin: pathlib.Path, copy_host: bool = False) -> pathlib.Path:
    """A complete cached build of the pinned version under cache_home (the binaries linked, or
    with copy_host the language host copied so that a rebuild can replace it)."""
    dest = cache_home / "aep-pipelines" / f"pulumi-{VERSION}" / "bin"
    dest.mkdir(parents=True)
    for name in PARTS:
        if copy_host and name == "pulumi-language-python":
            shutil.copy2(real_bin / name, dest / name)
        else:
            (dest / name).symlink_to(real_bin / name)
    return dest


def snapshot(tree: pathlib.Path) -> dict[str, tuple]:
    """Every entry under tree, with what would change if something rewrote it."""
    out = {}
    for p in sorted(tree.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(tree))] = (os.readlink(p),) if p.is_symlink() else (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def make_toolchain(project: pathlib.Path, path: str, cache_home: pathlib.Path, **extra: str) -> subprocess.CompletedProcess:
    env = {"HOME": os.environ["HOME"], "PATH": path, "XDG_CACHE_HOME": str(cache_home), "LANG": "C.UTF-8", **extra}
    return subprocess.run(["make", "--no-print-directory", "toolchain"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600)


def link_of(project: pathlib.Path) -> str:
    return os.readlink(project / ".tools" / "pulumi" / "bin")


def test_the_test_path_has_no_go():
    assert shutil.which("go", path=BASE_PATH) is None, "the no-Go cases need a PATH without go"


@pytest.mark.parametrize("with_cache", [False, True], ids=["empty-cache", "cache-present"])
def test_an_official_install_on_path_keeps_being_used(tmp_path, project, real_bin, with_cache):
    install = official_install(tmp_path / "home" / ".pulumi" / "bin", real_bin)
    cache_home = tmp_path / "cache"
    cache_home.mkdir()
    if with_cache:
        cached_build(cache_home, real_bin)
    before = snapshot(cache_home)
    path = f"{install}:{BASE_PATH}"
    for run in range(3):
        proc = make_toolchain(project, path, cache_home)
        assert proc.returncode == 0, f"run {run + 1}: {proc.stdout}{proc.stderr}"
        assert link_of(project) == str(install), f"run {run + 1}: {proc.stderr}"
        assert not re.search(r"building|compiling", proc.stderr), f"run {run + 1} built something: {proc.stderr}"
        # Only the run that creates the link says anything.
        assert ("ready at" in proc.stderr) == (run == 0), proc.stderr
    assert snapshot(cache_home) == before, "the cache directory was written to"
    described = subprocess.run([str(project / "scripts" / "bootstrap"), "--describe"], capture_output=True,
                               text=True, env={"PATH": path, "HOME": os.environ["HOME"],
                                               "XDG_CACHE_HOME": str(cache_home)})
    assert f"Pulumi CLI v{VERSION} at {install}/pulumi, found on PATH" in described.stderr, described.stderr


def test_a_pulumi_on_path_that_is_a_symlink_into_the_install(tmp_path, project, real_bin):
    # /usr/local/bin/pulumi -> ~/.pulumi/bin/pulumi: the tools sit beside the link's target.
    install = official_install(tmp_path / "home" / ".pulumi" / "bin", real_bin)
    usr_local = tmp_path / "usr-local-bin"
    usr_local.mkdir()
    (usr_local / "pulumi").symlink_to(install / "pulumi")
    cache_home = tmp_path / "cache"
    cache_home.mkdir()
    for run in range(3):
        proc = make_toolchain(project, f"{usr_local}:{BASE_PATH}", cache_home)
        assert proc.returncode == 0 and link_of(project) == str(install), f"run {run + 1}: {proc.stderr}"
    assert list(cache_home.iterdir()) == []


def test_a_pulumi_on_path_too_old_gives_way_to_the_cache_and_says_why(tmp_path, project, real_bin):
    old = tmp_path / "old-pulumi"
    old.mkdir()
    (old / "pulumi").write_text("#!/bin/sh\necho v3.100.0\n")
    (old / "pulumi").chmod(0o755)
    for name in PARTS[1:]:
        (old / name).symlink_to(real_bin / name)
    cache_home = tmp_path / "cache"
    dest = cached_build(cache_home, real_bin)
    (dest / ".langhost-source").write_text(_source_hash() + "\n")
    proc = make_toolchain(project, f"{old}:{BASE_PATH}", cache_home)
    assert proc.returncode == 0 and link_of(project) == str(dest), proc.stderr
    assert "it is v3.100.0, older than" in proc.stderr, proc.stderr


def _source_hash() -> str:
    """What scripts/bootstrap stamps beside a cached fallback host, computed by the script."""
    return subprocess.run(["bash", "-c", f'. <(sed -n "/^source_hash()/,/^}}/p" {ROOT}/scripts/bootstrap); '
                           f'langhost_src={ROOT}/tools/pulumi-language-python; source_hash'],
                          capture_output=True, text=True, check=True).stdout.strip()


def _fallback_host(real_bin: pathlib.Path) -> None:
    data = (real_bin / "pulumi-language-python").read_bytes()
    if b"aep-pipelines/tools/pulumi-language-python" not in data and b"aep-pipelines/pulumi-build/langhost" not in data:
        pytest.skip("the linked toolchain carries the official language host: there is no fallback host to rebuild")


def test_a_cached_fallback_host_older_than_its_sources_is_rebuilt_alone(tmp_path, project, real_bin):
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go is not installed: the host cannot be rebuilt here (the no-Go case is tested below)")
    _fallback_host(real_bin)
    cache_home = tmp_path / "cache"
    dest = cached_build(cache_home, real_bin, copy_host=True)
    (dest / ".langhost-source").write_text("sources of an older host\n")
    host_before = (dest / "pulumi-language-python").stat()
    # Go's own caches stay where they are (XDG_CACHE_HOME would move the build cache).
    go_env = {k: subprocess.run([go, "env", k], capture_output=True, text=True, check=True).stdout.strip()
              for k in ("GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY")}
    path = f"{pathlib.Path(go).parent}:{BASE_PATH}"
    started = time.monotonic()
    proc = make_toolchain(project, path, cache_home, **go_env)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rebuilding the fallback language host" in proc.stderr and "(not the CLI)" in proc.stderr, proc.stderr
    assert "compiling pulumi" not in proc.stderr and link_of(project) == str(dest)
    assert os.readlink(dest / "pulumi") == str(real_bin / "pulumi"), "the CLI itself was touched"
    host_after = (dest / "pulumi-language-python").stat()
    assert host_after.st_ino != host_before.st_ino, "the host was not replaced"
    assert (dest / ".langhost-source").read_text().strip() == _source_hash()
    version = subprocess.run([str(dest / "pulumi-language-python"), "-version"], capture_output=True, text=True)
    assert version.stdout.strip() == VERSION
    assert took < 300, f"rebuilding the host took {took:.0f}s"
    # Up to date now: the next run leaves it alone.
    again = make_toolchain(project, path, cache_home, **go_env)
    assert again.returncode == 0 and again.stderr == "" and (dest / "pulumi-language-python").stat().st_ino == \
        host_after.st_ino, again.stderr


def test_without_go_a_stale_cached_host_is_used_with_a_warning(tmp_path, project, real_bin):
    _fallback_host(real_bin)
    cache_home = tmp_path / "cache"
    dest = cached_build(cache_home, real_bin, copy_host=True)
    (dest / ".langhost-source").write_text("sources of an older host\n")
    before = snapshot(cache_home)
    proc = make_toolchain(project, BASE_PATH, cache_home)
    assert proc.returncode == 0 and link_of(project) == str(dest), proc.stderr
    assert "install Go to rebuild it" in proc.stderr, proc.stderr
    assert snapshot(cache_home) == before
