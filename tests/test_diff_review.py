"""What a reviewer reads, through the real diff of changed copies of the project: the config
backup as the JSON it holds, SQL as unified-diff hunks, what a create makes and a delete loses,
the changes grouped per pipeline with a summary each, a sane Mermaid graph, acknowledgements that
match nothing reported, and the JSON output still what tools read.

The change most tests share is an everyday one: sales_pipeline's lag threshold raised to 90
minutes and its prod cluster capped at 16 workers, and a new pipeline, returns_pipeline."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lakeflow.offline.diff import Diff, ResourceChange, diff_plans, main
from lakeflow.offline.diff_render import render_markdown, render_text
from tests.conftest import ROOT, Project, copy_project
from tests.test_diff_render import check_markdown, check_mermaid, code_spans, mermaid_block, outside_fences

pytestmark = pytest.mark.plan

RETURNS = {
    "name": "returns_pipeline",
    "target": "${CATALOG}.returns",
    "photon": True,
    "clusters": [{"label": "default", "autoscale": {"min_workers": 1, "max_workers": 4, "mode": "ENHANCED"}}],
    "libraries": [{"notebook": {"path": "${REPO_ROOT}/pipelines/returns_pipeline/returns"}}],
    "schedule": {"cron": "0 30 2 * * ?", "timezone": "UTC"},
    "tables": ["returns"],
    "dr": {"critical_tables": ["returns"], "rpo_minutes": 1440, "retention_days": 14},
}
LAG_URN = (
    "urn:pulumi:prod::lakeflow::lakeflow:index:PipelineAlerts$databricks:index/alertV2:AlertV2"
    "::pipeline-alerts-sales_pipeline-processing-lag"
)


def everyday_change(project: Project) -> None:
    """sales_pipeline: lag threshold 60 -> 90 minutes, prod's cluster 20 -> 16 workers; and a new pipeline."""
    sales = project.pipeline("sales_pipeline")
    sales["monitoring"]["thresholds"]["processing_lag_minutes"] = 90
    sales["environments"]["prod"] = {"clusters": [{"label": "default", "autoscale": {"max_workers": 16}}]}
    project.set_pipeline("sales_pipeline", sales)
    project.set_pipeline("returns_pipeline", RETURNS)


@pytest.fixture(scope="module")
def everyday(tmp_path_factory, plans) -> Diff:
    project = Project(tmp_path_factory.mktemp("everyday"))
    copy_project(project.root)
    everyday_change(project)
    return diff_plans(plans["prod"].to_json(), project.plan("prod").to_json())


@pytest.fixture(scope="module")
def outputs(everyday) -> tuple[str, str]:
    return render_text(everyday, "HEAD"), render_markdown(everyday, "HEAD")


def named(diff: Diff, name: str) -> ResourceChange:
    (change,) = [c for c in diff.changed if c.name == name]
    return change


# --- 1. the config backup ----------------------------------------------------------------------------


def test_the_config_backup_is_diffed_as_the_json_document_it_holds(everyday, outputs, plans):
    (change,) = named(everyday, "disaster-recovery-config-backup").changes
    assert change.path == "contentBase64"  # the input itself, as the guard and the JSON output see it
    detail = change.detail
    assert detail is not None and (detail.kind, detail.encoding) == ("json", "base64")
    entries = {e.path: (e.old, e.new) for e in detail.entries}
    assert entries.keys() == {
        "pipelines.returns_pipeline",
        "pipelines.sales_pipeline.spec.clusters[0].autoscale.max_workers",
        "pipelines.sales_pipeline.spec.monitoring.thresholds.processing_lag_minutes",
    }
    assert entries["pipelines.sales_pipeline.spec.clusters[0].autoscale.max_workers"] == (20, 16)
    assert entries["pipelines.sales_pipeline.spec.monitoring.thresholds.processing_lag_minutes"] == (60, 90)
    old, new = entries["pipelines.returns_pipeline"]
    assert old == "(absent)" and new["physical_name"] == "prod_returns_pipeline"

    text, md = outputs
    assert "contentBase64 (base64 of a JSON document): 3 key(s) changed" in text
    assert "pipelines.sales_pipeline.spec.monitoring.thresholds.processing_lag_minutes: 60 -> 90" in text
    assert "pipelines.returns_pipeline: added {" in text
    assert "| `pipelines.sales_pipeline.spec.clusters[0].autoscale.max_workers` | `20` | `16` |" in md
    # never the base64 itself
    backup = next(r for r in plans["prod"].resources if r["name"] == "disaster-recovery-config-backup")["inputs"][
        "contentBase64"
    ]
    assert json.loads(base64.b64decode(backup))  # (it is what the decoded view compares)
    for output in (text, md):
        assert backup[:16] not in output and "ewog" not in output


