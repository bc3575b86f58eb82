"""Configuration validation: every mistake is reported with file, line, dotted key, value and what
is allowed; all of them at once; and nothing is planned or registered while any remains.

Errors are planted by editing the text of a throwaway copy of the project (`project` fixture), so
comments and line numbers of the shipped files are kept; expected lines are looked up in the
edited text rather than hard-coded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import lakeflow.offline.plan
import lakeflow.offline.recorder
from lakeflow.config.errors import ConfigError, ConfigErrors
from lakeflow.config.loader import load_settings
from lakeflow.config.quartz import quartz_error
from lakeflow.offline.stack_file import project_name, read_stack_config
from tests.conftest import Project

_ANY = object()


# --- helpers ----------------------------------------------------------------------------------


def replace(project: Project, relative: str, old: str, new: str) -> None:
    """Edit one file's text in place (keeps comments and the line numbers of everything else)."""
    path = project.root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{relative}: expected exactly one {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(project: Project, relative: str, fragment: str) -> int:
    """1-based line of the first line of `relative` containing `fragment`."""
    lines = (project.root / relative).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


def load_errors(project: Project, stack: str = "dev") -> list[ConfigError]:
    with pytest.raises(ConfigErrors) as caught:
        project.load(stack)
    return caught.value.errors


def error_at(errors: list[ConfigError], file: str, key: str) -> ConfigError:
    matches = [e for e in errors if e.file == file and e.key == key]
    rendered = "\n".join(e.render() for e in errors)
    assert len(matches) == 1, f"expected one error at {file} {key!r}, got:\n{rendered}"
    return matches[0]


def expect_error(
    project: Project,
    file: str,
    key: str,
    *fragments: str,
    stack: str = "dev",
    line: int | None = None,
    value: Any = _ANY,
) -> ConfigError:
    """Loading `stack` fails with exactly one error, at `file`/`key`, whose rendered text
    (`file:line: key: value: message (hint)`) contains every fragment."""
    errors = load_errors(project, stack)
    assert len(errors) == 1, "expected a single error, got:\n" + "\n".join(e.render() for e in errors)
    err = error_at(errors, file, key)
    text = err.render()
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    if line is not None:
        assert err.line == line, text
        assert text.startswith(f"{file}:{line}:"), text
    if value is not _ANY:
        assert err.value == value, text
        assert repr(value) in text, text
    return err


INVOICE = "pipelines/invoice_ingest.yaml"
CLICKS = "pipelines/clickstream_events.yaml"
C360 = "pipelines/customer_360.yaml"
SALES = "pipelines/sales_pipeline.yaml"
RUN_AS_LINE = (
    "  lakeflow:runAs: sp:9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04"
    "   # example: your deploy service principal's application id\n"
)
DEV = "Pulumi.dev.yaml"
PROD = "Pulumi.prod.yaml"

SIMPLE = """
name: {name}
target: main.{name}
libraries:
  - file:
      path: /Workspace/{name}.py
"""


# --- YAML and keys ------------------------------------------------------------------------------


def test_a_read_yaml_document_is_the_callers_own(tmp_path):
    """A file read again is parsed once (its bytes are kept) and each read gets data of its own: what one
    caller changes, the next does not see, down to nested mappings, sequences and sets."""
    import datetime

    from lakeflow.config.yaml_source import load_yaml

    path = tmp_path / "doc.yaml"
    path.write_text("a: {b: [1, {c: x}]}\ntags: !!set {p, q}\nwhen: 2026-12-07\nshared: &s [1]\nagain: *s\n")
    first = load_yaml(path, "doc.yaml")
    expected = {"a": {"b": [1, {"c": "x"}]}, "tags": {"p", "q"}, "when": datetime.date(2026, 12, 7)}
    assert first.data == {**expected, "shared": [1], "again": [1]} and first.lines["a.b[1].c"] == 1
    first.data["a"]["b"][1]["c"] = "changed"
    first.data["a"]["b"].append(2)
    first.data["tags"].add("r")
    first.data["shared"].append(2)
    first.lines.clear()
    second = load_yaml(path, "doc.yaml")
    assert second.data == {**expected, "shared": [1], "again": [1]} and second.lines["a.b[1].c"] == 1


def test_yaml_syntax_error_names_file_and_line(project):
    project.write("pipelines/broken.yaml", "name: broken\ntarget: main.broken\n  photon: true\n")
    err = expect_error(project, "pipelines/broken.yaml", "", "is not valid YAML", "mapping values", line=3)
    assert err.render().startswith("pipelines/broken.yaml:3: is not valid YAML")


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "hint"),
    [
        (CLICKS, '  - label: "default"', '  - lable: "default"', "clusters[0].lable", "did you mean 'label'?"),
        (INVOICE, "serverless: true", "serverless: true\nphotonn: true", "photonn", "did you mean 'photon'?"),
    ],
    ids=["cluster-lable", "top-level-photonn"],
)
def test_unknown_key_suggests_the_near_match(project, file, old, new, key, hint):
    replace(project, file, old, new)
    bad = key.rsplit(".", 1)[-1]
    expect_error(project, file, key, "is not a known key", f"({hint})", line=line_of(project, file, f"{bad}:"))


