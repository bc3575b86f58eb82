"""The offline diff: actions per resource, forced replacements, alias renames, data-loss guard."""

from __future__ import annotations

import json
import shutil
import subprocess
from unittest.mock import ANY

import pulumi
import pulumi_databricks as databricks
import pytest

from lakeflow.components import DltPipeline, DltPipelineArgs
from lakeflow.components.pipeline_alerts import CLUSTER_METRICS, PIPELINE_METRICS
from lakeflow.offline.diff import diff_plans, main
from lakeflow.offline.recorder import record
from lakeflow.sql.queries import breach_conditions
from tests.conftest import ROOT

METRIC_IDS = {m.id for m, _, _ in PIPELINE_METRICS}
PIPELINE = "databricks:index/pipeline:Pipeline"

pytestmark = pytest.mark.plan

PIPELINE_URN = (
    "urn:pulumi:prod::lakeflow::lakeflow:index:DltPipeline$databricks:index/pipeline:Pipeline::sales_pipeline-pipeline"
)


def plan_json(project, stack="prod"):
    return project.plan(stack).to_json()


def test_no_change_is_an_empty_diff(plans):
    plan = plans["prod"].to_json()
    d = diff_plans(plan, plan)
    assert d.changed == [] and d.violations == []
    assert d.summary() == "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 0 renamed (alias)"


def test_update_lists_changed_paths_old_to_new(project, plans):
    before = plans["prod"].to_json()  # the shipped project, unchanged so far
    data = project.pipeline("sales_pipeline")
    data["schedule"]["cron"] = "0 0 */4 * * ?"
    data["configuration"]["batch_size"] = "500"
    project.set_pipeline("sales_pipeline", data)
    d = diff_plans(before, plan_json(project))
    # The configuration backup follows every change of the resolved settings (guide 10.2).
    assert d.summary() == "Plan: 0 to create, 5 to update, 0 to replace, 0 to delete, 0 renamed (alias)"
    changes = {c.name: [(x.path, x.old, x.new) for x in c.changes] for c in d.changed}
    assert [path for path, _, _ in changes.pop("disaster-recovery-config-backup")] == ["contentBase64"]
    # which, decoded, is the resolved settings: the two keys that changed (test_diff_review.py)
    (backup,) = next(c for c in d.changed if c.name == "disaster-recovery-config-backup").changes
    assert backup.detail is not None and [(e.path, e.old, e.new) for e in backup.detail.entries] == [
        ("pipelines.sales_pipeline.spec.configuration.batch_size", "(absent)", "500"),
        ("pipelines.sales_pipeline.spec.schedule.cron", "0 0 */6 * * ?", "0 0 */4 * * ?"),
    ]
    assert changes == {
        "sales_pipeline-pipeline": [("configuration.batch_size", "(absent)", "500")],
        "sales_pipeline-job": [("schedule.quartzCronExpression", "0 0 */6 * * ?", "0 0 */4 * * ?")],
        # the lag a 4-hourly batch may have between runs: its lag alert holds it to 60 + 240 minutes,
        # and customer_360's, which runs after each sales_pipeline update, follows the same period
        "pipeline-alerts-sales_pipeline-processing-lag": [("queryText", ANY, ANY)],
        "pipeline-alerts-customer_360-processing-lag": [("queryText", ANY, ANY)],
    }
    for pipeline in ("sales_pipeline", "customer_360"):
        ((_, old, new),) = changes[f"pipeline-alerts-{pipeline}-processing-lag"]
        assert breach_conditions(old) == [f"{pipeline} lag_minutes > 420.0"]
        assert breach_conditions(new) == [f"{pipeline} lag_minutes > 300.0"]
    assert d.violations == []


