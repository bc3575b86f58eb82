"""PipelineSnapshots, from its Args alone."""

import pulumi_databricks as databricks
import pytest

from lakeflow.components.disaster_recovery import PipelineSnapshots, PipelineSnapshotsArgs, SnapshotTask
from lakeflow.components.types import PauseStatus
from tests.components import plan_of, registrations
from tests.conftest import by_type, resource

pytestmark = pytest.mark.plan

SQL = "CREATE OR REPLACE TABLE prod_dr.sales.orders AS SELECT * FROM prod.sales.orders"
PLAIN = {
    "job_name": "prod_sales_dr_snapshot",
    "warehouse_id": "wh-1",
    "tasks": [{"table": "orders", "sql": SQL}],
    "cron": "0 */30 * * * ?",
    "timezone": "UTC",
    "pause_status": "UNPAUSED",
    "description": "snapshots of sales",
    "rpo_minutes": 30.0,
    "failure_emails": ["oncall@example.com"],
    "failure_destinations": ["dest-1"],
    "run_as": "sp:deployer",
    "tags": {"Environment": "prod"},
    "managers": ["group:platform-ops"],
    "max_retries": 1.0,
}


def typed_args(**overrides) -> PipelineSnapshotsArgs:
    base = dict(
        job_name="prod_sales_dr_snapshot",
        warehouse_id="wh-1",
        tasks=[SnapshotTask("orders", SQL)],
        cron="0 */30 * * * ?",
        timezone="UTC",
        pause_status=PauseStatus.UNPAUSED,
        description="snapshots of sales",
        rpo_minutes=30,
        failure_emails=["oncall@example.com"],
        failure_destinations=["dest-1"],
        run_as="sp:deployer",
        tags={"Environment": "prod"},
        managers=["group:platform-ops"],
        max_retries=1,
    )
    return PipelineSnapshotsArgs(**{**base, **overrides})  # type: ignore[arg-type]


def test_a_plain_dict_with_floats_registers_what_the_args_do():
    plain = plan_of(lambda: PipelineSnapshots("sales", PLAIN))  # type: ignore[arg-type]
    assert registrations(plain) == registrations(plan_of(lambda: PipelineSnapshots("sales", typed_args())))
    job = resource(plain, "Job", "sales-snapshot-job")["inputs"]
    # rpo_minutes and max_retries arrived as floats and count as the ints they are.
    assert job["health"]["rules"] == [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 1800}]
    assert job["tasks"][0]["maxRetries"] == 1 and job["tasks"][0]["minRetryIntervalMillis"] == 300000


def test_child_names_derive_from_the_component_name():
    plan = plan_of(lambda: PipelineSnapshots("team-d", typed_args()))
    component = resource(plan, "PipelineSnapshots", "team-d")
    assert {r["name"] for r in plan.resources if r is not component} == {
        "team-d-snapshot-orders",
        "team-d-snapshot-orders-permissions",
        "team-d-snapshot-job",
        "team-d-snapshot-job-permissions",
    }
    assert {r["parent"] for r in plan.resources if r is not component} == {component["urn"]}


def test_the_queries_wait_for_the_snapshot_schema_given_by_id():
    def program():
        schema = databricks.Schema("s", catalog_name="prod_dr", name="sales")
        PipelineSnapshots("sales", typed_args(schema_id=schema.id))

    plan = plan_of(program)
    query = resource(plan, "Query", "sales-snapshot-orders")
    assert query["dependencies"] == [resource(plan, "Schema", "s")["urn"]]
    assert query["propertyDependencies"] == {}
    assert by_type(plan, "Schema")[0]["name"] == "s"


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"pause_status": "STOPPED"}, ValueError, ["pause_status", "'STOPPED'", "PAUSED, UNPAUSED"]),
        ({"rpo": 30}, TypeError, ["unknown key 'rpo'", "rpo_minutes"]),
        ({"tasks": []}, ValueError, ["no critical tables"]),
        ({"failure_destinations": ["a", "b", "c", "d"]}, ValueError, ["4 failure destinations"]),
    ],
)
def test_a_wrong_key_or_value_fails_naming_it(overrides, error, words):
    with pytest.raises(error) as raised:
        PipelineSnapshots("sales", {**PLAIN, **overrides})  # type: ignore[arg-type]
    assert all(w in str(raised.value) for w in words), str(raised.value)