def test_unknown_key_without_near_match_lists_allowed_keys(project):
    replace(project, INVOICE, "serverless: true", "serverless: true\ncolour: blue")
    err = expect_error(project, INVOICE, "colour", "is not a known key", line=line_of(project, INVOICE, "colour:"))
    assert err.hint is not None and err.hint.startswith("allowed: ")
    assert {"libraries", "photon", "schedule", "target"} <= set(err.hint.removeprefix("allowed: ").split(", "))


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "value", "message"),
    [
        (
            INVOICE,
            "serverless: true",
            'serverless: true\nphoton: "maybe"',
            "photon",
            "maybe",
            "Input should be a valid boolean",
        ),
        (
            CLICKS,
            'min_workers: "${MIN_WORKERS}"',
            'min_workers: "abc"',
            "clusters[0].autoscale.min_workers",
            "abc",
            "Input should be a valid integer",
        ),
    ],
    ids=["photon-maybe", "min_workers-abc"],
)
def test_wrong_type(project, file, old, new, key, value, message):
    replace(project, file, old, new)
    bad = key.rsplit(".", 1)[-1]
    expect_error(project, file, key, message, value=value, line=line_of(project, file, f"{bad}:"))


def test_min_workers_above_max_workers(project):
    replace(project, CLICKS, 'min_workers: "${MIN_WORKERS}"', "min_workers: 5")  # dev MAX_WORKERS is 2
    expect_error(
        project,
        CLICKS,
        "clusters[0].autoscale",
        "min_workers (5) is greater than max_workers (2)",
        line=line_of(project, CLICKS, "autoscale:"),
    )


# --- schedules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 2 * * *", "has 5 fields; Quartz needs 6 or 7"),  # Unix cron
        ("0 30 25 * * ?", "hours field '25': 25 is outside 0-23"),
        ("0 30 2 1 * MON", "exactly one of day-of-month and day-of-week must be '?'"),
    ],
    ids=["unix-5-fields", "hour-25", "both-day-fields"],
)
def test_invalid_quartz_cron(project, cron, message):
    replace(project, SALES, '"0 0 */6 * * ?"', f'"{cron}"')
    expect_error(project, SALES, "schedule.cron", message, value=cron, line=line_of(project, SALES, "cron:"))


def test_unknown_timezone(project):
    replace(project, SALES, 'timezone: "America/New_York"', 'timezone: "America/NewYork"')
    expect_error(
        project,
        SALES,
        "schedule.timezone",
        "is not a known IANA/Java time zone id",
        "'America/New_York'",
        value="America/NewYork",
        line=line_of(project, SALES, "timezone:"),
    )


def test_schedule_on_continuous_pipeline(project):
    replace(project, CLICKS, 'edition: "PRO"', 'edition: "PRO"\nschedule:\n  cron: "0 0 1 * * ?"')
    expect_error(
        project,
        CLICKS,
        "schedule",
        "a continuous pipeline runs all the time and takes no schedule",
        "remove schedule:, or set continuous: false",
        stack="prod",
        line=line_of(project, CLICKS, "schedule:"),
    )
    # dev turns the pipeline into a triggered one (environments.dev.continuous: false): allowed there
    assert project.load("dev").pipeline("clickstream_events").schedule is not None


# --- enumerations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "value", "allowed"),
    [
        (INVOICE, 'channel: "CURRENT"', 'channel: "BETA"', "channel", "BETA", "'CURRENT' or 'PREVIEW'"),
        (
            INVOICE,
            "serverless: true",
            'serverless: true\nedition: "ENTERPRISE"',
            "edition",
            "ENTERPRISE",
            "'CORE', 'PRO' or 'ADVANCED'",
        ),
        (
            CLICKS,
            'mode: "ENHANCED"',
            'mode: "TURBO"',
            "clusters[0].autoscale.mode",
            "TURBO",
            "'ENHANCED' or 'LEGACY'",
        ),
    ],
    ids=["channel", "edition", "autoscale-mode"],
)
def test_unknown_enumeration_value_lists_allowed_values(project, file, old, new, key, value, allowed):
    replace(project, file, old, new)
    bad = key.rsplit(".", 1)[-1]
    expect_error(project, file, key, allowed, value=value, line=line_of(project, file, f"{bad}: "))


# --- pipeline contents --------------------------------------------------------------------------


def test_duplicate_pipeline_names_name_both_files(project):
    project.write("pipelines/invoice_copy.yaml", (project.root / INVOICE).read_text())
    err = expect_error(
        project,
        INVOICE,
        "name",
        "pipelines/invoice_copy.yaml",
        "must be unique",
        value="invoice_ingest",
        line=line_of(project, INVOICE, "name:"),
    )
    assert err.message == "is also the name of the pipeline in pipelines/invoice_copy.yaml"


