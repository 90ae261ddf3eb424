"""The steps the GitHub workflows run, one command each, so they can be rehearsed off GitHub.

    scripts/gitops preview --stack S   PR: `pulumi preview --refresh --diff`, posted as (or updating)
                                       the PR comment for stack S
    scripts/gitops deploy --stack S    merge to main: the main job, `python -m pipelines.cli up`
    scripts/gitops drift --stack S     schedule: the drift check; on drift, open (or comment on) an
                                       issue labelled `drift` and exit 2 so the run fails

Posting goes through the `gh` CLI (preinstalled on GitHub runners; GH_TOKEN from the
workflow) and happens only under GitHub Actions (GITHUB_ACTIONS=true); elsewhere the
Markdown is printed. scripts/gitops-rehearsal runs the workflow files' own steps against
the emulator with a recording `gh`, so this logic is exercised locally and in `make test`.

Stacks whose committed config targets a loopback emulator (dev) never use the CI's
credentials or shared backend: the emulator has its own dev credentials, and its state
would be meaningless anywhere but on the runner.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
from typing import Any

from . import cli, drift, workspace

MARKER = "<!-- aep-pipelines:{kind}:{stack} -->"
OUT_DIR = workspace.STATE / "gitops"
_AEP_ENV = ("AEP_CLIENT_ID", "AEP_CLIENT_SECRET", "AEP_ORG_ID", "AEP_ENDPOINT", "AEP_IMS_URL", "AEP_SCOPES",
            "AEP_TENANT_ID", "AEP_IDENTITY_ENDPOINT")


def emulator_stack(stack: str) -> bool:
    return workspace.is_loopback(str(workspace.stack_config(stack).get("aep:endpoint") or workspace.DEFAULT_ENDPOINT))


def isolate_emulator_stack(stack: str) -> None:
    """An emulator stack runs on the runner alone: local backend, dev passphrase, its own credentials."""
    if not emulator_stack(stack):
        return
    for name in _AEP_ENV:
        os.environ.pop(name, None)
    os.environ["PULUMI_BACKEND_URL"] = f"file://{workspace.STATE / 'backend'}"
    os.environ.pop("PULUMI_ACCESS_TOKEN", None)
    if stack == "dev":
        os.environ["PULUMI_CONFIG_PASSPHRASE"] = workspace.DEV_PASSPHRASE


def _blank_to_unset() -> None:
    # An unset GitHub secret arrives as an empty string; Pulumi and the providers must see "unset".
    for name, value in list(os.environ.items()):
        if value == "" and (name.startswith(("AEP_", "PULUMI_")) or name in ("GH_TOKEN",)):
            del os.environ[name]


def on_github() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def gh(*args: str, capture: bool = True) -> str:
    proc = subprocess.run(["gh", *args], text=True, capture_output=capture, check=False)
    if proc.returncode != 0:
        raise cli.CliError(f"`gh {' '.join(args[:3])} ...` failed: {(proc.stderr or '').strip()}")
    return proc.stdout or ""


def _write(name: str, text: str) -> pathlib.Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------
# preview
# ---------------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def preview_markdown(stack: str, rc: int, text: str) -> str:
    text = _ANSI.sub("", text).strip()
    summary = "\n".join(_resources_block(text)) or "(no summary: see the log)"
    verdict = ("no changes" if rc == 0 and re.search(r"^\s*\d+ unchanged\s*$", summary, re.M)
               and not re.search(r"to (create|update|delete|replace)", summary) else
               "changes planned" if rc == 0 else f"preview FAILED (exit status {rc})")
    if len(text) > 60000:  # GitHub comments stop at 65536 characters
        text = text[:30000] + "\n...\n" + text[-29000:]
    return (f"{MARKER.format(kind='preview', stack=stack)}\n"
            f"### `{stack}`: {verdict}\n\n```\n{summary}\n```\n\n"
            f"<details><summary>the plan: pulumi preview --refresh ({stack})</summary>\n\n```diff\n{text}\n```\n"
            "</details>\n")


def _resources_block(text: str) -> list[str]:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "Resources:":
            block = [line]
            for nxt in lines[i + 1:]:
                if not nxt.strip():
                    break
                block.append(nxt)
            return block
    return []


def post_pr_comment(stack: str, body_file: pathlib.Path) -> None:
    """Create the stack's preview comment on the PR, or update it in place (one comment per stack)."""
    repo, pr = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("PR_NUMBER")
    if not (repo and pr):
        raise cli.CliError("GITHUB_REPOSITORY and PR_NUMBER must be set to post a preview comment")
    marker = MARKER.format(kind="preview", stack=stack)
    listing = gh("api", f"repos/{repo}/issues/{pr}/comments", "--paginate")
    comments = _json_pages(listing)
    mine = next((c for c in comments if marker in (c.get("body") or "")), None)
    if mine:
        gh("api", "-X", "PATCH", f"repos/{repo}/issues/comments/{mine['id']}", "-F", f"body=@{body_file}")
    else:
        gh("pr", "comment", pr, "--repo", repo, "--body-file", str(body_file))


