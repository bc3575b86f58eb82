"""DltPipeline given its Args directly: the dataclass and the plain mapping register the same."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest

from lakeflow.components.dlt_pipeline import DltPipeline, DltPipelineArgs
from lakeflow.components.types import Channel, Cloud, Edition, EventLogTable
from lakeflow.offline.recorder import placeholder_id
from tests.components import as_floats, children, component_urn, plan_of, schema_of

pytestmark = pytest.mark.plan

ARGS = {
    "name": "prod_sales",
    "catalog": "prod",
    "schema": "sales",
    "libraries": [{"notebook": {"path": "/Repos/x/etl"}}],
    "clusters": [{"autoscale": {"min_workers": 2, "max_workers": 8}}],
    "channel": "PREVIEW",
    "edition": "PRO",
    "spot": "azure",
    "tags": {"Pipeline": "sales"},
    "viewers": ["group:analysts"],
    "run_as": "sp:0000-app",
    "event_log": {"catalog": "prod", "schema": "ops", "name": "sales_event_log"},
    "budget_policy_id": "policy-1",
}
TYPED = DltPipelineArgs(
    **{
        **ARGS,
        "channel": Channel.PREVIEW,
        "edition": Edition.PRO,
        "spot": Cloud.AZURE,
        "event_log": EventLogTable("prod", "ops", "sales_event_log"),
    }
)


def registered(args: object, name: str = "sales") -> list[dict]:
    return plan_of(lambda: DltPipeline(name, args)).resources  # type: ignore[arg-type]


def test_a_plain_mapping_registers_what_the_dataclass_does():
    resources = registered(TYPED)
    assert registered(ARGS) == resources
    pipeline = next(r for r in resources if r["name"] == "sales-pipeline")["inputs"]
    assert (pipeline["channel"], pipeline["edition"]) == ("PREVIEW", "PRO")
    assert pipeline["eventLog"] == {"catalog": "prod", "schema": "ops", "name": "sales_event_log"}
    assert pipeline["clusters"][0]["azureAttributes"]["availability"] == "SPOT_WITH_FALLBACK_AZURE"


def test_numbers_given_as_floats_register_the_same():
    assert registered(as_floats(ARGS)) == registered(TYPED)


def test_the_mapping_is_validated_like_the_dataclass():
    with pytest.raises(ValueError, match="at least one library"):
        registered({**ARGS, "libraries": []})


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"channel": "NIGHTLY"}, ValueError, r"DltPipeline 'sales': channel: 'NIGHTLY' is not one of CURRENT, PREVIEW"),
        ({"edition": "GOLD"}, ValueError, r"edition: 'GOLD' is not one of CORE, PRO, ADVANCED"),
        ({"spot": "oci"}, ValueError, r"spot: 'oci' is not one of aws, azure, gcp"),
        ({"photn": True}, TypeError, r"DltPipeline 'sales': unknown key 'photn'; DltPipelineArgs takes name, "),
        ({"event_log": {"catalog": "c", "schema": "s"}}, TypeError, r"missing required key 'event_log.name'"),
        (
            {"event_log": {"catalog": "c", "schema": "s", "name": "n", "table": "t"}},
            TypeError,
            r"unknown key 'event_log.table'",
        ),
    ],
)
def test_a_wrong_key_or_value_is_named(change, error, message):
    with pytest.raises(error, match=message):
        registered({**ARGS, **change})


def test_a_missing_required_key_is_named():
    with pytest.raises(TypeError, match=r"DltPipeline 'sales': missing required key 'catalog'"):
        registered({k: v for k, v in ARGS.items() if k != "catalog"})


def test_children_are_named_after_the_component():
    plan = plan_of(lambda: DltPipeline("orders", TYPED))
    assert children(plan, component_urn(plan, "orders")) == [
        ("Pipeline", "orders-pipeline"),
        ("Permissions", "orders-permissions"),
    ]


def test_defaults_leave_out_what_is_not_given():
    minimal = {k: ARGS[k] for k in ("name", "catalog", "schema", "libraries")}
    resources = registered(minimal)
    assert [r["name"] for r in resources] == ["sales", "sales-pipeline"]
    inputs = resources[1]["inputs"]
    assert (inputs["channel"], inputs["edition"], inputs["development"]) == ("CURRENT", "ADVANCED", False)
    assert "eventLog" not in inputs and "clusters" not in inputs
    assert registered(minimal) == registered(DltPipelineArgs(**minimal))


def test_outputs_are_the_pipelines():
    def program() -> None:
        pipeline = DltPipeline("sales", TYPED)
        pulumi.export("pipeline_id", pipeline.pipeline_id)
        assert isinstance(pipeline.url, pulumi.Output)

    plan = plan_of(program, deployed=True)
    assert plan.outputs["pipeline_id"] == placeholder_id("databricks:index/pipeline:Pipeline", "sales-pipeline")


def test_the_schema_pulumi_infers_from_the_args():
    schema = schema_of(DltPipeline)
    required = {k for k, p in schema.inputs.items() if not p.optional}
    assert required == {"name", "catalog", "schema", "libraries"}
    assert schema.inputs["channel"].ref == "#/types/lakeflow:index:Channel"
    assert schema.inputs["eventLog"].ref == "#/types/lakeflow:index:EventLogTable"
    assert set(schema.outputs) == {"pipelineId", "url"}
    assert {f.name for f in dataclasses.fields(DltPipelineArgs)} == set(schema.inputs_mapping.values())
