"""Pulumi component resources, one per file. Each takes a typed `…Args`, parents every child to
itself, derives child names from its own name, and inherits providers from the caller."""

from lakeflow.components.alert_routing import AlertRouting, AlertRoutingArgs
from lakeflow.components.dlt_pipeline import DltPipeline, DltPipelineArgs
from lakeflow.components.monitoring_dashboard import MonitoringDashboard, MonitoringDashboardArgs
from lakeflow.components.pipeline_alerts import PipelineAlerts, PipelineAlertsArgs, WatchedPipeline
from lakeflow.components.pipeline_schedule import PipelineSchedule, PipelineScheduleArgs, UpstreamPipeline

__all__ = [
    "AlertRouting",
    "AlertRoutingArgs",
    "DltPipeline",
    "DltPipelineArgs",
    "MonitoringDashboard",
    "MonitoringDashboardArgs",
    "PipelineAlerts",
    "PipelineAlertsArgs",
    "PipelineSchedule",
    "PipelineScheduleArgs",
    "UpstreamPipeline",
    "WatchedPipeline",
]