def test_removing_a_pipeline_deletes_it_and_the_guard_refuses(project, plans):
    before = plans["prod"].to_json()  # the shipped project, unchanged so far
    (project.root / "pipelines" / "invoice_ingest.yaml").unlink()
    d = diff_plans(before, plan_json(project))
    deleted = {c.name for c in d.changed if c.action == "delete"}
    assert deleted == {
        "invoice_ingest",
        "invoice_ingest-pipeline",
        "invoice_ingest-permissions",
        "invoice_ingest-job",
        "invoice_ingest-job-permissions",
        "cost-guardrails-invoice_ingest-policy",  # its budget policy goes with it, and who may attach it
        "cost-guardrails-invoice_ingest-policy-access",
        # and its snapshot job, which snapshots nothing any more
        "invoice_ingest-snapshot-job",
        "invoice_ingest-snapshot-job-permissions",
        "invoice_ingest-snapshot-invoices",
        "invoice_ingest-snapshot-invoices-permissions",
        "disaster-recovery-schema-prod_dr-finance_invoices",  # its snapshot schema leaves the stack but is retained
        "disaster-recovery-schema-prod_dr-finance_invoices-grants",
        # its own event-log alerts (docs/adr/0007)
        "pipeline-alerts-invoice_ingest",
        *(f"pipeline-alerts-invoice_ingest-{m}" for m in METRIC_IDS - set(CLUSTER_METRICS)),
    }
    # Its own event-log alerts go with it; the stack-wide ones never watched it (serverless: no CPU or
    # memory alert; no cost limit).
    assert not [c for c in d.changed if c.name.startswith("pipeline-alerts") and c.action != "delete"]
    schema = next(c for c in d.changed if c.name == "disaster-recovery-schema-prod_dr-finance_invoices")
    assert schema.retained and schema.protected
    # The dashboard loses the pipeline's page, in place.
    (dashboard,) = [c for c in d.changed if c.name == "monitoring-dashboard"]
    assert dashboard.action == "update" and [x.path for x in dashboard.changes] == ["serializedDashboard"]
    # Protected in prod (component and children): every protected one is refused.
    refused = {v.urn.rsplit("::", 1)[1] for v in d.violations}
    assert refused == {
        "invoice_ingest",
        "invoice_ingest-pipeline",
        "invoice_ingest-permissions",
        "disaster-recovery-schema-prod_dr-finance_invoices",
    }
    assert any("protected Pipeline would be deleted" in v.reason for v in d.violations)


def test_an_unprotected_pipeline_is_still_guarded_because_it_holds_data(plans, dev_without_invoice_ingest):
    before = plans["dev"].to_json()  # the shipped project; then without pipelines/invoice_ingest.yaml
    d = diff_plans(before, dev_without_invoice_ingest.to_json())
    (violation,) = d.violations
    assert violation.urn.endswith("::invoice_ingest-pipeline")
    assert "holds data (it owns the tables it publishes" in violation.reason


def test_acknowledged_destroys_pass(plans, dev_without_invoice_ingest):
    before = plans["dev"].to_json()  # the shipped project; then without pipelines/invoice_ingest.yaml
    urn = PIPELINE_URN.replace(":prod::", ":dev::").replace("sales_pipeline", "invoice_ingest")
    d = diff_plans(before, dev_without_invoice_ingest.to_json(), allow_destroy=[urn])
    assert d.violations == [] and d.acknowledged == [urn]


def test_adding_a_pipeline_creates_its_resources(project, plans):
    before = plans["prod"].to_json()  # the shipped project, unchanged so far
    data = project.pipeline("customer_360")
    data["name"] = "customer_churn"
    data["target"] = "${CATALOG}.churn"  # its own schema: a table belongs to one pipeline
    data.pop("release")  # a plain pipeline (blue/green ones: test_release.py)
    data["environments"] = {"dev": {"photon": False}}
    project.set_pipeline("customer_churn", data)
    d = diff_plans(before, plan_json(project))
    created = {c.name for c in d.changed if c.action == "create"}
    assert created == {
        "customer_churn",
        "customer_churn-pipeline",
        "customer_churn-permissions",
        "customer_churn-job",
        "customer_churn-job-permissions",
        "customer_churn-snapshot-job",
        "customer_churn-snapshot-job-permissions",
        *(
            f"customer_churn-snapshot-{t}{s}"
            for t in ("customer_profile", "customer_segments")
            for s in ("", "-permissions")
        ),
        "disaster-recovery-schema-prod_dr-churn",  # its snapshots get a DR schema of their own
        "disaster-recovery-schema-prod_dr-churn-grants",
        # and its own event-log alerts (docs/adr/0007)
        "pipeline-alerts-customer_churn",
        *(f"pipeline-alerts-customer_churn-{m}" for m in METRIC_IDS - set(CLUSTER_METRICS)),
    }
    # three components named customer_churn (pipeline, schedule, snapshots) and 12 children, and its
    # alerts component with 5 alerts
    assert d.count("create") == 21
    # the stack-wide (system-table) alerts now watch it too, in place
    alerts = {f"pipeline-alerts-{m}" for m in CLUSTER_METRICS}
    assert {c.name for c in d.changed if c.action == "update"} == {
        "monitoring-dashboard",
        "disaster-recovery-config-backup",
    } | alerts
    assert d.violations == []


