"""`make preflight`: what a stack assumes but does not create, checked through the real Databricks SDK against
a fake workspace on 127.0.0.1 (tests/fake_databricks.py) answering with recorded API responses.

`serve` answers every call of a healthy prod stack: the deployer is a CI service principal (CI, group
lakeflow-deployers), the pipelines run as prod's run-as service principal (RUNNER). Each test then replaces
the answers of one check with a failing fixture (routes added last are tried first) and shows that the check
reports it, with its fix, and that every other check still ran.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import pytest

from lakeflow.config.models import monitoring_folder
from lakeflow.ops import preflight
from tests.conftest import DATABRICKS_SDK, ROOT, by_type
from tests.fake_databricks import Answer, recorded

pytestmark = DATABRICKS_SDK

CI = "4d7f2a90-1b3c-4e5d-8f6a-7b8c9d0e1f2a"  # the deployer (preflight_me.json)
RUNNER = "9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04"  # prod's lakeflow:runAs
WAREHOUSE = "1c2d3e4f5a6b7c8d"  # prod's lakeflow:warehouseId
MONITORING_PARENT = f"/Users/{RUNNER}/lakeflow"
REPO_URL = "https://github.com/example-org/dlt-pipelines.git"

ME = r"/api/2.0/preview/scim/v2/Me"
SERVICE_PRINCIPALS = r"/api/2.0/preview/scim/v2/ServicePrincipals"
USERS = r"/api/2.0/preview/scim/v2/Users"
GROUPS = r"/api/2.0/preview/scim/v2/Groups"
CATALOGS = r"/api/2.1/unity-catalog/catalogs/[^/]+"
EFFECTIVE = r"/api/2.1/unity-catalog/effective-permissions/{}/{}"
WAREHOUSES = r"/api/2.0/sql/warehouses/[^/]+"
WAREHOUSE_ACL = r"/api/2.0/permissions/warehouses/[^/]+"
RULE_SET = r"/api/2.0/preview/accounts/access-control/rule-sets"
GIT_CREDENTIALS = r"/api/2.0/git-credentials"
STATUS = r"/api/2.0/workspace/get-status"
FOLDER_ACL = r"/api/2.0/permissions/directories/\d+"
VOLUMES = r"/api/2.1/unity-catalog/volumes/[^/]+"
METASTORE = r"/api/2.1/unity-catalog/current-metastore-assignment"

PROD_ROWS = [
    ("catalog", "prod (deployer)"),
    ("catalog", "prod (run-as)"),
    ("dr_catalog", "prod_dr (deployer)"),
    ("dr_catalog", "prod_dr (run-as)"),
    ("warehouse", f"{WAREHOUSE} (run-as)"),
    ("warehouse", f"{WAREHOUSE} (deployer)"),
    ("system_table", "system.compute.clusters"),
    ("system_table", "system.compute.node_timeline"),
    ("system_table", "system.billing.usage"),
    ("system_table", "system.billing.list_prices"),
    ("run_as", f"sp:{RUNNER}"),
    ("run_as_use", f"sp:{RUNNER}"),
    ("principal", "group:analysts"),
    ("principal", "group:data-engineers"),
    ("principal", "group:platform-ops"),
    ("git_credential", REPO_URL),
    ("folder", "/Repos/prod_lakeflow"),
    ("folder", MONITORING_PARENT),
    ("code", "clickstream_events"),
    ("code", "invoice_ingest"),
    ("code", "sales_pipeline"),
    ("volume", "prod.landing.raw"),
]


@pytest.fixture(autouse=True)
def stacks_deploy_to_the_fake(workspace, project):
    """Each stack's databricks:host is the fake workspace, as the SDK's credentials are (preflight refuses
    to check a workspace the stack does not deploy to)."""
    for stack in ("dev", "staging", "prod"):
        project.edit_stack(stack, **{"databricks:host": workspace.host})


def not_found(fixture: str) -> Answer:
    return Answer(404, recorded(fixture))


def denied() -> Answer:
    return Answer(403, recorded("error_403"))


def serve(workspace) -> None:
    """A workspace where every prerequisite of the prod stack is present."""
    workspace.on("GET", ME, recorded("preflight_me"))
    workspace.on("GET", SERVICE_PRINCIPALS, recorded("preflight_service_principal"))
    workspace.on("GET", GROUPS, recorded("preflight_group"))
    workspace.on("GET", CATALOGS, recorded("preflight_catalog"))
    workspace.on("GET", EFFECTIVE.format("catalog", ".+"), recorded("preflight_effective_catalog"))
    workspace.on("GET", EFFECTIVE.format("schema", ".+"), recorded("preflight_effective_schema"))
    workspace.on("GET", EFFECTIVE.format("table", ".+"), recorded("preflight_effective_table"))
    workspace.on("GET", EFFECTIVE.format("volume", ".+"), recorded("preflight_effective_volume"))
    workspace.on("GET", WAREHOUSES, recorded("preflight_warehouse"))
    workspace.on("GET", WAREHOUSE_ACL, recorded("preflight_warehouse_permissions"))
    workspace.on("GET", RULE_SET, recorded("preflight_rule_set"))
    workspace.on("GET", GIT_CREDENTIALS, recorded("preflight_git_credentials"))
    workspace.on("GET", STATUS, recorded("preflight_status_directory"))
    workspace.on("GET", FOLDER_ACL, recorded("preflight_directory_permissions"))
    workspace.on("GET", VOLUMES, recorded("preflight_volume"))
    workspace.on("GET", METASTORE, recorded("preflight_metastore"))


def run(project, *extra: str, stack: str = "prod") -> int:
    return preflight.main(["--stack", stack, "--root", str(project.root), *extra])


def report(project, capsys, *extra: str, stack: str = "prod") -> tuple[int, dict]:
    code = run(project, "--json", *extra, stack=stack)
    out = json.loads(capsys.readouterr().out)
    assert out["exit_code"] == code
    return code, out


def rows(out: dict) -> dict[tuple[str, str], dict]:
    return {(c["check"], c["target"]): c for c in out["checks"]}


def only_problems(out: dict) -> dict[tuple[str, str], str]:
    return {(c["check"], c["target"]): c["status"] for c in out["checks"] if c["status"] != "OK"}


def asked(workspace, path: str) -> list[str]:
    """The decoded query strings of the GET requests to `path`."""
    from urllib.parse import unquote_plus

    return [unquote_plus(r.query) for r in workspace.calls("GET", path)]


# --- everything present -------------------------------------------------------------------------------------------


def test_a_ready_stack_exits_0_with_a_table_of_every_check(workspace, project, capsys):
    serve(workspace)
    assert run(project) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Preflight of stack 'prod': OK"
    assert lines[1] == f"deployer {CI} (the current credentials); run-as sp:{RUNNER}"
    header = lines[3]
    assert header.split() == ["CHECK", "TARGET", "STATUS", "DETAIL", "FIX"]
    column = header.index("STATUS")
    body = [line for line in lines[4:] if line and not line.startswith((f"{len(PROD_ROWS)} check", "not checked"))]
    assert len(body) == len(PROD_ROWS)
    assert all(line[column : column + 3] == "OK " for line in body), body
    # What is left out on purpose is named, never skipped silently.
    assert [line for line in lines if line.startswith("not checked")] == [
        "not checked: code of customer_360: blue/green, its slots' Repos check it out (pulumi up)"
    ]
    assert lines[-1] == f"{len(PROD_ROWS)} check(s): {len(PROD_ROWS)} OK; exit 0"


def test_every_prerequisite_is_derived_from_the_stack(workspace, project, capsys):
    serve(workspace)
    code, out = report(project, capsys)
    assert code == 0 and out["status"] == "OK" and out["deployer"] == CI
    assert [(c["check"], c["target"]) for c in out["checks"]] == PROD_ROWS
    found = rows(out)
    assert found[("catalog", "prod (deployer)")]["detail"] == "deployer has USE CATALOG, CREATE SCHEMA"
    assert found[("dr_catalog", "prod_dr (run-as)")]["detail"] == "run-as has USE CATALOG"
    assert found[("warehouse", f"{WAREHOUSE} (run-as)")]["detail"] == "run-as may use prod-lakeflow"
    assert found[("warehouse", f"{WAREHOUSE} (deployer)")]["detail"] == (
        "deployer may use prod-lakeflow (through group lakeflow-deployers)"
    )
    assert found[("run_as_use", f"sp:{RUNNER}")]["detail"] == "deployer holds Service Principal User"
    assert found[("folder", MONITORING_PARENT)]["detail"] == (
        "exists; deployer has CAN MANAGE (through group lakeflow-deployers)"
    )
    # The calls: effective permissions per securable and principal, the rule set by its documented name.
    assert asked(workspace, EFFECTIVE.format("catalog", "prod")) == [
        f"max_results=0&principal={CI}",
        f"max_results=0&principal={RUNNER}",
    ]
    assert asked(workspace, RULE_SET) == [
        f"etag=&name=accounts/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/servicePrincipals/{RUNNER}/ruleSets/default"
    ]
    assert asked(workspace, SERVICE_PRINCIPALS)[0].startswith(f'filter=applicationId eq "{RUNNER}"')
    assert asked(workspace, STATUS)[:2] == ["path=/Repos/prod_lakeflow", f"path={MONITORING_PARENT}"]
    assert asked(workspace, STATUS)[2:] == [  # the code of the pipelines that are not blue/green
        "path=/Workspace/Repos/prod/dlt-pipelines/pipelines/clickstream/bronze_events.py",
        "path=/Workspace/Repos/prod/dlt-pipelines/pipelines/clickstream/sessionized.sql",
        "path=/Workspace/Repos/prod/dlt-pipelines/pipelines/invoice_ingest",
        "path=/Workspace/Repos/prod/dlt-pipelines/pipelines/sales_pipeline/silver_orders",
        "path=/Workspace/Repos/prod/dlt-pipelines/pipelines/sales_pipeline/gold_daily_sales",
    ]
    assert all(r.method == "GET" for r in workspace.requests)  # preflight changes nothing


def test_the_checked_names_are_the_ones_the_plan_creates(plans):
    """Folders, repos and system tables from the settings agree with what the program registers."""
    from lakeflow.offline.stack_file import load_stack

    settings = load_stack(ROOT, "prod")
    plan = plans["prod"]
    repo_parents = {r["inputs"]["path"].rsplit("/", 1)[0] for r in by_type(plan, "Repo")}
    assert repo_parents == {preflight.repos_parent(settings)}
    (folder,) = [r["inputs"]["path"] for r in by_type(plan, "Directory")]
    assert folder == monitoring_folder(settings.config) and folder.rsplit("/", 1)[0] == MONITORING_PARENT
    alert_sql = " ".join(r["inputs"].get("queryText", "") for r in by_type(plan, "AlertV2"))
    assert set(re.findall(r"system\.\w+\.\w+", alert_sql)) == set(preflight.alert_system_tables(settings))
    source = (ROOT / "src" / "lakeflow" / "sql" / "queries.py").read_text()
    assert set(re.findall(r"system\.\w+\.\w+", source)) == {*preflight.COMPUTE_TABLES, *preflight.BILLING_TABLES}


# --- 1. catalogs --------------------------------------------------------------------------------------------------


def test_a_missing_catalog_is_created_and_granted_by_the_fix(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", r"/api/2.1/unity-catalog/catalogs/prod", not_found("preflight_catalog_missing"))
    code, out = report(project, capsys)
    assert code == 1 and out["status"] == "MISSING"
    assert only_problems(out) == {("catalog", "prod"): "MISSING"}
    assert rows(out)[("catalog", "prod")] == {
        "check": "catalog",
        "target": "prod",
        "status": "MISSING",
        "detail": "catalog not found",
        "fix": f"CREATE CATALOG `prod`; GRANT USE CATALOG, CREATE SCHEMA ON CATALOG `prod` TO `{CI}`; "
        f"GRANT USE CATALOG, CREATE SCHEMA ON CATALOG `prod` TO `{RUNNER}`",
    }
    assert len(out["checks"]) == len(PROD_ROWS) - 1  # one row for the catalog, every other check still ran


def test_a_missing_privilege_is_granted_by_the_fix(workspace, project, capsys):
    serve(workspace)
    use_only = recorded("preflight_effective_catalog_use_only")
    workspace.on("GET", EFFECTIVE.format("catalog", "prod"), use_only, query=f"principal={CI}")
    workspace.on(
        "GET", EFFECTIVE.format("catalog", "prod"), recorded("preflight_effective_none"), query="^max_results=0$"
    )
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("catalog", "prod (deployer)"): "MISSING"}
    row = rows(out)[("catalog", "prod (deployer)")]
    assert row["detail"] == "deployer lacks CREATE SCHEMA"
    assert row["fix"] == f"GRANT CREATE SCHEMA ON CATALOG `prod` TO `{CI}`"
    # not granted directly: the grants of every principal were read once, for the deployer's groups
    assert asked(workspace, EFFECTIVE.format("catalog", "prod")) == [
        f"max_results=0&principal={CI}",
        "max_results=0",
        f"max_results=0&principal={RUNNER}",
    ]


def test_privileges_held_through_a_group_or_ownership_count(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", EFFECTIVE.format("catalog", "prod"), recorded("preflight_effective_none"), query="principal")
    workspace.on(
        "GET",
        EFFECTIVE.format("catalog", "prod"),
        recorded("preflight_effective_catalog_groups"),
        query="^max_results=0$",
    )
    # the run-as identity's group owns prod_dr: owners hold every privilege
    workspace.on(
        "GET", r"/api/2.1/unity-catalog/catalogs/prod_dr", recorded("preflight_catalog", owner="lakeflow-runners")
    )
    workspace.on("GET", EFFECTIVE.format("catalog", "prod_dr"), recorded("preflight_effective_none"))
    code, out = report(project, capsys)
    assert only_problems(out) == {
        ("catalog", "prod (run-as)"): "MISSING",  # its group lakeflow-runners has nothing on prod
        ("dr_catalog", "prod_dr (deployer)"): "MISSING",
        ("volume", "prod.landing.raw"): "MISSING",  # so it cannot reach the landing volume in prod either
    }
    assert rows(out)[("volume", "prod.landing.raw")]["fix"] == f"GRANT USE CATALOG ON CATALOG `prod` TO `{RUNNER}`"
    assert rows(out)[("catalog", "prod (deployer)")]["status"] == "OK"  # through lakeflow-deployers
    assert rows(out)[("dr_catalog", "prod_dr (run-as)")]["status"] == "OK"  # owner, through its group
    assert code == 1


def test_all_privileges_covers_every_privilege(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", EFFECTIVE.format("catalog", ".+"), recorded("preflight_effective_all_privileges"))
    assert report(project, capsys)[0] == 0


# --- 2. the disaster-recovery catalog -----------------------------------------------------------------------------


def test_a_missing_dr_catalog(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", r"/api/2.1/unity-catalog/catalogs/prod_dr", not_found("preflight_catalog_missing"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("dr_catalog", "prod_dr"): "MISSING"}
    assert rows(out)[("dr_catalog", "prod_dr")]["fix"] == (
        f"CREATE CATALOG `prod_dr`; GRANT USE CATALOG, CREATE SCHEMA ON CATALOG `prod_dr` TO `{CI}`; "
        f"GRANT USE CATALOG ON CATALOG `prod_dr` TO `{RUNNER}`"
    )


def test_a_pipelines_own_dr_target_catalog_is_checked(workspace, project, capsys):
    serve(workspace)
    project.edit_pipeline("invoice_ingest", dr={"critical_tables": ["invoices"], "target": "finance_dr.invoices"})
    code, out = report(project, capsys)
    assert code == 0
    assert ("dr_catalog", "finance_dr (deployer)") in rows(out)
    assert ("dr_catalog", "finance_dr (run-as)") in rows(out)


def test_without_disaster_recovery_no_dr_catalog_is_checked(workspace, project, capsys):
    serve(workspace)
    project.edit_stack("prod", disasterRecovery=False)
    code, out = report(project, capsys)
    assert code == 0
    assert not [c for c in out["checks"] if c["check"] == "dr_catalog"]
    assert workspace.calls("GET", r"/api/2.1/unity-catalog/catalogs/prod_dr") == []


# --- 3. SQL warehouses --------------------------------------------------------------------------------------------


def test_a_missing_warehouse(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", WAREHOUSES, not_found("preflight_warehouse_missing"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("warehouse", WAREHOUSE): "MISSING"}
    row = rows(out)[("warehouse", WAREHOUSE)]
    assert row["detail"] == f"no SQL warehouse {WAREHOUSE} (lakeflow:warehouseId)"
    assert row["fix"].startswith("set lakeflow:warehouseId to an existing warehouse's id (databricks warehouses list)")
    assert workspace.calls("GET", WAREHOUSE_ACL) == []


def test_a_warehouse_the_run_as_identity_may_not_use(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", WAREHOUSE_ACL, recorded("preflight_warehouse_permissions_owner_only"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {
        ("warehouse", f"{WAREHOUSE} (run-as)"): "MISSING",
        ("warehouse", f"{WAREHOUSE} (deployer)"): "MISSING",
    }
    row = rows(out)[("warehouse", f"{WAREHOUSE} (run-as)")]
    assert row["detail"] == "run-as has no CAN USE on prod-lakeflow"
    assert row["fix"] == (
        f"databricks warehouses update-permissions {WAREHOUSE} --json "
        f'\'{{"access_control_list": [{{"service_principal_name": "{RUNNER}", "permission_level": "CAN_USE"}}]}}\''
    )


def test_a_dr_warehouse_is_checked_too(workspace, project, capsys):
    serve(workspace)
    project.edit_stack("prod", drWarehouseId="9f8e7d6c5b4a3f2e")
    workspace.on("GET", r"/api/2.0/sql/warehouses/9f8e7d6c5b4a3f2e", not_found("preflight_warehouse_missing"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("warehouse", "9f8e7d6c5b4a3f2e"): "MISSING"}
    assert rows(out)[("warehouse", "9f8e7d6c5b4a3f2e")]["detail"].endswith("(lakeflow:drWarehouseId)")


# --- 4. system tables ---------------------------------------------------------------------------------------------


def test_a_system_table_the_alerts_cannot_read(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", EFFECTIVE.format("table", "system.billing.usage"), recorded("preflight_effective_none"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("system_table", "system.billing.usage"): "MISSING"}
    row = rows(out)[("system_table", "system.billing.usage")]
    assert row["detail"] == "run-as cannot read it"
    assert row["fix"] == f"GRANT SELECT ON TABLE `system`.`billing`.`usage` TO `{RUNNER}`"


def test_a_system_schema_not_enabled(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", EFFECTIVE.format("schema", "system.compute"), not_found("preflight_schema_missing"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {
        ("system_table", "system.compute.clusters"): "MISSING",
        ("system_table", "system.compute.node_timeline"): "MISSING",
    }
    row = rows(out)[("system_table", "system.compute.clusters")]
    assert row["detail"] == "system schema system.compute is not enabled (or system.compute.clusters not found)"
    assert row["fix"].startswith(
        "databricks system-schemas enable 19a85dee-54bc-43a2-87ab-023d0ec16013 compute  (a metastore admin); "
        f"then GRANT USE CATALOG ON CATALOG `system` TO `{RUNNER}`; "
    )


def test_only_the_system_tables_the_alerts_read(workspace, project, capsys):
    """dev: classic pipelines (node metrics) and a pipeline cost limit (billing); serverless and no cost
    limits: none."""
    serve(workspace)
    for name in ("sales_pipeline", "customer_360", "clickstream_events"):
        project.edit_pipeline(name, serverless=True, clusters=None, photon=None, cost=None)
    for key in ("dailyCostLimitUsd", "monthlyCostLimitUsd", "monthlyBudgetUsd"):
        project.edit_stack("prod", **{key: None})
    code, out = report(project, capsys)
    assert code == 0
    assert not [c for c in out["checks"] if c["check"] == "system_table"]


# --- 5. the run-as service principal ------------------------------------------------------------------------------


def test_a_run_as_service_principal_not_in_the_workspace(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", SERVICE_PRINCIPALS, recorded("preflight_scim_empty"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("run_as", f"sp:{RUNNER}"): "MISSING"}
    assert rows(out)[("run_as", f"sp:{RUNNER}")]["fix"].startswith(
        f"databricks service-principals create --application-id {RUNNER}"
    )


def test_a_pipelines_own_run_as_principal_is_checked_too(workspace, project, capsys):
    serve(workspace)
    other = "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"
    project.edit_pipeline("invoice_ingest", run_as={"service_principal_name": other})
    workspace.on("GET", SERVICE_PRINCIPALS, recorded("preflight_scim_empty"), query=rf"filter=applicationId.*{other}")
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("run_as", f"sp:{other}"): "MISSING"}
    assert rows(out)[("run_as", f"sp:{RUNNER}")]["status"] == "OK"


def test_a_deactivated_run_as_service_principal(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", SERVICE_PRINCIPALS, recorded("preflight_service_principal_inactive"))
    code, out = report(project, capsys)
    assert code == 1
    row = rows(out)[("run_as", f"sp:{RUNNER}")]
    assert (row["status"], row["detail"]) == ("MISSING", f"service principal {RUNNER} is deactivated in the workspace")
    assert row["fix"].startswith("databricks service-principals patch 5123498761234987 --json ")


def test_a_deployer_without_the_service_principal_user_role(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", RULE_SET, recorded("preflight_rule_set_others"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("run_as_use", f"sp:{RUNNER}"): "MISSING"}
    assert rows(out)[("run_as_use", f"sp:{RUNNER}")]["fix"].startswith(
        f"give {CI} the Service Principal User role on {RUNNER}: workspace settings > Identity and access > "
    )


def test_the_role_held_through_a_group_counts(workspace, project, capsys):
    serve(workspace)
    rules = [{"role": "roles/servicePrincipal.user", "principals": ["groups/lakeflow-deployers"]}]
    workspace.on("GET", RULE_SET, recorded("preflight_rule_set", grant_rules=rules))
    code, out = report(project, capsys)
    assert code == 0
    assert rows(out)[("run_as_use", f"sp:{RUNNER}")]["detail"] == (
        "deployer holds Service Principal User (through group lakeflow-deployers)"
    )


def test_without_an_account_id_the_role_is_a_manual_check_never_ok(workspace, project, capsys):
    serve(workspace)
    project.edit_stack("prod", accountId=None, workspaceId=None)
    code, out = report(project, capsys)
    assert code == 2 and out["status"] == "UNKNOWN"
    assert only_problems(out) == {("run_as_use", f"sp:{RUNNER}"): "UNKNOWN"}
    row = rows(out)[("run_as_use", f"sp:{RUNNER}")]
    assert row["detail"].startswith("MANUAL CHECK: without lakeflow:accountId the Service Principal User role")
    assert row["fix"].endswith("; or set lakeflow:accountId so that preflight reads it")
    assert workspace.calls("GET", RULE_SET) == []


def test_a_deployer_that_is_the_run_as_identity(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", ME, recorded("preflight_me", userName=RUNNER))
    code, out = report(project, capsys)
    assert code == 0
    assert rows(out)[("run_as_use", f"sp:{RUNNER}")]["detail"] == "the deployer runs as itself"
    assert ("catalog", "prod (run-as)") not in rows(out)  # one identity: one row
    assert workspace.calls("GET", RULE_SET) == [] and workspace.calls("GET", SERVICE_PRINCIPALS) == []
    # the monitoring folder is in the deployer's own home
    assert rows(out)[("folder", MONITORING_PARENT)]["detail"] == "exists (the deployer's home)"


def test_a_user_as_run_as_needs_a_workspace_admin(workspace, project, capsys):
    serve(workspace)
    project.edit_stack("dev", runAs="user:etl-owner@example.com")  # production stacks run as a service principal
    workspace.on("GET", ME, recorded("preflight_me_dev"))
    workspace.on("GET", USERS, recorded("preflight_scim_empty"))
    code, out = report(project, capsys, stack="dev")
    assert code == 1
    problems = only_problems(out)
    assert problems[("run_as", "user:etl-owner@example.com")] == "MISSING"
    assert problems[("run_as_use", "user:etl-owner@example.com")] == "MISSING"
    assert rows(out)[("run_as", "user:etl-owner@example.com")]["fix"].startswith(
        "databricks users create --user-name etl-owner@example.com"
    )


# --- principals the stack grants access to ------------------------------------------------------------------------


def test_a_group_not_in_the_workspace(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", GROUPS, recorded("preflight_scim_empty"), query='displayName eq "platform-ops"')
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("principal", "group:platform-ops"): "MISSING"}


def test_a_workspace_local_group_cannot_hold_catalog_grants(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", GROUPS, recorded("preflight_group_workspace_local"))
    code, out = report(project, capsys)
    # analysts: release consumers (view grants); platform-ops: managers, readers of the DR schemas
    assert only_problems(out) == {
        ("principal", "group:analysts"): "MISSING",
        ("principal", "group:platform-ops"): "MISSING",
    }
    assert rows(out)[("principal", "group:data-engineers")]["status"] == "OK"  # workspace ACLs only
    assert code == 1


def test_principals_a_pipeline_file_grants_through_permissions_are_checked_too(workspace, project, capsys):
    """A bundle's `permissions:` in a pipeline file reach the pipeline's ACL (lakeflow.model.deployment's
    access lists): a principal named only there must exist as much as one named in the stack file."""
    serve(workspace)
    project.edit_pipeline("sales_pipeline", permissions=[{"level": "CAN_VIEW", "group_name": "auditors"}])
    _, out = report(project, capsys)
    assert ("principal", "group:auditors") in rows(out)


# --- 6. Git credentials -------------------------------------------------------------------------------------------


def test_no_git_credential_for_the_repos(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", GIT_CREDENTIALS, recorded("preflight_git_credentials_empty"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("git_credential", REPO_URL): "MISSING"}
    assert rows(out)[("git_credential", REPO_URL)]["fix"] == (
        "databricks git-credentials create gitHub --git-username <user> --personal-access-token <token>  "
        "(as the deployer)"
    )


def test_a_git_credential_for_another_provider_does_not_count(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", GIT_CREDENTIALS, recorded("preflight_git_credentials_gitlab"))
    code, out = report(project, capsys)
    assert code == 1 and only_problems(out) == {("git_credential", REPO_URL): "MISSING"}


def test_a_stack_without_repos_needs_no_git_credential(workspace, project, capsys):
    serve(workspace)
    data = project.pipeline("customer_360")
    del data["release"]
    for overrides in data["environments"].values():
        overrides.pop("release", None)
    project.set_pipeline("customer_360", data)
    code, out = report(project, capsys)
    assert code == 0
    assert not [c for c in out["checks"] if c["check"] in ("git_credential",)]
    assert ("folder", "/Repos/prod_lakeflow") not in rows(out)
    assert workspace.calls("GET", GIT_CREDENTIALS) == []


# --- 7. folders and landing volumes -------------------------------------------------------------------------------


def test_a_repos_folder_only_an_admin_may_make(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", STATUS, not_found("preflight_status_missing"), query="path=/Repos/prod_lakeflow")
    workspace.on("GET", STATUS, recorded("preflight_status_directory", path="/Repos"), query="path=/Repos$")
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("folder", "/Repos/prod_lakeflow"): "MISSING"}
    row = rows(out)[("folder", "/Repos/prod_lakeflow")]
    assert row["fix"].startswith("databricks workspace mkdirs /Repos/prod_lakeflow  (a workspace admin), then: ")


def test_an_admin_deployer_makes_the_repos_folder(workspace, project, capsys):
    serve(workspace)
    admin = [{"display": "admins", "value": "1", "type": "direct"}]
    workspace.on("GET", ME, recorded("preflight_me", groups=admin))
    workspace.on("GET", STATUS, not_found("preflight_status_missing"), query="path=/Repos/prod_lakeflow")
    workspace.on("GET", STATUS, recorded("preflight_status_directory", path="/Repos"), query="path=/Repos$")
    code, out = report(project, capsys)
    assert code == 0
    assert rows(out)[("folder", "/Repos/prod_lakeflow")]["detail"] == (
        "absent: pulumi up makes it (the deployer is a workspace admin)"
    )


def test_a_home_folder_that_does_not_exist(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", STATUS, not_found("preflight_status_missing"), query=f"path=/Users/{RUNNER}")
    workspace.on("GET", STATUS, recorded("preflight_status_directory", path="/Users"), query="path=/Users$")
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("folder", MONITORING_PARENT): "MISSING"}
    row = rows(out)[("folder", MONITORING_PARENT)]
    assert (
        row["detail"]
        == f"home folder /Users/{RUNNER} does not exist (made when {RUNNER} joins the workspace or signs in)"
    )
    assert row["fix"].startswith(f"databricks workspace mkdirs {MONITORING_PARENT}  (a workspace admin), then: ")
    assert asked(workspace, STATUS).count(f"path=/Users/{RUNNER}") == 1  # walked up: lakeflow, home, /Users


def test_an_absent_folder_inside_a_managed_one_is_made_by_pulumi(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", STATUS, not_found("preflight_status_missing"), query=f"path={MONITORING_PARENT}$")
    code, out = report(project, capsys)
    assert code == 0
    assert rows(out)[("folder", MONITORING_PARENT)]["detail"] == (
        f"absent: pulumi up makes it inside /Users/{RUNNER}; deployer has CAN MANAGE (through group lakeflow-deployers)"
    )


def test_a_folder_the_deployer_may_not_manage(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", FOLDER_ACL, recorded("preflight_directory_permissions_read"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {
        ("folder", "/Repos/prod_lakeflow"): "MISSING",
        ("folder", MONITORING_PARENT): "MISSING",
    }
    assert rows(out)[("folder", MONITORING_PARENT)]["fix"] == (
        "databricks workspace update-permissions directories 2817364509182736 --json "
        f'\'{{"access_control_list": [{{"service_principal_name": "{CI}", "permission_level": "CAN_MANAGE"}}]}}\''
    )


def test_a_repo_where_a_folder_should_be(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", STATUS, recorded("preflight_status_repo"), query="path=/Repos/prod_lakeflow")
    code, out = report(project, capsys)
    assert code == 1
    assert rows(out)[("folder", "/Repos/prod_lakeflow")]["detail"] == (
        "/Repos/prod_lakeflow is a repo, not a folder (for the blue/green slots' Repos)"
    )


def test_pipeline_code_that_is_not_in_the_workspace(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", STATUS, not_found("preflight_status_missing"), query="sales_pipeline/gold_daily_sales")
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("code", "sales_pipeline"): "MISSING"}
    row = rows(out)[("code", "sales_pipeline")]
    missing = "/Workspace/Repos/prod/dlt-pipelines/pipelines/sales_pipeline/gold_daily_sales"
    assert row["detail"] == f"1 of 2 library path(s) not found: {missing}"
    assert row["fix"] == (
        "check the pipeline code out at /Workspace/Repos/prod/dlt-pipelines (lakeflow:variables.REPO_ROOT): "
        f"databricks repos create <git url> --path /Repos/prod/dlt-pipelines; or pull the branch that has {missing}"
    )


def test_a_missing_landing_volume(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", VOLUMES, not_found("preflight_volume_missing"))
    code, out = report(project, capsys)
    assert code == 1
    assert only_problems(out) == {("volume", "prod.landing.raw"): "MISSING"}
    row = rows(out)[("volume", "prod.landing.raw")]
    assert row["detail"] == "landing volume of /Volumes/prod/landing/raw/invoices/ not found"
    assert row["fix"].startswith("CREATE SCHEMA IF NOT EXISTS `prod`.`landing`; CREATE VOLUME `prod`.`landing`.`raw`; ")


def test_a_landing_volume_the_run_as_identity_cannot_read(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", EFFECTIVE.format("volume", "prod.landing.raw"), recorded("preflight_effective_none"))
    code, out = report(project, capsys)
    assert code == 1
    assert rows(out)[("volume", "prod.landing.raw")]["fix"] == (
        f"GRANT READ VOLUME ON VOLUME `prod`.`landing`.`raw` TO `{RUNNER}`"
    )


def test_a_file_arrival_outside_a_volume_is_a_manual_check(workspace, project, capsys):
    serve(workspace)
    data = project.pipeline("invoice_ingest")
    data["schedule"]["file_arrival"]["url"] = "s3://acme-landing/invoices/"
    project.set_pipeline("invoice_ingest", data)
    code, out = report(project, capsys)
    assert code == 2
    row = rows(out)[("volume", "s3://acme-landing/invoices/")]
    assert row["status"] == "UNKNOWN" and row["detail"].startswith("MANUAL CHECK: ")


# --- the dev stack: no run-as, no DR, a user deploys --------------------------------------------------------------


def test_the_dev_stack_runs_as_the_deploying_user(workspace, project, capsys):
    serve(workspace)
    folder = posixpath.dirname(monitoring_folder(project.load("dev").config) or "")  # /Users/<someone>/lakeflow
    workspace.on("GET", ME, recorded("preflight_me_dev", userName=folder.split("/")[2]))  # that someone deploys
    workspace.on("GET", STATUS, recorded("preflight_status_directory", path=folder))
    workspace.on("GET", FOLDER_ACL, recorded("preflight_directory_permissions_read"))  # data-engineers: none
    workspace.on("GET", STATUS, not_found("preflight_status_missing"), query="path=/Repos/dev_lakeflow")
    workspace.on("GET", STATUS, recorded("preflight_status_directory", path="/Repos"), query="path=/Repos$")
    users_may_use = [{"group_name": "users", "all_permissions": [{"permission_level": "CAN_USE", "inherited": False}]}]
    workspace.on("GET", WAREHOUSE_ACL, recorded("preflight_warehouse_permissions", access_control_list=users_may_use))
    code, out = report(project, capsys, stack="dev")
    # an engineer who is no workspace admin cannot make the top-level Repos folder: an admin makes it once
    assert code == 1
    assert only_problems(out) == {("folder", "/Repos/dev_lakeflow"): "MISSING"}
    assert rows(out)[("warehouse", "3f1e0c2b9a8d7e6f (deployer)")]["detail"].endswith("(through group users)")
    checks = [(c["check"], c["target"]) for c in out["checks"]]
    assert ("catalog", "dev (deployer)") in checks and ("catalog", "dev (run-as)") not in checks
    assert not [c for c in checks if c[0] == "dr_catalog"]
    assert rows(out)[("run_as", "-")]["detail"] == "no lakeflow:runAs: pipelines, jobs and alerts run as the deployer"
    assert rows(out)[("folder", folder)]["detail"] == "exists (the deployer's home)"
    assert workspace.calls("GET", SERVICE_PRINCIPALS) == [] and workspace.calls("GET", RULE_SET) == []


# --- failures of the API ------------------------------------------------------------------------------------------


def test_403_is_unknown_with_the_grant_to_ask_for_and_the_rest_still_runs(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", EFFECTIVE.format("catalog", "prod_dr"), denied())
    workspace.on("GET", WAREHOUSE_ACL, denied())
    code, out = report(project, capsys)
    assert code == 2 and out["status"] == "UNKNOWN"
    assert only_problems(out) == {
        ("dr_catalog", "prod_dr (deployer)"): "UNKNOWN",
        ("dr_catalog", "prod_dr (run-as)"): "UNKNOWN",
        ("warehouse", f"{WAREHOUSE} (run-as)"): "UNKNOWN",
        ("warehouse", f"{WAREHOUSE} (deployer)"): "UNKNOWN",
    }
    row = rows(out)[("dr_catalog", "prod_dr (deployer)")]
    assert row["detail"] == "deployer: catalog prod_dr: cannot verify (permission denied)"
    assert row["fix"] == (
        f"ask the owner or a metastore admin to run: GRANT USE CATALOG, CREATE SCHEMA ON CATALOG `prod_dr` TO `{CI}`"
    )
    assert rows(out)[("warehouse", f"{WAREHOUSE} (run-as)")]["fix"].startswith(
        f"ask the warehouse's owner (CAN MANAGE reads its permissions) to run: databricks warehouses "
        f"update-permissions {WAREHOUSE}"
    )
    assert len(out["checks"]) == len(PROD_ROWS)


def test_missing_outranks_unknown(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", WAREHOUSE_ACL, denied())
    workspace.on("GET", VOLUMES, not_found("preflight_volume_missing"))
    code, out = report(project, capsys)
    assert code == 1 and out["status"] == "MISSING"


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_unknown_in_one_line(workspace, project, capsys, status):
    serve(workspace)
    workspace.on("GET", GIT_CREDENTIALS, Answer(status, {"error_code": "INTERNAL_ERROR", "message": "boom"}))
    code, out = report(project, capsys, "--retry-timeout", "1")
    assert code == 2
    row = rows(out)[("git_credential", REPO_URL)]
    assert row["status"] == "UNKNOWN" and row["detail"].startswith("could not check: Git credentials of the deployer: ")
    assert "\n" not in row["detail"]


def test_refused_credentials_stop_the_run_in_one_line(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", ME, Answer(401, recorded("health_error_401")))
    assert run(project) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "make preflight: the current user (the deployer): the credentials were refused (401): "
        "renew DATABRICKS_TOKEN or the OAuth secret\n"
    )


def test_credentials_refused_midway_stop_the_run_too(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", GIT_CREDENTIALS, Answer(401, recorded("health_error_401")))
    assert run(project) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.startswith("make preflight: Git credentials of the deployer: the credentials were refused")


def test_missing_credentials_are_one_line(workspace, project, capsys, monkeypatch):
    monkeypatch.delenv("DATABRICKS_HOST")
    monkeypatch.delenv("DATABRICKS_TOKEN")
    assert run(project) == 2
    err = capsys.readouterr().err
    assert err.startswith("make preflight: no Databricks credentials: set DATABRICKS_HOST and DATABRICKS_TOKEN")
    assert err.count("\n") == 1
    assert workspace.requests == []


def test_an_unreachable_host_is_one_line(workspace, project, capsys, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DATABRICKS_HOST", f"http://127.0.0.1:{port}")
    project.edit_stack("prod", **{"databricks:host": f"http://127.0.0.1:{port}"})
    assert run(project, "--http-timeout", "1") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"make preflight: cannot reach http://127.0.0.1:{port}: connection refused (is DATABRICKS_HOST right? "
        "a workspace URL looks like https://<name>.cloud.databricks.com)\n"
    )


def test_a_workspace_that_stops_answering_midway_stops_the_run(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", GIT_CREDENTIALS, Answer(body={}, delay=1.0))
    assert run(project, "--http-timeout", "0.25") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        f"make preflight: Git credentials of the deployer: {workspace.host} did not answer within 0.25 s"
    )
    assert len(workspace.calls("GET", GIT_CREDENTIALS)) == 1  # not retried past the budget, nothing after it


def test_an_unknown_row_carries_the_whole_error(workspace, project, capsys):
    serve(workspace)
    long = "the metastore is being upgraded " * 20
    workspace.on("GET", GIT_CREDENTIALS, Answer(500, {"error_code": "INTERNAL_ERROR", "message": long.strip()}))
    code, out = report(project, capsys, "--retry-timeout", "1")
    assert code == 2
    row = rows(out)[("git_credential", REPO_URL)]
    assert "\n" not in row["detail"] and row["detail"].endswith(" …")
    assert long.strip() in row["error"]
    assert "error" not in rows(out)[("catalog", "prod (deployer)")]  # only where there is one
    assert run(project, "--retry-timeout", "1", "--verbose") == 2
    table = capsys.readouterr().out
    assert f"    | Git credentials of the deployer: InternalError: {long.strip()}" in table


@pytest.mark.parametrize("host", ["https://dbc-prod.cloud.databricks.com", "http://127.0.0.1:1"])
def test_credentials_for_another_workspace_are_refused_before_any_call(workspace, project, capsys, host):
    project.edit_stack("prod", **{"databricks:host": host})
    assert run(project) == 2
    assert capsys.readouterr().err == (
        f"make preflight: the credentials reach {workspace.host}, but stack 'prod' deploys to {host} "
        f"(databricks:host): point DATABRICKS_HOST (or the profile) at {host}\n"
    )
    assert [r.path for r in workspace.requests if r.path.startswith("/api/")] == []


def test_the_same_workspace_written_differently_is_accepted():
    preflight.same_workspace("https://DBC-prod.cloud.databricks.com", "dbc-prod.cloud.databricks.com/", "prod")
    preflight.same_workspace("https://dbc-prod.cloud.databricks.com", None, "prod")  # no databricks:host: the SDK's


def test_a_configuration_error_is_reported_before_any_call(workspace, project, capsys):
    project.edit_stack("prod", warehouseId=None)
    assert run(project) == 2
    assert "lakeflow:warehouseId" in capsys.readouterr().err
    assert workspace.requests == []


# --- the make target ----------------------------------------------------------------------------------------------


def test_the_make_target_passes_arguments_as_quoted_environment_variables():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\.PHONY:.* preflight\b", makefile, re.M)
    assert "## preflight: " in makefile
    recipe = makefile.split("\npreflight: $(STAMP)\n", 1)[1].split("\n\n", 1)[0].strip()
    assert recipe.startswith('@$(BIN)/lakeflow-preflight --stack "$$STACK" ')
    assert "$(if $(JSON),--json)" in recipe
    # Every value reaches the command as a quoted environment variable, never spliced into the command line.
    for name, body in re.findall(r"\$\(if \$\((\w+)\),([^)]*)\)", recipe):
        assert "$(" not in body and all(f'"$${v}"' == f'"$${name}"' for v in re.findall(r"\$\$(\w+)", body))
        assert re.findall(r"\$\$\w+", body) == re.findall(r'"(\$\$\w+)"', body)


def test_the_json_report_is_the_table_s_content(workspace, project, capsys):
    serve(workspace)
    workspace.on("GET", VOLUMES, not_found("preflight_volume_missing"))
    assert run(project) == 1
    table = capsys.readouterr().out
    _, out = report(project, capsys)
    for check in out["checks"]:
        line = next(line for line in table.splitlines() if check["detail"] in line and line.startswith(check["check"]))
        assert check["status"] in line.split() and check["fix"] in line
    assert table.splitlines()[-1] == f"{len(out['checks'])} check(s): {len(out['checks']) - 1} OK, 1 MISSING; exit 1"


def test_every_preflight_fixture_is_used():
    source = Path(__file__).read_text()
    unused = [
        path.stem
        for path in (ROOT / "tests" / "fixtures" / "databricks").glob("preflight_*.json")
        if f'"{path.stem}"' not in source
    ]
    assert unused == []
