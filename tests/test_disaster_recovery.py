"""Disaster recovery (guide 10), through the offline plan: snapshot schemas, snapshot jobs and
their saved DEEP CLONE queries, the configuration backup, and the restore plan."""

from __future__ import annotations

import base64
import json

import pytest
from sqlglot import exp

from lakeflow.config.errors import ConfigErrors
from lakeflow.config.models import SECRET_KEYS
from lakeflow.offline.plan import plan_stack
from lakeflow.ops import dr_restore as restore
from lakeflow.sql.snapshots import snapshot_schedule
from tests.conftest import ROOT, by_type, resource
from tests.sql_grammar import parse, parse_clone, parse_snapshot
from tests.test_monitoring import routed
from tests.test_settings_validation import error_at, load_errors

pytestmark = pytest.mark.plan

# pipeline -> critical tables, as the shipped pipeline files declare them
CRITICAL = {
    "sales_pipeline": ["gold_daily_sales"],
    "customer_360": ["customer_profile", "customer_segments"],
    "invoice_ingest": ["invoices"],
}
DR_TYPES = ("Schema", "Volume", "File", "Query", "Grants", "SnapshotStore", "PipelineSnapshots")


def snapshot_job(plan, pipeline):
    return resource(plan, "Job", f"{pipeline}-snapshot-job")


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_critical_table_has_a_snapshot_query_and_task(plans, stack):
    plan = plans[stack]
    queries = {r["name"]: r for r in by_type(plan, "Query")}
    assert set(queries) == {f"{p}-snapshot-{t}" for p, tables in CRITICAL.items() for t in tables}
    assert {r["name"] for r in by_type(plan, "PipelineSnapshots")} == set(CRITICAL)  # clickstream: none
    for pipeline, tables in CRITICAL.items():
        job = snapshot_job(plan, pipeline)
        inputs = job["inputs"]
        assert inputs["name"] == f"{stack}_{pipeline}_dr_snapshot"
        assert [t["taskKey"] for t in inputs["tasks"]] == [f"snapshot_{t}" for t in tables]
        for table, task in zip(tables, inputs["tasks"], strict=True):
            query = queries[f"{pipeline}-snapshot-{table}"]
            # the task runs that saved query (its id is unknown in a preview: the dependency says which)
            assert query["urn"] in job["dependencies"]
            assert task["sqlTask"]["warehouseId"] == query["inputs"]["warehouseId"]
            assert task["maxRetries"] == 2 and task["retryOnTimeout"] is True
            # the pipeline's table (a streaming table or materialized view) is read, never cloned
            snap = parse_snapshot(query["inputs"]["queryText"])
            assert snap.source == f"{stack}.{_schema(stack, pipeline)}.{table}"
            assert snap.target.endswith(f".{table}_dr_snapshot") and snap.target.startswith(f"{stack}_dr.")
        assert inputs["maxConcurrentRuns"] == 1
        assert inputs["schedule"]["pauseStatus"] == "UNPAUSED"
        assert f"make dr-restore STACK={stack} PIPELINE={pipeline}" in inputs["description"]


def _schema(stack, pipeline):
    """Where the live tables are: staging runs customer_360's green slot (blue/green)."""
    if (stack, pipeline) == ("staging", "customer_360"):
        return "customer_green"
    return {"sales_pipeline": "sales", "customer_360": "customer", "invoice_ingest": "finance"}[pipeline]


def test_snapshot_sql_keeps_history_for_the_retention_window(plans):
    retention = {"sales_pipeline": 30, "customer_360": 14, "invoice_ingest": 90}
    for query in by_type(plans["prod"], "Query"):
        pipeline = query["name"].split("-snapshot-")[0]
        days = f"interval {retention[pipeline]} days"
        assert parse_snapshot(query["inputs"]["queryText"]).properties == {
            "delta.logRetentionDuration": days,
            "delta.deletedFileRetentionDuration": days,
        }


def test_snapshot_targets_default_to_the_dr_catalog_and_follow_dr_target(plans):
    targets = {q["name"]: parse_snapshot(q["inputs"]["queryText"]).target for q in by_type(plans["prod"], "Query")}
    assert targets == {
        "sales_pipeline-snapshot-gold_daily_sales": "prod_dr.sales.gold_daily_sales_dr_snapshot",
        "customer_360-snapshot-customer_profile": "prod_dr.customer.customer_profile_dr_snapshot",
        "customer_360-snapshot-customer_segments": "prod_dr.customer.customer_segments_dr_snapshot",
        "invoice_ingest-snapshot-invoices": "prod_dr.finance_invoices.invoices_dr_snapshot",  # its dr.target
    }