@pytest.mark.parametrize(
    "target",
    [
        "staging.x`;DROP/**/SCHEMA/**/staging_dr/**/CASCADE;--",
        "prod.sales;DROP/**/TABLE/**/x",
        "prod.sa`les",
        "prod.sales--",
        "prod.sal es",
        "prod.sales.extra",
    ],
)
def test_a_target_that_is_not_two_unity_catalog_names_is_refused(project, target):
    replace(project, INVOICE, '"${CATALOG}.finance"', json.dumps(target))
    errors = load_errors(project, "dev")
    assert any(e.key == "target" and e.file == INVOICE for e in errors), errors


def test_unfilled_variable_suggests_the_near_variable(project):
    replace(project, INVOICE, '"${CATALOG}.finance"', '"${CATALGO}.finance"')
    expect_error(
        project,
        INVOICE,
        "target",
        "uses ${CATALGO}, which this stack does not define",
        "(did you mean 'CATALOG'?)",
        value="${CATALGO}.finance",
        line=line_of(project, INVOICE, "target:"),
    )


def test_unfilled_variable_without_near_match_says_where_to_define_it(project):
    replace(project, INVOICE, '"${SOURCE_PATH}/invoices"', '"${WAREHOUSE_ID}/invoices"')
    expect_error(
        project,
        INVOICE,
        "configuration.landing_path",
        "uses ${WAREHOUSE_ID}",
        "define it under lakeflow:variables",
        line=line_of(project, INVOICE, "landing_path:"),
    )


def test_escaped_variable_stays_literal(project):
    replace(
        project,
        INVOICE,
        'landing_path: "${SOURCE_PATH}/invoices"',
        'landing_path: "${SOURCE_PATH}/invoices"\n  literal: "$${CATALOG}-${CATALOG}"\n  undefined: "$${NOT_A_VAR}"',
    )
    configuration = project.load("dev").pipeline("invoice_ingest").configuration
    assert configuration["literal"] == "${CATALOG}-dev"
    assert configuration["undefined"] == "${NOT_A_VAR}"
    assert configuration["landing_path"] == "/Volumes/dev/landing/raw/invoices"


def test_development_true_in_production_stack(project):
    replace(project, INVOICE, "serverless: true", "serverless: true\ndevelopment: true")
    expect_error(
        project,
        INVOICE,
        "development",
        "must not be true in a production stack (environment 'prod')",
        stack="prod",
        value=True,
        line=line_of(project, INVOICE, "development:"),
    )
    assert project.load("dev").pipeline("invoice_ingest").development is True


@pytest.mark.parametrize("libraries", [None, "libraries: []\n"], ids=["absent", "empty"])
def test_pipeline_without_libraries(project, libraries):
    block = 'libraries:\n  - glob:\n      include: "${REPO_ROOT}/pipelines/invoice_ingest/**"\n'
    replace(project, INVOICE, block, libraries or "")
    expected_line = line_of(project, INVOICE, "libraries:" if libraries else "name:")
    expect_error(
        project,
        INVOICE,
        "libraries",
        "a pipeline needs at least one library",
        "add e.g. libraries:",
        line=expected_line,
    )


def test_pipeline_without_libraries_points_at_name_when_name_is_not_first(project):
    # loader.py means to fall back to the `name:` line (`doc.line("libraries") or doc.line("name")`)
    project.write("pipelines/nolibs.yaml", "# no libraries\ntarget: main.nolibs\nname: nolibs\n")
    expect_error(project, "pipelines/nolibs.yaml", "libraries", "at least one library", line=3)


def test_storage_is_rejected_with_the_reason(project):
    replace(project, INVOICE, "serverless: true", "serverless: true\nstorage: dbfs:/pipelines/invoices")
    expect_error(
        project,
        INVOICE,
        "storage",
        "is not accepted",
        "a change forces the pipeline's replacement",
        "write catalog: and schema:",
        value="dbfs:/pipelines/invoices",
        line=line_of(project, INVOICE, "storage:"),
    )


def test_max_workers_above_stack_cap(project):
    replace(project, CLICKS, 'max_workers: "${MAX_WORKERS}"', "max_workers: 8")  # dev cap is 4
    expect_error(
        project,
        CLICKS,
        "clusters[0].autoscale.max_workers",
        "exceeds this stack's cap of 4 workers",
        "raise lakeflow:maxWorkersCap",
        value=8,
        line=line_of(project, CLICKS, "max_workers:"),
    )
    assert project.load("staging").pipeline("clickstream_events").clusters[0].autoscale.max_workers == 8


# --- dependencies -------------------------------------------------------------------------------


def test_dependency_on_unknown_pipeline_suggests_the_near_name(project):
    replace(project, C360, "after: [sales_pipeline]", "after: [sales_pipelin]")
    expect_error(
        project,
        C360,
        "schedule.after[0]",
        "is not a pipeline of this project",
        "(did you mean 'sales_pipeline'?)",
        value="sales_pipelin",
        line=line_of(project, C360, "after:"),
    )


def test_dependency_cycle_shows_the_cycle(project):
    replace(project, SALES, '  cron: "0 0 */6 * * ?"', '  after: [customer_360]\n  cron: "0 0 */6 * * ?"')
    expect_error(
        project,
        C360,
        "schedule.after",
        "dependency cycle: customer_360 -> sales_pipeline -> customer_360",
        line=line_of(project, C360, "after:"),
    )


