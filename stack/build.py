"""The program: turn one stack's settings into components. `__main__.py` and the offline plan
both call `build`, so what the tests see is what `pulumi up` deploys."""

from __future__ import annotations

import pulumi

from components import DltPipeline, DltPipelineArgs, PipelineSchedule, PipelineScheduleArgs, UpstreamPipeline
from settings.loader import StackSettings
from settings.models import FAILURE_ALERTS, Mode, Notification
from stack.naming import physical_name, pipeline_tags


def build(settings: StackSettings) -> dict[str, DltPipeline]:
    cfg = settings.config
    failure_notifications = (
        [Notification(email_recipients=cfg.failure_emails, alerts=list(FAILURE_ALERTS))] if cfg.failure_emails else []
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
                failure_emails=cfg.failure_emails,
                run_as=cfg.run_as,
                tags=pipeline_tags(cfg, spec),
                viewers=[*cfg.viewers, *spec.viewers],
                runners=[*cfg.runners, *spec.runners],
                managers=[*cfg.managers, *spec.managers],
            ),
        )

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
