"""`python bench/bare_program.py N`: the baseline of the offline-plan benchmark.

A bare Pulumi program, as someone would write it without this project: for each of the N
benchmark pipelines (bench/workload.py) it registers one `databricks.Pipeline` and, when the
pipeline is scheduled, one `databricks.Job` running it, with the same inputs the real tool
gives them. No components, no permissions, no YAML, no validation, no recording: Pulumi's stock
`MockMonitor` with preview-style mocks (no ids, inputs echoed as state, like
`lakeflow.offline.recorder._PreviewMocks`), waited for the same way `lakeflow.offline.recorder.record` waits.

Inputs that the tool takes from resources of its own (the serverless budget policy, the alert
notification destinations) are literal ids here: same shape on the wire, no extra resources.

What the tool costs on top of this — reading and validating files, components, permissions,
input checks, the recorded plan and its rendering — is what the benchmark measures.
"""

from __future__ import annotations

import sys
from typing import Any

import pulumi
import pulumi_databricks as databricks
import workload
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT, STACK = "lakeflow", "bench"
FAILURE_ALERTS = ["on-update-failure", "on-update-fatal-failure", "on-flow-failure"]
BUDGET_POLICY_ID = "bench-serverless-budget-policy"
P1_DESTINATION_IDS = ["bench-pagerduty-destination", "bench-slack-destination"]
RUN_DURATION_LIMIT_SECONDS = 3600  # the default latency objective, 60 minutes


class PreviewMocks(pulumi.runtime.Mocks):
    """A preview: the provider computes nothing, so ids are unknown and state is the inputs."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        return "", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        raise RuntimeError(f"the baseline calls no provider functions: {args.token}")


def tags(name: str) -> dict[str, str]:
    return {
        "Environment": workload.ENVIRONMENT,
        "Team": workload.TEAM,
        "CostCenter": workload.COST_CENTER,
        "Pipeline": name,
    }


def register_pipeline(doc: dict[str, Any]) -> databricks.Pipeline:
    name, serverless = doc["name"], doc.get("serverless", False)
    catalog, schema = doc["target"].split(".")
    return databricks.Pipeline(
        f"{name}-pipeline",
        name=f"{workload.ENVIRONMENT}_{name}",
        catalog=catalog,
        schema=schema,
        development=False,
        continuous=doc["continuous"],
        photon=doc["photon"],
        serverless=serverless or None,
        channel=doc["channel"],
        edition=None if serverless else doc["edition"],
        clusters=[
            databricks.PipelineClusterArgs(
                label=c["label"],
                autoscale=databricks.PipelineClusterAutoscaleArgs(**c["autoscale"]),
                spark_conf=c.get("spark_conf"),
                custom_tags={**tags(name), **c.get("custom_tags", {})},
            )
            for c in doc.get("clusters", [])
        ]
        or None,
        libraries=[
            databricks.PipelineLibraryArgs(
                notebook=databricks.PipelineLibraryNotebookArgs(**lib["notebook"]) if "notebook" in lib else None,
                file=databricks.PipelineLibraryFileArgs(**lib["file"]) if "file" in lib else None,
                glob=databricks.PipelineLibraryGlobArgs(**lib["glob"]) if "glob" in lib else None,
            )
            for lib in doc["libraries"]
        ],
        configuration=doc["configuration"],
        notifications=[
            databricks.PipelineNotificationArgs(email_recipients=list(workload.FAILURE_EMAILS), alerts=FAILURE_ALERTS)
        ],
        run_as=databricks.PipelineRunAsArgs(service_principal_name=workload.RUN_AS.removeprefix("sp:")),
        tags=tags(name),
        event_log=databricks.PipelineEventLogArgs(catalog=catalog, schema=schema, name=f"{name}_event_log"),
        budget_policy_id=BUDGET_POLICY_ID if serverless else None,
    )


def register_job(doc: dict[str, Any], pipelines: dict[str, databricks.Pipeline]) -> databricks.Job:
    name, schedule = doc["name"], doc["schedule"]
    retries = schedule.get("max_retries", 2)
    upstream = schedule.get("after", [])

    def task(key: str, after: list[str]) -> databricks.JobTaskArgs:
        return databricks.JobTaskArgs(
            task_key=key,
            pipeline_task=databricks.JobTaskPipelineTaskArgs(pipeline_id=pipelines[key].id, full_refresh=False),
            depends_ons=[databricks.JobTaskDependsOnArgs(task_key=k) for k in after] or None,
            max_retries=retries,
            min_retry_interval_millis=300_000,
            retry_on_timeout=retries > 0,
        )

    arrival = schedule.get("file_arrival")
    return databricks.Job(
        f"{name}-job",
        name=f"{workload.ENVIRONMENT}_{name}_schedule",
        tasks=[*(task(u, []) for u in upstream), task(name, upstream)],
        max_concurrent_runs=1,
        schedule=databricks.JobScheduleArgs(
            quartz_cron_expression=schedule["cron"],
            timezone_id=schedule.get("timezone", workload.TIMEZONE),
            pause_status="UNPAUSED",
        )
        if "cron" in schedule
        else None,
        trigger=databricks.JobTriggerArgs(
            pause_status="UNPAUSED", file_arrival=databricks.JobTriggerFileArrivalArgs(**arrival)
        )
        if arrival
        else None,
        email_notifications=databricks.JobEmailNotificationsArgs(on_failures=list(workload.FAILURE_EMAILS)),
        webhook_notifications=databricks.JobWebhookNotificationsArgs(
            on_failures=[databricks.JobWebhookNotificationsOnFailureArgs(id=d) for d in P1_DESTINATION_IDS],
            on_duration_warning_threshold_exceededs=[
                databricks.JobWebhookNotificationsOnDurationWarningThresholdExceededArgs(id=d)
                for d in P1_DESTINATION_IDS
            ],
        ),
        health=databricks.JobHealthArgs(
            rules=[
                databricks.JobHealthRuleArgs(
                    metric="RUN_DURATION_SECONDS", op="GREATER_THAN", value=RUN_DURATION_LIMIT_SECONDS
                )
            ]
        ),
        budget_policy_id=BUDGET_POLICY_ID if doc.get("serverless") else None,
        run_as=databricks.JobRunAsArgs(service_principal_name=workload.RUN_AS.removeprefix("sp:")),
        tags=tags(name),
    )


def main(n: int) -> None:
    docs = [workload.pipeline_doc(i, placeholders=False) for i in range(n)]

    def program() -> None:
        pipelines = {doc["name"]: register_pipeline(doc) for doc in docs}
        for doc in docs:
            if "schedule" in doc:
                register_job(doc, pipelines)

    pulumi.runtime.set_mocks(PreviewMocks(), project=PROJECT, stack=STACK, preview=True)
    _sync_await(run_pulumi_func(program))


if __name__ == "__main__":
    main(int(sys.argv[1]))
