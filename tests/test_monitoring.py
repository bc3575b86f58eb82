"""Monitoring through the offline plan: event logs, alerts per metric routed by severity, job
health rules, notification destinations (secrets), and the dashboard."""

from __future__ import annotations

import json

import pytest
import sqlglot

from lakeflow.components.pipeline_alerts import (
    CLUSTER_METRICS,
    DAILY_COST,
    EXPECTATION_METRICS,
    MONTHLY_COST,
    PIPELINE_METRICS,
)
from lakeflow.offline.stack_file import read_stack_config
from lakeflow.sql.queries import breach_conditions
from tests.conftest import ROOT, STACKS, by_type, live_pipelines, resource

WAREHOUSES = {s: read_stack_config(ROOT, "lakeflow", s)[0]["lakeflow:warehouseId"] for s in STACKS}

pytestmark = pytest.mark.plan

GUIDE_DEFAULTS = {  # guide 6.1
    "failed-updates": ("GREATER_THAN", 0),
    "availability": ("LESS_THAN", 0.995),
    "processing-lag": ("GREATER_THAN", 60),
    "expectation-pass-rate": ("LESS_THAN", 0.95),
    "drop-rate": ("GREATER_THAN", 0.05),
    "cpu-utilization": ("GREATER_THAN", 90),
    "memory-utilization": ("GREATER_THAN", 85),
}


METRIC_IDS = [m.id for m, _, _ in PIPELINE_METRICS] + [DAILY_COST.id, MONTHLY_COST.id]


def alerts(plan):
    """{alert key: inputs} of the stack's pipeline alerts: `<pipeline>-<metric>` for the event-log
    metrics (each pipeline's own, docs/adr/0007), `<metric>` for the system-table ones."""
    prefix = "pipeline-alerts-"
    return {
        r["name"].removeprefix(prefix): r["inputs"] for r in by_type(plan, "AlertV2") if r["name"].startswith(prefix)
    }


def metric_of(key: str) -> str:
    return next(m for m in sorted(METRIC_IDS, key=len, reverse=True) if key == m or key.endswith(f"-{m}"))


def thresholds(plan, pipeline):
    """{metric id: (operator, threshold)} that `pipeline` is held to, read from each alert's query."""
    ops = {">": "GREATER_THAN", "<": "LESS_THAN"}
    out = {}
    for key, inputs in alerts(plan).items():
        for condition in breach_conditions(inputs["queryText"]):
            name, _, op, value = condition.split(" ")
            if name == pipeline:
                out[metric_of(key)] = (ops[op], float(value))
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_every_pipeline_publishes_its_event_log_and_every_metric_alert_watches_it(plans, stack):
    plan = plans[stack]
    stack_alerts = alerts(plan)
    for alert in stack_alerts.values():
        tree = sqlglot.parse_one(alert["queryText"], read="databricks")  # raises on a syntax error
        assert tree.named_selects[0] == "pipeline"
        e = alert["evaluation"]
        # triggered while the query lists any pipeline; no row (nothing crossed, no data yet) is OK
        assert e["source"] == {"name": "pipeline", "aggregation": "COUNT"} and e["emptyResultState"] == "OK"
        assert (e["comparisonOperator"], e["threshold"]["value"]["doubleValue"]) == ("GREATER_THAN", 0)
        assert e["notification"]["retriggerSeconds"] == 300
        assert alert["warehouseId"] == WAREHOUSES[stack]
    for name, p in live_pipelines(plan).items():
        log = p["inputs"]["eventLog"]
        assert log["name"] == f"{name}_event_log" and log["catalog"] == stack
        watched = thresholds(plan, name)
        expected = set(GUIDE_DEFAULTS)
        if p["inputs"].get("serverless"):
            # Serverless compute has no node records: CPU and memory alerts could never fire.
            expected -= set(CLUSTER_METRICS)
        elif p["inputs"].get("edition") != "ADVANCED":
            # CORE and PRO have no expectations: their data-quality metrics would always read "no data".
            expected -= EXPECTATION_METRICS
        assert expected <= set(watched) and not (set(GUIDE_DEFAULTS) - expected) & set(watched), name
        table = f"`{log['catalog']}`.`{log['schema']}`.`{log['name']}`"
        for metric in expected - set(CLUSTER_METRICS):
            # its own alert, reading its own event log only: no other pipeline can blind it
            query = stack_alerts[f"{name}-{metric}"]["queryText"]
            assert table in query and query.count("_event_log`") == 1, metric


