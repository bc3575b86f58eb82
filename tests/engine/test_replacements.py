"""The real engine and `make diff` agree on what a change creates, updates, replaces and deletes.

Each scenario changes a copy of the project the way a pull request would, then compares the
real engine's verdict (base previewed for real and imported as a deployment, the change previewed
against it: engine/agreement.py) with the offline diff's. Where they differ, the engine is right.
"""

from __future__ import annotations

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


def _move_alert_folder(root: Path) -> None:
    edit(root / "stack" / "build.py", "physical_name(cfg, 'alerts')", "physical_name(cfg, 'alerting')")


def _move_dashboard_folder(root: Path) -> None:
    edit(
        root / "stack" / "build.py",
        'DASHBOARD_FOLDER = "/Shared/lakeflow"',
        'DASHBOARD_FOLDER = "/Shared/lakeflow-ops"',
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
    "moved alert folder (Directory path, AlertV2 parent_path)": (None, _move_alert_folder),
    "moved dashboard folder (Directory path, Dashboard parent_path)": (None, _move_dashboard_folder),
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