def _json_pages(text: str) -> list[dict[str, Any]]:
    # `gh api --paginate` concatenates one JSON array per page.
    items: list[dict[str, Any]] = []
    decoder, pos, text = json.JSONDecoder(), 0, text.strip()
    while pos < len(text):
        value, end = decoder.raw_decode(text, pos)
        items += value if isinstance(value, list) else [value]
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return items


def step_preview(stack: str) -> int:
    cli.ensure_emulator(stack)
    cli.select_stack(stack, create=True)
    try:
        cli.preflight(stack)
    except cli.CliError as e:  # `up` would fail half way on this spec: the comment says why, not a plan
        proc = subprocess.CompletedProcess([], 1, "", f"error: {e}\n")
    else:
        # The plan as `make preview` shows it: each change with its element-by-element diff.
        report, rc, stderr = workspace.preview_json(stack, "--refresh", "--non-interactive",
                                                    *workspace.policy_args(stack))
        plan = drift.preview_text(stack, report, rc, stderr, policy_packs=(workspace.POLICY_PACK,))
        proc = subprocess.CompletedProcess([], rc, plan + "\n", stderr)
    sys.stdout.write(proc.stdout or "")
    sys.stderr.write(proc.stderr or "")
    body = _write(f"preview-{stack}.md", preview_markdown(stack, proc.returncode, (proc.stdout or "") +
                                                          (proc.stderr or "")))
    if on_github():
        post_pr_comment(stack, body)
        cli.note(f"posted the {stack} preview on PR #{os.environ.get('PR_NUMBER')}")
    else:
        cli.note(f"not on GitHub Actions: the PR comment is in {workspace.rel(body)}")
    return proc.returncode


# ---------------------------------------------------------------------------------------------
# drift
# ---------------------------------------------------------------------------------------------


def report_drift(stack: str, body_file: pathlib.Path) -> None:
    """One open `drift` issue per stack: opened on the first drift, commented on after that."""
    repo = os.environ.get("GITHUB_REPOSITORY")
    if not repo:
        raise cli.CliError("GITHUB_REPOSITORY must be set to open a drift issue")
    title = f"Drift detected in stack {stack}"
    found = json.loads(gh("issue", "list", "--repo", repo, "--label", "drift", "--state", "open",
                          "--search", f'"{title}" in:title', "--json", "number,title") or "[]")
    issue = next((i for i in found if i.get("title") == title), None)
    run = _run_url()
    if issue:
        gh("issue", "comment", str(issue["number"]), "--repo", repo, "--body-file", str(body_file))
        cli.note(f"drift: commented on issue #{issue['number']} ({run or 'local run'})")
    else:
        # --label needs the label to exist: create it once, quietly.
        subprocess.run(["gh", "label", "create", "drift", "--repo", repo, "--color", "B60205",
                        "--description", "AEP differs from the code"], capture_output=True, check=False)
        gh("issue", "create", "--repo", repo, "--title", title, "--label", "drift", "--body-file", str(body_file))
        cli.note(f"drift: opened an issue '{title}'")


def _run_url() -> str | None:
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


def step_drift(stack: str) -> int:
    md = OUT_DIR / f"drift-{stack}.md"
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    rc = cli.main(["drift", "--stack", stack, "--markdown", str(md)])
    if rc == drift.EXIT[drift.DRIFT]:
        run = _run_url()
        if run:
            md.write_text(md.read_text() + f"\nFound by {run}.\n")
        if on_github():
            report_drift(stack, md)
        else:
            cli.note(f"not on GitHub Actions: the drift issue body is in {workspace.rel(md)}")
    return rc


# ---------------------------------------------------------------------------------------------


def step_deploy(stack: str) -> int:
    """The merge to main is the confirmation: the PR showed the plan and a reviewer approved it.
    One-way doors stay refused unless the merged spec allows them (allow_replace)."""
    os.environ["YES"] = "1"
    return cli.main(["up", "--stack", stack])


STEPS = {"preview": step_preview, "deploy": step_deploy, "drift": step_drift}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/gitops", description=__doc__.split("\n\n")[0])
    p.add_argument("step", choices=sorted(STEPS))
    p.add_argument("--stack", required=True)
    args = p.parse_args(argv)
    _blank_to_unset()
    isolate_emulator_stack(args.stack)
    try:
        return STEPS[args.step](args.stack)
    except cli.CliError as e:
        cli.note(f"error: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