def resource(type_, name, inputs, protect=False, parent=None, stack="prod"):
    qualified = type_ if parent is None else f"{parent.split('::')[2]}${type_}"
    return {
        "urn": f"urn:pulumi:{stack}::lakeflow::{qualified}::{name}",
        "type": type_,
        "name": name,
        "parent": parent,
        "custom": True,
        "provider": None,
        "inputs": inputs,
        "protect": protect,
        "retainOnDelete": False,
        "deleteBeforeReplace": False,
        "aliases": [],
        "dependencies": [],
        "ignoreChanges": [],
        "replaceOnChanges": [],
    }


def one(old, new, **kw):
    d = diff_plans({"stack": "prod", "resources": [old]}, {"stack": "prod", "resources": [new]}, **kw)
    (change,) = d.changed
    return d, change


@pytest.mark.parametrize(
    ("type_", "before", "after", "reason"),
    [
        (
            "databricks:index/pipeline:Pipeline",
            {"storage": "dbfs:/a"},
            {"catalog": "main", "schema": "s"},
            "storage changed (forces replacement)",
        ),
        (
            "databricks:index/pipeline:Pipeline",
            {"storage": "dbfs:/a"},
            {"storage": "dbfs:/b"},
            "storage changed (forces replacement)",
        ),
        (
            "databricks:index/schema:Schema",
            {"name": "a", "catalogName": "c"},
            {"name": "b", "catalogName": "c"},
            "name changed",
        ),
        (
            "databricks:index/schema:Schema",
            {"name": "a", "catalogName": "c"},
            {"name": "a", "catalogName": "d"},
            "catalogName changed",
        ),
        (
            "databricks:index/sqlTable:SqlTable",
            {"tableType": "VIEW", "schemaName": "a"},
            {"tableType": "VIEW", "schemaName": "b"},
            "schemaName changed",
        ),
        (
            "databricks:index/sqlTable:SqlTable",
            {"tableType": "VIEW", "comment": "x"},
            {"tableType": "VIEW", "comment": "y"},
            "comment of a view changed",
        ),
        ("databricks:index/volume:Volume", {"volumeType": "MANAGED"}, {"volumeType": "EXTERNAL"}, "volumeType changed"),
        ("databricks:index/query:Query", {"parentPath": "/a"}, {"parentPath": "/b"}, "parentPath changed"),
        ("databricks:index/dashboard:Dashboard", {"parentPath": "/a"}, {"parentPath": "/b"}, "parentPath changed"),
        ("databricks:index/permissions:Permissions", {"pipelineId": "1"}, {"pipelineId": "2"}, "pipelineId changed"),
        # From the provider's schema (src/lakeflow/offline/force_new.json), all missing from the old hand-kept table:
        ("databricks:index/directory:Directory", {"path": "/a"}, {"path": "/b"}, "path changed"),
        ("databricks:index/repo:Repo", {"url": "https://x/a.git"}, {"url": "https://x/b.git"}, "url changed"),
        ("databricks:index/workspaceFile:WorkspaceFile", {"path": "/a"}, {"path": "/b"}, "path changed"),
        (
            "databricks:index/notificationDestination:NotificationDestination",
            {"config": {"email": {"addresses": ["a@x"]}}},
            {"config": {"slack": {"url": "[secret]"}}},
            "config.email added or removed",
        ),
    ],
)
def test_changes_that_force_replacement(type_, before, after, reason):
    _, change = one(resource(type_, "r", before), resource(type_, "r", after))
    assert change.action == "replace"
    assert any(reason in r for r in change.replace_reasons), change.replace_reasons


@pytest.mark.parametrize(
    ("type_", "before", "after"),
    [
        (
            "databricks:index/sqlTable:SqlTable",
            {"tableType": "VIEW", "viewDefinition": "SELECT 1"},
            {"tableType": "VIEW", "viewDefinition": "SELECT 2"},
        ),
        (
            "databricks:index/sqlTable:SqlTable",
            {"tableType": "MANAGED", "comment": "x"},
            {"tableType": "MANAGED", "comment": "y"},
        ),
        ("databricks:index/alertV2:AlertV2", {"parentPath": "/a"}, {"parentPath": "/b"}),
        # A ForceNew SDKv2 block replaces only when added or removed, not when a value inside changes.
        (
            "databricks:index/notificationDestination:NotificationDestination",
            {"config": {"email": {"addresses": ["a@x"]}}},
            {"config": {"email": {"addresses": ["b@x"]}}},
        ),
    ],
)
def test_changes_applied_in_place(type_, before, after):
    d, change = one(resource(type_, "r", before), resource(type_, "r", after))
    assert change.action == "update" and d.violations == []