def test_three_pipeline_cycle_is_reported_once(project):
    for name, upstream in [("a", "b"), ("b", "c"), ("c", "a")]:
        project.write(
            f"pipelines/{name}.yaml",
            SIMPLE.format(name=name) + f"schedule:\n  cron: '0 0 1 * * ?'\n  after: [{upstream}]\n",
        )
    expect_error(project, "pipelines/a.yaml", "schedule.after", "dependency cycle: a -> b -> c -> a")


def test_dependency_on_continuous_pipeline(project):
    replace(project, C360, "after: [sales_pipeline]", "after: [clickstream_events]")
    expect_error(
        project,
        C360,
        "schedule.after[0]",
        "is continuous: it never completes",
        stack="prod",
        value="clickstream_events",
        line=line_of(project, C360, "after:"),
    )


def test_a_dependent_job_never_starts_an_upstream_that_has_a_job_of_its_own(project):
    """sales_pipeline has a 6-hourly job; a nightly customer_360 job that also ran it first made two
    updates of one pipeline collide. With a cron of its own, `after` such a pipeline is refused."""
    replace(project, C360, "after: [sales_pipeline]", 'after: [sales_pipeline]\n  cron: "0 30 2 * * ?"')
    expect_error(
        project,
        C360,
        "schedule.after[0]",
        "has a job of its own, so this job must not start it too",
        "drop this schedule's cron/file_arrival: the job then starts when sales_pipeline's tables are updated",
        stack="prod",
        value="sales_pipeline",
        line=line_of(project, C360, "after:"),
    )


def test_a_dependent_schedule_without_a_trigger_needs_an_upstream_with_a_job(project):
    project.write("pipelines/lookup.yaml", SIMPLE.format(name="lookup"))
    replace(project, C360, "after: [sales_pipeline]", "after: [lookup]")
    expect_error(project, C360, "schedule", "has no cron or file_arrival", "add cron or file_arrival", stack="prod")


def test_an_upstream_without_a_job_is_started_by_one_dependent_only(project):
    project.write("pipelines/lookup.yaml", SIMPLE.format(name="lookup"))
    replace(project, C360, "after: [sales_pipeline]", 'after: [lookup]\n  cron: "0 30 2 * * ?"')
    project.write(
        "pipelines/report.yaml",
        SIMPLE.format(name="report") + 'schedule:\n  after: [lookup]\n  cron: "0 0 3 * * ?"\n',
    )
    expect_error(
        project,
        "pipelines/report.yaml",
        "schedule.after",
        "lookup is already started by customer_360's job",
        "give lookup a schedule of its own",
        stack="prod",
    )


def test_an_upstream_with_a_job_must_list_the_tables_that_start_its_dependents(project):
    replace(project, SALES, "tables: [silver_orders, gold_daily_sales]", "")
    errors = load_errors(project, "prod")
    assert any(e.file == C360 and e.key == "schedule.after[0]" and "lists no `tables`" in e.message for e in errors), (
        errors
    )


# --- environments overrides ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "hint"),
    [("stagin", "did you mean 'staging'?"), ("qa", "known: dev, prod, staging")],
    ids=["near-match", "no-match"],
)
def test_override_for_unknown_environment(project, env, hint):
    replace(project, C360, "environments:\n  dev:", f"environments:\n  {env}:")
    expect_error(
        project,
        C360,
        f"environments.{env}",
        "is not an environment of any stack",
        hint,
        line=line_of(project, C360, f"  {env}:"),
    )


def test_overrides_apply_only_to_their_environment(project):
    dev, prod = project.load("dev").pipeline("sales_pipeline"), project.load("prod").pipeline("sales_pipeline")
    assert (dev.photon, dev.edition) == (False, "CORE")
    assert (prod.photon, prod.edition) == (True, "ADVANCED")


def test_cluster_overrides_merge_by_label(project):
    replace(
        project,
        SALES,
        '    edition: "CORE"\n',
        '    edition: "CORE"\n'
        "  prod:\n"
        "    clusters:\n"
        "      - label: default\n"
        "        autoscale:\n"
        "          max_workers: 12\n"
        "      - label: maintenance\n"
        "        num_workers: 1\n",
    )
    prod = project.load("prod").pipeline("sales_pipeline")
    assert [c.label for c in prod.clusters] == ["default", "maintenance"]
    default = prod.clusters[0]
    assert (default.autoscale.min_workers, default.autoscale.max_workers, default.autoscale.mode) == (
        2,
        12,
        "ENHANCED",
    )
    assert default.spark_conf["spark.databricks.delta.optimizeWrite.enabled"] == "true"
    assert default.custom_tags == {"DataProduct": "sales"}
    assert prod.clusters[1].num_workers == 1

    dev = project.load("dev").pipeline("sales_pipeline")
    assert len(dev.clusters) == 1
    assert (dev.clusters[0].autoscale.min_workers, dev.clusters[0].autoscale.max_workers) == (1, 2)