# --- 2. SQL as hunks -----------------------------------------------------------------------------------


def test_sql_changes_are_unified_diff_hunks(everyday, outputs):
    (change,) = named(everyday, "pipeline-alerts-sales_pipeline-processing-lag").changes
    assert change.path == "queryText" and change.detail is not None and change.detail.kind == "text"
    hunk = ["@@ -1,6 +1,6 @@", " WITH watched (pipeline, threshold) AS (", "   VALUES",
            "-    ('sales_pipeline', 420.0)", "+    ('sales_pipeline', 450.0)", " ),"]  # fmt: skip
    assert list(change.detail.lines[: len(hunk)]) == hunk
    text, md = outputs
    assert "\n".join(f"            {line}" for line in hunk) in text
    assert "\n".join(["`queryText`:", "", "```diff", *hunk]) in md
    # the stack-wide alerts gain the new pipeline's row, in context
    assert "+    ('returns_pipeline', CAST(NULL AS STRING), 90.0)," in md
    for output in (text, md):
        assert "(no line)" not in output and "lines: " not in output


def test_the_sql_of_a_snapshot_query_shows_as_hunks(project, plans):
    sales = project.pipeline("sales_pipeline")
    sales["dr"]["retention_days"] = 45
    project.set_pipeline("sales_pipeline", sales)
    d = diff_plans(plans["prod"].to_json(), project.plan("prod").to_json())
    (change,) = named(d, "sales_pipeline-snapshot-gold_daily_sales").changes
    assert change.detail is not None and change.detail.kind == "text"
    assert "-  'delta.logRetentionDuration' = 'interval 30 days'," in change.detail.lines
    assert "+  'delta.logRetentionDuration' = 'interval 45 days'," in change.detail.lines
    md = render_markdown(d, "HEAD")
    check_markdown(md)
    assert "+  'delta.deletedFileRetentionDuration' = 'interval 45 days'" in md


# --- 3. creates and deletes --------------------------------------------------------------------------


def test_create_rows_say_what_is_created(everyday, outputs):
    assert named(everyday, "returns_pipeline-pipeline").key_inputs == [
        ("name", "prod_returns_pipeline"),
        ("catalog", "prod"),
        ("schema", "returns"),
        ("compute", "default: 1-4 workers ENHANCED"),
        ("continuous", "false"),
    ]
    text, md = outputs
    assert (
        "    + create   Pipeline returns_pipeline-pipeline\n"
        "          name=prod_returns_pipeline; catalog=prod; schema=returns; compute=default: 1-4 workers ENHANCED; "
        "continuous=false"
    ) in text
    assert "name=prod_returns_pipeline_schedule; schedule=0 30 2 * * ? UTC; tasks=returns_pipeline (pipeline)" in text
    assert "evaluation=COUNT(pipeline) > 0; schedule=0 */5 * * * ? America/New_York" in text
    assert "name=prod_returns_pipeline_dr_snapshot: returns; sql=CREATE OR REPLACE TABLE" in text
    # in the comment: the first key inputs on the row itself, all of them inside
    assert (
        "<details><summary><code>+ create   Pipeline returns_pipeline-pipeline</code>: name "
        "<code>prod_returns_pipeline</code>, catalog <code>prod</code>, schema <code>returns</code></summary>"
    ) in md
    assert "- compute: `default: 1-4 workers ENHANCED`" in md
    assert (
        "- `+ create   Job returns_pipeline-job`: name `prod_returns_pipeline_schedule`, "
        "schedule `0 30 2 * * ? UTC`, tasks `returns_pipeline (pipeline)`"
    ) in md
    assert "- `+ create   Schema disaster-recovery-schema-prod_dr-returns`: name `prod_dr.returns`" in md


