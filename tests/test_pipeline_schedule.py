"""PipelineSchedule: the job that starts a triggered pipeline, for each approach of guide 5.3."""

from __future__ import annotations

import pulumi_databricks as databricks
import pytest

from lakeflow.components import PipelineSchedule, PipelineScheduleArgs, UpstreamPipeline
from lakeflow.components.pipeline_schedule import FileArrivalArgs, ScheduleArgs
from lakeflow.components.types import PauseStatus
from lakeflow.offline.recorder import record
from tests.conftest import by_type, resource

pytestmark = pytest.mark.plan


def run(schedule: ScheduleArgs, **overrides):
    def program() -> None:
        pipelines = {
            n: databricks.Pipeline(f"{n}-pipeline", name=n, catalog="c", schema="s")
            for n in ("sales", "orders", "customers")
        }
        base = dict(
            job_name="prod_customers_schedule",
            task_key="customers",
            pipeline_id=pipelines["customers"].id,
            schedule=schedule,
            pause_status=PauseStatus.UNPAUSED,
            timezone="Europe/Berlin",
            tags={"Environment": "prod", "Pipeline": "customers"},
        )
        if overrides.pop("upstream", False):
            overrides["upstream"] = [UpstreamPipeline(n, pipelines[n].id) for n in ("sales", "orders")]
        PipelineSchedule("customers", PipelineScheduleArgs(**{**base, **overrides}))

    plan = record("lakeflow", "test", {}, set(), program)
    assert plan.schema_errors == []
    return plan


def job_inputs(plan):
    return resource(plan, "Job", "customers-job")["inputs"]


def test_cron_schedule_one_run_at_a_time_with_retries():
    plan = run(
        ScheduleArgs(
            cron="0 0 */6 * * ?",
            timezone="America/New_York",
            max_retries=3,
            min_retry_interval_seconds=120,
            timeout_seconds=3600,
        )
    )
    job = resource(plan, "Job", "customers-job")
    assert job["parent"] == resource(plan, "PipelineSchedule", "customers")["urn"]
    inputs = job["inputs"]
    assert inputs["name"] == "prod_customers_schedule"
    assert inputs["maxConcurrentRuns"] == 1
    assert inputs["schedule"] == {
        "pauseStatus": "UNPAUSED",
        "quartzCronExpression": "0 0 */6 * * ?",
        "timezoneId": "America/New_York",
    }
    assert "trigger" not in inputs
    (task,) = inputs["tasks"]
    assert task["taskKey"] == "customers"
    assert task["pipelineTask"]["fullRefresh"] is False
    assert (task["maxRetries"], task["minRetryIntervalMillis"], task["timeoutSeconds"]) == (3, 120_000, 3600)
    assert task["retryOnTimeout"] is True
    assert inputs["tags"] == {"Environment": "prod", "Pipeline": "customers"}
    # The task points at the pipeline: the job depends on it.
    assert resource(plan, "Pipeline", "customers-pipeline")["urn"] in job["dependencies"]


def test_cron_without_timezone_uses_the_stack_timezone_and_schedule_may_pause_itself():
    inputs = job_inputs(run(ScheduleArgs(cron="0 0 1 * * ?", pause_status=PauseStatus.PAUSED)))
    assert inputs["schedule"]["timezoneId"] == "Europe/Berlin"
    assert inputs["schedule"]["pauseStatus"] == "PAUSED"


def test_file_arrival_trigger():
    inputs = job_inputs(
        run(
            ScheduleArgs(
                file_arrival=FileArrivalArgs(url="/Volumes/p/landing/in/", min_time_between_triggers_seconds=300)
            )
        )
    )
    assert "schedule" not in inputs
    assert inputs["trigger"] == {
        "fileArrival": {"minTimeBetweenTriggersSeconds": 300, "url": "/Volumes/p/landing/in/"},
        "pauseStatus": "UNPAUSED",
    }


def test_dependent_schedule_runs_upstream_pipelines_first():
    inputs = job_inputs(run(ScheduleArgs(cron="0 30 2 * * ?"), upstream=True))
    keys = [t["taskKey"] for t in inputs["tasks"]]
    assert keys == ["sales", "orders", "customers"]
    assert "dependsOns" not in inputs["tasks"][0]
    assert inputs["tasks"][2]["dependsOns"] == [{"taskKey": "sales"}, {"taskKey": "orders"}]


def test_failure_emails_run_as_and_job_permissions():
    plan = run(
        ScheduleArgs(cron="0 0 1 * * ?"),
        failure_emails=["oncall@example.com"],
        run_as="sp:77",
        viewers=["group:analysts"],
        runners=["group:ops"],
        managers=["group:platform"],
    )
    inputs = job_inputs(plan)
    assert inputs["emailNotifications"] == {"onFailures": ["oncall@example.com"]}
    assert inputs["runAs"] == {"servicePrincipalName": "77"}
    acl = resource(plan, "Permissions", "customers-job-permissions")["inputs"]["accessControls"]
    assert {a["groupName"]: a["permissionLevel"] for a in acl} == {
        "analysts": "CAN_VIEW",
        "ops": "CAN_MANAGE_RUN",
        "platform": "CAN_MANAGE",
    }


def test_no_retries_means_no_retry_on_timeout_and_no_permissions_without_principals():
    plan = run(ScheduleArgs(cron="0 0 1 * * ?", max_retries=0))
    assert job_inputs(plan)["tasks"][0]["retryOnTimeout"] is False
    assert by_type(plan, "Permissions") == []


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ({"upstream": [UpstreamPipeline("a", "x")]}, "its own upstream"),
        ({"failure_destinations": ["d1", "d2", "d3", "d4"]}, "4 failure destinations; a job notifies at most 3"),
    ],
    ids=["own-upstream", "four-webhooks"],
)
def test_args_refuse_what_the_jobs_api_would(problem, message):
    with pytest.raises(ValueError, match=message):
        PipelineScheduleArgs(
            job_name="j",
            task_key="a",
            pipeline_id="x",
            schedule=ScheduleArgs(cron="0 0 1 * * ?"),
            pause_status=PauseStatus.PAUSED,
            **problem,
        )


def test_a_route_to_every_kind_notifies_jobs_by_email_and_three_webhooks(project):
    """A P1 route of email, Slack, PagerDuty and a webhook: the jobs' emails go in their email
    notifications, the other three in their webhook notifications (the Jobs API caps those at 3)."""
    project.edit_stack("prod", routeP1=["email", "slack", "pagerduty", "webhook"])
    plan = project.plan("prod")
    for job in by_type(plan, "Job"):
        if not job["name"].endswith("-job") or "snapshot" in job["name"]:
            continue
        inputs = job["inputs"]
        assert len(inputs["webhookNotifications"]["onFailures"]) == 3, job["name"]
        assert inputs["emailNotifications"]["onFailures"], job["name"]
