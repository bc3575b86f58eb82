"""`PipelineAlerts`: every metric of guide 6.1 watched for one pipeline, as Databricks SQL alerts.

Children, one per metric (names fixed by metric id), see `components.alerting`:
  - `<name>-<metric>`  databricks.AlertV2, in the stack's alert folder, whose ACL it inherits
    (without a folder: its own `<name>-<metric>-permissions`)

Metrics: failed-updates (P1), availability (P1), processing-lag (P2), expectation-pass-rate,
drop-rate, cpu-utilization, memory-utilization (P3; only on classic compute: serverless compute
has no node records, so those two could never fire); and, when the pipeline has cost limits
(guide 11.3), daily-cost (P4) and monthly-cost (P3). Cost is no outage, so the guide's
"critical" monthly overrun is P3 here, not a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as databricks

from components.alerting import AlertSettings, Metric, register_alert
from monitoring import queries
from monitoring.queries import PipelineRef
from settings.models import Severity, Thresholds

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
# Measured from `system.compute.node_timeline`, which has no rows for serverless compute.
CLUSTER_METRICS = frozenset({"cpu-utilization", "memory-utilization"})
DAILY_COST = Metric(
    "daily-cost", "spend over the daily limit", "list_cost_usd", "GREATER_THAN", Severity.P4, "cost-overrun.md"
)
MONTHLY_COST = Metric(
    "monthly-cost", "month-to-date spend over budget", "list_cost_usd", "GREATER_THAN", Severity.P3, "cost-overrun.md"
)


@dataclass(frozen=True)
class PipelineAlertsArgs:
    pipeline: PipelineRef
    display_name: str
    """Physical pipeline name, shown in every alert's title."""
    settings: AlertSettings
    thresholds: Thresholds = field(default_factory=Thresholds)
    serverless: bool = False
    """No CPU or memory alerts: serverless compute reports no node metrics."""
    daily_limit_usd: int | None = None
    monthly_budget_usd: int | None = None
    cost_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags that attribute billing usage to this pipeline (for the cost alerts)."""

    def __post_init__(self) -> None:
        if (self.daily_limit_usd or self.monthly_budget_usd) and not self.cost_tags:
            raise ValueError(f"PipelineAlerts {self.display_name!r}: cost limits need cost_tags")


class PipelineAlerts(pulumi.ComponentResource):
    alerts: dict[str, databricks.AlertV2]

    def __init__(self, name: str, args: PipelineAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakeflow:index:PipelineAlerts", name, None, opts)
        plan = [
            (m, query(args.pipeline), threshold(args.thresholds))
            for m, query, threshold in PIPELINE_METRICS
            if not (args.serverless and m.id in CLUSTER_METRICS)
        ]
        if args.daily_limit_usd is not None:
            plan.append((DAILY_COST, queries.cost_dollars(args.cost_tags, "day"), args.daily_limit_usd))
        if args.monthly_budget_usd is not None:
            plan.append((MONTHLY_COST, queries.cost_dollars(args.cost_tags, "month"), args.monthly_budget_usd))
        self.alerts = {
            m.id: register_alert(f"{name}-{m.id}", args.display_name, m, sql, threshold, args.settings, self)
            for m, sql, threshold in plan
        }
        self.register_outputs({k: a.id for k, a in self.alerts.items()})