def test_system_table_metrics_alert_once_per_stack_event_log_metrics_once_per_pipeline(plans):
    """A pipeline's event log does not exist before its first update, and a query naming a missing
    table fails whole: one stack-wide event-log query let one new pipeline blind a metric for all."""
    prod = plans["prod"]
    assert len(live_pipelines(prod)) == 4
    assert len(by_type(prod, "PipelineAlerts")) == 1 + 4  # the stack's, and one per pipeline
    keys = set(alerts(prod))
    assert {*CLUSTER_METRICS, DAILY_COST.id, MONTHLY_COST.id} <= keys
    event_log = {m.id for m, _, _ in PIPELINE_METRICS} - set(CLUSTER_METRICS)
    assert {k for k in keys if metric_of(k) in event_log} == {
        f"{p}-{m}"
        for p in live_pipelines(prod)
        for m in event_log
        if m not in EXPECTATION_METRICS or p != "clickstream_events"  # PRO edition: no expectations
    }


def test_alerts_watch_only_the_pipelines_a_metric_applies_to():
    from lakeflow.components.pipeline_alerts import PipelineAlertsArgs, WatchedPipeline, _breach_queries

    def watched(name, **kw):
        return WatchedPipeline(name, f"prod.s.{name}_event_log", **kw)

    settings = None  # not read by the queries
    one = PipelineAlertsArgs("p", "prod", [watched("a", serverless=True)], settings, scope="pipeline")  # type: ignore[arg-type]
    metrics = {m.id: sql for m, sql in _breach_queries(one)}
    assert set(metrics) == set(GUIDE_DEFAULTS) - set(CLUSTER_METRICS)  # its event log only
    assert breach_conditions(metrics["failed-updates"]) == ["a failed_updates > 0.0"]
    serverless = PipelineAlertsArgs("p", "prod", [watched("a", serverless=True)], settings)  # type: ignore[arg-type]
    assert _breach_queries(serverless) == []  # no node records, no cost limits
    mixed = PipelineAlertsArgs("p", "prod", [watched("a", serverless=True), watched("b", daily_limit_usd=5)], settings)  # type: ignore[arg-type]
    metrics = {m.id: sql for m, sql in _breach_queries(mixed)}
    assert breach_conditions(metrics["cpu-utilization"]) == ["b cpu_percent > 90.0"]
    assert breach_conditions(metrics[DAILY_COST.id]) == ["b list_cost_usd > 5.0"] and MONTHLY_COST.id not in metrics
    assert "failed-updates" not in metrics  # the event-log metrics are each pipeline's own
    with pytest.raises(ValueError, match="watches one pipeline"):
        PipelineAlertsArgs("p", "prod", [watched("a"), watched("b")], settings, scope="pipeline")  # type: ignore[arg-type]
    assert _breach_queries(PipelineAlertsArgs("p", "prod", [], settings)) == []  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="watched twice"):
        PipelineAlertsArgs("p", "prod", [watched("a"), watched("a")], settings)  # type: ignore[arg-type]


def test_guide_thresholds_are_defaults_and_pipeline_files_override_them(plans):
    plan = plans["prod"]
    invoice = thresholds(plan, "invoice_ingest")
    customer = thresholds(plan, "customer_360")  # no threshold of its own, on classic compute
    for metric, expected in GUIDE_DEFAULTS.items():
        assert (customer[metric] if metric in CLUSTER_METRICS else invoice[metric]) == expected, metric
    sales = thresholds(plan, "sales_pipeline")
    assert sales["expectation-pass-rate"] == ("LESS_THAN", 0.98)
    assert thresholds(plan, "clickstream_events")["processing-lag"] == ("GREATER_THAN", 15)
    # Cost limits add the pipeline to the cost alerts (guide 11.3), priced with list prices, attributed by tags.
    assert sales[DAILY_COST.id] == ("GREATER_THAN", 120)
    assert sales[MONTHLY_COST.id] == ("GREATER_THAN", 3000)
    for metric in (DAILY_COST, MONTHLY_COST):
        sql = alerts(plan)[metric.id]["queryText"]
        assert "system.billing.list_prices" in sql and "u.custom_tags['Environment'] = 'prod'" in sql
    assert "date_trunc('MONTH', current_date())" in alerts(plan)[MONTHLY_COST.id]["queryText"]
    assert DAILY_COST.id not in invoice and MONTHLY_COST.id not in invoice