def test_schedules_derive_from_the_rpo_and_follow_the_scheduled_update(plans):
    crons = {p: snapshot_job(plans["prod"], p)["inputs"]["schedule"]["quartzCronExpression"] for p in CRITICAL}
    assert crons == {
        "sales_pipeline": "0 30 * * * ?",  # hourly; starts every 6 h at :00 with a 90-minute objective
        "customer_360": "0 0 0 * * ?",  # daily; started by sales_pipeline's updates: no fixed start to follow
        "invoice_ingest": "0 0/15 * * * ?",  # file arrival: every 15 minutes, nothing to follow
    }
    for p in CRITICAL:
        assert snapshot_job(plans["prod"], p)["inputs"]["schedule"]["timezoneId"] == "America/New_York"


@pytest.mark.parametrize(
    ("cron", "rpo", "latency", "expected"),
    [
        (None, 5, 60, "0 0/5 * * * ?"),
        ("0 0 */6 * * ?", 60, 90, "0 30 * * * ?"),
        ("0 10 * * * ?", 15, 20, "0 0/15 * * * ?"),  # (10 + 20) mod 15 = 0
        ("0 10 * * * ?", 20, 20, "0 10/20 * * * ?"),  # (10 + 20) mod 20 = 10
        ("0 0 1/6 * * ?", 360, 150, "0 30 3/6 * * ?"),  # 01:00 + 150 min = 03:30, every 6 h
        ("0 30 2 * * ?", 1440, 60, "0 30 3 * * ?"),
        ("0 45 23 * * ?", 1440, 30, "0 15 0 * * ?"),  # wraps past midnight
        ("0 */10 * * * ?", 60, 30, "0 0 * * * ?"),  # no fixed start minute: nothing to follow
        ("0 0 2,14 * * ?", 720, 60, "0 0 0/12 * * ?"),  # two starts a day: no single one to follow
    ],
)
def test_snapshot_schedule(project, cron, rpo, latency, expected):
    spec = project.load("prod").pipeline("sales_pipeline")
    schedule = spec.schedule.model_copy(update={"cron": cron}) if cron else None
    dr = spec.dr.model_copy(update={"rpo_minutes": rpo})
    monitoring = spec.monitoring.model_copy(update={"latency_objective_minutes": latency})
    spec = spec.model_copy(update={"schedule": schedule, "dr": dr, "monitoring": monitoring})
    assert snapshot_schedule(spec, project.load("prod").config).cron == expected


def test_snapshot_failures_and_overruns_go_to_the_p2_route(plans):
    for stack, kinds in (("prod", ["slack"]), ("staging", ["slack"])):
        job = snapshot_job(plans[stack], "sales_pipeline")
        assert routed(plans[stack], job) == kinds
        inputs = job["inputs"]
        assert len(inputs["webhookNotifications"]["onFailures"]) == len(kinds)
        assert len(inputs["webhookNotifications"]["onDurationWarningThresholdExceededs"]) == len(kinds)
        assert inputs["health"]["rules"] == [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 3600}]


def test_snapshot_schemas_are_protected_in_prod_and_always_retained(plans):
    for stack, protected in (("prod", True), ("staging", False)):
        keeps = [
            r for r in by_type(plans[stack], "Schema") + by_type(plans[stack], "Volume") if "SnapshotStore" in r["urn"]
        ]
        assert {r["name"] for r in keeps} == {
            f"disaster-recovery-schema-{stack}_dr-{s}" for s in ("sales", "customer", "finance_invoices")
        } | {"disaster-recovery-backup-schema", "disaster-recovery-backup-volume"}
        for r in keeps:
            assert r["protect"] is protected, r["name"]
            assert r["retainOnDelete"] is True, r["name"]
            assert not r["inputs"].get("forceDestroy")
        # the backup file is retained too: a destroyed stack leaves its last configuration behind
        assert resource(plans[stack], "File", "disaster-recovery-config-backup")["retainOnDelete"] is True


