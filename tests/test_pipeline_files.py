"""Pipeline files take what real teams write (issue 18): every field of the provider's Pipeline,
the API's `catalog` + `schema`, a bundle's pipeline resource with its permissions, run_as and
bundle references, Lakeflow Connect pipelines; errors of every layer at once; the JSON Schema
editors read. Checked through the loader's report and through the registered resources.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from lakeflow.config import json_schema, provider_models
from lakeflow.config.errors import ConfigErrors
from lakeflow.config.models import DECLARED_PIPELINE_FIELDS, PASSTHROUGH_FIELDS, REJECTED_PIPELINE_KEYS
from tests.conftest import DATABRICKS_SDK, ROOT, Project, by_type, parse_yaml, read_yaml, resource
from tests.test_settings_validation import error_at, load_errors

pytestmark = pytest.mark.plan

BASE = {
    "name": "orders",
    "catalog": "${CATALOG}",
    "schema": "orders",
    "libraries": [{"file": {"path": "${REPO_ROOT}/orders/etl.py"}}],
}
FILE = "pipelines/orders.yaml"


def write(project: Project, **fields: Any) -> None:
    project.set_pipeline("orders", {**BASE, **fields})


def pipeline_inputs(project: Project, stack: str = "dev", name: str = "orders") -> dict[str, Any]:
    plan = project.plan(stack)
    assert plan.schema_errors == []
    return resource(plan, "Pipeline", f"{name}-pipeline")["inputs"]


def rendered(errors) -> str:
    return "\n".join(e.render() for e in errors)


# --- every provider field -------------------------------------------------------------------


def sample(tp: Any) -> Any:
    """A value of a described provider type, every field of every object filled (as the API
    spells it where it differs), so nothing can be dropped on the way unseen."""
    if isinstance(tp, str):
        return {"str": "v", "int": 3, "float": 1.5, "bool": True, "any": "v"}[tp]
    (kind, inner), *_ = tp.items()
    if kind == "list":
        return [sample(inner)]
    if kind == "map":
        return {"k": sample(inner)}
    return {spec.get("api", name): sample(spec["type"]) for name, spec in provider_models.fields_of(inner).items()}


def leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(leaves(v) for v in value)
    return 1


def test_every_field_of_the_providers_pipeline_reaches_the_registered_pipeline(project):
    fields = provider_models.fields_of("Pipeline")
    written = {name: sample(fields[name]["type"]) for name in sorted(PASSTHROUGH_FIELDS)}
    write(project, **written)
    inputs = pipeline_inputs(project)
    for name, value in written.items():
        wire = next(k for k in inputs if k.replace("_", "").lower() == name.replace("_", "").lower())
        assert leaves(inputs[wire]) == leaves(value), name
    # Nothing the provider has is missing from the file's reach: passed through, declared, or refused.
    assert set(fields) == PASSTHROUGH_FIELDS | DECLARED_PIPELINE_FIELDS | (set(REJECTED_PIPELINE_KEYS) & set(fields))


def test_every_cluster_field_and_every_library_kind_reaches_the_pipeline(project):
    cluster = sample({"object": "PipelineCluster"})
    cluster["autoscale"] = {"min_workers": 1, "max_workers": 4, "mode": "enhanced"}
    cluster.pop("num_workers")
    libraries = [{kind: value} for kind, value in sample({"object": "PipelineLibrary"}).items()]
    for lib in libraries:
        for kind in ("notebook", "file"):
            if kind in lib:
                lib[kind] = {"path": f"/Workspace/code/{kind}"}
        if "glob" in lib:
            lib["glob"] = {"include": "/Workspace/code/**"}
        for kind in ("jar", "whl"):
            if kind in lib:
                lib[kind] = f"/Volumes/main/libs/code.{kind}"
    write(project, clusters=[cluster], libraries=libraries)
    inputs = pipeline_inputs(project)
    (registered,) = inputs["clusters"]
    assert registered["awsAttributes"]["zoneId"] == "v" and registered["initScripts"][0]["workspace"]
    assert registered["autoscale"]["mode"] == "ENHANCED"  # upper case, as the stack's rules read it
    assert registered["customTags"]["Pipeline"] == "orders"  # the stack's tags reach every cluster
    assert sorted(k for lib in inputs["libraries"] for k in lib) == ["file", "glob", "jar", "maven", "notebook", "whl"]


def test_the_apis_spelling_of_a_field_the_provider_pluralizes_is_taken_and_sent_as_the_provider_spells_it(project):
    write(project, filters={"include": ["a/**"]}, restart_window={"start_hour": 2, "days_of_week": ["MONDAY"]})
    inputs = pipeline_inputs(project)
    assert inputs["filters"] == {"includes": ["a/**"]}
    assert inputs["restartWindow"] == {"daysOfWeeks": ["MONDAY"], "startHour": 2}


def test_a_wrong_value_inside_a_provider_field_is_reported_where_it_is(project):
    write(project, environment={"dependencies": "pandas"}, clusters=[{"lable": "default", "num_workers": 2}])
    errors = load_errors(project)
    assert "expected a list" in error_at(errors, FILE, "environment.dependencies").render().lower() or (
        "list" in error_at(errors, FILE, "environment.dependencies").message.lower()
    )
    assert "(did you mean 'label'?)" in error_at(errors, FILE, "clusters[0].lable").render()


# --- where the tables go --------------------------------------------------------------------


@pytest.mark.parametrize(
    "where, catalog, schema",
    [
        ({"catalog": "main", "schema": "orders"}, "main", "orders"),
        ({"catalog": "main", "target": "orders"}, "main", "orders"),  # the API's legacy name of schema
        ({"target": "main.orders"}, "main", "orders"),  # this project's shorthand
    ],
)
def test_the_apis_catalog_and_schema_are_taken(project, where, catalog, schema):
    project.set_pipeline("orders", {**{k: v for k, v in BASE.items() if k not in ("catalog", "schema")}, **where})
    inputs = pipeline_inputs(project)
    assert (inputs["catalog"], inputs["schema"]) == (catalog, schema) and "target" not in inputs
    assert inputs["eventLog"] == {"catalog": catalog, "schema": schema, "name": "orders_event_log"}


@pytest.mark.parametrize(
    "where, key, fragment",
    [
        ({"target": "orders"}, "catalog", "publishes to the Hive metastore"),
        ({}, "catalog", "is required: the Unity Catalog catalog"),
        ({"catalog": "main"}, "schema", "is required: the default schema"),
        ({"catalog": "main", "schema": "a", "target": "b"}, "schema", "not both"),
        ({"catalog": "main", "target": "main.orders"}, "catalog", "not both"),
        ({"catalog": "main", "schema": "or ders"}, "schema", "a Unity Catalog name of letters"),
        ({"catalog": "main", "schema": "orders", "storage": "dbfs:/p"}, "storage", "Hive metastore"),
    ],
)
def test_a_target_outside_unity_catalog_or_half_given_is_refused_with_the_reason(project, where, key, fragment):
    project.set_pipeline("orders", {**{k: v for k, v in BASE.items() if k not in ("catalog", "schema")}, **where})
    errors = load_errors(project)
    assert fragment in error_at(errors, FILE, key).render()


def test_enums_in_any_case_and_scalars_in_text_maps_are_taken_as_bundles_take_them(project):
    write(
        project,
        edition="advanced",
        channel="preview",
        configuration={"enabled": True, "batch": 500, "ratio": 0.5},
        clusters=[{"num_workers": 1, "spark_conf": {"spark.x.enabled": False}}],
    )
    inputs = pipeline_inputs(project)
    assert (inputs["edition"], inputs["channel"]) == ("ADVANCED", "PREVIEW")
    assert inputs["configuration"] == {"enabled": "true", "batch": "500", "ratio": "0.5"}
    assert inputs["clusters"][0]["sparkConf"] == {"spark.x.enabled": "false"}


# --- a bundle's pipeline resource, pasted as written --------------------------------------

PASTED = """
name: orders
catalog: ${var.catalog}
schema: ${var.schema}
serverless: true
channel: current
root_path: ${workspace.file_path}/orders
configuration:
  bundle.sourcePath: ${workspace.file_path}/orders
  target: ${bundle.target}
  incremental: true
