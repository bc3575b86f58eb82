"""CostGuardrails given its Args directly: the dataclass and the plain mapping register the same."""

from __future__ import annotations

import pulumi
import pytest

from lakeflow.components.cost_guardrails import CostGuardrails, CostGuardrailsArgs, PipelineCost
from lakeflow.components.types import coerce_args
from tests.components import as_floats, children, component_urn, plan_of, schema_of

pytestmark = pytest.mark.plan

ARGS = {
    "account_id": "acc-1",
    "workspace_id": 1234567890,
    "display_prefix": "prod_lakeflow",
    "environment": "prod",
    "monthly_budget_usd": 5000,
    "alert_percents": [80, 50, 100],
    "emails": ["finops@example.com"],
    "pipelines": [
        {"pipeline": "sales", "display_name": "prod_sales", "tags": {"Pipeline": "sales"}, "monthly_budget_usd": 750},
        {"pipeline": "events", "display_name": "prod_events", "tags": {"Pipeline": "events"}, "serverless": True},
    ],
    "policy_users": ["sp:0000-app"],
    "policy_managers": ["group:platform"],
}
TYPED = CostGuardrailsArgs(
    **{**ARGS, "pipelines": [PipelineCost(**p) for p in ARGS["pipelines"]]}  # type: ignore[arg-type, attr-defined]
)


def registered(args: object, name: str = "cost-guardrails") -> list[dict]:
    return plan_of(lambda: CostGuardrails(name, args)).resources  # type: ignore[arg-type]


def test_a_plain_mapping_registers_what_the_dataclass_does():
    resources = registered(TYPED)
    assert registered(ARGS) == resources
    budget = next(r for r in resources if r["name"] == "cost-guardrails-sales-budget")["inputs"]
    assert [a["quantityThreshold"] for a in budget["alertConfigurations"]] == ["375", "600", "750"]
    assert budget["filter"]["workspaceId"]["values"] == [1234567890]


def test_numbers_given_as_floats_are_taken_as_ints():
    floats = as_floats(ARGS)
    args = coerce_args(CostGuardrailsArgs, floats)
    assert type(args.workspace_id) is int and type(args.monthly_budget_usd) is int
    assert [type(p) for p in args.alert_percents or ()] == [int, int, int]
    assert type((args.pipelines or ())[0].monthly_budget_usd) is int
    assert args == CostGuardrailsArgs(**{**ARGS, "pipelines": list(TYPED.pipelines or ())})  # type: ignore[arg-type]
    assert registered(floats) == registered(TYPED)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"budget": 10},
            TypeError,
            r"CostGuardrails 'cost-guardrails': unknown key 'budget'; CostGuardrailsArgs takes",
        ),
        (
            {"pipelines": [{"pipeline": "sales", "display_name": "x", "tags": {}, "budget": 1}]},
            TypeError,
            r"unknown key 'pipelines\[0\]\.budget'; PipelineCost takes pipeline, ",
        ),
        (
            {"pipelines": [{"pipeline": "sales", "tags": {}}]},
            TypeError,
            r"missing required key 'pipelines\[0\]\.display_name'",
        ),
        ({"monthly_budget_usd": 99.5}, ValueError, r"monthly_budget_usd: 99\.5 is not a whole number"),
        ({"emails": []}, ValueError, "budgets need at least one email"),
        ("not args", TypeError, r"args must be a CostGuardrailsArgs or a mapping of its fields, not str"),
    ],
)
def test_a_wrong_key_or_value_is_named(change, error, message):
    with pytest.raises(error, match=message):
        registered({**ARGS, **change} if isinstance(change, dict) else change)


def test_children_are_named_after_the_component():
    plan = plan_of(lambda: CostGuardrails("budgets", TYPED))
    assert sorted(children(plan, component_urn(plan, "budgets"))) == [
        ("AccessControlRuleSet", "budgets-events-policy-access"),
        ("Budget", "budgets-budget"),
        ("Budget", "budgets-sales-budget"),
        ("BudgetPolicy", "budgets-events-policy"),
    ]


def test_outputs_are_the_budget_policies():
    def program() -> None:
        guardrails = CostGuardrails("cost-guardrails", ARGS)  # type: ignore[arg-type]
        pulumi.export("policy_ids", guardrails.policy_ids)

    plan = plan_of(program, deployed=True)
    assert set(plan.outputs["policy_ids"]) == {"events"}
    access = next(r for r in plan.resources if r["name"] == "cost-guardrails-events-policy-access")["inputs"]
    assert access["name"].startswith("accounts/acc-1/budgetPolicies/") and access["name"].endswith("/ruleSets/default")


def test_the_schema_pulumi_infers_from_the_args():
    schema = schema_of(CostGuardrails)
    required = {k for k, p in schema.inputs.items() if not p.optional}
    assert required == {"accountId", "workspaceId", "displayPrefix", "environment"}
    assert schema.inputs["pipelines"].items.ref == "#/types/lakeflow:index:PipelineCost"
    assert set(schema.outputs) == {"policyIds"}


def test_an_account_id_may_come_from_another_resource():
    def program() -> None:
        CostGuardrails("cost-guardrails", {**ARGS, "account_id": pulumi.Output.from_input("acc-2")})  # type: ignore[arg-type]

    access = next(r for r in plan_of(program, deployed=True).resources if r["name"].endswith("-policy-access"))
    assert access["inputs"]["name"].startswith("accounts/acc-2/")
