"""The metric catalog of guide 6.1: each metric's query, the column it measures, the threshold
setting it is held to, which side of it is a breach, its severity and its runbook. The one place
these are written: `PipelineAlerts` and `CostAlerts` build their alerts from it and `make health`
judges by it. Imports neither Pulumi nor the provider, so a command that only judges stays quick
to start."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypedDict

from lakeflow.components.types import Severity
from lakeflow.sql import queries
from lakeflow.sql.queries import PipelineRef


@dataclass(frozen=True)
class Metric:
    id: str
    title: str
    column: str
    """The measurement's column."""
    operator: str
    """How the measurement compares with its threshold to be a breach (GREATER_THAN, LESS_THAN)."""
    severity: Severity
    runbook: str


@dataclass(frozen=True)
class AlertThresholds:
    """Guide 6.1's alert thresholds of one pipeline (the config's `monitoring.thresholds`, with the
    processing-lag allowance of a scheduled pipeline already added)."""

    failed_updates: int
    """Failed updates in the last hour above this: P1."""
    processing_lag_minutes: int
    """Minutes since the last successful update above this: P2."""
    expectation_pass_rate: float
    """Share of records passing expectations below this: P3."""
    drop_rate: float
    """Share of records dropped above this: P3."""
    availability: float
    """Share of successful updates (continuous: of time up) below this: P1."""
    cpu_percent: float
    """Average CPU of the pipeline's clusters above this: P3."""
    memory_percent: float
    """Average memory of the pipeline's clusters above this: P3."""


GUIDE_THRESHOLDS = AlertThresholds(
    failed_updates=0,
    processing_lag_minutes=60,
    expectation_pass_rate=0.95,
    drop_rate=0.05,
    availability=0.995,
    cpu_percent=90,
    memory_percent=85,
)
"""Guide 6.1's defaults, for a watched pipeline given no thresholds."""


class AlertThresholdsDict(TypedDict):
    failed_updates: int
    processing_lag_minutes: int
    expectation_pass_rate: float
    drop_rate: float
    availability: float
    cpu_percent: float
    memory_percent: float


# Guide 6.1, with the query that measures each metric and the threshold setting it is held to.
PIPELINE_METRICS: tuple[tuple[Metric, Callable[[PipelineRef], str], Callable[[AlertThresholds], float]], ...] = (
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
# Data-quality metrics: only pipelines whose edition has expectations (ADVANCED; serverless
# pipelines have every feature) write them to the event log.
EXPECTATION_METRICS = frozenset({"expectation-pass-rate", "drop-rate"})
# Measured from `system.compute.node_timeline`, which has no rows for serverless compute.
CLUSTER_METRICS: Mapping[str, Literal["cpu", "memory"]] = {"cpu-utilization": "cpu", "memory-utilization": "memory"}
DAILY_COST = Metric(
    "daily-cost", "spend over the daily limit", "list_cost_usd", "GREATER_THAN", Severity.P4, "cost-overrun.md"
)
MONTHLY_COST = Metric(
    "monthly-cost", "month-to-date spend over budget", "list_cost_usd", "GREATER_THAN", Severity.P3, "cost-overrun.md"
)
