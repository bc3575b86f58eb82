"""Monitoring: Databricks SQL for per-pipeline alerts and the stack dashboard (see `monitoring.queries`)."""

from monitoring.queries import (
    PipelineRef,
    availability,
    cost_dollars,
    cpu_utilization,
    data_quality_trend,
    dbu_by_pipeline,
    drop_rate,
    execution_summary,
    expectation_pass_rate,
    failed_updates,
    latency_by_table,
    memory_utilization,
    processing_lag_minutes,
)

__all__ = [
    "PipelineRef",
    "availability",
    "cost_dollars",
    "cpu_utilization",
    "data_quality_trend",
    "dbu_by_pipeline",
    "drop_rate",
    "execution_summary",
    "expectation_pass_rate",
    "failed_updates",
    "latency_by_table",
    "memory_utilization",
    "processing_lag_minutes",
]