def test_override_error_points_at_the_override_line(project):
    project.write(
        "pipelines/over.yaml",
        SIMPLE.format(name="over")
        + "clusters:\n"
        + "  - autoscale:\n"
        + "      min_workers: 1\n"
        + "      max_workers: 2\n"
        + "environments:\n"
        + "  prod:\n"
        + '    photon: "maybe"\n'
        + "    clusters:\n"
        + "      - autoscale:\n"
        + '          min_workers: "abc"\n',
    )
    errors = load_errors(project, "prod")
    assert len(errors) == 2, [e.render() for e in errors]
    photon = error_at(errors, "pipelines/over.yaml", "photon")
    assert photon.line == line_of(project, "pipelines/over.yaml", 'photon: "maybe"')
    assert photon.value == "maybe"
    workers = error_at(errors, "pipelines/over.yaml", "clusters[0].autoscale.min_workers")
    assert workers.line == line_of(project, "pipelines/over.yaml", 'min_workers: "abc"')
    # the prod override does not apply to dev
    assert project.load("dev").pipeline("over").photon is False


# --- stack config -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "fragments"),
    [
        (
            "lakeflow:mode: development",
            "lakeflow:mode: prod",
            "lakeflow:mode",
            ["'prod'", "Input should be 'development' or 'production'"],
        ),
        (
            "lakeflow:maxWorkersCap: 4",
            "lakeflow:maxWorkersCap: 4\n  lakeflow:photonn: true",
            "lakeflow:photonn",
            ["is not a known key", "allowed: ", "maxWorkersCap", "schedulePauseStatus"],
        ),
        (
            "lakeflow:maxWorkersCap: 4",
            "lakeflow:maxWorkerCap: 4",
            "lakeflow:maxWorkerCap",
            ["is not a known key", "did you mean 'maxWorkersCap'?"],
        ),
        (
            "lakeflow:maxWorkersCap: 4",
            "lakeflow:maxWorkersCap:\n    secure: v1:c2VjcmV0",
            "lakeflow:maxWorkersCap",
            ["must not be a secret", "Databricks secret scope"],
        ),
    ],
    ids=["mode-prod", "unknown-key", "near-key", "secret"],
)
def test_stack_config_error(project, old, new, key, fragments):
    replace(project, DEV, old, new)
    expect_error(project, DEV, key, *fragments, line=line_of(project, DEV, key + ":"))


def test_secrets_outside_the_lakeflow_namespace_are_fine(project):
    replace(
        project,
        DEV,
        "  lakeflow:environment: dev",
        "  databricks:token:\n    secure: v1:c2VjcmV0\n  lakeflow:environment: dev",
    )
    assert project.load("dev").config.environment == "dev"


@pytest.mark.parametrize("run_as", [None, "user:deployer@example.com"], ids=["absent", "user"])
def test_production_stack_must_run_as_service_principal(project, run_as):
    old = RUN_AS_LINE
    replace(project, PROD, old, f"  lakeflow:runAs: {run_as}\n" if run_as else "")
    expect_error(
        project,
        PROD,
        "lakeflow:runAs",
        "a production stack must run as a service principal",
        "pulumi config set runAs sp:",
        stack="prod",
        value=run_as,
        line=line_of(project, PROD, "lakeflow:runAs:" if run_as else "config:"),
    )


def test_a_service_principal_is_named_by_its_application_id(project):
    """`sp:9c2e7b41-prod-deployer` (a display name) is not what Databricks accepts in run-as settings
    and access-control lists: the application id, a UUID, is."""
    replace(project, PROD, "sp:9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04", "sp:9c2e7b41-prod-deployer")
    expect_error(
        project,
        PROD,
        "lakeflow:runAs",
        "a service principal is named by its application id, a UUID",
        stack="prod",
        value="sp:9c2e7b41-prod-deployer",
    )


def test_run_as_group_is_reported_at_the_run_as_key(project):
    replace(project, PROD, "lakeflow:runAs: sp:9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04", "lakeflow:runAs: group:admins")
    expect_error(
        project,
        PROD,
        "lakeflow:runAs",
        "must be a user ('user:<email>') or a service principal ('sp:<application id>')",
        stack="prod",
        value="group:admins",
        line=line_of(project, PROD, "lakeflow:runAs:"),
    )


def test_missing_stack_file_lists_available_stacks(project):
    err = expect_error(project, "Pulumi.qa.yaml", "", "does not exist", stack="qa")
    assert err.hint == "stacks here: dev, prod, staging"


# --- all errors at once, nothing registered -----------------------------------------------------


def plant_errors_everywhere(project: Project) -> set[tuple[str, str]]:
    """Plant errors in the prod stack file and in four pipeline files; return their (file, key)."""
    replace(project, PROD, "lakeflow:mode: production", "lakeflow:mode: prod")
    replace(project, PROD, "lakeflow:protect: true", "lakeflow:protect: true\n  lakeflow:photonn: true")
    replace(project, PROD, "lakeflow:timezone: America/New_York", "lakeflow:timezone:\n    secure: v1:c2VjcmV0")
    replace(project, INVOICE, "serverless: true", "serverless: true\nphotonn: true")
    replace(project, SALES, '"0 0 */6 * * ?"', '"0 0 */6 * *"')
    replace(project, CLICKS, 'min_workers: "${MIN_WORKERS}"', 'min_workers: "abc"')
    project.write("pipelines/broken.yaml", "name: broken\n  target: [\n")
    return {
        (PROD, "lakeflow:mode"),
        (PROD, "lakeflow:photonn"),
        (PROD, "lakeflow:timezone"),
        (INVOICE, "photonn"),
        (SALES, "schedule.cron"),
        (CLICKS, "clusters[0].autoscale.min_workers"),
        ("pipelines/broken.yaml", ""),
    }


