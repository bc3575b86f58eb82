"""The real engine and `make diff` agree on what a change creates, updates, replaces and deletes.

Each scenario changes a copy of the project the way a pull request would, then compares the
real engine's verdict (base previewed for real and imported as a deployment, the change previewed
against it: engine/agreement.py) with the offline diff's. Where they differ, the engine is right.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.agreement import engine_changes, offline_changes
from tests.engine.conftest import edit


def _cutover(root: Path) -> None:
    edit(root / "pipelines" / "customer_360.yaml", "release:\n  active: blue\n", "release:\n  active: green\n")


def _unreleased(root: Path) -> None:
    """customer_360 as it was before blue/green: one pipeline, no release block."""
    path = root / "pipelines" / "customer_360.yaml"
    text = path.read_text()
    start = text.index("# Blue/green releases")
    end = text.index("environments:")
    text = text[:start] + text[end:]
    text = text[: text.index("  staging:\n    release:")]
    path.write_text(text)


def _move_monitoring_folder(root: Path) -> None:
    edit(
        root / "Pulumi.dev.yaml",
        "lakeflow:workspaceFolder: /Users/dev-deployer@example.com/lakeflow",
        "lakeflow:workspaceFolder: /Users/dev-deployer@example.com/lakeflow-ops",
    )


SCENARIOS = {
    # name: (change applied to the base copy, change applied to the changed copy)
    "blue-green cutover": (None, _cutover),
    "blue-green rollback": (_cutover, None),
    "adopting blue/green (rename through an alias)": (_unreleased, None),
    "deleted pipeline file": (None, lambda root: (root / "pipelines" / "clickstream_events.yaml").unlink()),
    "changed catalog": (
        None,
        lambda root: edit(
            root / "pipelines" / "sales_pipeline.yaml", 'target: "${CATALOG}.sales"', 'target: "finance.sales"'
        ),
    ),
    "changed schema": (
        None,
        lambda root: edit(
            root / "pipelines" / "sales_pipeline.yaml", 'target: "${CATALOG}.sales"', 'target: "${CATALOG}.sales_v2"'
        ),
    ),
    "repo url": (
        None,
        lambda root: edit(
            root / "pipelines" / "customer_360.yaml",
            "https://github.com/example-org/dlt-pipelines.git",
            "https://github.com/example-org/customer-pipelines.git",
        ),
    ),
    "moved monitoring folder (Directory path, AlertV2 and Dashboard parent_path)": (None, _move_monitoring_folder),
    "alert email addresses": (
        None,
        lambda root: edit(root / "Pulumi.dev.yaml", "dataeng-dev@example.com", "dataeng-alerts@example.com"),
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_engine_and_the_offline_diff_agree(scenario, engine, project_copy):
    before, after = SCENARIOS[scenario]
    base, changed = project_copy("base"), project_copy("changed")
    for change, root in ((before, base), (after, changed)):
        if change:
            change(root)
    real = engine_changes(engine, base, changed)
    offline = offline_changes(base, changed)
    assert any(real.values()), f"{scenario}: the scenario changed nothing"
    disagreements = {
        action: {
            "engine only": sorted(real[action] - offline[action]),
            "diff only": sorted(offline[action] - real[action]),
        }
        for action in real
        if real[action] != offline[action]
    }
    assert not disagreements, disagreements


def test_the_imported_deployment_is_what_the_program_deploys(engine, project_copy):
    """The harness's own check: previewing the unchanged program against the deployment built
    from its preview changes nothing (ids, computed values and providers all line up)."""
    base = project_copy("base")
    real = engine_changes(engine, base, base)
    assert real == {action: set() for action in real}


def test_the_deploy_gate_judges_against_the_deployed_state_so_a_later_push_cannot_carry_a_delete(
    engine, project_copy, tmp_path, capsys
):
    """Push B deletes a pipeline file (its gate fails); push C changes something harmless. Judged
    between consecutive pushes, C looks clean and `pulumi up` would deploy B's delete. Judged as
    the deploy gate does, against what is deployed (A), the delete is still there and refused."""
    from engine.agreement import engine_preview
    from lakeflow.offline.diff import diff_from_preview, diff_plans, plan_json
    from lakeflow.offline.diff import main as diff_main

    deployed = project_copy("a")
    push_b = project_copy("b")
    (push_b / "pipelines" / "clickstream_events.yaml").unlink()
    push_c = project_copy("c")
    (push_c / "pipelines" / "clickstream_events.yaml").unlink()
    edit(push_c / "Pulumi.dev.yaml", "dataeng-dev@example.com", "dataeng-alerts@example.com")

    assert diff_plans(plan_json(push_b, "dev"), plan_json(push_c, "dev")).violations == []  # the old gate
    preview = engine_preview(engine, deployed, push_c)
    gate = diff_from_preview("dev", preview)
    refused = {v.urn.rsplit("::", 1)[1] for v in gate.violations}
    assert "clickstream_events-pipeline" in refused
    assert any("holds data" in v.reason for v in gate.violations)
    # As .github/deploy-gate.sh runs it: the real preview's file passes the shape check, exit 1.
    saved = tmp_path / "preview.json"
    saved.write_text(json.dumps(preview))
    assert diff_main(["--stack", "dev", "--engine-preview", str(saved)]) == 1
    assert "clickstream_events-pipeline" in capsys.readouterr().out