def test_deletes_show_what_is_lost(plans, dev_without_invoice_ingest):
    before = plans["dev"].to_json()  # the shipped project; then without pipelines/invoice_ingest.yaml
    d = diff_plans(before, dev_without_invoice_ingest.to_json())
    text, md = render_text(d, "HEAD"), render_markdown(d, "HEAD")
    assert (
        "    - delete   Pipeline invoice_ingest-pipeline\n"
        "          lost: name=dev_invoice_ingest; catalog=dev; schema=finance; compute=serverless"
    ) in text
    assert "lost: name=dev_invoice_ingest_schedule; trigger=file arrival at /Volumes/dev/landing/raw/invoices/" in text
    check_markdown(md)
    assert "<details><summary><code>- delete   Pipeline invoice_ingest-pipeline</code></summary>" in md
    assert "**Lost:**\n- name: `dev_invoice_ingest`\n- catalog: `dev`\n- schema: `finance`" in md
    assert (
        "- `invoice_ingest`: 12 resources deleted (3 components, 1 pipeline, 2 permission sets, 5 alerts, 1 job)" in md
    )
    pipeline = next(r for r in d.to_json()["resources"] if r["name"] == "invoice_ingest-pipeline")
    assert pipeline["keyInputs"]["name"] == "dev_invoice_ingest"


# --- 4. escaping (the shipped names; hostile ones: test_diff_render.py) --------------------------------


def test_the_comment_of_an_everyday_change_is_well_formed(outputs):
    _, md = outputs
    check_markdown(md)
    # SQL with backticks inside inline code keeps them: a longer fence, not a replaced character
    spans = [span for line in outside_fences(md) for span in code_spans(line)]
    assert "CREATE OR REPLACE TABLE `prod_dr`.`returns`.`returns_dr_snapshot` …" in spans


# --- 5. grouped, with a summary per owner ------------------------------------------------------------


def test_changes_are_grouped_by_what_they_belong_to(everyday, outputs):
    groups = [(owner.label, len(changes)) for owner, changes in everyday.groups()]
    assert groups == [
        ("returns_pipeline", 17),
        ("sales_pipeline", 2),
        ("monitoring (MonitoringDashboard)", 1),
        ("pipeline-alerts (PipelineAlerts)", 2),
        ("disaster-recovery (SnapshotStore)", 3),
    ]
    text, md = outputs
    assert (
        "  [sales_pipeline] 1 pipeline updated (clusters[0].autoscale.maxWorkers 20 -> 16), "
        "1 alert updated (queryText ('sales_pipeline', 420.0) -> ('sales_pipeline', 450.0))"
    ) in text
    assert (
        "  [returns_pipeline] 17 resources created (4 components, 1 pipeline, 4 permission sets, 5 alerts, 2 jobs, "
        "1 query)"
    ) in text
    assert (
        "- `sales_pipeline`: 1 pipeline updated (`clusters[0].autoscale.maxWorkers 20 -> 16`), "
        "1 alert updated (`queryText ('sales_pipeline', 420.0) -> ('sales_pipeline', 450.0)`)"
    ) in md
    dashboard = "1 dashboard updated (`datasets[10] added`; `datasets[11] added`; … 2 more)"
    assert f"- `monitoring (MonitoringDashboard)`: {dashboard}" in md
    assert "#### `sales_pipeline`" in md
    # each resource listed under its owner's heading
    assert (
        md.index("#### `sales_pipeline`") < md.index("Pipeline sales_pipeline-pipeline") < md.index("#### `monitoring")
    )