def test_alert_descriptions_give_severity_response_time_and_runbook(plans):
    prod = alerts(plans["prod"])
    for metric, _, _ in PIPELINE_METRICS:
        stack_wide = metric.id in CLUSTER_METRICS
        alert = prod[metric.id if stack_wide else f"sales_pipeline-{metric.id}"]
        subject = "prod_pipelines" if stack_wide else "prod_pipelines sales_pipeline"
        assert alert["displayName"] == f"[{metric.severity}] {subject}: {metric.title}"
        assert (
            f"Severity {metric.severity} (respond within {metric.severity.response_time})" in alert["customDescription"]
        )
        url = f"https://github.com/example-org/lakeflow-stack/blob/main/docs/runbooks/{metric.runbook}"
        assert alert["customDescription"].endswith(f"Runbook: {url}")
        assert (ROOT / "docs" / "runbooks" / metric.runbook).exists()


def destinations(plan):
    return {r["urn"]: r["name"].removeprefix("alert-routing-") for r in by_type(plan, "NotificationDestination")}


def routed(plan, alert):
    """Destination kinds an alert notifies: its subscriptions' ids are unknown in a preview, so the
    registration's dependencies tell which destinations it points at."""
    ds = destinations(plan)
    return sorted(ds[d] for d in alert["dependencies"] if d in ds)


def test_routing_by_severity_per_environment(plans):
    def kinds(stack, metric):
        key = metric if metric in (*CLUSTER_METRICS, DAILY_COST.id, MONTHLY_COST.id) else f"sales_pipeline-{metric}"
        return routed(plans[stack], resource(plans[stack], "AlertV2", f"pipeline-alerts-{key}"))

    # prod: P1 pages, P2/P3 team channel (+ email for P3), P4 email
    assert kinds("prod", "failed-updates") == ["pagerduty", "slack"]
    assert kinds("prod", "processing-lag") == ["slack"]
    assert kinds("prod", "drop-rate") == ["email", "slack"]
    assert kinds("prod", "daily-cost") == ["email"]
    # staging: team channel, no paging
    assert kinds("staging", "failed-updates") == ["email", "slack"]
    assert "pagerduty" not in destinations(plans["staging"]).values()
    # dev: P1 to the owner's email only, everything else muted, and alerts paused with the schedules
    assert kinds("dev", "failed-updates") == ["email"]
    dev = resource(plans["dev"], "AlertV2", "pipeline-alerts-invoice_ingest-drop-rate")
    assert routed(plans["dev"], dev) == [] and "subscriptions" not in dev["inputs"]["evaluation"]["notification"]
    assert dev["inputs"]["schedule"]["pauseStatus"] == "PAUSED"


def test_credentials_are_secrets_in_the_plan_and_never_in_clear(plans):
    prod = plans["prod"]
    for name in ("alert-routing-pagerduty", "alert-routing-slack"):
        assert resource(prod, "NotificationDestination", name)["inputs"]["config"] == "[secret]"
    email = resource(prod, "NotificationDestination", "alert-routing-email")["inputs"]["config"]
    assert email == {"email": {"addresses": ["dataeng-oncall@example.com"]}}
    assert "not set: pulumi config" not in json.dumps(prod.to_json())


