"""Cost guardrails (guide 11): account-level budgets and budget policies, attribution, cost
alerts, the spot lever, and capacity planning."""

from __future__ import annotations

import json
import math

import pytest

from lakeflow.config.errors import ConfigErrors
from lakeflow.config.models import Capacity
from lakeflow.ops.capacity import main as capacity_main
from lakeflow.ops.capacity import project
from lakeflow.sql.queries import breach_conditions
from tests.conftest import ROOT, by_type, resource

pytestmark = pytest.mark.plan
FIXTURE = ROOT / "tests" / "fixtures" / "capacity_history.csv"


def test_without_account_config_budgets_are_skipped_with_one_warning(plans):
    dev = plans["dev"]
    assert by_type(dev, "Budget") == [] and by_type(dev, "BudgetPolicy") == []
    assert dev.warnings == [
        "Budgets and budget policies skipped: lakeflow:accountId is not set for stack 'dev'; "
        "serverless usage of invoice_ingest is not attributed to a budget policy"
    ]
    assert plans["prod"].warnings == []


def test_budgets_go_through_an_account_provider_and_the_workspace_provider_has_no_account_id(plans):
    prod = plans["prod"]
    (account,) = [r for r in prod.resources if r["type"] == "pulumi:providers:databricks"]
    assert account["inputs"]["accountId"] == "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    assert account["inputs"]["host"] == "https://accounts.cloud.databricks.com"
    for r in by_type(prod, "Budget") + by_type(prod, "BudgetPolicy"):
        assert r["provider"].startswith(account["urn"] + "::"), r["urn"]
    # Everything else uses the stack's default (workspace) provider: never the account one.
    for r in by_type(prod, "Pipeline") + by_type(prod, "Job") + by_type(prod, "AlertV2"):
        assert r["provider"] is None or not r["provider"].startswith(account["urn"])


def test_environment_and_pipeline_budgets_alert_owners_at_each_percentage(plans):
    env = resource(plans["prod"], "Budget", "cost-guardrails-budget")["inputs"]
    assert [a["quantityThreshold"] for a in env["alertConfigurations"]] == ["12500", "20000", "25000"]
    for a in env["alertConfigurations"]:
        assert (a["timePeriod"], a["triggerType"], a["quantityType"]) == (
            "MONTH",
            "CUMULATIVE_SPENDING_EXCEEDED",
            "LIST_PRICE_DOLLARS_USD",
        )
        assert [c["target"] for c in a["actionConfigurations"]] == ["dataeng-leads@example.com", "finops@example.com"]
        assert {c["actionType"] for c in a["actionConfigurations"]} == {"EMAIL_NOTIFICATION"}
    assert env["filter"] == {
        "tags": [{"key": "Environment", "value": {"operator": "IN", "values": ["prod"]}}],
        "workspaceId": {"operator": "IN", "values": [6543210987654321]},
    }
    sales = resource(plans["prod"], "Budget", "cost-guardrails-sales_pipeline-budget")["inputs"]
    assert [t["key"] for t in sales["filter"]["tags"]] == ["Environment", "Pipeline"]
    assert [a["quantityThreshold"] for a in sales["alertConfigurations"]] == ["1500", "2400", "3000"]


def test_serverless_usage_is_attributed_through_a_budget_policy_on_pipeline_and_job(plans):
    prod = plans["prod"]
    policy = resource(prod, "BudgetPolicy", "cost-guardrails-invoice_ingest-policy")
    assert {t["key"]: t["value"] for t in policy["inputs"]["customTags"]} == {
        "CostCenter": "CC-1042",
        "Environment": "prod",
        "Pipeline": "invoice_ingest",
        "Team": "DataEngineering",
    }
    assert policy["inputs"]["bindingWorkspaceIds"] == [6543210987654321]
    pipeline = resource(prod, "Pipeline", "invoice_ingest-pipeline")
    job = resource(prod, "Job", "invoice_ingest-job")
    for r in (pipeline, job):
        assert "budgetPolicyId" in r["inputs"] and policy["urn"] in r["dependencies"]
    # Classic pipelines are attributed by cluster tags instead: no policy.
    assert "budgetPolicyId" not in resource(prod, "Pipeline", "sales_pipeline-pipeline")["inputs"]


def test_the_run_as_identity_may_attach_the_budget_policy(plans):
    """Only a budget policy's creator, its managers and its users may attach it: without the User
    role for the identity the pipeline runs as and is deployed by, creating the pipeline fails."""
    prod = plans["prod"]
    access = resource(prod, "AccessControlRuleSet", "cost-guardrails-invoice_ingest-policy-access")
    policy = resource(prod, "BudgetPolicy", "cost-guardrails-invoice_ingest-policy")
    assert access["parent"] == policy["parent"] and policy["urn"] in access["dependencies"]
    assert {r["role"]: r["principals"] for r in access["inputs"]["grantRules"]} == {
        "roles/budgetPolicy.user": ["servicePrincipals/9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04"],
        "roles/budgetPolicy.manager": ["groups/platform-ops"],
    }


