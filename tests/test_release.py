"""Blue/green releases (issue: cutover, rollback, canary, adoption, retirement, promotion), through
the offline plan and the offline diff: each step asserts exactly what changes, and that nothing
holding data is created, replaced or deleted unless acknowledged."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from lakeflow.offline.diff import diff_plans
from lakeflow.offline.plan import main as plan_main
from lakeflow.offline.plan import plan_stack
from lakeflow.offline.policy import check
from tests.conftest import STACKS, Project, by_type, copy_project, resource
from tests.test_settings_validation import error_at, load_errors

pytestmark = pytest.mark.plan

STAGING = "example-org/lakeflow/staging"
FILE = "pipelines/customer_360.yaml"
POINTERS = {"SqlTable", "Job", "AlertV2", "Query", "Dashboard", "File"}
"""What a cutover may touch: views, the schedule job, alert queries, DR snapshot queries, the
dashboard and the config backup, all in place."""


def plan(project: Project, stack: str, staging_outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    refs = {STAGING: staging_outputs} if staging_outputs is not None else None
    return plan_stack(stack, project.root, refs).to_json()


def edit_release(project: Project, stack: str, **changes: Any) -> None:
    """Set keys of customer_360's release for one environment (None removes a key)."""
    data = project.pipeline("customer_360")
    release = data.setdefault("environments", {}).setdefault(stack, {}).setdefault("release", {})
    for key, value in changes.items():
        if key == "slots":
            for slot, fields in value.items():
                target = release.setdefault("slots", {}).setdefault(slot, {})
                target.update(fields)
        elif value is None:
            release.pop(key, None)
        else:
            release[key] = value
    project.set_pipeline("customer_360", data)


def finish_canary(project: Project) -> None:
    """Prod after the canary reached 100 %: the candidate runs all data, at the pinned version."""
    edit_release(project, "prod", slots={"green": {"tag": "v2.4.0", "canary_percent": None}})


def by_name(d) -> dict[str, Any]:
    return {c.name: c for c in d.changed}


def assert_nothing_holding_data_changes(d) -> None:
    assert d.count("create") == d.count("replace") == d.count("delete") == 0, d.summary()
    assert {c.short_type for c in d.changed} <= POINTERS, sorted((c.short_type, c.name) for c in d.changed)
    assert d.violations == []


@pytest.fixture(scope="module")
def staging_outputs(plans) -> dict[str, Any]:
    return plans["staging"].outputs


# --- the shape -----------------------------------------------------------------------------------


def test_slots_views_and_grants(plans):
    prod = plans["prod"]
    slots = {r["name"]: r["inputs"] for r in by_type(prod, "Pipeline") if r["inputs"]["tags"].get("Slot")}
    assert {n: (i["name"], i["schema"]) for n, i in slots.items()} == {
        "customer_360-blue-pipeline": ("prod_customer_360", "customer"),  # adopted: name and schema kept
        "customer_360-green-pipeline": ("prod_customer_360_green", "customer_green"),
    }
    # each slot runs its own checkout of the code
    repos = {r["name"]: r["inputs"] for r in by_type(prod, "Repo")}
    assert repos["customer_360-repo-blue"]["tag"] == "v2.3.0"
    lib = slots["customer_360-green-pipeline"]["libraries"][0]["notebook"]["path"]
    assert lib == "/Repos/prod_lakeflow/customer_360_green/pipelines/customer_360/customer_profile"
    # stable names: one view per table over the active slot; consumers read views only
    for table in ("customer_profile", "customer_segments"):
        view = resource(prod, "SqlTable", f"customer_360-view-{table}")["inputs"]
        assert (view["catalogName"], view["schemaName"], view["name"], view["tableType"]) == (
            "prod",
            "customer_current",
            table,
            "VIEW",
        )
        assert view["viewDefinition"] == f"SELECT * FROM `prod`.`customer`.`{table}`"
        grants = resource(prod, "Grants", f"customer_360-view-{table}-grants")["inputs"]["grants"]
        assert grants == [{"principal": "analysts", "privileges": ["SELECT"]}]
    granted = [r["inputs"] for r in by_type(prod, "Grants") if r["name"].startswith("customer_360")]
    assert all(
        "table" in g or g.get("schema") == "(known after apply)" or "customer_current" in str(g) for g in granted
    )
    assert not [g for g in granted if "customer_green" in json.dumps(g) or ".customer`" in json.dumps(g)]
    # the schedule job runs the active slot
    job = resource(prod, "Job", "customer_360-job")
    assert resource(prod, "Pipeline", "customer_360-blue-pipeline")["urn"] in job["dependencies"]
    assert resource(prod, "Pipeline", "customer_360-green-pipeline")["urn"] not in job["dependencies"]
    # canary step 1: the candidate processes 10 % of the data (guide 3.3)
    config = slots["customer_360-green-pipeline"]["configuration"]
    assert config["data_filter"] == "PMOD(HASH(customer_id), 100) < 10"
    assert "data_filter" not in slots["customer_360-blue-pipeline"].get("configuration", {})


