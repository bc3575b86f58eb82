"""GitHub Actions workflows: linted by real linters (zizmor, and the workflow JSON schema that
check-jsonschema ships), plus the properties this project promises about them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, read_yaml

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def load(name: str) -> dict:
    data = read_yaml(ROOT / ".github" / "workflows" / name)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_the_expected_workflows_exist():
    assert [p.name for p in WORKFLOWS] == [
        "deploy.yml",
        "drift.yml",
        "health.yml",
        "pull-request.yml",
    ]


def test_zizmor_auditor_finds_no_secret_outside_an_environment():
    """zizmor's auditor persona (its most thorough) reports nothing, with no ignores: every job that
    reads a secret runs in a protected environment."""
    done = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", "auditor", "--no-progress", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert "secrets-outside-env" not in done.stdout + done.stderr, done.stdout
    assert done.returncode == 0 and "No findings to report" in done.stdout + done.stderr, done.stdout


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


def test_pull_requests_are_judged_by_the_base_branch_never_by_the_change():
    """The change's code only produces plans (no secrets, no write access); the judge checks out
    the base commit, never runs the change's code, judges the plans with the base's guard and
    policy pack, and posts the verdict itself (no workflow_run hand-off)."""
    jobs = load("pull-request.yml")["jobs"]
    plans = jobs["plans"]
    assert plans["permissions"] == {"contents": "read"} and "secrets." not in json.dumps(plans)
    assert "make plan" in "\n".join(s.get("run", "") for s in plans["steps"])

    judge = jobs["judge"]
    assert judge["needs"] == "plans" and "secrets." not in json.dumps(judge)
    checkouts = [s for s in judge["steps"] if "actions/checkout" in s.get("uses", "")]
    assert [c["with"]["ref"] for c in checkouts] == ["${{ github.event.pull_request.base.sha }}"]
    run = "\n".join(s.get("run", "") for s in judge["steps"])
    assert "for stack in dev staging prod" in run
    assert '--old "$RUNNER_TEMP/base/$stack.json"' in run and '--new "$CHANGE/$stack.json"' in run
    assert 'bin/lakeflow policy --stack "$stack" --plan "$CHANGE/$stack.json"' in run
    assert "$PR_BODY" in run and "${{ github.event.pull_request.body }}" not in run  # never expanded
    assert 'select(.user.login == "github-actions[bot]")' in run  # edits only its own comment
    assert judge["permissions"] == {"contents": "read", "pull-requests": "write"}

    preview = jobs["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["environment"] == "pr-preview"  # the branch's code gets secrets only after approval
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    base = next(s for s in preview["steps"] if s.get("with", {}).get("path") == ".judge")
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    pulumi_step = next(s for s in preview["steps"] if "pulumi/actions" in s.get("uses", ""))
    assert pulumi_step["with"]["command"] == "preview" and pulumi_step["with"]["comment-on-pr"] is True
    assert pulumi_step["with"]["policyPacks"] == ".judge/policy"
    assert "make lint test" in jobs["test"]["steps"][-1]["run"]


def test_no_workflow_hands_a_verdict_across_runs_or_silences_a_linter():
    for path in WORKFLOWS:
        text = path.read_text()
        assert "workflow_run" not in text and "pull_request_target" not in text, path.name
        assert "zizmor: ignore" not in text, path.name


def test_pull_requests_preview_every_stack_with_the_real_engine_and_no_secrets():
    job = load("pull-request.yml")["jobs"]["engine"]
    run = "\n".join(s.get("run", "") for s in job["steps"])
    assert "for stack in dev staging prod; do make preview" in run and "make test-engine" in run
    assert "secrets." not in json.dumps(job) and "if" not in job  # forks too: nothing to leak
    go = next(s for s in job["steps"] if "actions/setup-go" in s.get("uses", ""))
    assert go["with"]["go-version-file"] == "engine/cli/go.mod"


def test_deploys_are_gated_serialized_and_prod_needs_approval():
    data = load("deploy.yml")
    jobs = data["jobs"]
    assert data["on"]["push"]["branches"] == ["main"]
    gates = "\n".join(s.get("run", "") for s in jobs["gates"]["steps"])
    assert "make lint test" in gates
    assert 'test "$REF" = refs/heads/main' in gates  # manual runs deploy main only
    assert jobs["staging"]["needs"] == "gates" and jobs["prod"]["needs"] == "staging"
    assert jobs["prod"]["environment"] == "production"
    for name in ("staging", "prod"):
        assert jobs[name]["concurrency"] == {"group": f"deploy-{name}", "cancel-in-progress": False}
        steps = jobs[name]["steps"]
        up = next(i for i, s in enumerate(steps) if s.get("with", {}).get("command") == "up")
        assert steps[up]["with"]["stack-name"] == name
        # the judge's policy pack, not the deployed commit's
        assert steps[up]["with"]["policyPacks"] == "${{ env.JUDGE }}/policy"
        assert steps[up]["with"]["policyPackConfigs"] == f"${{{{ env.JUDGE }}}}/policy/config/{name}.json"
        gate = next(i for i, s in enumerate(steps) if s.get("run") == f".github/deploy-gate.sh {name}")
        record = next(i for i, s in enumerate(steps) if "lakeflow:deployed-commit" in s.get("run", ""))
        assert gate < up < record
        assert steps[record]["run"] == f'pulumi stack tag set lakeflow:deployed-commit "$GITHUB_SHA" --stack {name}'


def test_nightly_drift_detection_opens_or_updates_an_issue():
    data = load("drift.yml")
    assert data["on"]["schedule"]
    steps = data["jobs"]["detect"]["steps"]
    # A refresh, not a preview: only changes made outside Pulumi, never a promotion waiting to deploy.
    refresh = next(s for s in steps if s.get("id") == "refresh")
    assert refresh["run"] == (
        'pulumi refresh --stack "$STACK" --preview-only --expect-no-changes --diff --non-interactive'
    )
    assert not any(s.get("with", {}).get("command") for s in steps)  # pulumi/actions only installs the CLI
    issue = "\n".join(s.get("run", "") for s in steps)
    assert "gh issue comment" in issue and "gh issue create" in issue and "--label drift" in issue
    assert data["jobs"]["detect"]["permissions"] == {"contents": "read", "issues": "write"}
