"""`DltPipeline`: one Lakeflow Declarative Pipeline (DLT) and who may use it.

Children (names derive from the component's name and never change); the event log is
published as a Unity Catalog table when `event_log` is given:
  - `<name>-pipeline`     databricks.Pipeline, Unity Catalog (`catalog` + `schema`, never `storage`,
                          whose change would force a replacement and drop the pipeline's tables)
  - `<name>-permissions`  databricks.Permissions (CAN_VIEW / CAN_RUN / CAN_MANAGE), when any are given

Outputs: `pipeline_id`, `url`.

Set `protect=True` on the component to protect the pipeline: children inherit it. With
`import_id`, the pipeline is adopted (Pulumi import) instead of created: the plan must then match
the existing pipeline, which `pulumi preview` checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as databricks

from components.access import access_controls, run_as
from settings.models import Cluster, Library, Notification


@dataclass(frozen=True)
class DltPipelineArgs:
    name: str
    """Physical pipeline name in the workspace (see `stack.naming.physical_name`)."""
    catalog: str
    """Unity Catalog catalog the pipeline publishes to."""
    schema: str
    """Default schema of the published tables."""
    libraries: Sequence[Library]
    """Source code: notebooks, files or globs. At least one."""
    development: bool = False
    continuous: bool = False
    photon: bool = False
    serverless: bool = False
    channel: str = "CURRENT"
    edition: str = "ADVANCED"
    clusters: Sequence[Cluster] = ()
    """Classic compute; empty with `serverless`."""
    configuration: Mapping[str, str] = field(default_factory=dict)
    notifications: Sequence[Notification] = ()
    run_as: str | None = None
    """`sp:<application id>` or `user:<email>`."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Pipeline tags, also merged into every cluster's custom_tags (cost attribution)."""
    viewers: Sequence[str] = ()
    runners: Sequence[str] = ()
    managers: Sequence[str] = ()
    event_log: tuple[str, str, str] | None = None
    """(catalog, schema, table) to publish the event log to, so monitoring SQL can read it."""
    budget_policy_id: pulumi.Input[str] | None = None
    """Serverless usage is attributed only through a budget policy's tags."""
    spot: str | None = None
    """Cloud (aws | azure | gcp) whose spot-with-fallback attributes the clusters use; None: on demand."""
    import_id: str | None = None
    """Adopt an existing pipeline by its id instead of creating one (Pulumi import)."""

    def __post_init__(self) -> None:
        if not self.libraries:
            raise ValueError(f"DltPipeline {self.name!r}: at least one library is required")
        if self.serverless and self.clusters:
            raise ValueError(f"DltPipeline {self.name!r}: a serverless pipeline takes no clusters")


class DltPipeline(pulumi.ComponentResource):
    pipeline: databricks.Pipeline
    permissions: databricks.Permissions | None
    pipeline_id: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: DltPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakeflow:index:DltPipeline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.pipeline = databricks.Pipeline(
            f"{name}-pipeline",
            name=args.name,
            catalog=args.catalog,
            schema=args.schema,
            development=args.development,
            continuous=args.continuous,
            # Serverless compute always runs Photon: say so rather than send `false`, which the
            # provider would report back differently (a diff on every preview).
            photon=True if args.serverless else args.photon,
            serverless=args.serverless or None,
            channel=args.channel,
            # Serverless pipelines have no edition: Databricks picks it.
            edition=None if args.serverless else args.edition,
            clusters=[_cluster(c, args.tags, args.spot) for c in args.clusters] or None,
            libraries=[_library(lib) for lib in args.libraries],
            configuration=dict(args.configuration) or None,
            notifications=[
                databricks.PipelineNotificationArgs(email_recipients=list(n.email_recipients), alerts=list(n.alerts))
                for n in args.notifications
            ]
            or None,
            run_as=run_as(args.run_as, databricks.PipelineRunAsArgs),
            tags=dict(args.tags) or None,
            budget_policy_id=args.budget_policy_id,
            event_log=databricks.PipelineEventLogArgs(
                catalog=args.event_log[0], schema=args.event_log[1], name=args.event_log[2]
            )
            if args.event_log
            else None,
            opts=pulumi.ResourceOptions(parent=self, import_=args.import_id) if args.import_id else child,
        )
        self.pipeline_id = self.pipeline.id
        self.url = self.pipeline.url

        # The run-as principal owns the pipeline: a pipeline runs as its owner, and without IS_OWNER
        # the owner would be whoever deployed it (provider: the current identity).
        acl = access_controls(
            [
                ("CAN_VIEW", args.viewers),
                ("CAN_RUN", args.runners),
                ("CAN_MANAGE", args.managers),
                ("IS_OWNER", [args.run_as] if args.run_as else []),
            ]
        )
        self.permissions = (
            databricks.Permissions(f"{name}-permissions", pipeline_id=self.pipeline.id, access_controls=acl, opts=child)
            if acl
            else None
        )

        self.register_outputs({"pipeline_id": self.pipeline_id, "url": self.url})


def _cluster(cluster: Cluster, tags: Mapping[str, str], spot: str | None) -> databricks.PipelineClusterArgs:
    autoscale = cluster.autoscale
    # Guide 11.2: workers on spot capacity that falls back to on-demand; the first node (the
    # driver) stays on demand so losing spot capacity never kills the update.
    return databricks.PipelineClusterArgs(
        aws_attributes=databricks.PipelineClusterAwsAttributesArgs(availability="SPOT_WITH_FALLBACK", first_on_demand=1)
        if spot == "aws"
        else None,
        azure_attributes=databricks.PipelineClusterAzureAttributesArgs(
            availability="SPOT_WITH_FALLBACK_AZURE", first_on_demand=1
        )
        if spot == "azure"
        else None,
        gcp_attributes=databricks.PipelineClusterGcpAttributesArgs(
            availability="PREEMPTIBLE_WITH_FALLBACK_GCP", first_on_demand=1
        )
        if spot == "gcp"
        else None,
        label=cluster.label,
        autoscale=databricks.PipelineClusterAutoscaleArgs(
            min_workers=autoscale.min_workers, max_workers=autoscale.max_workers, mode=autoscale.mode
        )
        if autoscale
        else None,
        num_workers=cluster.num_workers,
        node_type_id=cluster.node_type_id,
        driver_node_type_id=cluster.driver_node_type_id,
        policy_id=cluster.policy_id,
        spark_conf=dict(cluster.spark_conf) or None,
        # Classic compute is billed to cluster tags: every cluster carries the pipeline's tags.
        custom_tags={**tags, **cluster.custom_tags} or None,
    )


def _library(lib: Library) -> databricks.PipelineLibraryArgs:
    if lib.notebook:
        return databricks.PipelineLibraryArgs(notebook=databricks.PipelineLibraryNotebookArgs(path=lib.notebook.path))
    if lib.file:
        return databricks.PipelineLibraryArgs(file=databricks.PipelineLibraryFileArgs(path=lib.file.path))
    assert lib.glob is not None  # Library validates exactly one kind
    return databricks.PipelineLibraryArgs(glob=databricks.PipelineLibraryGlobArgs(include=lib.glob.include))