def test_the_stores_children_keep_their_state_through_the_rename(plans):
    # Their names derive from the component's (`disaster-recovery-…`) since issue 20; each carries
    # an alias to the name it was deployed with, so the engine moves it instead of replacing it.
    for stack in ("staging", "prod"):
        store = resource(plans[stack], "SnapshotStore", "disaster-recovery")
        children = [r for r in plans[stack].resources if r["parent"] == store["urn"]]
        # 3 snapshot schemas and their grants; the backup schema, its grants, volume and file
        assert len(children) == 10
        for r in children:
            assert [a["name"] for a in r["aliases"]] == [r["name"].removeprefix("disaster-recovery-")], r["name"]


def test_the_job_identity_may_write_snapshots_and_managers_read_them(plans):
    grants = resource(plans["prod"], "Grants", "disaster-recovery-schema-prod_dr-sales-grants")["inputs"]
    assert grants["schema"] == "(known after apply)" or grants["schema"] == "prod_dr.sales"
    assert grants["grants"] == [
        {
            "principal": "9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04",
            "privileges": ["CREATE_TABLE", "MODIFY", "SELECT", "USE_SCHEMA"],
        },
        # managers run restores: they create the <table>_dr_restore tables here (docs/adr/0006)
        {"principal": "platform-ops", "privileges": ["CREATE_TABLE", "SELECT", "USE_SCHEMA"]},
    ]
    query = resource(plans["prod"], "Permissions", "sales_pipeline-snapshot-gold_daily_sales-permissions")
    levels = {
        a.get("servicePrincipalName") or a.get("groupName"): a["permissionLevel"]
        for a in query["inputs"]["accessControls"]
    }
    assert levels["9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04"] == "CAN_RUN"
    # the queries write into the schema: they wait for it
    schema_urn = resource(plans["prod"], "Schema", "disaster-recovery-schema-prod_dr-sales")["urn"]
    assert schema_urn in resource(plans["prod"], "Query", "sales_pipeline-snapshot-gold_daily_sales")["dependencies"]


def test_the_snapshot_job_is_shared_like_its_pipeline_bundle_permissions_included(project):
    """A pipeline file's `permissions:` (a bundle's) reach its snapshot job and queries as they reach the
    pipeline and its schedule: one access list per pipeline (lakeflow.model.deployment)."""
    project.edit_pipeline("sales_pipeline", permissions=[{"level": "CAN_MANAGE", "user_name": "oncall@example.com"}])
    plan = project.plan("prod")

    def levels(name: str) -> dict[str, str]:
        acl = resource(plan, "Permissions", name)["inputs"]["accessControls"]
        return {a.get("userName") or a.get("groupName") or a["servicePrincipalName"]: a["permissionLevel"] for a in acl}

    for name in (
        "sales_pipeline-permissions",
        "sales_pipeline-job-permissions",
        "sales_pipeline-snapshot-job-permissions",
    ):
        assert levels(name)["oncall@example.com"] == "CAN_MANAGE", name


def test_config_backup_holds_the_resolved_settings_without_secrets(plans):
    file = resource(plans["prod"], "File", "disaster-recovery-config-backup")["inputs"]
    assert file["path"] == "/Volumes/prod_dr/prod_lakeflow_backup/config/lakeflow.prod.json"
    backup = json.loads(base64.b64decode(file["contentBase64"]))
    assert backup["stack"] == "prod" and backup["project"] == "lakeflow"
    sales = backup["pipelines"]["sales_pipeline"]
    assert sales["physical_name"] == "prod_sales_pipeline"
    assert sales["spec"]["target"] == "prod.sales"  # variables resolved
    assert sales["spec"]["clusters"][0]["autoscale"]["max_workers"] == 20  # prod's value
    assert sales["spec"]["dr"]["critical_tables"] == [{"name": "gold_daily_sales", "kind": "materialized_view"}]
    assert backup["config"]["drCatalog"] == "prod_dr"
    assert not SECRET_KEYS & set(backup["config"])
    assert backup["secrets_not_backed_up"] == ["pagerdutyIntegrationKey", "slackWebhookUrl"]
    assert "[secret]" not in json.dumps(backup)
    # deterministic: the same settings give the same bytes (no spurious diff on every deploy)
    assert plan_stack("prod", ROOT).resources == plans["prod"].resources