def test_replacing_a_table_is_refused_by_the_guard():
    t = "databricks:index/sqlTable:SqlTable"
    d, _ = one(
        resource(t, "orders", {"tableType": "MANAGED", "schemaName": "a"}),
        resource(t, "orders", {"tableType": "MANAGED", "schemaName": "b"}),
    )
    (violation,) = d.violations
    assert "SqlTable holds data (a Unity Catalog table) and would be replaced" in violation.reason
    assert "schemaName changed" in violation.reason


def _component_program(name, aliases=()):
    def program():
        DltPipeline(
            name,
            DltPipelineArgs(
                name="prod_sales",
                catalog="prod",
                schema="sales",
                libraries=[{"notebook": {"path": "/x"}}],
                viewers=["group:a"],
            ),
            pulumi.ResourceOptions(aliases=list(aliases), protect=True),
        )

    return program


def test_a_component_renamed_with_an_alias_is_the_same_resource_and_so_are_its_children():
    old = record("lakeflow", "prod", {}, set(), _component_program("sales")).to_json()
    new = record(
        "lakeflow", "prod", {}, set(), _component_program("sales_pipeline", [pulumi.Alias(name="sales")])
    ).to_json()
    d = diff_plans(old, new)
    assert d.count("create") == d.count("delete") == 0 and d.violations == []
    assert d.renames == 3
    renamed = {c.name: c.renamed_from.rsplit("::", 1)[1] for c in d.changed}
    assert renamed == {
        "sales_pipeline": "sales",
        "sales_pipeline-pipeline": "sales-pipeline",
        "sales_pipeline-permissions": "sales-permissions",
    }


def test_without_the_alias_the_rename_is_delete_and_create_and_refused():
    old = record("lakeflow", "prod", {}, set(), _component_program("sales")).to_json()
    new = record("lakeflow", "prod", {}, set(), _component_program("sales_pipeline")).to_json()
    d = diff_plans(old, new)
    assert d.count("create") == d.count("delete") == 3
    assert any(v.urn.endswith("::sales-pipeline") for v in d.violations)


def test_moving_a_top_level_resource_into_a_component_with_a_no_parent_alias():
    def before():
        databricks.Pipeline("orders", name="prod_orders", catalog="prod", schema="s")

    def after():
        class Wrapper(pulumi.ComponentResource):
            def __init__(self, name):
                super().__init__("lakeflow:index:Wrapper", name)
                databricks.Pipeline(
                    "orders",
                    name="prod_orders",
                    catalog="prod",
                    schema="s",
                    opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]),
                )
                self.register_outputs({})

        Wrapper("w")

    d = diff_plans(
        record("lakeflow", "prod", {}, set(), before).to_json(), record("lakeflow", "prod", {}, set(), after).to_json()
    )
    assert d.count("delete") == 0 and d.violations == []
    moved = next(c for c in d.changed if c.name == "orders")
    assert (
        moved.action == "same"
        and moved.renamed_from == "urn:pulumi:prod::lakeflow::databricks:index/pipeline:Pipeline::orders"
    )


def test_cli_on_plan_files_writes_json_and_markdown_and_fails_on_the_guard(
    plans, dev_without_invoice_ingest, tmp_path, capsys
):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(plans["dev"].to_json()))  # the shipped project ...
    new.write_text(json.dumps(dev_without_invoice_ingest.to_json()))  # ... without pipelines/invoice_ingest.yaml
    args = [
        "--old",
        str(old),
        "--new",
        str(new),
        "--json",
        str(tmp_path / "d.json"),
        "--markdown",
        str(tmp_path / "d.md"),
    ]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "- delete   Pipeline invoice_ingest-pipeline" in out
    assert "Data-loss guard: 1 unacknowledged destroy(s), refusing:" in out
    md = (tmp_path / "d.md").read_text()
    assert md.startswith("<!-- lakeflow-diff:dev -->")
    assert "<details><summary><code>- delete   Pipeline invoice_ingest-pipeline</code></summary>" in md
    assert "```mermaid" in md and "[!CAUTION]" in md
    # 2 components, 4 children, and its alerts component with 5 alerts
    assert json.loads((tmp_path / "d.json").read_text())["summary"]["delete"] == 12
    urn = json.loads((tmp_path / "d.json").read_text())["dataLossGuard"]["violations"][0]["urn"]
    assert main([*args, "--allow-destroy", urn]) == 0


