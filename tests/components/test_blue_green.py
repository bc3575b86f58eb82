"""BlueGreenPipeline given its Args directly: the dataclass and the plain mapping register the same."""

from __future__ import annotations

import pulumi
import pytest

from lakeflow.components.blue_green import BlueGreenPipeline, BlueGreenPipelineArgs, SlotArgs
from lakeflow.components.dlt_pipeline import DltPipelineArgs
from lakeflow.offline.recorder import placeholder_id
from tests.components import as_floats, children, component_urn, plan_of, schema_of

pytestmark = pytest.mark.plan


def pipeline(slot: str) -> dict:
    return {
        "name": f"prod_sales_{slot}",
        "catalog": "prod",
        "schema": f"sales_{slot}",
        "libraries": [{"notebook": {"path": f"/Repos/lakeflow/sales_{slot}/etl"}}],
        "clusters": [{"num_workers": 2}],
        "channel": "CURRENT",
    }


def slot(name: str, **more: object) -> dict:
    return {"slot": name, "pipeline": pipeline(name), "repo_path": f"/Repos/lakeflow/sales_{name}", **more}


ARGS = {
    "repo_url": "https://github.com/acme/sales",
    "slots": [slot("blue", ref="tag:v1", adopted=True, protect=True), slot("green", ref="branch:main")],
    "active": "green",
    "catalog": "prod",
    "view_schema": "sales",
    "tables": ["orders", "customers"],
    "warehouse_id": "wh-1",
    "consumers": ["group:analysts"],
    "view_comment": "Stable names",
}
TYPED = BlueGreenPipelineArgs(
    **{
        **ARGS,
        "slots": [
            SlotArgs(**{**s, "pipeline": DltPipelineArgs(**s["pipeline"])})  # type: ignore[arg-type]
            for s in ARGS["slots"]  # type: ignore[attr-defined]
        ],
    }
)


def registered(args: object, name: str = "sales") -> list[dict]:
    return plan_of(lambda: BlueGreenPipeline(name, args)).resources  # type: ignore[arg-type]


def test_a_plain_mapping_registers_what_the_dataclass_does():
    resources = registered(TYPED)
    assert registered(ARGS) == resources
    view = next(r for r in resources if r["name"] == "sales-view-orders")["inputs"]
    assert view["viewDefinition"] == "SELECT * FROM `prod`.`sales_green`.`orders`"
    blue = next(r for r in resources if r["name"] == "sales-blue")
    assert blue["protect"] is True
    assert blue["aliases"]  # the adopted slot keeps its old URN


def test_a_slot_may_mix_the_dataclass_and_a_mapping():
    mixed = {**ARGS, "slots": [TYPED.slots[0], ARGS["slots"][1]]}
    assert registered(mixed) == registered(TYPED)


def test_numbers_given_as_floats_register_the_same():
    assert registered(as_floats(ARGS)) == registered(TYPED)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"slots": [slot("blue", ref="tag:v1", colour="blue")]},
            TypeError,
            r"BlueGreenPipeline 'sales': unknown key 'slots\[0\]\.colour'",
        ),
        (
            {"slots": [{**slot("blue", ref="tag:v1"), "pipeline": {**pipeline("blue"), "channel": "BETA"}}]},
            ValueError,
            r"slots\[0\]\.pipeline\.channel: 'BETA' is not one of CURRENT, PREVIEW",
        ),
        ({"active": "red"}, ValueError, r"active slot 'red' is not declared"),
        ({"warehouse": "wh-1"}, TypeError, r"unknown key 'warehouse'"),
    ],
)
def test_a_wrong_key_or_value_is_named(change, error, message):
    with pytest.raises(error, match=message):
        registered({**ARGS, **change})


def test_children_are_named_after_the_component():
    plan = plan_of(lambda: BlueGreenPipeline("orders", TYPED))
    assert sorted(children(plan, component_urn(plan, "orders"))) == sorted(
        [
            ("Repo", "orders-repo-blue"),
            ("DltPipeline", "orders-blue"),
            ("Repo", "orders-repo-green"),
            ("DltPipeline", "orders-green"),
            ("Schema", "orders-views"),
            ("Grants", "orders-views-grants"),
            ("SqlTable", "orders-view-orders"),
            ("Grants", "orders-view-orders-grants"),
            ("SqlTable", "orders-view-customers"),
            ("Grants", "orders-view-customers-grants"),
        ]
    )
    assert children(plan, component_urn(plan, "orders-green")) == [
        ("Pipeline", "orders-green-pipeline"),
    ]


def test_outputs_are_the_active_slots():
    def program() -> None:
        bg = BlueGreenPipeline("sales", TYPED)
        pulumi.export("pipeline_id", bg.pipeline_id)
        pulumi.export("slot_ids", bg.slot_ids)

    plan = plan_of(program, deployed=True)
    ids = {s: placeholder_id("databricks:index/pipeline:Pipeline", f"sales-{s}-pipeline") for s in ("blue", "green")}
    assert plan.outputs["pipeline_id"] == ids["green"]
    assert plan.outputs["slot_ids"] == ids


def test_the_schema_pulumi_infers_from_the_args():
    schema = schema_of(BlueGreenPipeline)
    assert {k for k, p in schema.inputs.items() if p.optional} == {"consumers", "viewComment"}
    assert schema.inputs["slots"].items.ref == "#/types/lakeflow:index:SlotArgs"
    assert set(schema.outputs) == {"pipelineId", "url", "slotIds"}
