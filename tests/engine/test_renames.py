"""Issue 20 gave children new names derived from their component's (SnapshotStore's schemas,
volume and config backup) and moved the alert folder into a component (AlertFolder), each with
`aliases`. The real engine, previewing today's program against a deployment made by the program
before the move (commit RENAMED_FROM), must move that state: nothing replaced, nothing deleted,
and nothing created but the new component itself (which has no Databricks resource)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from engine.agreement import engine_changes, offline_changes
from tests.conftest import ROOT

RENAMED_FROM = "de60efe"  # the last commit with the old child names (src layout already in place)
NEW_COMPONENT = "lakeflow:index:AlertFolder::alerts"


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("renames") / "before"
    found = subprocess.run(["git", "cat-file", "-e", f"{RENAMED_FROM}^{{commit}}"], cwd=ROOT, check=False)
    assert found.returncode == 0, f"commit {RENAMED_FROM} is not in this clone: these tests need the history"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(where), RENAMED_FROM], cwd=ROOT, check=True)
    yield where
    subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=ROOT, check=False)


# Not prod: the harness cannot build a deployment of a stack that reads another (prod's
# StackReference to staging). Prod's renamed children are staging's (both take DR snapshots), and
# `make diff` covers prod (tests/test_plan_golden.py, the closing note of issue 20).
@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_the_renames_move_state_and_replace_or_delete_nothing(stack, engine, before, project_copy):
    """Against the harness's own baseline: a deployment imported from a preview lacks what only the
    provider computes (a budget policy's id), so in staging and prod even the unchanged program
    previews a few updates and the budget policy's rule set as a replace. The move must add nothing
    to that but the AlertFolder component, and `make diff` must see the same."""
    now = project_copy("now")
    baseline = engine_changes(engine, before, before, stack)
    real = engine_changes(engine, before, now, stack)
    added = {action: real[action] - baseline[action] for action in real}
    assert {urn.split("::", 2)[2] for urn in added["create"]} == {NEW_COMPONENT}, added
    assert added["replace"] == added["delete"] == added["update"] == set(), added
    assert real["delete"] == set()
    offline = offline_changes(before, now, stack)
    assert (offline["create"], offline["replace"], offline["delete"]) == (added["create"], set(), set())