def test_the_schema_check_accepts_every_blue_green_input(plans):
    for stack in STACKS:
        assert plans[stack].schema_errors == []


# --- cutover and rollback --------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_cutover_changes_only_pointers_in_place(project, plans, staging_outputs, stack):
    if stack == "prod":
        finish_canary(project)
        before = plan(project, stack, staging_outputs)
    else:
        before = plans[stack].to_json()  # as shipped
    old = json.loads(json.dumps(before))
    active = next(r for r in old["outputs"]["releases"].values())["active"]
    new_active = "green" if active == "blue" else "blue"
    pin = {"slots": {new_active: {"tag": "v2.4.0" if new_active == "green" else "v2.3.0"}}}
    edit_release(project, stack, active=new_active, cutover_date="2026-11-29", **pin)
    after = plan(project, stack, staging_outputs)
    d = diff_plans(before, after)
    assert_nothing_holding_data_changes(d)
    changed = by_name(d)
    schema = {"blue": "customer", "green": "customer_green"}
    for table in ("customer_profile", "customer_segments"):
        (change,) = changed[f"customer_360-view-{table}"].changes
        assert (change.path, change.new) == (
            "viewDefinition",
            f"SELECT * FROM `{stack}`.`{schema[new_active]}`.`{table}`",
        )
    # the job now starts the other slot's pipeline (its id is known after apply; its source is not)
    (switch,) = changed["customer_360-job"].changes
    assert (switch.old, switch.new) == (f"customer_360-{active}-pipeline", f"customer_360-{new_active}-pipeline")
    # the stack's alerts watch the live slot: its event log, and its clusters (by their Slot tag)
    alert_sql = [c.new.replace("`", "") for ch in changed.values() if ch.short_type == "AlertV2" for c in ch.changes]
    assert len(alert_sql) == 7  # every guide 6.1 metric (cost alerts read billing, not the slot)
    assert all(
        f"{schema[new_active]}.customer_360_event_log" in sql or f"('customer_360', '{new_active}', " in sql
        for sql in alert_sql
    ), alert_sql
    assert not [c for c in d.changed if "Pipeline" in c.short_type]


def test_rollback_is_the_cutover_flipped_back(project, staging_outputs):
    finish_canary(project)
    blue = plan(project, "prod", staging_outputs)
    edit_release(project, "prod", active="green", cutover_date="2026-11-29")
    green = plan(project, "prod", staging_outputs)
    edit_release(project, "prod", active="blue")
    back = plan(project, "prod", staging_outputs)
    forward, rollback = diff_plans(blue, green), diff_plans(green, back)
    assert_nothing_holding_data_changes(rollback)
    assert [c.name for c in rollback.changed] == [c.name for c in forward.changed]
    for f, r in zip(forward.changed, rollback.changed, strict=True):
        assert f.name == r.name
        assert [(c.path, c.old, c.new) for c in f.changes if c.path != "contentBase64"] == [
            (c.path, c.new, c.old) for c in r.changes if c.path != "contentBase64"
        ]
    # back where it started: only the config backup remembers the cutover date
    assert {c.name for c in diff_plans(blue, back).changed} == {"disaster-recovery-config-backup"}


# --- canary ----------------------------------------------------------------------------------------