def test_all_errors_are_reported_at_once(project):
    expected = plant_errors_everywhere(project)
    with pytest.raises(ConfigErrors) as caught:
        project.load("prod")
    assert {(e.file, e.key) for e in caught.value.errors} == expected
    report = str(caught.value)
    assert report.startswith("7 configuration errors:")
    for err in caught.value.errors:
        assert f"  - {err.render()}" in report


def test_cross_file_errors_are_reported_with_file_errors(project):
    replace(
        project,
        PROD,
        RUN_AS_LINE,
        "",
    )
    replace(project, C360, "after: [sales_pipeline]", "after: [sales_pipelin]")
    replace(project, INVOICE, "serverless: true", "serverless: true\nphotonn: true")
    project.write("pipelines/web_events.yaml", SIMPLE.format(name="clickstream_events"))
    project.write("pipelines/broken.yaml", "name: broken\n  target: [\n")
    errors = load_errors(project, "prod")
    assert {(e.file, e.key) for e in errors} == {
        (PROD, "lakeflow:runAs"),
        (C360, "schedule.after[0]"),
        (INVOICE, "photonn"),
        ("pipelines/web_events.yaml", "name"),  # the later file (in name order) with that name
        ("pipelines/broken.yaml", ""),
    }


def test_independent_errors_in_one_file_are_reported_together(project):
    # errors.py: "so a user fixes a file in one pass"
    replace(project, INVOICE, "serverless: true", "serverless: true\nstorage: /mnt/x\nphotonn: true")
    errors = load_errors(project)
    assert {(e.file, e.key) for e in errors} == {(INVOICE, "storage"), (INVOICE, "photonn")}


def test_error_in_upstream_pipeline_does_not_make_its_dependents_fail(project):
    # customer_360 runs after sales_pipeline; a typo in sales_pipeline.yaml must not also be
    # reported as "'sales_pipeline' is not a pipeline of this project" in customer_360.yaml
    replace(project, SALES, "photon: true", "photonn: true")
    errors = load_errors(project)
    assert [(e.file, e.key) for e in errors] == [(SALES, "photonn")], [e.render() for e in errors]


def test_plan_raises_before_recording_anything(project, monkeypatch):
    recorded = []
    monkeypatch.setattr(lakeflow.offline.recorder, "record", lambda *args, **kwargs: recorded.append(args))
    replace(project, INVOICE, "serverless: true", "serverless: true\nphotonn: true")
    with pytest.raises(ConfigErrors) as caught:
        project.plan("dev")
    assert [(e.file, e.key) for e in caught.value.errors] == [(INVOICE, "photonn")]
    assert recorded == []