libraries:
  - glob:
      include: ${workspace.file_path}/orders/transformations/**
environment:
  dependencies:
    - --editable ${workspace.file_path}
permissions:
  - level: CAN_VIEW
    group_name: analysts
  - level: CAN_MANAGE
    service_principal_name: 0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6
run_as:
  service_principal_name: 0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6
"""


def test_a_bundles_pipeline_resource_pasted_as_written_plans(project):
    project.write(FILE, PASTED)
    for stack in ("dev", "staging", "prod"):
        data = read_yaml(project.root / f"Pulumi.{stack}.yaml")
        variables = {**data["config"]["lakeflow:variables"], "catalog": f"{stack}_cat", "schema": "orders"}
        project.edit_stack(stack, variables=variables)
    plan = project.plan("prod")
    assert plan.schema_errors == []
    inputs = resource(plan, "Pipeline", "orders-pipeline")["inputs"]
    root = "/Workspace/Repos/prod/dlt-pipelines"
    assert (inputs["catalog"], inputs["schema"], inputs["channel"]) == ("prod_cat", "orders", "CURRENT")
    assert inputs["rootPath"] == f"{root}/orders"
    assert inputs["configuration"] == {"bundle.sourcePath": f"{root}/orders", "target": "prod", "incremental": "true"}
    assert inputs["environment"] == {"dependencies": [f"--editable {root}"]}
    assert inputs["runAs"] == {"servicePrincipalName": "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"}
    acl = resource(plan, "Permissions", "orders-permissions")["inputs"]["accessControls"]
    assert {"groupName": "analysts", "permissionLevel": "CAN_VIEW"} in acl
    owner = {"servicePrincipalName": "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6", "permissionLevel": "IS_OWNER"}
    assert owner in acl  # the file's run-as principal owns its pipeline
    assert not any(j["name"].startswith("orders-") for j in by_type(plan, "Job"))  # no schedule written, none made


def test_bundle_references_the_stack_cannot_fill_are_refused_by_name_with_what_to_write(project):
    project.write(FILE, PASTED.replace("schema: ${var.schema}", "schema: ${workspace.current_user.short_name}"))
    errors = load_errors(project)
    text = rendered(errors)
    assert "uses ${var.catalog}, a bundle variable: it is filled from the stack variable 'catalog'" in text
    assert "define catalog under lakeflow:variables" in text
    assert "uses ${workspace.current_user.short_name}, Asset Bundle syntax this stack does not resolve" in text


def test_a_relative_library_path_is_refused_with_what_to_write(project):
    write(project, libraries=[{"notebook": {"path": "../src/orders.ipynb"}}])
    err = error_at(load_errors(project), FILE, "libraries[0]")
    assert "'../src/orders.ipynb' is a relative path" in err.message and "${REPO_ROOT}/" in err.message


def test_an_owner_permission_is_refused_with_its_equivalent(project):
    write(project, permissions=[{"level": "IS_OWNER", "user_name": "a@example.com"}])
    assert "the pipeline's run-as principal owns it" in error_at(load_errors(project), FILE, "permissions[0]").message


def test_a_production_pipeline_running_as_a_user_is_refused(project):
    write(project, run_as={"user_name": "someone@example.com"})
    err = error_at(load_errors(project, "prod"), FILE, "run_as")
    assert "must run as a service principal" in err.message
    project.plan("dev")  # a development stack may


# --- the guide's `name: "${ENV}_…"` -----------------------------------------------------------


def test_the_guides_env_prefixed_name_is_refused_with_the_plain_name_to_write(project):
    write(project, name="${ENV}_orders")
    err = error_at(load_errors(project), FILE, "name")
    assert "dev_dev_<name>" in err.message and err.hint == "write name: orders"


# --- Lakeflow Connect -----------------------------------------------------------------------


def test_lakeflow_connect_pipelines_plan_without_libraries_with_schedule_and_alerts(project):
    base = {k: v for k, v in BASE.items() if k != "libraries"}
    project.set_pipeline(
        "orders_gateway",
        {
            **base,
            "name": "orders_gateway",
            "schema": "orders_gateway",
            "continuous": True,
            "gateway_definition": {
                "connection_name": "sqlserver",
                "gateway_storage_catalog": "${CATALOG}",
                "gateway_storage_schema": "orders_gateway",
                "gateway_storage_name": "orders_gateway",
            },
        },
    )
    write(
        project,
        serverless=True,
        libraries=None,
        ingestion_definition={
            "ingestion_gateway_id": "gateway-id",
            "objects": [
                {
                    "table": {
                        "source_catalog": "erp",
                        "source_schema": "dbo",
                        "source_table": "orders",
                        "destination_catalog": "${CATALOG}",
                        "destination_schema": "orders",
                    }
                }
            ],
        },
        schedule={"cron": "0 0 * * * ?"},
        tables=["orders"],
    )
    data = project.pipeline("orders")
    data.pop("libraries")
    project.set_pipeline("orders", data)
    plan = project.plan("prod")
    assert plan.schema_errors == []
    ingestion = resource(plan, "Pipeline", "orders-pipeline")["inputs"]
    assert (
        "libraries" not in ingestion
        and ingestion["ingestionDefinition"]["objects"][0]["table"]["sourceTable"] == "orders"
    )
    assert resource(plan, "Pipeline", "orders_gateway-pipeline")["inputs"]["gatewayDefinition"]["connectionName"]
    assert any(j["name"] == "orders-job" for j in by_type(plan, "Job"))
    alerts = {a["name"] for a in by_type(plan, "AlertV2")}
    assert any(a.startswith("pipeline-alerts-orders-") for a in alerts)
    assert any(a.startswith("pipeline-alerts-orders_gateway-") for a in alerts)


# --- errors: every layer at once, plain words, plausible suggestions, pointers ---------------


def test_errors_of_every_layer_come_at_once_and_the_report_says_what_could_not_be_checked(project):
    project.set_pipeline("broken", {**BASE, "name": "broken", "schema": "broken", "photon": "maybe"})
    write(project, schedule={"cron": "0 0 * * * ?", "after": ["nowhere"]})
    with pytest.raises(ConfigErrors) as caught:
        project.load("dev")
    errors = caught.value.errors
    assert error_at(errors, "pipelines/broken.yaml", "photon")
    assert "is not a pipeline of this project" in error_at(errors, FILE, "schedule.after[0]").message
    report = caught.value.report()
    assert (
        "Not checked until these are fixed:" in report and "pipelines/broken.yaml: the file does not validate" in report
    )


def test_a_pattern_error_is_in_plain_words(project):
    write(project, tables=["Bad-Table"])
    err = error_at(load_errors(project), FILE, "tables[0]")
    assert err.message == "must be lower-case letters, digits and underscores, starting with a letter"


@pytest.mark.parametrize(
    "key, hint",
    [
        ("email_notifications", "a pipeline notifies through notifications:"),
        ("parameters", "configuration:"),
        ("targets", "environments.<env>:"),
        ("scheduel", "did you mean 'schedule'?"),
    ],
)
def test_unknown_keys_point_at_the_equivalent_or_a_close_spelling(project, key, hint):
    write(project, **{key: {"x": 1}})
    assert hint in (error_at(load_errors(project), FILE, key).hint or "")


@pytest.mark.parametrize("key", ["cluster_policy", "owner_team"])
def test_a_suggestion_only_when_it_is_plausible(project, key):
    # (cluster_policy once got 'did you mean usage_policy_id?': a spelling, not a meaning, match)
    write(project, **{key: {"x": 1}})
    assert (error_at(load_errors(project), FILE, key).hint or "").startswith("allowed: ")


def test_keys_teams_bring_from_the_api_are_known(project):
    write(
        project,
        filters={"include": ["x/**"]},
        run_as={"service_principal_name": "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"},
    )
    pipeline_inputs(project)


def test_the_apis_event_log_is_where_the_event_log_goes_and_not_said_twice(project):
    write(project, event_log={"catalog": "${CATALOG}", "schema": "ops", "name": "orders_log"})
    assert pipeline_inputs(project)["eventLog"] == {"catalog": "dev", "schema": "ops", "name": "orders_log"}
    write(project, event_log={"name": "a"}, monitoring={"event_log": {"name": "b"}})
    assert "one place says where" in error_at(load_errors(project), FILE, "event_log").message


def test_a_trigger_beside_a_schedule_is_refused(project):
    write(project, trigger={"cron": {"quartz_cron_schedule": "0 0 * * * ?"}}, schedule={"cron": "0 0 * * * ?"})
    assert "two starters would collide" in error_at(load_errors(project), FILE, "trigger").message


def test_an_error_in_the_promotion_source_says_which_stack_and_why_it_was_planned(project):
    (project.root / "pipelines" / "customer_360.yaml").write_text(
        (project.root / "pipelines" / "customer_360.yaml")
        .read_text()
        .replace("  staging:\n", "  staging:\n    photon: maybe\n")
    )
    with pytest.raises(ConfigErrors) as caught:
        project.plan("prod")
    report = caught.value.report()
    assert "in stack 'staging', planned because 'prod' is promoted from it" in report
    assert "photon" in report


# --- editor support -------------------------------------------------------------------------


def test_the_json_schema_is_generated_from_the_models():
    assert json_schema.SCHEMA_FILE.read_text(encoding="utf-8") == json_schema.render(), (
        "pipelines/pipeline.schema.json is stale: python -m lakeflow.config.json_schema --write"
    )


@DATABRICKS_SDK  # describes the provider's fields with the SDK's documentation of them
def test_the_provider_field_description_matches_the_installed_provider():
    assert provider_models.DESCRIPTION_FILE.read_text(encoding="utf-8") == provider_models.render(
        provider_models.describe()
    ), "src/lakeflow/config/pipeline_fields.json is stale: python -m lakeflow.config.provider_models --write"


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(json_schema.SCHEMA_FILE.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", sorted((ROOT / "pipelines").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_pipeline_files_validate_against_the_schema_and_name_it(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=pipeline.schema.json\n")
    assert list(_validator().iter_errors(parse_yaml(text))) == []


def test_the_schema_refuses_what_the_loader_refuses():
    validator = _validator()
    assert not validator.is_valid({**BASE, "lable": 1})
    assert not validator.is_valid({**BASE, "clusters": [{"num_workers": "many"}]})
    assert validator.is_valid({**BASE, "clusters": [{"num_workers": "${WORKERS}"}], "edition": "advanced"})