def test_canary_steps_change_only_the_candidates_filter(project, plans, staging_outputs):
    before = plans["prod"].to_json()  # as shipped: canary at 10 %
    for percent in (20, 40):
        edit_release(project, "prod", slots={"green": {"canary_percent": percent}})
        after = plan(project, "prod", staging_outputs)
        d = diff_plans(before, after)
        assert d.count("create") == d.count("replace") == d.count("delete") == 0 and d.violations == []
        assert {c.name for c in d.changed} == {"customer_360-green-pipeline", "disaster-recovery-config-backup"}
        (change,) = by_name(d)["customer_360-green-pipeline"].changes
        assert (change.path, change.new) == (
            "configuration.data_filter",
            f"PMOD(HASH(customer_id), 100) < {percent}",
        )
        before = after
    edit_release(project, "prod", slots={"green": {"canary_percent": None}})  # 100 %: all data
    d = diff_plans(before, plan(project, "prod", staging_outputs))
    (change,) = by_name(d)["customer_360-green-pipeline"].changes
    assert (change.path, change.new) == ("configuration.data_filter", "(absent)")


def test_a_canary_cannot_be_the_active_slot(project):
    edit_release(project, "prod", active="green", slots={"green": {"tag": "v2.4.0"}})
    errors = load_errors(project, "prod")
    assert "finish the canary first" in error_at(errors, FILE, "release.slots.green.canary_percent").render()


# --- adoption ----------------------------------------------------------------------------------------


def as_plain_pipeline(project: Project) -> None:
    """customer_360 as it was declared before blue/green."""
    data = project.pipeline("customer_360")
    data.pop("release")
    data["environments"] = {"dev": {"photon": False}}
    project.set_pipeline("customer_360", data)


@pytest.fixture(scope="module")
def plain_prod(tmp_path_factory) -> dict[str, Any]:
    """Prod as it was before customer_360 became blue/green."""
    project = Project(tmp_path_factory.mktemp("plain"))
    copy_project(project.root)
    as_plain_pipeline(project)
    return plan(project, "prod")


def test_adoption_keeps_the_existing_pipeline(plans, plain_prod):
    d = diff_plans(plain_prod, plans["prod"].to_json())
    assert d.violations == [] and d.count("delete") == d.count("replace") == 0
    changed = by_name(d)
    # the same pipeline, under its new name: an alias rename plus in-place updates
    assert changed["customer_360-blue"].action == "same" and changed["customer_360-blue"].renamed_from.endswith(
        "lakeflow:index:DltPipeline::customer_360"
    )
    pipeline = changed["customer_360-blue-pipeline"]
    assert pipeline.action == "update" and pipeline.renamed_from.endswith("Pipeline::customer_360-pipeline")
    # the one-time move, explicit in the diff: the code now comes from the slot's repo
    assert {c.path for c in pipeline.changes} == {
        "libraries[0].notebook.path",
        "tags.Slot",
        "clusters[0].customTags.Slot",
    }
    assert changed["customer_360-blue-permissions"].renamed_from.endswith("Permissions::customer_360-permissions")
    created = {c.name for c in d.changed if c.action == "create"}
    assert created == {
        "customer_360",
        "customer_360-repo-blue",
        "customer_360-repo-green",
        "customer_360-views",
        "customer_360-views-grants",
        "customer_360-view-customer_profile",
        "customer_360-view-customer_profile-grants",
        "customer_360-view-customer_segments",
        "customer_360-view-customer_segments-grants",
        "customer_360-green",
        "customer_360-green-pipeline",
        "customer_360-green-permissions",
    }


def test_without_the_alias_adoption_would_destroy_the_pipeline_and_the_guard_says_so(
    project, plain_prod, staging_outputs
):
    shipped = project.pipeline("customer_360")
    shipped["release"]["slots"]["blue"]["adopted"] = False
    project.set_pipeline("customer_360", shipped)
    d = diff_plans(plain_prod, plan(project, "prod", staging_outputs))
    refused = {v.urn.rsplit("::", 1)[1] for v in d.violations}
    assert {"customer_360", "customer_360-pipeline"} <= refused