def test_jobs_have_health_rules_and_page_p1_on_failure(plans):
    prod = plans["prod"]
    sales_job = resource(prod, "Job", "sales_pipeline-job")
    assert sales_job["inputs"]["health"]["rules"] == [
        {"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 90 * 60}
    ]
    assert len(sales_job["inputs"]["webhookNotifications"]["onFailures"]) == 2  # pagerduty + slack
    assert sorted(routed(prod, sales_job)) == ["pagerduty", "slack"]
    # dev's P1 route is email only: the job emails, and names no email destination as a webhook
    dev_job = resource(plans["dev"], "Job", "sales_pipeline-job")["inputs"]
    assert "webhookNotifications" not in dev_job and dev_job["emailNotifications"]["onFailures"]


def test_alert_and_dashboard_permissions_ops_manage_engineers_view(plans):
    # every alert lives in the stack's alert folder and inherits its one ACL
    folder = resource(plans["prod"], "Directory", "alerts-folder")
    # the run-as principal's home: not /Shared, where every user can manage what is there
    path = "/Users/9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04/lakeflow/prod_monitoring"
    assert folder["inputs"]["path"] == path
    for alert in by_type(plans["prod"], "AlertV2"):
        assert alert["inputs"]["parentPath"] == path
        assert folder["urn"] in alert["dependencies"]
    assert not [p for p in by_type(plans["prod"], "Permissions") if "alertV2Id" in p["inputs"]]
    acl = resource(plans["prod"], "Permissions", "alerts-folder-permissions")["inputs"]
    assert acl["directoryPath"] == path
    assert {a["groupName"]: a["permissionLevel"] for a in acl["accessControls"]} == {
        "analysts": "CAN_READ",
        "data-engineers": "CAN_READ",
        "platform-ops": "CAN_MANAGE",
    }
    dash = resource(plans["prod"], "Permissions", "monitoring-permissions")["inputs"]
    assert "dashboardId" in dash and {a["permissionLevel"] for a in dash["accessControls"]} == {
        "CAN_READ",
        "CAN_MANAGE",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_dashboard_is_valid_json_every_widget_bound_to_an_existing_dataset_column(plans, stack):
    dash = resource(plans[stack], "Dashboard", "monitoring-dashboard")["inputs"]
    folder = resource(plans[stack], "Directory", "alerts-folder")
    assert dash["parentPath"] == folder["inputs"]["path"] and dash["displayName"] == f"{stack}_pipelines monitoring"
    assert folder["urn"] in resource(plans[stack], "Dashboard", "monitoring-dashboard")["dependencies"]
    assert not folder["inputs"]["path"].removeprefix("/Workspace").startswith(("/Shared/", "/Repos/"))
    spec = json.loads(dash["serializedDashboard"])
    columns = {}
    for ds in spec["datasets"]:
        tree = sqlglot.parse_one("".join(ds["queryLines"]), read="databricks")
        columns[ds["name"]] = set(tree.named_selects)
    pipelines = set(live_pipelines(plans[stack]))
    assert {p["name"] for p in spec["pages"]} == {"overview"} | pipelines
    widgets = 0
    for page in spec["pages"]:
        for item in page["layout"]:
            for q in item["widget"]["queries"]:
                dataset = q["query"]["datasetName"]
                assert dataset in columns, dataset
                for field in q["query"]["fields"]:
                    assert field["name"] in columns[dataset], (dataset, field["name"])
                widgets += 1
    assert widgets == 2 + 4 * len(pipelines)


def test_routes_to_unconfigured_destinations_and_plaintext_credentials_are_rejected(project):
    from lakeflow.config.errors import ConfigErrors

    project.edit_stack("dev", routeP2=["pagerduty"], routeP3=["pagerduty"], webhookUrl="https://hooks.example.com/x")
    with pytest.raises(ConfigErrors) as info:
        project.load("dev", as_deployed=True)
    report = info.value.report()
    assert (
        "lakeflow:pagerdutyIntegrationKey: is a secret this stack needs (routeP2: pagerduty; routeP3: pagerduty) "
        "and has no value (pulumi config set --secret lakeflow:pagerdutyIntegrationKey <value> --stack dev)"
    ) in report
    assert report.count("pagerdutyIntegrationKey") == 2  # one error, not one per route
    assert "lakeflow:webhookUrl: is a credential and must be a secret" in report
    assert "https://hooks.example.com/x" not in report


def test_processing_lag_allows_one_schedule_period_for_cron_pipelines(plans):
    """A 6-hourly batch is up to 6 hours behind just before its next run: that is not lag."""
    lag = {p: thresholds(plans["prod"], p)["processing-lag"][1] for p in live_pipelines(plans["prod"])}
    assert lag == {
        "sales_pipeline": 60 + 360,  # cron every 6 h
        "customer_360": 60 + 360,  # runs after each sales_pipeline update: the same 6 h
        "invoice_ingest": 60,  # file arrival: no period, the objective alone
        "clickstream_events": 15,  # continuous: its own, tighter objective
    }