def test_dev_takes_no_snapshots_unless_configured(plans, project):
    for t in DR_TYPES:
        assert [r for r in by_type(plans["dev"], t) if "BlueGreenPipeline" not in r["urn"]] == [], t
    assert all(not j["name"].endswith("-snapshot-job") for j in by_type(plans["dev"], "Job"))
    assert plans["dev"].outputs["pipelines"]["sales_pipeline"]["snapshot_job_id"] is None

    project.edit_stack("dev", disasterRecovery=True, drCatalog="dev_dr")
    plan = project.plan("dev")
    assert {r["name"] for r in by_type(plan, "PipelineSnapshots")} == set(CRITICAL)
    schema = resource(plan, "Schema", "disaster-recovery-schema-dev_dr-sales")
    assert schema["protect"] is False and schema["retainOnDelete"] is True
    assert snapshot_job(plan, "sales_pipeline")["inputs"]["schedule"]["pauseStatus"] == "PAUSED"  # dev pauses jobs


def test_a_pipeline_without_critical_tables_gets_no_dr_resources(plans, project):
    assert "clickstream_events" not in {r["name"] for r in by_type(plans["prod"], "PipelineSnapshots")}
    assert not [r for r in plans["prod"].resources if r["name"].startswith("clickstream_events-snapshot")]

    project.edit_pipeline("invoice_ingest", dr=None)
    plan = project.plan("prod")
    assert not [r for r in plan.resources if r["name"].startswith("invoice_ingest-snapshot")]
    assert "disaster-recovery-schema-prod_dr-finance_invoices" not in {r["name"] for r in by_type(plan, "Schema")}


def test_outputs_carry_the_snapshot_job(plans):
    out = plans["prod"].outputs
    assert out["pipelines"]["sales_pipeline"]["snapshot_job_id"] == "(known after apply)"
    assert out["pipelines"]["clickstream_events"]["snapshot_job_id"] is None
    assert out["config_backup_path"] == "/Volumes/prod_dr/prod_lakeflow_backup/config/lakeflow.prod.json"


# --- bad DR configuration -----------------------------------------------------------------------


def test_bad_dr_values_are_rejected_all_at_once(project):
    data = project.pipeline("sales_pipeline")
    data["dr"] = {"critical_tables": ["gold_daily_sales", {"name": "x", "rpo_minutes": 7}], "rpo_minutes": 45}
    data["dr"]["retention_days"] = 0
    project.set_pipeline("sales_pipeline", data)
    data = project.pipeline("customer_360")
    data["dr"]["rpo"] = 60
    project.set_pipeline("customer_360", data)
    project.edit_stack("prod", drCatalog=None)
    errors = load_errors(project, "prod")
    f = "pipelines/sales_pipeline.yaml"
    assert "5, 10, 15, 20, 30, 60" in error_at(errors, f, "dr.critical_tables[1].rpo_minutes").render()
    assert "720 or 1440" in error_at(errors, f, "dr.rpo_minutes").render()
    assert "greater than or equal to 1" in error_at(errors, f, "dr.retention_days").render()
    assert "rpo_minutes" in error_at(errors, "pipelines/customer_360.yaml", "dr.rpo").render()
    assert "required with disasterRecovery" in error_at(errors, "Pulumi.prod.yaml", "lakeflow:drCatalog").render()
    assert len(errors) == 5


def test_dr_tables_and_target_are_checked_against_the_pipeline(project):
    data = project.pipeline("sales_pipeline")
    data["dr"] = {
        "critical_tables": ["gold_daily_sale", "silver_orders", "silver_orders"],
        "target": "${CATALOG}.sales",
    }
    project.set_pipeline("sales_pipeline", data)
    errors = load_errors(project, "prod")
    f = "pipelines/sales_pipeline.yaml"
    assert "did you mean 'gold_daily_sales'" in error_at(errors, f, "dr.critical_tables[0]").render()
    assert "listed twice" in error_at(errors, f, "dr.critical_tables[2]").render()
    # ${VAR}s are filled in first: prod's target is prod.sales, and so is this dr.target
    assert "lost with it" in error_at(errors, f, "dr.target").render()
    assert len(errors) == 3