def test_a_pipeline_created_outside_the_stack_is_imported_by_id(project, staging_outputs):
    data = project.pipeline("sales_pipeline")
    data["environments"]["prod"] = {"import_id": "0a1b2c3d-1111-2222-3333-444455556666"}
    project.set_pipeline("sales_pipeline", data)
    p = plan(project, "prod", staging_outputs)
    pipeline = next(r for r in p["resources"] if r["name"] == "sales_pipeline-pipeline")
    assert pipeline["importId"] == "0a1b2c3d-1111-2222-3333-444455556666"
    assert all(r["importId"] is None for r in p["resources"] if r is not pipeline)
    # on a slot: that slot adopts the pipeline
    edit_release(project, "prod", slots={"green": {"import_id": "9f9f-0000"}})
    p = plan(project, "prod", staging_outputs)
    assert next(r for r in p["resources"] if r["name"] == "customer_360-green-pipeline")["importId"] == "9f9f-0000"


# --- retirement --------------------------------------------------------------------------------------


def cut_over_to_green(project: Project, on: str) -> None:
    finish_canary(project)
    edit_release(project, "prod", active="green", cutover_date=on)


def test_retiring_is_two_explicit_steps(project, staging_outputs):
    cut_over_to_green(project, "2026-01-05")
    live = plan(project, "prod", staging_outputs)
    # step 1: unprotect the old slot; nothing is deleted
    edit_release(project, "prod", slots={"blue": {"retired": True}})
    unprotected = plan(project, "prod", staging_outputs)
    d = diff_plans(live, unprotected)
    assert d.count("delete") == d.count("replace") == d.count("create") == 0 and d.violations == []
    assert {c.name for c in d.changed} == {
        "customer_360-blue",
        "customer_360-blue-pipeline",
        "customer_360-blue-permissions",
        "disaster-recovery-config-backup",
    }
    blue_slot = [r for r in unprotected["resources"] if r["name"].startswith("customer_360-blue")]
    assert len(blue_slot) == 3 and not any(r["protect"] for r in blue_slot)  # no longer protected
    pipeline_changes = by_name(d)["customer_360-blue-pipeline"].changes
    assert (
        pipeline_changes[0].path,
        pipeline_changes[0].old,
        pipeline_changes[0].new,
    ) == ("(option) protect", True, False)
    (tagged,) = pipeline_changes[-1:]
    assert (tagged.path, tagged.new) == ("tags.Retired", "true")
    # and the production-data policy lets this one slot go (it still guards everything else)
    violations = [v for v in check(unprotected, {}) if v.level == "mandatory"]
    assert violations == []
    # step 2: remove it; its pipeline (and so its tables) would be deleted: refused until acknowledged
    data = project.pipeline("customer_360")
    data["release"]["slots"].pop("blue")
    data["environments"]["prod"]["release"]["slots"].pop("blue")
    project.set_pipeline("customer_360", data)
    removed = plan(project, "prod", staging_outputs)
    d = diff_plans(unprotected, removed)
    deleted = {c.name for c in d.changed if c.action == "delete"}
    assert deleted == {
        "customer_360-blue",
        "customer_360-blue-pipeline",
        "customer_360-blue-permissions",
        "customer_360-repo-blue",
    }
    (violation,) = d.violations
    assert violation.urn.endswith("Pipeline::customer_360-blue-pipeline") and "holds data" in violation.reason
    ok = diff_plans(unprotected, removed, allow_destroy=[violation.urn])
    assert ok.violations == [] and ok.acknowledged == [violation.urn]
    # retiring in one step (removing a still-protected slot) is refused as protected
    d = diff_plans(live, removed)
    assert any("protected" in v.reason for v in d.violations)


def test_retiring_needs_the_cutover_date(project):
    edit_release(project, "dev", active="green", slots={"blue": {"retired": True}})
    errors = load_errors(project, "dev")
    assert "needs release.cutover_date" in error_at(errors, FILE, "release.slots.blue.retired").render()


def test_the_slot_kept_for_rollback_is_no_promotion_candidate(project, staging_outputs):
    cut_over_to_green(project, date.today().isoformat())  # blue, pinned v2.3.0, kept for rollback
    p = plan_stack("prod", project.root, {STAGING: staging_outputs})
    assert not [w for w in p.warnings if "PROMOTION GATE" in w]


def test_a_slot_can_be_removed_in_one_environment_only(project):
    cut_over_to_green(project, "2026-01-05")
    data = project.pipeline("customer_360")
    data["environments"]["prod"]["release"]["slots"]["blue"] = None
    project.set_pipeline("customer_360", data)
    assert set(project.load("prod").pipeline("customer_360").release.slots) == {"green"}
    assert set(project.load("staging").pipeline("customer_360").release.slots) == {"blue", "green"}


