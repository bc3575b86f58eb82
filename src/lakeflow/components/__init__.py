"""Pulumi component resources, one per file. Each takes a typed `…Args`, parents every child to
itself, derives child names from its own name, and inherits providers from the caller.

The names below are imported on first use (PEP 562), so `lakeflow.components.types` loads alone.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AlertRouting": "alert_routing",
    "AlertRoutingArgs": "alert_routing",
    "DltPipeline": "dlt_pipeline",
    "DltPipelineArgs": "dlt_pipeline",
    "MonitoringDashboard": "monitoring_dashboard",
    "MonitoringDashboardArgs": "monitoring_dashboard",
    "PipelineAlerts": "pipeline_alerts",
    "PipelineAlertsArgs": "pipeline_alerts",
    "WatchedPipeline": "pipeline_alerts",
    "PipelineSchedule": "pipeline_schedule",
    "PipelineScheduleArgs": "pipeline_schedule",
    "UpstreamPipeline": "pipeline_schedule",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