def test_cli_reports_errors_on_stderr_and_exits_2(project, capsys):
    expected = plant_errors_everywhere(project)
    code = lakeflow.offline.plan.main(["--stack", "prod", "--root", str(project.root)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith("Stack 'prod' not planned, nothing registered.\n7 configuration errors:")
    for file, key in expected:
        lines = [line for line in err.splitlines() if line.startswith(f"  - {file}:")]
        assert any(key == "" or f" {key}:" in line for line in lines), (file, key)


def test_cli_missing_stack_exits_2(project, capsys):
    code = lakeflow.offline.plan.main(["--stack", "qa", "--root", str(project.root)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert "Pulumi.qa.yaml: does not exist (stacks here: dev, prod, staging)" in err
    assert "Traceback" not in err


# --- Quartz expressions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 */6 * * ?",
        "0 30 2 ? * MON-FRI",
        "0 0 0 L * ?",
        "0 0 12 ? * 6L",
        "0 0 12 ? * 2#1 2027",
        "0 0 0 15W * ?",
        "0 0 0 L-3 * ?",
        "0 0 0 LW * ?",
        "0 0/5 14,18 * * ?",
        "0 0 12 ? JAN-MAR MON#2",
        "0 15 10 ? * *",
        "0 0 12 ? * mon-fri",
    ],
)
def test_quartz_accepts(expression):
    assert quartz_error(expression) is None


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 */6 * * *", "has 5 fields; Quartz needs 6 or 7"),
        ("0 0 0 1 1 ? 2027 x", "has 8 fields"),
        ("60 0 0 * * ?", "seconds field '60': 60 is outside 0-59"),
        ("0 0 25 * * ?", "hours field '25': 25 is outside 0-23"),
        ("0 0 0 32 * ?", "day-of-month field '32': 32 is outside 1-31"),
        ("0 0 0 ? 13 MON", "month field '13': 13 is outside 1-12"),
        ("0 0 0 ? * 8", "day-of-week field '8': 8 is outside 1-7"),
        ("0 0 0 ? * FOO", "'FOO' is not allowed (use 1-7 or SUN..SAT)"),
        ("0 0 0 * * ? 1969", "year field '1969': 1969 is outside 1970-2099"),
        ("0 0 12 * * MON", "exactly one of day-of-month and day-of-week must be '?'"),
        ("0 0 12 * * *", "exactly one of day-of-month and day-of-week must be '?'"),
        ("0 0 ? * * *", "'?' is only allowed in day fields"),
        ("0 */0 * * * ?", "step 0 must be between 1 and 59"),
        ("0 0 0 L-31 * ?", "31 is outside 1-30"),
        ("0 0 0 ? * MON#6", "is not a value, range (a-b), step (a/n) or list"),
        ("0 0 *-5 * * ?", "'*' cannot start a range"),
    ],
)
def test_quartz_rejects(expression, fragment):
    problem = quartz_error(expression)
    assert problem is not None and fragment in problem, problem


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: x\ntarget: main.x\nname: y\n", "name: appears twice in one mapping (lines 1 and 3)"),
        (b"name: \xff\xfe\n", "is not UTF-8 text (byte 6 is 0xff)"),
        ("x: " + "[" * 100_000 + "]" * 100_000 + "\n", "nests deeper than 64 levels"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcde", "bcdef", strict=True))
            + "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
            "expands to over 100,000 values (aliases?)",
        ),
        ("a: &a [*a]\n", "refers to itself (a recursive alias)"),
    ],
    ids=["duplicate-key", "not-utf8", "deep", "alias-bomb", "recursive"],
)
def test_hostile_yaml_is_refused_quickly_with_the_file_named(project, content, message):
    """The Pulumi CLI refuses duplicate keys, so must we (last-wins would unprotect prod with a
    second `lakeflow:protect: false`); the rest would crash, hang or exhaust memory."""
    import time

    path = project.root / "pipelines" / "hostile.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    started = time.monotonic()
    errors = load_errors(project, "dev")
    assert time.monotonic() - started < 2
    assert any(e.file == "pipelines/hostile.yaml" and message in e.render() for e in errors), [
        e.render() for e in errors
    ]


def test_a_duplicate_key_in_a_stack_file_is_refused(project):
    path = project.root / "Pulumi.prod.yaml"
    path.write_text(path.read_text() + "  lakeflow:protect: false\n")
    with pytest.raises(ConfigErrors) as caught:
        project.load("prod")
    assert "lakeflow:protect: appears twice in one mapping" in caught.value.report()


def _errors_of(project: Project, stack: str) -> list[str]:
    return [e.render() for e in load_errors(project, stack)]


def test_two_pipelines_publishing_the_same_table_or_event_log_are_refused(project):
    churn = project.pipeline("customer_360")
    churn.pop("release")
    churn["name"] = "customer_churn"
    churn["monitoring"] = {"event_log": {"name": "sales_pipeline_event_log", "schema": "sales"}}
    project.set_pipeline("customer_churn", churn)
    errors = _errors_of(project, "dev")
    assert any(
        "tables: its table dev.customer.customer_profile is also the table of customer_360 "
        "(pipelines/customer_360.yaml)" in e
        for e in errors
    ), errors
    assert any(
        "its event log dev.sales.sales_pipeline_event_log is also the event log of customer_churn" in e for e in errors
    ), errors


def test_two_pipelines_snapshotting_into_the_same_dr_table_are_refused(project):
    project.edit_pipeline(
        "invoice_ingest", dr={"critical_tables": ["invoices"], "target": "prod_dr.sales"}, tables=["invoices"]
    )
    project.edit_pipeline(
        "sales_pipeline", dr={"critical_tables": ["invoices"], "target": "prod_dr.sales"}, tables=["invoices"]
    )
    errors = _errors_of(project, "prod")
    assert any(
        "its DR snapshot `prod_dr`.`sales`.`invoices_dr_snapshot` is also the DR snapshot of" in e for e in errors
    )


def test_a_stack_writing_into_another_environments_catalog_is_refused(project):
    project.edit_stack(
        "dev",
        variables={
            "CATALOG": "prod",
            "MIN_WORKERS": "1",
            "MAX_WORKERS": "2",
            "SOURCE_PATH": "/x",
            "REPO_ROOT": "/y",
            "DR_CATALOG": "dev_dr",
        },
    )
    errors = _errors_of(project, "dev")
    assert any(
        "target: 'prod.sales': publishes into prod, a catalog of another environment (Pulumi.prod.yaml)" in e
        for e in errors
    ), errors


def test_dr_copies_in_the_catalog_of_the_data_they_protect_are_refused(project):
    project.edit_stack("staging", drCatalog="staging")
    errors = _errors_of(project, "staging")
    assert any(
        "lakeflow:drCatalog: 'staging': is a catalog pipelines publish into: DR copies must live apart" in e
        for e in errors
    ), errors


