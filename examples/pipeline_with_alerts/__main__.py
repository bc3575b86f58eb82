"""One pipeline, the job that runs it every morning, and the alerts that watch its event log:
the lakeflow components used as a library, with no pipeline files and no lakeflow.config."""

import pulumi

from lakeflow.components import DltPipeline, PauseStatus, PipelineAlerts, PipelineSchedule

pipeline = DltPipeline(
    "orders",
    {
        "name": "orders_pipeline",
        "catalog": "main",
        "schema": "orders",
        "libraries": [{"glob": {"include": "/Workspace/Shared/orders/transformations/**"}}],
        "serverless": True,
        "event_log": {"catalog": "main", "schema": "orders", "name": "orders_event_log"},
    },
)
schedule = PipelineSchedule(
    "orders-schedule",
    {
        "job_name": "orders_pipeline_schedule",
        "task_key": "orders",
        "pipeline_id": pipeline.pipeline_id,
        "schedule": {"cron": "0 0 6 * * ?", "timezone": "Europe/Berlin"},
        "pause_status": PauseStatus.UNPAUSED,
        "failure_emails": ["data-oncall@example.com"],
    },
)
alerts = PipelineAlerts(
    "orders-alerts",
    {
        "display_name": "orders",
        "environment": "dev",
        "pipelines": [{"name": "orders", "event_log": "main.orders.orders_event_log", "serverless": True}],
        "settings": {
            "warehouse_id": "1234567890abcdef",
            "cron": "0 */5 * * * ?",
            "timezone": "UTC",
            "pause_status": "UNPAUSED",
        },
        "scope": "pipeline",
    },
)
pulumi.export("pipeline_id", pipeline.pipeline_id)
pulumi.export("job_id", schedule.job_id)