def test_the_rollback_window_and_the_active_slot_cannot_be_retired(project):
    cut_over_to_green(project, "2999-01-01")
    edit_release(project, "prod", slots={"blue": {"retired": True}, "green": {"retired": True}})
    errors = load_errors(project, "prod")
    assert (
        "inside the rollback window until 2999-01-08" in error_at(errors, FILE, "release.slots.blue.retired").render()
    )
    assert "cut over first" in error_at(errors, FILE, "release.slots.green.retired").render()


# --- promotion gate ----------------------------------------------------------------------------------


def test_prod_candidate_deploys_what_staging_runs(project, plans, staging_outputs):
    prod = plans["prod"].to_json()
    repo = next(r for r in prod["resources"] if r["name"] == "customer_360-repo-green")["inputs"]
    assert repo["tag"] == "v2.4.0" == staging_outputs["releases"]["customer_360"]["active_ref"].split(":")[1]
    # staging rolls back to blue (v2.3.0): prod's candidate follows on its next deploy
    edit_release(project, "staging", active="blue")
    prod = plan(project, "prod")  # staging's outputs from its offline plan
    repo = next(r for r in prod["resources"] if r["name"] == "customer_360-repo-green")["inputs"]
    assert repo["tag"] == "v2.3.0"


def test_a_pin_other_than_stagings_version_is_said_loudly(project, staging_outputs):
    edit_release(project, "prod", slots={"green": {"tag": "v2.5.0-hotfix"}})
    p = plan_stack("prod", project.root, {STAGING: staging_outputs})
    assert any(
        "PROMOTION GATE: customer_360 slot green is pinned to tag:v2.5.0-hotfix, not to tag:v2.4.0" in w
        for w in p.warnings
    )
    repo = next(r for r in p.resources if r["name"] == "customer_360-repo-green")["inputs"]
    assert repo["tag"] == "v2.5.0-hotfix"


def test_the_gate_reads_saved_outputs_or_says_how(project, staging_outputs, tmp_path, capsys):
    outputs = tmp_path / "staging.json"
    outputs.write_text(json.dumps(staging_outputs))
    other = "example-org/lakeflow/preprod"  # a stack this checkout has no file for
    project.edit_stack("prod", promoteFrom=other)
    root = ["--root", str(project.root)]
    assert plan_main(["--stack", "prod", *root]) == 2
    assert f"pass its outputs with --reference {other}=<file.json>" in capsys.readouterr().err
    assert plan_main(["--stack", "prod", "--reference", f"{other}={outputs}", *root]) == 0
    assert f"StackReference {other}" in capsys.readouterr().out


# --- bad release config ------------------------------------------------------------------------------


def test_bad_release_config_is_rejected_clearly(project):
    data = project.pipeline("customer_360")
    data["release"]["view_schema"] = "customer"  # where the adopted slot's tables are
    data["release"]["slots"]["green"]["adopted"] = True
    data["release"]["slots"]["blue"]["branch"] = "main"  # and a tag: one or the other
    data["libraries"].append({"notebook": {"path": "/Workspace/Shared/hand_made"}})
    data["environments"]["prod"]["release"]["slots"]["blue"] = {"tag": None}
    project.set_pipeline("customer_360", data)
    errors = load_errors(project, "dev")
    rendered = "\n".join(e.render() for e in errors)
    assert "give the slot a tag or a branch, not both" in rendered
    data["release"]["slots"]["blue"].pop("branch")
    project.set_pipeline("customer_360", data)
    errors = load_errors(project, "prod")
    assert "also the schema of the stable views" in error_at(errors, FILE, "release.slots.blue.schema").render()
    assert "only one slot" in error_at(errors, FILE, "release.slots").render()
    assert "must start with ${REPO_ROOT}/" in error_at(errors, FILE, "libraries[1]").render()
    assert "the active slot runs a pinned version" in error_at(errors, FILE, "release.slots.blue").render()


def test_an_unpinned_candidate_needs_a_promotion_source(project):
    edit_release(project, "staging", slots={"blue": {"tag": None}})
    errors = load_errors(project, "staging")
    assert "needs a tag or branch (no lakeflow:promoteFrom)" in error_at(errors, FILE, "release.slots.blue").render()
