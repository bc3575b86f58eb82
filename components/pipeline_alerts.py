"""`PipelineAlerts`: every metric of guide 6.1 watched for one pipeline, as Databricks SQL alerts.

Children (one per metric; names fixed by metric id):
  - `<name>-<metric>`              databricks.AlertV2 on the stack's SQL warehouse: the query
                                   (monitoring.queries), a threshold, a schedule, and the
                                   destinations of the metric's severity, re-alerting every 5
                                   minutes while it stays triggered (guide 6.3's rearm).
  - `<name>-<metric>-permissions`  databricks.Permissions: viewers CAN_READ, managers CAN_MANAGE.

Metrics: failed-updates (P1), availability (P1), processing-lag (P2), expectation-pass-rate,
drop-rate, cpu-utilization, memory-utilization (P3), dbu-budget (P4, when a budget is set).
Each alert's description states its severity, response time and runbook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as databricks

from components.access import access_controls, run_as
from monitoring import queries
from monitoring.queries import PipelineRef
from settings.models import PauseStatus, Severity, Thresholds

RETRIGGER_SECONDS = 300  # guide 6.3: rearm after 5 minutes while still failing


@dataclass(frozen=True)
class Metric:
    id: str
    title: str
    column: str
    """The query's single output column the alert evaluates."""
    operator: str
    severity: Severity
    runbook: str


# Guide 6.1, with the query that measures each metric and the threshold setting it is held to.
PIPELINE_METRICS: tuple[tuple[Metric, Callable[[PipelineRef], str], Callable[[Thresholds], float]], ...] = (
    (
        Metric(
            "failed-updates",
            "pipeline updates failed",
            "failed_updates",
            "GREATER_THAN",
            Severity.P1,
            "pipeline-failure.md",
        ),
        queries.failed_updates,
        lambda t: t.failed_updates,
    ),
    (
        Metric(
            "availability", "availability below objective", "availability", "LESS_THAN", Severity.P1, "availability.md"
        ),
        queries.availability,
        lambda t: t.availability,
    ),
    (
        Metric(
            "processing-lag",
            "processing lag above objective",
            "lag_minutes",
            "GREATER_THAN",
            Severity.P2,
            "processing-lag.md",
        ),
        queries.processing_lag_minutes,
        lambda t: t.processing_lag_minutes,
    ),
    (
        Metric(
            "expectation-pass-rate",
            "expectation pass rate low",
            "pass_rate",
            "LESS_THAN",
            Severity.P3,
            "data-quality.md",
        ),
        queries.expectation_pass_rate,
        lambda t: t.expectation_pass_rate,
    ),
    (
        Metric("drop-rate", "too many records dropped", "drop_rate", "GREATER_THAN", Severity.P3, "data-quality.md"),
        queries.drop_rate,
        lambda t: t.drop_rate,
    ),
    (
        Metric("cpu-utilization", "CPU saturated", "cpu_percent", "GREATER_THAN", Severity.P3, "resource-pressure.md"),
        queries.cpu_utilization,
        lambda t: t.cpu_percent,
    ),
    (
        Metric(
            "memory-utilization",
            "memory pressure",
            "memory_percent",
            "GREATER_THAN",
            Severity.P3,
            "resource-pressure.md",
        ),
        queries.memory_utilization,
        lambda t: t.memory_percent,
    ),
)
DBU_BUDGET = Metric(
    "dbu-budget", "DBU spend over daily budget", "list_cost_usd", "GREATER_THAN", Severity.P4, "cost-overrun.md"
)


@dataclass(frozen=True)
class PipelineAlertsArgs:
    pipeline: PipelineRef
    display_name: str
    """Physical pipeline name, shown in every alert's title."""
    warehouse_id: str
    cron: str
    timezone: str
    pause_status: PauseStatus
    thresholds: Thresholds = field(default_factory=Thresholds)
    subscriptions: Mapping[Severity, Sequence[pulumi.Input[str]]] = field(default_factory=dict)
    """Notification destination ids per severity; a severity without any is muted."""
    daily_budget_usd: float | None = None
    cost_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags that attribute billing usage to this pipeline (for the DBU-over-budget alert)."""
    runbook_base_url: str = "docs/runbooks/"
    run_as: str | None = None
    viewers: Sequence[str] = ()
    managers: Sequence[str] = ()


class PipelineAlerts(pulumi.ComponentResource):
    alerts: dict[str, databricks.AlertV2]

    def __init__(self, name: str, args: PipelineAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakeflow:index:PipelineAlerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan = [(m, query(args.pipeline), threshold(args.thresholds)) for m, query, threshold in PIPELINE_METRICS]
        if args.daily_budget_usd is not None:
            plan.append((DBU_BUDGET, queries.cost_dollars(args.cost_tags, "day"), args.daily_budget_usd))

        acl = access_controls([("CAN_READ", args.viewers), ("CAN_MANAGE", args.managers)])
        self.alerts = {}
        for metric, sql, threshold in plan:
            alert = databricks.AlertV2(
                f"{name}-{metric.id}",
                display_name=f"[{metric.severity}] {args.display_name}: {metric.title}",
                custom_description=(
                    f"Severity {metric.severity} (respond within {metric.severity.response_time}). "
                    f"Runbook: {args.runbook_base_url}{metric.runbook}"
                ),
                # No data yet (NULL: no expectations, no finished update) is no incident: it
                # becomes an empty result, which `empty_result_state` maps to OK.
                query_text=f"SELECT * FROM (\n{sql}\n) AS measured\nWHERE {metric.column} IS NOT NULL",
                warehouse_id=args.warehouse_id,
                schedule=databricks.AlertV2ScheduleArgs(
                    quartz_cron_schedule=args.cron, timezone_id=args.timezone, pause_status=args.pause_status.value
                ),
                evaluation=databricks.AlertV2EvaluationArgs(
                    source=databricks.AlertV2EvaluationSourceArgs(name=metric.column),
                    comparison_operator=metric.operator,
                    threshold=databricks.AlertV2EvaluationThresholdArgs(
                        value=databricks.AlertV2EvaluationThresholdValueArgs(double_value=float(threshold))
                    ),
                    # No rows (no updates yet, no expectations) is not an incident.
                    empty_result_state="OK",
                    notification=databricks.AlertV2EvaluationNotificationArgs(
                        subscriptions=[
                            databricks.AlertV2EvaluationNotificationSubscriptionArgs(destination_id=d)
                            for d in args.subscriptions.get(metric.severity, ())
                        ]
                        or None,
                        retrigger_seconds=RETRIGGER_SECONDS,
                        notify_on_ok=True,
                    ),
                ),
                run_as=run_as(args.run_as, databricks.AlertV2RunAsArgs),
                opts=child,
            )
            self.alerts[metric.id] = alert
            if acl:
                databricks.Permissions(
                    f"{name}-{metric.id}-permissions", alert_v2_id=alert.id, access_controls=acl, opts=child
                )
        self.register_outputs({k: a.id for k, a in self.alerts.items()})