# --- 6. the graph --------------------------------------------------------------------------------------


def test_the_graph_shows_each_changed_resource_under_what_it_belongs_to(everyday, outputs):
    _, md = outputs
    nodes, edges, titles = check_mermaid(mermaid_block(md))
    assert titles == [
        "returns_pipeline",
        "sales_pipeline",
        "monitoring #40;MonitoringDashboard#41;",
        "pipeline-alerts #40;PipelineAlerts#41;",
        "disaster-recovery #40;SnapshotStore#41;",
    ]
    ids = {label: node for node, label in nodes.items()}
    assert len([label for label in nodes.values() if "<br/>" in label]) == len(everyday.changed) == 25
    assert (ids["DltPipeline sales_pipeline"], ids["~ update<br/>Pipeline sales_pipeline-pipeline"]) in edges
    assert (
        ids["+ create<br/>DltPipeline returns_pipeline"],
        ids["+ create<br/>Pipeline returns_pipeline-pipeline"],
    ) in edges
    assert (ids["SnapshotStore disaster-recovery"], ids["~ update<br/>File disaster-recovery-config-backup"]) in edges


# --- JSON: only additions -------------------------------------------------------------------------------


def test_the_json_output_only_gains_fields(everyday):
    data = everyday.to_json()
    assert {"stack", "summary", "resources", "dataLossGuard"} <= data.keys()
    assert data["summary"] == {"create": 19, "update": 6, "replace": 0, "delete": 0, "rename": 0}
    assert {"violations", "acknowledged", "unmatchedAcknowledgements"} <= data["dataLossGuard"].keys()
    for resource in data["resources"]:
        assert {"action", "urn", "type", "name", "renamedFrom", "changes", "replaceReasons", "protected"} <= (
            resource.keys()
        )
        for change in resource["changes"]:
            assert {"path", "old", "new"} <= change.keys()
    backup = next(r for r in data["resources"] if r["name"] == "disaster-recovery-config-backup")
    (change,) = backup["changes"]
    assert change["path"] == "contentBase64" and change["old"].startswith("ewog")  # still the raw value
    assert change["decoded"]["kind"] == "json" and change["decoded"]["encoding"] == "base64"
    assert {"path": "pipelines.sales_pipeline.spec.monitoring.thresholds.processing_lag_minutes", "old": 60,
            "new": 90} in change["decoded"]["changes"]  # fmt: skip
    assert backup["group"] == "disaster-recovery (SnapshotStore)"
    assert data["groups"][1]["name"] == "sales_pipeline" and data["groups"][1]["summary"].startswith("1 pipeline")
    json.dumps(data)  # serialisable as the command writes it


# --- 7. acknowledgements that match nothing ---------------------------------------------------------------


def _shell(word: str) -> str:
    """What bash makes of `word` written in double quotes (how ALLOW_DESTROY="..." is often typed)."""
    done = subprocess.run(["bash", "-c", f'printf %s "{word}"'], capture_output=True, text=True, check=True, env={})
    return done.stdout