def test_make_diff_plans_the_base_ref_in_a_worktree(tmp_path, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT, repo, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*_cache", "bench", "fixtures")
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    sales = repo / "pipelines" / "sales_pipeline.yaml"
    sales.write_text(sales.read_text().replace('cron: "0 0 */6 * * ?"', 'cron: "0 0 */3 * * ?"'))

    assert main(["--stack", "prod", "--base", "HEAD", "--root", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "schedule.quartzCronExpression: 0 0 */6 * * ? -> 0 0 */3 * * ?" in out
    # of the alert's SQL, only the row that changed: the lag a 3-hourly batch may have between runs
    # the changed rows of the alert's watched table only (customer_360 follows sales_pipeline's period)
    assert "('sales_pipeline', 420.0)" in out and "('sales_pipeline', 240.0)" in out
    assert "('customer_360', 420.0)" in out and "('customer_360', 240.0)" in out
    # the job, the stack's processing-lag alert, the config backup
    assert "Plan: 0 to create, 4 to update, 0 to replace, 0 to delete, 0 renamed (alias)" in out
    assert subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True).stdout.count("\n") == 1
    assert main(["--stack", "prod", "--base", "no-such-ref", "--root", str(repo)]) == 2
    assert "BASE 'no-such-ref' is not a commit" in capsys.readouterr().err


def test_a_base_with_this_packages_code_plans_in_this_process_and_any_other_code_in_its_own(
    tmp_path, monkeypatch, plans
):
    """`make diff` plans the base with the base's code. When that code is this package's, file for file,
    the plan runs here (no second start of Python and the SDK); one byte different, or the flat layout
    of older commits, and it runs in a process of its own with that checkout first on the path."""
    from lakeflow.offline import diff

    code = tmp_path / "checkout"
    shutil.copytree(ROOT / "src", code / "src", ignore=shutil.ignore_patterns("__pycache__"))

    def no_process(*args, **kwargs):
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(diff.subprocess, "run", no_process)
    assert diff.plan_json(code, "dev", ROOT)["resources"] == plans["dev"].to_json()["resources"]

    assert diff._same_code(code)
    program = code / "src" / "lakeflow" / "program.py"
    program.write_text(program.read_text() + "# changed\n")
    assert not diff._same_code(code)
    program.unlink()
    assert not diff._same_code(code)
    assert not diff._same_code(tmp_path / "flat-layout")


def test_acknowledgements_come_from_allow_destroy_lines_only():
    from lakeflow.offline.diff import acknowledged_urns

    text = (
        "Retire the old ingest.\n\nallow-destroy: urn:pulumi:prod::lakeflow::a::b\n"
        "  Allow-Destroy:   urn:pulumi:prod::lakeflow::c::d  \n"
        "please allow-destroy: urn:pulumi:prod::lakeflow::not::this\nallow-destroy: not-a-urn\n"
        # in a Markdown description: in backticks or quotes (matching), CRLF line ends
        "allow-destroy: `urn:pulumi:prod::lakeflow::x$y::e`\r\n"
        "allow-destroy: 'urn:pulumi:prod::lakeflow::f::g'\r\n"
        "allow-destroy: `urn:pulumi:prod::lakeflow::mismatched::quotes'\n"
        "allow-destroy:\nurn:pulumi:prod::lakeflow::next::line\n"
    )
    assert acknowledged_urns(text) == [
        "urn:pulumi:prod::lakeflow::a::b",
        "urn:pulumi:prod::lakeflow::c::d",
        "urn:pulumi:prod::lakeflow::x$y::e",
        "urn:pulumi:prod::lakeflow::f::g",
    ]


def test_an_input_taken_from_a_replaced_resource_changes_and_may_replace_its_reader():
    """The engine sees the deployed id become unknown when its resource is replaced: the
    permissions of a moved dashboard are replaced too (dashboardId forces replacement), while a
    job reading a replaced pipeline's id is only updated."""

    def program(folder: str):
        def run() -> None:
            dashboard = databricks.Dashboard("d", display_name="d", parent_path=folder, warehouse_id="w")
            databricks.Permissions(
                "d-permissions",
                dashboard_id=dashboard.id,
                access_controls=[databricks.PermissionsAccessControlArgs(group_name="g", permission_level="CAN_READ")],
            )
            databricks.Permissions(
                "unrelated", directory_path="/x", access_controls=[{"group_name": "g", "permission_level": "CAN_READ"}]
            )

        return run

    old = record("lakeflow", "prod", {}, set(), program("/Shared/a")).to_json()
    new = record("lakeflow", "prod", {}, set(), program("/Shared/b")).to_json()
    actions = {c.name: c.action for c in diff_plans(old, new).resources}
    assert actions == {"d": "replace", "d-permissions": "replace", "unrelated": "same"}


@pytest.mark.parametrize(
    ("before", "after", "moved"),
    [
        ({"catalog": "a", "schema": "s"}, {"catalog": "b", "schema": "s"}, "catalog a -> b"),
        ({"catalog": "a", "schema": "s"}, {"catalog": "a", "schema": "t"}, "schema s -> t"),
    ],
)
def test_moving_where_a_pipeline_publishes_is_an_update_the_guard_refuses(before, after, moved):
    """The provider updates catalog and schema in place, but the tables do not move: the pipeline
    publishes anew, empty, and the next snapshot would clone that over the DR copy."""
    d, change = one(resource(PIPELINE, "p", before), resource(PIPELINE, "p", after))
    assert change.action == "update"
    (violation,) = d.violations
    assert f"moves where its data is ({moved})" in violation.reason
    d, _ = one(resource(PIPELINE, "p", before), resource(PIPELINE, "p", after), allow_destroy=[change.urn])
    assert d.violations == [] and d.acknowledged == [change.urn]


def test_a_retained_data_holder_leaving_the_stack_needs_acknowledging():
    """A DR schema moved to another target: the old one is retained (its snapshots stay) but
    restores would point at the new, empty one."""
    old = resource(
        "databricks:index/schema:Schema",
        "disaster-recovery-schema-staging_dr-sales",
        {"name": "sales", "catalogName": "dr"},
    )
    old["retainOnDelete"] = True
    d = diff_plans({"stack": "staging", "resources": [old]}, {"stack": "staging", "resources": []})
    (violation,) = d.violations
    assert "leaves the stack" in violation.reason and "retained" in violation.reason


def test_moving_the_stack_to_another_workspace_is_refused_for_every_data_holder():
    old = {"stack": "prod", "workspace": "https://a.cloud.databricks.com", "resources": [resource(PIPELINE, "p", {})]}
    new = {**old, "workspace": "https://b.cloud.databricks.com"}
    d = diff_plans(old, new)
    (violation,) = d.violations
    assert (
        "moves to another workspace (databricks:host https://a.cloud.databricks.com -> https://b." in violation.reason
    )


def test_the_guard_judges_the_real_engines_preview_too():
    """`make diff --engine-preview`: the deploy gate's verdict on `pulumi preview --json` against
    the deployed state, by the same rules as the offline diff."""
    from lakeflow.offline.diff import diff_from_preview

    def step(op, name, type_, old=None, new=None, reasons=None):
        urn = f"urn:pulumi:prod::lakeflow::{type_}::{name}"
        result = {"op": op, "urn": urn, "diffReasons": reasons or []}
        if old is not None:
            result["oldState"] = {"urn": urn, "type": type_, **old}
        if new is not None:
            result["newState"] = {"urn": urn, "type": type_, **new}
        return result

    preview = {
        "steps": [
            step("same", "lakeflow-prod", "pulumi:pulumi:Stack", {}, {}),
            step("delete", "old-pipeline", PIPELINE, {"protect": False, "inputs": {}}),
            step("update", "moved", PIPELINE, {"inputs": {"catalog": "a"}}, {"inputs": {"catalog": "b"}}, ["catalog"]),
            step("update", "renamed", PIPELINE, {"inputs": {"name": "a"}}, {"inputs": {"name": "b"}}, ["name"]),
            step("create-replacement", "job", "databricks:index/job:Job", {"inputs": {}}, {"inputs": {}}),
            step("delete-replaced", "job", "databricks:index/job:Job", {"inputs": {}}),
        ]
    }
    d = diff_from_preview("prod", preview)
    assert {c.name: c.action for c in d.resources} == {
        "old-pipeline": "delete",
        "moved": "update",
        "renamed": "update",
        "job": "replace",
    }
    assert {v.urn.rsplit("::", 1)[1] for v in d.violations} == {"old-pipeline", "moved"}
    acknowledged = diff_from_preview("prod", preview, [v.urn for v in d.violations])
    assert acknowledged.violations == [] and len(acknowledged.acknowledged) == 2
