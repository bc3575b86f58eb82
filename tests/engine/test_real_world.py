"""The real Databricks provider on pipelines other teams wrote: every real-world definition that
the offline plan accepts (tests/test_real_world.py) goes into one project, and the real engine's
preview of prod registers what the offline plan registers, with no error from the provider's
Check."""

from __future__ import annotations

from lakeflow.offline.plan import plan_stack
from tests.conftest import Project
from tests.engine.test_stacks import _preview
from tests.test_real_world import DEFINITIONS, EXPECTED, define, definition_id, import_into


def test_the_real_provider_accepts_every_real_definition_the_offline_plan_accepts(engine, project_copy, tmp_path):
    project = Project(project_copy("realworld"))  # the whole program: the sandbox runs it
    for path in (project.root / "pipelines").glob("*.yaml"):
        path.unlink()
    variables: dict[str, str] = {}
    names: list[str] = []
    for entry in DEFINITIONS:
        expected = EXPECTED[definition_id(entry)]
        if "refused" in expected:
            continue
        prefix = f"rw{entry['file'][:2]}_"
        names += import_into(project, entry, tmp_path / definition_id(entry), prefix=prefix)
        for key, value in expected.get("variables", {}).items():
            assert variables.setdefault(key, value) == value, f"{key}: two definitions want different values"
    define(project, variables)
    assert len(names) >= 20
    real = _preview(engine, "prod", project.root)
    assert real.returncode == 0, real.diagnostics
    plan = plan_stack("prod", project.root)
    registered = {urn: type_ for urn, (type_, _) in real.steps.items() if type_ != "pulumi:pulumi:Stack"}
    assert registered == {r["urn"]: r["type"] for r in plan.resources}
    problems = [(sev, msg) for sev, msg in real.diagnostics if sev in ("error", "warning")]
    assert sorted(msg for _, msg in problems) == sorted(w.strip() for w in plan.warnings)