def test_bad_dr_config_registers_nothing(project):
    project.edit_pipeline("sales_pipeline", dr={"critical_tables": []})
    with pytest.raises(ConfigErrors) as caught:
        project.plan("prod")
    assert any(e.key == "dr.critical_tables" for e in caught.value.errors)


def test_critical_tables_must_be_declared_tables(project):
    project.edit_pipeline("sales_pipeline", tables=None)
    errors = load_errors(project, "prod")
    assert (
        "list every published table under tables:"
        in error_at(errors, "pipelines/sales_pipeline.yaml", "dr.critical_tables[0]").render()
    )


# --- the restore plan ------------------------------------------------------------------------------


def _written(statement: str) -> str | None:
    """The table a statement creates, replaces or drops (None for a read)."""
    tree = parse(statement) if not statement.startswith("CREATE OR REPLACE TABLE") else None
    if tree is None:
        return parse_clone(statement).target
    if isinstance(tree, (exp.Drop, exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Merge)):
        return ".".join(p.name for p in tree.find(exp.Table).parts)  # type: ignore[union-attr]
    return None


def test_restore_plan_orders_the_steps_and_never_writes_a_pipeline_table(project):
    """Databricks refuses CREATE OR REPLACE on streaming tables and materialized views
    (STREAMING_TABLE_OPERATION_NOT_ALLOWED.CREATE_OR_REPLACE, MATERIALIZED_VIEW_OPERATION_NOT_ALLOWED.
    REPLACE_DELTA_LIVE_TABLE): the restore writes only its own restore tables; the pipeline rebuilds."""
    settings = project.load("prod")
    plan = restore.restore_plan(settings, "sales_pipeline")
    assert [s.title for s in plan.steps] == [
        "Look up the pipeline and its jobs",
        "Pause what would write during the restore",
        "Stop the pipeline",
        "Choose the snapshot version",
        "Put the chosen snapshot into the restore tables",
        "Check the restore tables against their snapshot",
        "Rebuild through the pipeline and resume it",
        "Verify the rebuilt tables",
        "Drop the restore tables",
        "Resume the schedules",
    ]
    steps = {s.title: s for s in plan.steps}
    (sql,) = steps["Put the chosen snapshot into the restore tables"].commands
    clone = parse_clone(sql)  # a plain Delta snapshot into a plain Delta restore table
    assert (clone.target, clone.source) == (
        "prod_dr.sales.gold_daily_sales_dr_restore",
        "prod_dr.sales.gold_daily_sales_dr_snapshot",
    )
    assert clone.version is None and clone.timestamp is None
    for name in ("sales_pipeline", "customer_360", "invoice_ingest"):
        for step in restore.restore_plan(settings, name, timestamp="2026-11-28T06:00:00Z").steps:
            for statement in step.commands if step.kind == "sql" else []:
                written = _written(statement)
                assert written is None or written.endswith("_dr_restore"), statement
    # the critical materialized view is recomputed, the non-critical table rebuilt from source
    (refresh,) = steps["Rebuild through the pipeline and resume it"].commands
    assert json.loads(refresh.split("--json ", 1)[1].strip("'")) == {
        "full_refresh_selection": ["gold_daily_sales", "silver_orders"]
    }
    pause = steps["Pause what would write during the restore"].commands
    assert any('"0 30 * * * ?"' in c and '"PAUSED"' in c and "$SNAPSHOT_JOB_ID" in c for c in pause)
    assert any('"0 0 */6 * * ?"' in c and '"$JOB_ID"' in c for c in pause)
    # restored tables would start customer_360's job (a table-update trigger on sales_pipeline's
    # tables): it is paused too, its trigger given whole
    (dependent,) = [c for c in pause if '"$JOB_ID_CUSTOMER_360"' in c]
    trigger = json.loads(dependent.split("--json ", 1)[1].strip("'"))["new_settings"]["trigger"]
    assert trigger["pause_status"] == "PAUSED"
    assert trigger["table_update"]["table_names"] == ["prod.sales.silver_orders", "prod.sales.gold_daily_sales"]
    assert "JOB_ID_CUSTOMER_360=" in steps["Look up the pipeline and its jobs"].commands[2]
    assert steps["Drop the restore tables"].commands == [
        "DROP TABLE IF EXISTS `prod_dr`.`sales`.`gold_daily_sales_dr_restore`"
    ]


