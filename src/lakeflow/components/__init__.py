"""Pulumi component resources, one per file. Each takes a typed `…Args`, parents every child to
itself, derives child names from its own name, and inherits providers from the caller.

The names below are imported on first use (PEP 562), so `lakeflow.components.types` loads alone.
"""

# ruff: noqa: F401  (the TYPE_CHECKING imports below are the exports, for type checkers)
from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AlertFolder": "alerting",
    "AlertFolderArgs": "alerting",
    "AlertFolderArgsDict": "alerting",
    "AlertRouting": "alert_routing",
    "AlertRoutingArgs": "alert_routing",
    "AlertRoutingArgsDict": "alert_routing",
    "AlertScope": "pipeline_alerts",
    "AlertSettings": "alerting",
    "AlertSettingsDict": "alerting",
    "AlertThresholds": "metrics",
    "AlertThresholdsDict": "metrics",
    "BlueGreenPipeline": "blue_green",
    "BlueGreenPipelineArgs": "blue_green",
    "BlueGreenPipelineArgsDict": "blue_green",
    "Channel": "types",
    "Cloud": "types",
    "CostAlerts": "cost_alerts",
    "CostAlertsArgs": "cost_alerts",
    "CostAlertsArgsDict": "cost_alerts",
    "CostGuardrails": "cost_guardrails",
    "CostGuardrailsArgs": "cost_guardrails",
    "CostGuardrailsArgsDict": "cost_guardrails",
    "DashboardPipeline": "monitoring_dashboard",
    "DashboardPipelineDict": "monitoring_dashboard",
    "DestinationKind": "types",
    "DltPipeline": "dlt_pipeline",
    "DltPipelineArgs": "dlt_pipeline",
    "DltPipelineArgsDict": "dlt_pipeline",
    "Edition": "types",
    "EventLogTable": "types",
    "EventLogTableDict": "dlt_pipeline",
    "FileArrivalArgs": "pipeline_schedule",
    "FileArrivalArgsDict": "pipeline_schedule",
    "MonitoringDashboard": "monitoring_dashboard",
    "MonitoringDashboardArgs": "monitoring_dashboard",
    "MonitoringDashboardArgsDict": "monitoring_dashboard",
    "PauseStatus": "types",
    "PipelineAlerts": "pipeline_alerts",
    "PipelineAlertsArgs": "pipeline_alerts",
    "PipelineAlertsArgsDict": "pipeline_alerts",
    "PipelineCost": "cost_guardrails",
    "PipelineCostDict": "cost_guardrails",
    "PipelineSchedule": "pipeline_schedule",
    "PipelineScheduleArgs": "pipeline_schedule",
    "PipelineScheduleArgsDict": "pipeline_schedule",
    "PipelineSnapshots": "disaster_recovery",
    "PipelineSnapshotsArgs": "disaster_recovery",
    "PipelineSnapshotsArgsDict": "disaster_recovery",
    "ScheduleArgs": "pipeline_schedule",
    "ScheduleArgsDict": "pipeline_schedule",
    "Severity": "types",
    "SlotArgs": "blue_green",
    "SlotArgsDict": "blue_green",
    "SnapshotSchema": "disaster_recovery",
    "SnapshotSchemaDict": "disaster_recovery",
    "SnapshotStore": "disaster_recovery",
    "SnapshotStoreArgs": "disaster_recovery",
    "SnapshotStoreArgsDict": "disaster_recovery",
    "SnapshotTask": "disaster_recovery",
    "SnapshotTaskDict": "disaster_recovery",
    "Tag": "types",
    "UpstreamPipeline": "pipeline_schedule",
    "UpstreamPipelineDict": "pipeline_schedule",
    "WatchedPipeline": "pipeline_alerts",
    "WatchedPipelineDict": "pipeline_alerts",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # what type checkers see: the same names, imported eagerly
    from lakeflow.components.alert_routing import AlertRouting, AlertRoutingArgs, AlertRoutingArgsDict
    from lakeflow.components.alerting import (
        AlertFolder,
        AlertFolderArgs,
        AlertFolderArgsDict,
        AlertSettings,
        AlertSettingsDict,
    )
    from lakeflow.components.blue_green import (
        BlueGreenPipeline,
        BlueGreenPipelineArgs,
        BlueGreenPipelineArgsDict,
        SlotArgs,
        SlotArgsDict,
    )
    from lakeflow.components.cost_alerts import CostAlerts, CostAlertsArgs, CostAlertsArgsDict
    from lakeflow.components.cost_guardrails import (
        CostGuardrails,
        CostGuardrailsArgs,
        CostGuardrailsArgsDict,
        PipelineCost,
        PipelineCostDict,
    )
    from lakeflow.components.disaster_recovery import (
        PipelineSnapshots,
        PipelineSnapshotsArgs,
        PipelineSnapshotsArgsDict,
        SnapshotSchema,
        SnapshotSchemaDict,
        SnapshotStore,
        SnapshotStoreArgs,
        SnapshotStoreArgsDict,
        SnapshotTask,
        SnapshotTaskDict,
    )
    from lakeflow.components.dlt_pipeline import DltPipeline, DltPipelineArgs, DltPipelineArgsDict, EventLogTableDict
    from lakeflow.components.metrics import AlertThresholds, AlertThresholdsDict
    from lakeflow.components.monitoring_dashboard import (
        DashboardPipeline,
        DashboardPipelineDict,
        MonitoringDashboard,
        MonitoringDashboardArgs,
        MonitoringDashboardArgsDict,
    )
    from lakeflow.components.pipeline_alerts import (
        AlertScope,
        PipelineAlerts,
        PipelineAlertsArgs,
        PipelineAlertsArgsDict,
        WatchedPipeline,
        WatchedPipelineDict,
    )
    from lakeflow.components.pipeline_schedule import (
        FileArrivalArgs,
        FileArrivalArgsDict,
        PipelineSchedule,
        PipelineScheduleArgs,
        PipelineScheduleArgsDict,
        ScheduleArgs,
        ScheduleArgsDict,
        UpstreamPipeline,
        UpstreamPipelineDict,
    )
    from lakeflow.components.types import (
        Channel,
        Cloud,
        DestinationKind,
        Edition,
        EventLogTable,
        PauseStatus,
        Severity,
        Tag,
    )


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