def test_environment_cost_alerts_price_usage_with_list_prices(plans):
    daily = resource(plans["prod"], "AlertV2", "environment-cost-daily-cost")["inputs"]
    monthly = resource(plans["prod"], "AlertV2", "environment-cost-monthly-cost")["inputs"]
    assert breach_conditions(daily["queryText"]) == ["prod list_cost_usd > 1200.0"]
    assert breach_conditions(monthly["queryText"]) == ["prod list_cost_usd > 25000.0"]
    assert daily["evaluation"]["source"] == {"name": "environment", "aggregation": "COUNT"}
    for alert in (daily, monthly):
        assert "system.billing.usage" in alert["queryText"] and "system.billing.list_prices" in alert["queryText"]
    assert by_type(plans["dev"], "CostAlerts") == []


@pytest.mark.parametrize(
    ("cloud", "key", "availability"),
    [
        ("aws", "awsAttributes", "SPOT_WITH_FALLBACK"),
        ("azure", "azureAttributes", "SPOT_WITH_FALLBACK_AZURE"),
        ("gcp", "gcpAttributes", "PREEMPTIBLE_WITH_FALLBACK_GCP"),
    ],
)
def test_spot_workers_with_an_on_demand_driver_outside_prod(project, cloud, key, availability):
    project.edit_stack("dev", cloud=cloud)
    cluster = resource(project.plan("dev"), "Pipeline", "sales_pipeline-pipeline")["inputs"]["clusters"][0]
    assert cluster[key] == {"availability": availability, "firstOnDemand": 1}


def test_prod_runs_on_demand(plans):
    for p in by_type(plans["prod"], "Pipeline"):
        for c in p["inputs"].get("clusters", []):
            assert not any(k.endswith("Attributes") for k in c)


def test_account_settings_are_validated(project):
    project.edit_stack("prod", workspaceId=None, accountClientId="abc")
    with pytest.raises(ConfigErrors) as info:
        project.load("prod", as_deployed=True)
    report = info.value.report()
    assert "lakeflow:workspaceId: is required with accountId" in report
    assert "lakeflow:accountClientSecret: is a secret this stack needs (accountClientId) and has no value" in report
    assert "pulumi config set --secret lakeflow:accountClientSecret <value> --stack prod" in report


# --- capacity planning (guide 9.2) ----------------------------------------------------------


def test_projection_follows_the_guide_formula():
    inputs = Capacity(
        current_rows_per_hour=1000, current_workers=4, run_hours_per_month=100, dbu_per_node_hour=2, usd_per_dbu=0.5
    )
    months = project(inputs, growth=0.1, months=3, cap=5)
    assert [m.required_workers for m in months] == [math.ceil(1000 * 1.1**m / 250) for m in (1, 2, 3)] == [5, 5, 6]
    assert [m.monthly_cost_usd for m in months] == [(w + 1) * 100 * 2 * 0.5 for w in (5, 5, 6)]
    assert [m.exceeds_cap for m in months] == [False, False, True]


def test_make_capacity_from_the_pipeline_file_flags_the_cap(capsys):
    assert capacity_main(["--stack", "prod", "--growth", "0.15", "--months", "6"]) == 0
    out = capsys.readouterr().out
    assert "sales_pipeline  (from pipeline file, growth 15.0%/month, max workers 20)" in out
    assert "EXCEEDS" not in out  # 19 workers in month 6: still within 2-20
    assert capacity_main(["--stack", "prod", "--growth", "0.3", "--months", "6", "--json"]) == 0
    (sales,) = json.loads(capsys.readouterr().out)
    assert [m["required_workers"] for m in sales["months"]][-1] == math.ceil(1_800_000 * 1.3**6 / 225_000)
    assert sales["months"][-1]["exceeds_cap"] is True


def test_make_capacity_from_history_fits_the_growth(project, capsys):
    args = ["--stack", "prod", "--history", str(FIXTURE), "--months", "2", "--json", "--root", str(project.root)]
    assert capacity_main(args) == 2  # sales_pipeline has only its file's figures: no trend to fit
    assert "sales_pipeline: GROWTH is needed (its pipeline file gives no trend)" in capsys.readouterr().err
    project.edit_pipeline("sales_pipeline", capacity=None)
    assert capacity_main(args) == 0
    by_name = {p["pipeline"]: p for p in json.loads(capsys.readouterr().out)}
    c360 = by_name["customer_360"]
    assert c360["source"] == "history (3 months)" and c360["growth"] == pytest.approx(0.21)
    per_worker = 146_410_000 / 110 / 5
    assert [m["required_workers"] for m in c360["months"]] == [
        math.ceil(146_410_000 / 110 * 1.21**m / per_worker - 1e-9) for m in (1, 2)
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--months", "0"], "MONTHS=0: must be between 1 and 120"),
        (["--months", "121"], "MONTHS=121: must be between 1 and 120"),
        (["--growth", "-2"], "GROWTH=-2: must be a rate"),
        (
            ["--growth", "50"],
            "GROWTH=50: must be a rate such as 0.1 (10 % a month), more than -0.9 and at most 10; for 50 % write 0.5",
        ),
        (["--growth", "nan"], "GROWTH=nan: must be a rate"),
        (["--history", "/nonexistent.csv", "--growth", "0.1"], "HISTORY=/nonexistent.csv: no such file"),
    ],
)
def test_make_capacity_rejects_bad_input_clearly(args, message, capsys):
    assert capacity_main(["--stack", "prod", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_history_row_is_named(tmp_path, capsys):
    bad = tmp_path / "h.csv"
    bad.write_text(FIXTURE.read_text().replace("121000000", "lots"))
    assert capacity_main(["--stack", "prod", "--history", str(bad)]) == 2
    assert f"{bad}:3: rows_processed: 'lots' is not a number" in capsys.readouterr().err