@pytest.mark.parametrize(
    ("where", "edit", "key", "what"),
    [
        ("stack", {"databricks:token": "dapi0123456789abcdef0123456789abcdef"}, "databricks:token", "a Databricks"),
        ("stack", {"databricks:clientSecret": "not-a-pattern-but-a-secret"}, "databricks:clientSecret", "a credential"),
        (
            "stack",
            {"variables": {"CATALOG": "dev", "API_TOKEN": "abc123"}},
            "lakeflow:variables.API_TOKEN",
            "a credential",
        ),
        (
            "pipeline",
            {"configuration": {"source": "https://x.blob.core.windows.net/c?sv=1&sig=AbCdEfGhIjKlMnOpQrSt"}},
            "configuration.source",
            "a shared access signature",
        ),
        (
            "pipeline",
            {"configuration": {"auth": "Bearer eyJhbGciOiJIUzI1NiJ9.abcdefgh"}},
            "configuration.auth",
            "a bearer token",
        ),
        (
            "pipeline",
            {"configuration": {"storage_password": "hunter2"}},
            "configuration.storage_password",
            "a credential",
        ),
    ],
    ids=["pat", "client-secret", "variable", "sas", "bearer", "password-key"],
)
def test_a_plaintext_credential_anywhere_is_refused_without_echoing_it(project, where, edit, key, what):
    if where == "stack":
        project.edit_stack("dev", **edit)
        file = "Pulumi.dev.yaml"
    else:
        project.edit_pipeline("sales_pipeline", **edit)
        file = "pipelines/sales_pipeline.yaml"
    errors = load_errors(project, "dev")
    report = "\n".join(e.render() for e in errors)
    assert any(e.file == file and e.key == key and f"holds what looks like {what}" in e.render() for e in errors), (
        report
    )
    for secret in ("dapi0123", "not-a-pattern", "abc123", "AbCdEfGh", "eyJhbGci", "hunter2"):
        assert secret not in report


def test_a_secret_scope_reference_is_not_a_plaintext_credential(project):
    project.edit_pipeline("sales_pipeline", configuration={"storage_password": "{{secrets/etl/storage}}"})
    project.load("dev")


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("0 0 12 30 2 ?", "never fires: no date matches day-of-month '30', month '2'"),
        ("0 0 12 31 4,6,9,11 ?", "never fires"),
        ("* 0 12 * * ?", "seconds field '*' fires 60 times a minute"),
        ("*/10 * * * * ?", "fires 6 times a minute"),
    ],
)
def test_crons_that_never_fire_or_fire_every_few_seconds_are_refused(cron, problem):
    assert problem in (quartz_error(cron) or "")


@pytest.mark.parametrize("cron", ["0 0 12 29 2 ?", "0 0 12 L * ?", "0 0 9 ? * MON-FRI", "0 */5 * * * ?"])
def test_crons_that_fire_pass(cron):
    assert quartz_error(cron) is None


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, float("inf")])
def test_numbers_beyond_int64_are_refused(project, value):
    project.edit_stack("dev", maxWorkersCap=value)
    errors = load_errors(project, "dev")
    assert any(e.key == "lakeflow:maxWorkersCap" and "beyond the 64-bit integers" in e.render() for e in errors)


@pytest.mark.parametrize("secret", ['{"token": "hunter2-json"}', '["hunter2-list"]', "hunter2-text"])
def test_a_decrypted_secret_never_reaches_an_error_message_whatever_it_looks_like(project, secret):
    """Pulumi hands secrets to the program decrypted; JSON-looking text was decoded like structured
    config and printed whole when it then failed the type check."""
    config, secret_keys = read_stack_config(project.root, project_name(project.root), "staging")
    config = {**config, "lakeflow:team": ""}  # an error elsewhere in the same load
    for key in ("lakeflow:slackWebhookUrl", "lakeflow:pagerdutyIntegrationKey", "lakeflow:environment"):
        config[key] = secret
        secret_keys = secret_keys | {key}  # environment: a key that must not be a secret
    with pytest.raises(ConfigErrors) as caught:
        load_settings(project_name(project.root), "staging", config, secret_keys, project.root)
    assert "hunter2" not in caught.value.report()
    assert "lakeflow:environment: must not be a secret" in caught.value.report()


@pytest.mark.parametrize("folder", ["/Shared/lakeflow", "/Workspace/Shared/team", "/Repos/x"])
def test_the_alerts_folder_is_never_where_every_user_can_manage_it(project, folder):
    """Under /Shared every workspace user has CAN MANAGE and folder permissions add up: anyone could
    edit or delete the P1 alerts, and the provider, ignoring inherited permissions, shows no drift."""
    project.edit_stack("dev", workspaceFolder=folder)
    (error,) = [e for e in load_errors(project) if e.key == "lakeflow:workspaceFolder"]
    assert "every workspace user can manage what is there" in error.message and error.file == DEV


def test_a_stack_without_run_as_names_its_alerts_folder(project):
    project.edit_stack("dev", workspaceFolder=None)
    (error,) = load_errors(project)
    assert (error.file, error.key) == (DEV, "lakeflow:workspaceFolder")
    assert "is required without runAs" in error.message