@pytest.fixture
def retired(plans, dev_without_invoice_ingest, tmp_path) -> tuple[list[str], str]:
    """Plan files of dev before and after removing invoice_ingest, and the refused pipeline's URN."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(plans["dev"].to_json()))
    new.write_text(json.dumps(dev_without_invoice_ingest.to_json()))
    urn = (
        "urn:pulumi:dev::lakeflow::lakeflow:index:DltPipeline$databricks:index/pipeline:Pipeline"
        "::invoice_ingest-pipeline"
    )
    args = ["--stack", "dev", "--old", str(old), "--new", str(new), "--json", str(tmp_path / "d.json")]
    return [*args, "--markdown", str(tmp_path / "d.md")], urn


def test_an_acknowledgement_the_shell_mangled_is_reported_with_the_urn_it_meant(retired, monkeypatch, capsys, tmp_path):
    args, urn = retired
    mangled = _shell(urn)
    assert mangled == urn.replace("$databricks", "")  # what double quotes did to it
    monkeypatch.setenv("LAKEFLOW_ALLOW_DESTROY", mangled)
    assert main(args) == 1  # the destroy is still unacknowledged
    out = capsys.readouterr().out
    assert f"Data-loss guard: acknowledgement matches no destroyed resource: {mangled}\n" in out
    assert f"  closest destroyed or replaced resource: {urn}\n" in out
    assert "quote it with single quotes" in out
    assert "Data-loss guard: 1 unacknowledged destroy(s), refusing:" in out
    md = (tmp_path / "d.md").read_text()
    check_markdown(md)
    assert "> [!WARNING]" in md
    assert f"> - acknowledgement matches no destroyed resource: `{mangled}`; closest destroyed or replaced " in md
    assert "(`ALLOW_DESTROY='urn:pulumi:...$...::name'`)" in md
    unmatched = json.loads((tmp_path / "d.json").read_text())["dataLossGuard"]["unmatchedAcknowledgements"]
    assert unmatched == [{"urn": mangled, "closest": urn}]


def test_an_unmatched_acknowledgement_alone_does_not_fail_the_diff(retired, monkeypatch, capsys, tmp_path):
    args, urn = retired
    stray = "urn:pulumi:dev::lakeflow::databricks:index/schema:Schema::never-existed"
    monkeypatch.setenv("LAKEFLOW_ALLOW_DESTROY", f"{urn} {stray}")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"Data-loss guard: acknowledged destroy of {urn}" in out
    assert f"Data-loss guard: acknowledgement matches no destroyed resource: {stray}\n" in out
    assert "unacknowledged" not in out
    # and from a pull request description, with the URN in backticks as Markdown invites
    monkeypatch.delenv("LAKEFLOW_ALLOW_DESTROY")
    description = tmp_path / "pr.txt"
    description.write_text(f"Retire invoice_ingest.\r\n\r\nallow-destroy: `{urn}`\r\nallow-destroy: '{stray}'\r\n")
    assert main([*args, "--acknowledgements", str(description)]) == 0
    assert f"acknowledgement matches no destroyed resource: {stray}\n" in capsys.readouterr().out
    # nothing destroyed at all: the acknowledgement is reported, the diff passes
    old_plan = args[args.index("--old") + 1]
    same = [old_plan if a == args[args.index("--new") + 1] else a for a in args]  # the old plan on both sides
    assert main([*same, "--acknowledgements", str(description)]) == 0
    assert f"acknowledgement matches no destroyed resource: {urn}" in capsys.readouterr().out


# --- the command as a reviewer runs it --------------------------------------------------------------------


def test_make_diff_of_an_everyday_change_reads_well(tmp_path, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT, repo, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*_cache", "bench", "fixtures")
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    everyday_change(Project(repo))
    md_path, json_path = tmp_path / "out.md", tmp_path / "out.json"
    args = ["--stack", "prod", "--base", "HEAD", "--root", str(repo), "--markdown", str(md_path)]
    assert main([*args, "--json", str(json_path)]) == 0
    text, md = capsys.readouterr().out, md_path.read_text()
    check_markdown(md)
    nodes, _, _ = check_mermaid(mermaid_block(md))
    assert len(nodes) == 30  # 25 changed resources and the 5 unchanged components they belong to
    for output in (text, md):
        assert "processing_lag_minutes" in output and "('sales_pipeline', 450.0)" in output
        assert "ewog" not in output and "(no line)" not in output
    assert "Plan: 19 to create, 6 to update, 0 to replace, 0 to delete, 0 renamed (alias)" in text
    data: dict[str, Any] = json.loads(json_path.read_text())
    assert [g["name"] for g in data["groups"]][:2] == ["returns_pipeline", "sales_pipeline"]
    assert Path(md_path).stat().st_size < 20_000
