"""The program: turn one stack's settings into components. `__main__.py` and the offline plan
both call `build`, so what the tests see is what `pulumi up` deploys."""

from __future__ import annotations

import pulumi

from components import (
    AlertRouting,
    AlertRoutingArgs,
    DltPipeline,
    DltPipelineArgs,
    MonitoringDashboard,
    MonitoringDashboardArgs,
    PipelineAlerts,
    PipelineAlertsArgs,
    PipelineSchedule,
    PipelineScheduleArgs,
    UpstreamPipeline,
)
from monitoring.queries import PipelineRef
from settings.loader import StackSettings
from settings.models import FAILURE_ALERTS, Mode, Notification, Severity
from stack.naming import physical_name, pipeline_tags

DASHBOARD_FOLDER = "/Shared/lakeflow"


def build(settings: StackSettings) -> dict[str, DltPipeline]:
    cfg = settings.config
    routing = AlertRouting(
        "alert-routing",
        AlertRoutingArgs(
            display_prefix=physical_name(cfg, "lakeflow"),
            emails=cfg.alert_emails,
            slack_webhook_url=cfg.slack_webhook_url,
            pagerduty_integration_key=cfg.pagerduty_integration_key,
            webhook_url=cfg.webhook_url,
            routes={s: cfg.route(s) for s in Severity},
        ),
    )
    # Pipeline notifications only take email addresses: the stack's failure list plus the P1 route's.
    failure_emails = list(dict.fromkeys([*cfg.failure_emails, *routing.emails(Severity.P1)]))
    failure_notifications = (
        [Notification(email_recipients=failure_emails, alerts=list(FAILURE_ALERTS))] if failure_emails else []
    )

    pipelines: dict[str, DltPipeline] = {}
    for spec in settings.pipelines:
        pipelines[spec.name] = DltPipeline(
            spec.name,
            DltPipelineArgs(
                name=physical_name(cfg, spec.name),
                catalog=spec.catalog,
                schema=spec.schema_name,
                libraries=spec.libraries,
                development=spec.development if spec.development is not None else cfg.mode is Mode.DEVELOPMENT,
                continuous=spec.continuous,
                photon=spec.photon,
                serverless=spec.serverless,
                channel=spec.channel,
                edition=spec.edition,
                clusters=spec.clusters,
                configuration=spec.configuration,
                notifications=[*failure_notifications, *spec.notifications],
                run_as=cfg.run_as,
                tags=pipeline_tags(cfg, spec),
                viewers=[*cfg.viewers, *spec.viewers],
                runners=[*cfg.runners, *spec.runners],
                managers=[*cfg.managers, *spec.managers],
                event_log=spec.event_log_table,
            ),
            # Pipelines own their tables: a protected pipeline cannot be deleted or replaced.
            opts=pulumi.ResourceOptions(protect=cfg.protect),
        )

    schedules: dict[str, PipelineSchedule] = {}
    for spec in settings.pipelines:
        if spec.schedule is None:
            continue
        schedules[spec.name] = PipelineSchedule(
            spec.name,
            PipelineScheduleArgs(
                job_name=physical_name(cfg, spec.name, "schedule"),
                task_key=spec.name,
                pipeline_id=pipelines[spec.name].pipeline_id,
                schedule=spec.schedule,
                pause_status=cfg.schedule_pause_status,
                timezone=cfg.timezone,
                upstream=[UpstreamPipeline(u, pipelines[u].pipeline_id) for u in spec.schedule.after],
                failure_emails=failure_emails,
                run_as=cfg.run_as,
                tags=pipeline_tags(cfg, spec),
                viewers=[*cfg.viewers, *spec.viewers],
                runners=[*cfg.runners, *spec.runners],
                managers=[*cfg.managers, *spec.managers],
                failure_destinations=routing.destination_ids(Severity.P1),
                max_run_minutes=spec.monitoring.latency_objective_minutes,
                streaming_backlog_seconds=spec.monitoring.streaming_backlog_seconds,
            ),
        )

    refs = {
        spec.name: PipelineRef(spec.name, cfg.environment, ".".join(spec.event_log_table))
        for spec in settings.pipelines
    }
    for spec in settings.pipelines:
        PipelineAlerts(
            spec.name,
            PipelineAlertsArgs(
                pipeline=refs[spec.name],
                display_name=physical_name(cfg, spec.name),
                warehouse_id=cfg.warehouse_id,
                cron=cfg.alert_cron,
                timezone=cfg.timezone,
                pause_status=cfg.schedule_pause_status,
                thresholds=spec.monitoring.thresholds,
                subscriptions={s: routing.destination_ids(s) for s in Severity},
                daily_budget_usd=spec.monitoring.daily_budget_usd,
                cost_tags={"Environment": cfg.environment, "Pipeline": spec.name},
                runbook_base_url=cfg.runbook_base_url,
                run_as=cfg.run_as,
                viewers=[*cfg.viewers, *spec.viewers],
                managers=[*cfg.managers, *spec.managers],
            ),
        )
    dashboard = MonitoringDashboard(
        "monitoring",
        MonitoringDashboardArgs(
            display_name=f"{physical_name(cfg, 'pipelines')} monitoring",
            parent_path=DASHBOARD_FOLDER,
            warehouse_id=cfg.warehouse_id,
            environment=cfg.environment,
            pipelines=list(refs.values()),
            viewers=cfg.viewers,
            managers=cfg.managers,
        ),
    )
    pulumi.export("dashboard_id", dashboard.dashboard.id)

    pulumi.export(
        "pipelines",
        {
            name: {
                "id": p.pipeline_id,
                "name": physical_name(cfg, name),
                "url": p.url,
                "job_id": schedules[name].job_id if name in schedules else None,
            }
            for name, p in pipelines.items()
        },
    )
    return pipelines
