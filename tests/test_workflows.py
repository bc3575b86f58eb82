"""GitHub Actions workflows: linted by real linters (zizmor, and the workflow JSON schema that
check-jsonschema ships), plus the properties this project promises about them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def load(name: str) -> dict:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_the_expected_workflows_exist():
    assert [p.name for p in WORKFLOWS] == [
        "deploy.yml",
        "drift.yml",
        "health.yml",
        "pr-comment.yml",
        "pull-request.yml",
    ]


def test_zizmor_auditor_finds_no_secret_outside_an_environment():
    """zizmor's auditor persona: every job that reads a secret runs in a protected environment."""
    done = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", "auditor", "--no-progress", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert "secrets-outside-env" not in done.stdout + done.stderr, done.stdout


def test_zizmor_finds_nothing_even_pedantic():
    proc = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", "pedantic", "--no-progress", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_match_the_github_workflow_schema():
    proc = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_pinned_actions_and_no_echoed_secrets(path):
    text = path.read_text()
    data = load(path.name)
    assert data["permissions"] == {}, "workflow-level permissions must be empty; jobs ask for what they need"
    for job in data["jobs"].values():
        assert "permissions" in job
        assert "write-all" not in str(job["permissions"])
    for uses in re.findall(r"uses:\s*(\S+)", text):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), f"{uses} is not pinned to a commit"
    for line in text.splitlines():
        if re.search(r"\b(echo|printf)\b", line):
            assert "secrets." not in line, line
    assert "pull_request_target" not in text


def test_pull_requests_run_tests_offline_diff_for_every_stack_and_preview_only_with_secrets():
    jobs = load("pull-request.yml")["jobs"]
    diff_step = "\n".join(s.get("run", "") for s in jobs["offline-diff"]["steps"])
    assert "for stack in dev staging prod" in diff_step and "make diff" in diff_step
    assert "ACKNOWLEDGEMENTS=" in diff_step and "$PR_BODY" in diff_step
    assert "${{ github.event.pull_request.body }}" not in diff_step  # never expanded into the script
    assert jobs["preview"]["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["preview"]["environment"] == "pr-preview"  # the branch's code gets secrets only after approval
    assert jobs["preview"]["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    pulumi_step = next(s for s in jobs["preview"]["steps"] if "pulumi/actions" in s.get("uses", ""))
    assert pulumi_step["with"]["command"] == "preview" and pulumi_step["with"]["comment-on-pr"] is True
    assert pulumi_step["with"]["policyPacks"] == "policy"
    assert "make lint test" in jobs["test"]["steps"][-1]["run"]


def test_pull_requests_preview_every_stack_with_the_real_engine_and_no_secrets():
    job = load("pull-request.yml")["jobs"]["engine"]
    run = "\n".join(s.get("run", "") for s in job["steps"])
    assert "for stack in dev staging prod; do make preview" in run and "make test-engine" in run
    assert "secrets." not in json.dumps(job) and "if" not in job  # forks too: nothing to leak
    go = next(s for s in job["steps"] if "actions/setup-go" in s.get("uses", ""))
    assert go["with"]["go-version-file"] == "engine/cli/go.mod"


def test_one_comment_updated_in_place_for_forks_too():
    data = load("pr-comment.yml")
    assert data["on"]["workflow_run"]["workflows"] == ["pull-request"]
    run = "\n".join(s.get("run", "") for s in data["jobs"]["comment"]["steps"])
    assert "--method PATCH" in run and "<!-- lakeflow-offline-diff -->" in run
    assert "RUN_HEAD_SHA" in run  # the artifact is only trusted for the run's own head commit
    assert 'select(.user.login == "github-actions[bot]")' in run  # never someone else's comment
    assert not any("actions/checkout" in s.get("uses", "") for s in data["jobs"]["comment"]["steps"])


def test_deploys_are_gated_serialized_and_prod_needs_approval():
    data = load("deploy.yml")
    jobs = data["jobs"]
    assert data["on"]["push"]["branches"] == ["main"]
    gates = "\n".join(s.get("run", "") for s in jobs["gates"]["steps"])
    assert "make policy" in gates and "make diff" in gates and "make lint test" in gates
    assert 'test "$REF" = refs/heads/main' in gates  # manual runs deploy main only
    assert jobs["staging"]["needs"] == "gates" and jobs["prod"]["needs"] == "staging"
    assert jobs["prod"]["environment"] == "production"
    for name in ("staging", "prod"):
        assert jobs[name]["concurrency"] == {"group": f"deploy-{name}", "cancel-in-progress": False}
        steps = jobs[name]["steps"]
        step = next(s for s in steps if "pulumi/actions" in s.get("uses", "") and "with" in s)
        assert step["with"]["command"] == "up" and step["with"]["stack-name"] == name
        assert step["with"]["policyPackConfigs"] == f"policy/config/{name}.json"
        # the deploy gate: the real preview against the deployed state, judged before `up`
        gate = next(i for i, s in enumerate(steps) if "ENGINE_PREVIEW=" in s.get("run", ""))
        assert f"pulumi preview --stack {name} --json" in steps[gate]["run"] and gate < steps.index(step)


def test_nightly_drift_detection_opens_or_updates_an_issue():
    data = load("drift.yml")
    assert data["on"]["schedule"]
    steps = data["jobs"]["detect"]["steps"]
    preview = next(s for s in steps if "pulumi/actions" in s.get("uses", ""))
    assert preview["with"]["refresh"] is True and preview["with"]["expect-no-changes"] is True
    issue = "\n".join(s.get("run", "") for s in steps)
    assert "gh issue comment" in issue and "gh issue create" in issue and "--label drift" in issue
    assert data["jobs"]["detect"]["permissions"] == {"contents": "read", "issues": "write"}
