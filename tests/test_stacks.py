"""The three shipped stacks, planned offline: the promotion path's differences are data."""

from __future__ import annotations

import pytest

from tests.conftest import STACKS, by_type, live_pipelines, resource

pytestmark = pytest.mark.plan

CLASSIC = ("sales_pipeline", "clickstream_events", "customer_360")
TAGGED = ("Pipeline", "Job")


def pipelines(plan):
    return live_pipelines(plan)


def jobs(plan):
    """Schedule jobs, by pipeline (snapshot jobs are tested in test_disaster_recovery)."""
    return {
        r["name"].removesuffix("-job"): r["inputs"]
        for r in by_type(plan, "Job")
        if not r["name"].endswith("-snapshot-job")
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_plans_cleanly_with_every_pipeline(plans, stack):
    plan = plans[stack]
    assert plan.schema_errors == []
    assert set(pipelines(plan)) == {"sales_pipeline", "clickstream_events", "customer_360", "invoice_ingest"}
    for name, p in pipelines(plan).items():
        # staging runs customer_360's green slot (blue/green, see test_release.py)
        slot = "_green" if (stack, name) == ("staging", "customer_360") else ""
        assert p["inputs"]["name"] == f"{stack}_{name}{slot}"
        assert "storage" not in p["inputs"] and "target" not in p["inputs"]
        assert p["inputs"]["catalog"] == stack
    assert set(plan.outputs["pipelines"]) == set(pipelines(plan))


@pytest.mark.parametrize("stack", STACKS)
def test_tags_on_everything_that_takes_them(plans, stack):
    plan = plans[stack]
    for r in plan.resources:
        if r["type"].rsplit(":", 1)[-1] not in TAGGED:
            continue
        tags = r["inputs"]["tags"]
        assert {"Environment", "Team", "CostCenter", "Pipeline"} <= tags.keys(), r["urn"]
        assert tags["Environment"] == stack
        for cluster in r["inputs"].get("clusters", []):
            assert cluster["customTags"].items() >= tags.items()


def test_dev_is_development_mode_paused_and_small(plans):
    plan = plans["dev"]
    for p in pipelines(plan).values():
        assert p["inputs"]["development"] is True
        assert p["protect"] is False
        for c in p["inputs"].get("clusters", []):
            assert c["autoscale"]["maxWorkers"] <= 2
    assert {j["schedule" if "schedule" in j else "trigger"]["pauseStatus"] for j in jobs(plan).values()} == {"PAUSED"}
    # Per-environment overrides in the pipeline files: no photon and no always-on compute in dev.
    assert pipelines(plan)["sales_pipeline"]["inputs"]["photon"] is False
    assert pipelines(plan)["clickstream_events"]["inputs"]["continuous"] is False
    assert "runAs" not in pipelines(plan)["sales_pipeline"]["inputs"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_run_for_real(plans, stack):
    plan = plans[stack]
    for p in pipelines(plan).values():
        assert p["inputs"]["development"] is False
        assert p["inputs"]["runAs"].keys() == {"servicePrincipalName"}
        assert p["inputs"]["notifications"][0]["alerts"] == [
            "on-update-failure",
            "on-update-fatal-failure",
            "on-flow-failure",
        ]
    for j in jobs(plan).values():
        assert (j.get("schedule") or j.get("trigger"))["pauseStatus"] == "UNPAUSED"
        assert j["emailNotifications"]["onFailures"]
        assert j["runAs"].keys() == {"servicePrincipalName"}
    assert pipelines(plan)["clickstream_events"]["inputs"]["continuous"] is True


def test_prod_photon_enhanced_autoscaling_2_to_20_and_protected(plans):
    plan = plans["prod"]
    for name in CLASSIC:
        inputs = pipelines(plan)[name]["inputs"]
        assert inputs["photon"] is True
        assert [c["autoscale"] for c in inputs["clusters"]] == [{"maxWorkers": 20, "minWorkers": 2, "mode": "ENHANCED"}]
    for r in by_type(plan, "Pipeline") + by_type(plan, "DltPipeline"):
        assert r["protect"] is True, r["urn"]
    assert all(not r["protect"] for r in by_type(plan, "Job"))


def test_schedules_follow_guide_5_3(plans):
    plan = plans["prod"]
    j = jobs(plan)
    assert "clickstream_events" not in j  # continuous: no job
    assert j["sales_pipeline"]["schedule"]["quartzCronExpression"] == "0 0 */6 * * ?"
    assert j["invoice_ingest"]["trigger"]["fileArrival"]["url"] == "/Volumes/prod/landing/raw/invoices/"
    # One job per pipeline update: sales_pipeline has its own job, so customer_360's never starts it;
    # it starts when sales_pipeline's tables have been updated.
    assert [t["taskKey"] for t in j["customer_360"]["tasks"]] == ["customer_360"]
    assert "schedule" not in j["customer_360"]
    assert j["customer_360"]["trigger"]["tableUpdate"] == {
        "tableNames": ["prod.sales.silver_orders", "prod.sales.gold_daily_sales"],
        "condition": "ANY_UPDATED",
        "waitAfterLastChangeSeconds": 300,
    }
    started = [t["taskKey"] for inputs in j.values() for t in inputs["tasks"]]  # a task per pipeline started
    assert len(started) == len(set(started))
    for inputs in j.values():
        assert inputs["maxConcurrentRuns"] == 1
        assert all(t["maxRetries"] >= 1 for t in inputs["tasks"])


def test_prod_permissions_come_from_config(plans):
    acl = resource(plans["prod"], "Permissions", "sales_pipeline-permissions")
    assert acl["parent"].endswith("lakeflow:index:DltPipeline::sales_pipeline")
    entries = acl["inputs"]["accessControls"]
    assert {a["groupName"]: a["permissionLevel"] for a in entries if "groupName" in a} == {
        "analysts": "CAN_VIEW",
        "data-engineers": "CAN_VIEW",
        "platform-ops": "CAN_MANAGE",
    }
    # the run-as service principal owns it (a pipeline runs as its owner), not whoever deployed
    assert [a for a in entries if "groupName" not in a] == [
        {"servicePrincipalName": "9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04", "permissionLevel": "IS_OWNER"}
    ]


def _unity_catalog_objects(plan) -> set[str]:
    """Every schema and table the stack publishes, snapshots or creates: pipeline targets and
    event logs, schemas (views, DR), views."""
    out = set()
    for r in plan.resources:
        i, kind = r["inputs"], r["type"].rsplit(":", 1)[-1]
        if kind == "Pipeline":
            log = i["eventLog"]
            out |= {f"{i['catalog']}.{i['schema']}", f"{log['catalog']}.{log['schema']}.{log['name']}"}
        elif kind == "Schema":
            out.add(f"{i['catalogName']}.{i['name']}")
        elif kind == "SqlTable":
            out.add(f"{i['catalogName']}.{i['schemaName']}.{i['name']}")
    return out


def test_personal_dev_stacks_share_no_unity_catalog_object_with_dev_or_each_other(project):
    """`lakeflow:developer` renamed the pipelines but kept dev's schemas, event logs, view schema and
    DR schemas: two developers published into the same Unity Catalog tables."""
    project.edit_stack("dev", disasterRecovery=True, drCatalog="dev_dr")
    dev = (project.root / "Pulumi.dev.yaml").read_text()
    for developer in ("alice", "bob"):
        (project.root / f"Pulumi.dev-{developer}.yaml").write_text(dev)
        project.edit_stack(f"dev-{developer}", developer=developer)
    objects = {stack: _unity_catalog_objects(project.plan(stack)) for stack in ("dev", "dev-alice", "dev-bob")}
    assert len(objects["dev-alice"]) == len(objects["dev"]) > 10
    for a, b in (("dev", "dev-alice"), ("dev", "dev-bob"), ("dev-alice", "dev-bob")):
        assert not objects[a] & objects[b], (a, b, sorted(objects[a] & objects[b]))
    assert "dev.sales_alice" in objects["dev-alice"] and "dev_dr.sales_bob" in objects["dev-bob"]


def test_a_developer_name_keeps_two_dev_stacks_apart(project):
    project.edit_stack("dev", developer="alice")
    plan = project.plan("dev")
    assert pipelines(plan)["sales_pipeline"]["inputs"]["name"] == "dev_alice_sales_pipeline"
    assert jobs(plan)["sales_pipeline"]["name"] == "dev_alice_sales_pipeline_schedule"
    # Logical names (URNs) do not change with the physical name.
    assert pipelines(plan)["sales_pipeline"]["urn"].endswith("::sales_pipeline-pipeline")
