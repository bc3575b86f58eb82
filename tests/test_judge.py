"""The judge is not the defendant (issue 16): a change that deletes a pipeline and, in the same
commit, drops `Pipeline` from the guard's list of what holds data passes its OWN guard, and is
refused by the code that judges it, on pull requests (the base branch's guard over the change's
plan) and at deploy time (.github/deploy-gate.sh: the code of the commit the stack last deployed
over the real preview, here a recorded `pulumi preview --json` served by a stand-in CLI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PIPELINE_TYPE = "databricks:index/pipeline:Pipeline"
DELETED_URN = "urn:pulumi:dev::lakeflow::lakeflow:index:DltPipeline$" + PIPELINE_TYPE + "::clickstream_events-pipeline"


def _copy_code(dst: Path) -> None:
    """The repository's files as a pull request would carry them (tracked and new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name)


def _corrupt_the_guard(root: Path) -> None:
    """What the attacker adds to the same commit: Pipeline is no longer a data holder."""
    path = root / "src" / "lakeflow" / "offline" / "replacements.py"
    text = path.read_text()
    line = '    PIPELINE: "it owns the tables it publishes; deleting it drops them",\n'
    assert line in text
    path.write_text(text.replace(line, ""))


def _diff(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The diff of the code in `cwd` (its own `src`, not the package the virtualenv installed)."""
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    return subprocess.run(
        [sys.executable, "-m", "lakeflow.offline.diff", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_pull_request_cannot_rewrite_the_guard_that_judges_it(tmp_path, plans, dev_without_invoice_ingest):
    change = tmp_path / "change"
    _copy_code(change)
    (change / "pipelines" / "invoice_ingest.yaml").unlink()
    _corrupt_the_guard(change)
    base_plan, change_plan = tmp_path / "base.json", tmp_path / "change.json"
    base_plan.write_text(json.dumps(plans["dev"].to_json()))  # the base branch's plan: this checkout's
    # The change's plan (the attack is in its guard, not its program, which plans as this checkout's).
    change_plan.write_text(json.dumps(dev_without_invoice_ingest.to_json()))

    own = _diff(change, "--stack", "dev", "--old", str(base_plan), "--new", str(change_plan))
    assert own.returncode == 0, own.stdout + own.stderr  # the attack: its own guard lets it through
    assert "invoice_ingest-pipeline" in own.stdout

    judged = _diff(ROOT, "--stack", "dev", "--old", str(base_plan), "--new", str(change_plan))
    assert judged.returncode == 1, judged.stdout + judged.stderr
    assert "invoice_ingest-pipeline" in judged.stdout and "holds data" in judged.stdout


# --- the deploy gate -----------------------------------------------------------------------------

FAKE_PULUMI = """#!/usr/bin/env bash
# Stands in for the Pulumi CLI: the stack tag the last deploy recorded, and a recorded preview.
case "$1 $2 $3" in
  "stack tag get") [ -n "$FAKE_DEPLOYED_COMMIT" ] && echo "$FAKE_DEPLOYED_COMMIT" || exit 1 ;;
  preview*) echo "$@" > "$FAKE_PREVIEW_ARGS"; cat "$FAKE_PREVIEW" ;;
  *) echo "fake pulumi: unexpected $*" >&2; exit 3 ;;
esac
"""


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """Commit A (deployed), then commit B (HEAD): B deletes clickstream_events and rewrites the guard.
    Made once; each test gets a clone of its own (`pushed`)."""
    repo = tmp_path_factory.mktemp("history") / "repo"
    _copy_code(repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "A: deployed")
    (repo / "pipelines" / "clickstream_events.yaml").unlink()
    _corrupt_the_guard(repo)
    _git(repo, "commit", "-q", "-am", "B: retire clickstream_events")
    return repo


@pytest.fixture
def pushed(history, tmp_path):
    """A repository where commit A is deployed and commit B (HEAD) deletes clickstream_events and
    rewrites the guard (a clone of `history`, on main, without its remote); a stand-in `pulumi` whose
    preview of B deletes the pipeline."""
    repo = tmp_path / "repo"
    _git(tmp_path, "clone", "-q", "--shared", "--branch", "main", str(history), str(repo))
    _git(repo, "remote", "remove", "origin")
    deployed = _git(repo, "rev-parse", "HEAD~1")
    assert _git(repo, "log", "--format=%s", "-2").splitlines() == ["B: retire clickstream_events", "A: deployed"]
    assert not (repo / "pipelines" / "clickstream_events.yaml").exists() and (repo / "pipelines").is_dir()

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    preview = tmp_path / "preview.json"
    stack_urn = "urn:pulumi:dev::lakeflow::pulumi:pulumi:Stack::lakeflow-dev"
    preview.write_text(
        json.dumps(
            {
                "steps": [
                    {"op": "same", "urn": stack_urn, "newState": {"type": "pulumi:pulumi:Stack"}},
                    {"op": "delete", "urn": DELETED_URN, "oldState": {"type": PIPELINE_TYPE, "inputs": {}}},
                ]
            }
        )
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_PREVIEW": str(preview),
        "FAKE_PREVIEW_ARGS": str(tmp_path / "preview-args"),
        "FAKE_DEPLOYED_COMMIT": deployed,
        "LAKEFLOW_JUDGE_VENV": str(ROOT / ".venv"),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_ENV": str(tmp_path / "github-env"),
    }
    env.pop("LAKEFLOW_ALLOW_DESTROY", None)
    return repo, deployed, env, tmp_path


def _gate(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(repo / ".github" / "deploy-gate.sh"), "dev"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_deploy_gate_judges_with_the_code_the_stack_last_deployed(pushed):
    repo, deployed, env, tmp = pushed
    own = _diff(repo, "--stack", "dev", "--engine-preview", env["FAKE_PREVIEW"])
    assert own.returncode == 0, own.stdout + own.stderr  # B's own guard would let the delete through

    done = _gate(repo, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"judged by {deployed}, the commit stack dev last deployed" in done.stdout
    assert "clickstream_events-pipeline" in done.stdout and "holds data" in done.stdout
    # the preview ran with the judge's policy pack, and `pulumi up` is told where the judge is
    args = (tmp / "preview-args").read_text()
    judge = (tmp / "github-env").read_text().strip().removeprefix("JUDGE=")
    assert f"--policy-pack {judge}/policy --policy-pack-config {judge}/policy/config/dev.json" in args
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=judge, capture_output=True, text=True).stdout.strip() == (
        deployed
    )


def test_an_acknowledgement_in_any_commit_since_the_last_deploy_lets_the_delete_through(pushed):
    repo, _, env, _ = pushed
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\n")
    _git(repo, "commit", "-q", "-am", f"C: harmless\n\nallow-destroy: {DELETED_URN}\n")
    assert _gate(repo, env).returncode == 0


@pytest.mark.parametrize("recorded", ["", "not-a-commit; rm -rf /", "0" * 40])
def test_without_a_usable_record_the_parent_commit_judges(pushed, recorded):
    repo, deployed, env, _ = pushed
    done = _gate(repo, {**env, "FAKE_DEPLOYED_COMMIT": recorded})
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"judged by the parent commit {deployed}" in done.stdout
