"""`PipelineSchedule`: the Databricks Job that starts a triggered pipeline (guide 5.3).

Children:
  - `<name>-job`          databricks.Job: one pipeline task, or, for a dependent schedule, one task
                          per upstream pipeline followed by this pipeline's task (depends_on all).
                          Triggered by a Quartz cron schedule or by file arrival. One run at a time,
                          retries, failure emails and destinations, health rules (run duration
                          above the latency objective, streaming backlog).
  - `<name>-job-permissions`  databricks.Permissions on the job, when any are given.

Continuous pipelines have no schedule: they are always running.

Outputs: `job_id`, `url`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls, check_webhook_cap, run_as
from lakeflow.components.types import TABLE_TRIGGER_CONDITION, TABLE_TRIGGER_SETTLE_SECONDS, PauseStatus
from lakeflow.config.models import Schedule


@dataclass(frozen=True)
class UpstreamPipeline:
    task_key: str
    pipeline_id: pulumi.Input[str]


@dataclass(frozen=True)
class PipelineScheduleArgs:
    job_name: str
    """Physical job name in the workspace."""
    task_key: str
    """Task key of the pipeline's own task (its logical name)."""
    pipeline_id: pulumi.Input[str]
    schedule: Schedule
    """Trigger (cron or file arrival), retries and timeout."""
    pause_status: PauseStatus
    timezone: str = "UTC"
    """Used when the schedule names none."""
    upstream: Sequence[UpstreamPipeline] = ()
    """Pipelines run first, in this job, for a dependent schedule (those without a job of their own)."""
    upstream_tables: Sequence[str] = ()
    """`catalog.schema.table`s of upstream pipelines that have jobs of their own: a schedule with
    neither cron nor file arrival starts when these have been updated."""
    failure_emails: Sequence[str] = ()
    run_as: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    viewers: Sequence[str] = ()
    runners: Sequence[str] = ()
    managers: Sequence[str] = ()
    failure_destinations: Sequence[pulumi.Input[str]] = ()
    """Notification destination ids told when a run fails (the P1 route), not email
    (`failure_emails`); at most 3, the Jobs API's limit."""
    max_run_minutes: int | None = None
    """Health rule: a run longer than this (the pipeline's latency objective) is unhealthy."""
    streaming_backlog_seconds: int | None = None
    """Health rule on streaming backlog."""
    budget_policy_id: pulumi.Input[str] | None = None
    """The serverless pipeline's budget policy, so the job's usage is attributed alike."""

    def __post_init__(self) -> None:
        if self.task_key in {u.task_key for u in self.upstream}:
            raise ValueError(f"PipelineSchedule {self.job_name!r}: the pipeline cannot be its own upstream")
        triggered_by_tables = self.schedule.cron is None and self.schedule.file_arrival is None
        if triggered_by_tables != bool(self.upstream_tables):
            raise ValueError(
                f"PipelineSchedule {self.job_name!r}: upstream tables trigger a schedule without cron or file "
                "arrival, and only that"
            )
        check_webhook_cap(f"PipelineSchedule {self.job_name!r}", self.failure_destinations)


class PipelineSchedule(pulumi.ComponentResource):
    job: databricks.Job
    permissions: databricks.Permissions | None
    job_id: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: PipelineScheduleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakeflow:index:PipelineSchedule", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.schedule
        pause = (s.pause_status or args.pause_status).value

        health = [
            databricks.JobHealthRuleArgs(metric=metric, op="GREATER_THAN", value=value)
            for metric, value in (
                ("RUN_DURATION_SECONDS", args.max_run_minutes * 60 if args.max_run_minutes else None),
                ("STREAMING_BACKLOG_SECONDS", args.streaming_backlog_seconds),
            )
            if value is not None
        ]
        upstream_tasks = [self._task(u.task_key, u.pipeline_id, s) for u in args.upstream]
        own_task = self._task(args.task_key, args.pipeline_id, s, after=[u.task_key for u in args.upstream])

        self.job = databricks.Job(
            f"{name}-job",
            name=args.job_name,
            tasks=[*upstream_tasks, own_task],
            # A pipeline allows one update at a time; a second run would only fail.
            max_concurrent_runs=1,
            schedule=databricks.JobScheduleArgs(
                quartz_cron_expression=s.cron, timezone_id=s.timezone or args.timezone, pause_status=pause
            )
            if s.cron
            else None,
            trigger=_trigger(s, pause, args.upstream_tables),
            email_notifications=databricks.JobEmailNotificationsArgs(on_failures=list(args.failure_emails))
            if args.failure_emails
            else None,
            webhook_notifications=databricks.JobWebhookNotificationsArgs(
                on_failures=[databricks.JobWebhookNotificationsOnFailureArgs(id=d) for d in args.failure_destinations],
                on_duration_warning_threshold_exceededs=[
                    databricks.JobWebhookNotificationsOnDurationWarningThresholdExceededArgs(id=d)
                    for d in args.failure_destinations
                ]
                if health
                else None,
            )
            if args.failure_destinations
            else None,
            health=databricks.JobHealthArgs(rules=health) if health else None,
            run_as=run_as(args.run_as, databricks.JobRunAsArgs),
            tags=dict(args.tags) or None,
            budget_policy_id=args.budget_policy_id,
            opts=child,
        )
        self.job_id = self.job.id
        self.url = self.job.url

        acl = access_controls(
            [("CAN_VIEW", args.viewers), ("CAN_MANAGE_RUN", args.runners), ("CAN_MANAGE", args.managers)]
        )
        self.permissions = (
            databricks.Permissions(f"{name}-job-permissions", job_id=self.job.id, access_controls=acl, opts=child)
            if acl
            else None
        )

        self.register_outputs({"job_id": self.job_id, "url": self.url})

    @staticmethod
    def _task(
        key: str, pipeline_id: pulumi.Input[str], s: Schedule, after: Sequence[str] = ()
    ) -> databricks.JobTaskArgs:
        return databricks.JobTaskArgs(
            task_key=key,
            pipeline_task=databricks.JobTaskPipelineTaskArgs(pipeline_id=pipeline_id, full_refresh=s.full_refresh),
            depends_ons=[databricks.JobTaskDependsOnArgs(task_key=k) for k in after] or None,
            max_retries=s.max_retries,
            min_retry_interval_millis=s.min_retry_interval_seconds * 1000,
            retry_on_timeout=s.max_retries > 0,
            timeout_seconds=s.timeout_seconds,
        )


def _trigger(s: Schedule, pause: str, upstream_tables: Sequence[str]) -> databricks.JobTriggerArgs | None:
    if s.file_arrival:
        return databricks.JobTriggerArgs(
            pause_status=pause,
            file_arrival=databricks.JobTriggerFileArrivalArgs(
                url=s.file_arrival.url,
                min_time_between_triggers_seconds=s.file_arrival.min_time_between_triggers_seconds,
                wait_after_last_change_seconds=s.file_arrival.wait_after_last_change_seconds,
            ),
        )
    if upstream_tables:
        return databricks.JobTriggerArgs(
            pause_status=pause,
            table_update=databricks.JobTriggerTableUpdateArgs(
                table_names=list(upstream_tables),
                condition=TABLE_TRIGGER_CONDITION,
                wait_after_last_change_seconds=TABLE_TRIGGER_SETTLE_SECONDS,
            ),
        )
    return None