def test_a_streaming_table_is_refilled_by_the_pipeline_from_its_restore_table(project, plans):
    """The pipeline is told where each critical streaming table's restore table is (a constant
    configuration key): on a full refresh its code refills the table from there (docs/adr/0006)."""
    config = resource(plans["prod"], "Pipeline", "invoice_ingest-pipeline")["inputs"]["configuration"]
    assert config["lakeflow.dr.restore.invoices"] == "prod_dr.finance_invoices.invoices_dr_restore"
    # materialized views are recomputed, not refilled; stacks without snapshots say nothing
    sales = resource(plans["prod"], "Pipeline", "sales_pipeline-pipeline")["inputs"].get("configuration", {})
    assert not [k for k in sales if k.startswith("lakeflow.dr.")]
    dev = resource(plans["dev"], "Pipeline", "invoice_ingest-pipeline")["inputs"].get("configuration", {})
    assert not [k for k in dev if k.startswith("lakeflow.dr.")]
    plan = restore.restore_plan(project.load("prod"), "invoice_ingest")
    (refresh,) = next(s for s in plan.steps if s.title.startswith("Rebuild")).commands
    assert json.loads(refresh.split("--json ", 1)[1].strip("'")) == {
        "full_refresh_selection": ["invoices", "invoices_raw"]
    }
    assert "lakeflow.dr.restore.<table>" in next(s for s in plan.steps if s.title.startswith("Rebuild")).note


def test_restore_to_a_point_in_time(project):
    settings = project.load("prod")
    plan = restore.restore_plan(settings, "customer_360", timestamp="2026-11-28T06:00:00Z")
    sql = next(s for s in plan.steps if s.title.startswith("Put")).commands
    assert [parse_clone(s).timestamp for s in sql] == ["2026-11-28T06:00:00Z"] * 2
    plan = restore.restore_plan(settings, "customer_360", table="customer_segments", version=7)
    (sql,) = next(s for s in plan.steps if s.title.startswith("Put")).commands
    clone = parse_clone(sql)
    assert clone.version == 7 and clone.target == "prod_dr.customer.customer_segments_dr_restore"
    # only the chosen table is rebuilt: customer_profile, not chosen, keeps its data
    (refresh,) = next(s for s in plan.steps if s.title.startswith("Rebuild")).commands
    assert json.loads(refresh.split("--json ", 1)[1].strip("'")) == {"full_refresh_selection": ["customer_segments"]}


def test_restore_plan_uses_saved_outputs(project, tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({"pipelines": {"sales_pipeline": {"id": "abc-123", "job_id": "42", "snapshot_job_id": "43"}}})
    )
    root = ["--root", str(project.root)]
    assert restore.main(["--stack", "prod", "--pipeline", "sales_pipeline", "--outputs", str(outputs), *root]) == 0
    out = capsys.readouterr().out
    assert "PIPELINE_ID=abc-123" in out and "JOB_ID=42" in out and "SNAPSHOT_JOB_ID=43" in out
    assert "pulumi stack output" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pipeline", "nope"], "PIPELINE=nope: not a pipeline of stack 'prod'"),
        (["--pipeline", "clickstream_events"], "declares no dr.critical_tables"),
        (["--stack", "dev", "--pipeline", "sales_pipeline"], "STACK=dev: takes no snapshots"),
        (["--pipeline", "customer_360", "--version", "3"], "each snapshot has its own version numbers"),
        (["--pipeline", "sales_pipeline", "--table", "silver_orders"], "TABLE=silver_orders: not a critical table"),
        (["--pipeline", "sales_pipeline", "--timestamp", "yesterday"], "TIMESTAMP=yesterday: not a timestamp"),
        (["--pipeline", "sales_pipeline", "--version", "1", "--timestamp", "2026-11-01"], "not both"),
        (["--pipeline", "sales_pipeline", "--outputs", "/nonexistent.json"], "OUTPUTS=/nonexistent.json: no such file"),
        (["--stack", "nope", "--pipeline", "sales_pipeline"], "Pulumi.nope.yaml"),
    ],
)
def test_restore_errors_are_one_clear_line_and_exit_2(project, capsys, args, message):
    argv = (
        ["--stack", "prod", *args, "--root", str(project.root)]
        if "--stack" not in args
        else [*args, "--root", str(project.root)]
    )
    assert restore.main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert "Traceback" not in captured.err
