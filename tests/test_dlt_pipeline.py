"""DltPipeline: what it registers, through the recording monitor."""

from __future__ import annotations

import pulumi
import pulumi_databricks as databricks
import pytest

from lakeflow.components import DltPipeline, DltPipelineArgs
from lakeflow.offline.recorder import record
from tests.conftest import by_type, resource

pytestmark = pytest.mark.plan

NOTEBOOK = {"notebook": {"path": "/Repos/x/etl"}}
# Provider-shaped mappings (PipelineClusterArgs / PipelineLibraryArgs), as any program passes them.
CLUSTER = {
    "autoscale": {"min_workers": 2, "max_workers": 20, "mode": "ENHANCED"},
    "spark_conf": {"spark.databricks.delta.optimizeWrite.enabled": "true"},
    "custom_tags": {"DataProduct": "sales"},
}


def run(*components: tuple[str, DltPipelineArgs, pulumi.ResourceOptions | None]):
    def program() -> None:
        for name, args, opts in components:
            DltPipeline(name, args, opts)

    plan = record("lakeflow", "test", {}, set(), program)
    assert plan.schema_errors == []
    return plan


def args(**overrides) -> DltPipelineArgs:
    base = dict(
        name="prod_sales",
        catalog="prod",
        schema="sales",
        libraries=[NOTEBOOK],
        clusters=[CLUSTER],
        tags={"Environment": "prod", "Team": "DE", "CostCenter": "CC-1", "Pipeline": "sales"},
    )
    return DltPipelineArgs(**{**base, **overrides})


def test_children_are_parented_and_named_after_the_component():
    plan = run(("sales", args(viewers=["group:analysts"]), None))
    component = resource(plan, "DltPipeline", "sales")
    assert component["type"] == "lakeflow:index:DltPipeline"
    pipeline = resource(plan, "Pipeline", "sales-pipeline")
    permissions = resource(plan, "Permissions", "sales-permissions")
    assert pipeline["parent"] == component["urn"] == permissions["parent"]
    assert pipeline["urn"] == (
        "urn:pulumi:test::lakeflow::lakeflow:index:DltPipeline$databricks:index/pipeline:Pipeline::sales-pipeline"
    )


def test_pipeline_publishes_to_unity_catalog_and_never_sets_storage():
    inputs = resource(run(("sales", args(), None)), "Pipeline", "sales-pipeline")["inputs"]
    assert (inputs["catalog"], inputs["schema"], inputs["name"]) == ("prod", "sales", "prod_sales")
    assert "storage" not in inputs and "target" not in inputs


def test_classic_compute_settings_and_tags_reach_every_cluster():
    inputs = resource(
        run(("sales", args(photon=True, edition="PRO", channel="PREVIEW"), None)), "Pipeline", "sales-pipeline"
    )["inputs"]
    assert inputs["photon"] is True and inputs["edition"] == "PRO" and inputs["channel"] == "PREVIEW"
    (cluster,) = inputs["clusters"]
    assert cluster["autoscale"] == {"minWorkers": 2, "maxWorkers": 20, "mode": "ENHANCED"}
    assert cluster["sparkConf"] == {"spark.databricks.delta.optimizeWrite.enabled": "true"}
    assert cluster["customTags"] == {
        "CostCenter": "CC-1",
        "DataProduct": "sales",
        "Environment": "prod",
        "Pipeline": "sales",
        "Team": "DE",
    }
    assert inputs["tags"]["Pipeline"] == "sales"


def test_serverless_pipeline_has_no_clusters_and_no_edition_and_says_photon():
    inputs = resource(
        run(("ingest", args(serverless=True, clusters=(), photon=False), None)), "Pipeline", "ingest-pipeline"
    )["inputs"]
    assert inputs["serverless"] is True
    assert "clusters" not in inputs and "edition" not in inputs
    # Serverless always runs Photon: `false` would come back as a difference on every preview.
    assert inputs["photon"] is True


def test_modes_libraries_configuration_notifications_and_run_as():
    inputs = resource(
        run(
            (
                "sales",
                args(
                    development=True,
                    continuous=True,
                    configuration={"source_path": "/Volumes/x"},
                    notifications=[
                        {"email_recipients": ["oncall@example.com"], "alerts": ["on-update-failure", "on-flow-failure"]}
                    ],
                    run_as="sp:1234-abcd",
                    libraries=[NOTEBOOK, {"file": {"path": "/Repos/x/b.py"}}],
                ),
                None,
            )
        ),
        "Pipeline",
        "sales-pipeline",
    )["inputs"]
    assert inputs["development"] is True and inputs["continuous"] is True
    assert inputs["configuration"] == {"source_path": "/Volumes/x"}
    assert inputs["libraries"] == [{"notebook": {"path": "/Repos/x/etl"}}, {"file": {"path": "/Repos/x/b.py"}}]
    assert inputs["notifications"] == [
        {"alerts": ["on-update-failure", "on-flow-failure"], "emailRecipients": ["oncall@example.com"]}
    ]
    assert inputs["runAs"] == {"servicePrincipalName": "1234-abcd"}


def test_permissions_grant_each_principal_its_highest_level():
    plan = run(
        (
            "sales",
            args(
                viewers=["group:analysts", "group:eng"], runners=["user:a@example.com"], managers=["group:eng", "sp:42"]
            ),
            None,
        )
    )
    permissions = resource(plan, "Permissions", "sales-permissions")
    assert permissions["inputs"]["accessControls"] == [
        {"groupName": "analysts", "permissionLevel": "CAN_VIEW"},
        {"groupName": "eng", "permissionLevel": "CAN_MANAGE"},
        {"permissionLevel": "CAN_MANAGE", "servicePrincipalName": "42"},
        {"permissionLevel": "CAN_RUN", "userName": "a@example.com"},
    ]
    pipeline = resource(plan, "Pipeline", "sales-pipeline")
    assert pipeline["urn"] in permissions["dependencies"]


def test_no_permissions_resource_without_principals():
    assert by_type(run(("sales", args(), None)), "Permissions") == []


def test_protect_on_the_component_is_inherited_by_its_children():
    plan = run(
        ("sales", args(viewers=["group:a"]), pulumi.ResourceOptions(protect=True)),
        ("other", args(name="prod_other"), None),
    )
    assert resource(plan, "Pipeline", "sales-pipeline")["protect"] is True
    assert resource(plan, "Permissions", "sales-permissions")["protect"] is True
    assert resource(plan, "Pipeline", "other-pipeline")["protect"] is False


def test_children_use_the_provider_passed_to_the_component():
    def program() -> None:
        workspace = databricks.Provider("workspace", host="https://example.cloud.databricks.com")
        DltPipeline("sales", args(viewers=["group:a"]), pulumi.ResourceOptions(providers=[workspace]))

    plan = record("lakeflow", "test", {}, set(), program)
    provider = resource(plan, "databricks", "workspace")
    for child in ("sales-pipeline",):
        assert resource(plan, "Pipeline", child)["provider"].startswith(provider["urn"] + "::")
    assert resource(plan, "Permissions", "sales-permissions")["provider"].startswith(provider["urn"] + "::")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"libraries": []}, "at least one library"),
        ({"serverless": True}, "serverless pipeline takes no clusters"),
    ],
)
def test_args_are_validated_at_construction(overrides, message):
    with pytest.raises(ValueError, match=message):
        args(**overrides)
