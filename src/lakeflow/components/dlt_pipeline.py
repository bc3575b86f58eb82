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
from typing import Any, cast

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls, run_as

# Guide 11.2: workers on spot capacity that falls back to on-demand; the first node (the driver)
# stays on demand so losing spot capacity never kills the update.
SPOT_ATTRIBUTES = {
    "aws": ("aws_attributes", {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1}),
    "azure": ("azure_attributes", {"availability": "SPOT_WITH_FALLBACK_AZURE", "first_on_demand": 1}),
    "gcp": ("gcp_attributes", {"availability": "PREEMPTIBLE_WITH_FALLBACK_GCP", "first_on_demand": 1}),
}


@dataclass(frozen=True)
class DltPipelineArgs:
    name: str
    """Physical pipeline name in the workspace (see `lakeflow.model.naming.physical_name`)."""
    catalog: str
    """Unity Catalog catalog the pipeline publishes to."""
    schema: str
    """Default schema of the published tables."""
    libraries: Sequence[databricks.PipelineLibraryArgsDict]
    """Source code, each as the provider's `PipelineLibraryArgs` takes it (snake_case mappings:
    `{"notebook": {"path": ...}}`, `{"glob": {"include": ...}}`, `{"maven": {...}}`, …). At least
    one, unless `settings` holds an ingestion or gateway definition (Lakeflow Connect)."""
    development: bool = False
    continuous: bool = False
    photon: bool = False
    serverless: bool = False
    channel: str = "CURRENT"
    edition: str = "ADVANCED"
    clusters: Sequence[databricks.PipelineClusterArgsDict] = ()
    """Classic compute, each as the provider's `PipelineClusterArgs` takes it; empty with `serverless`."""
    configuration: Mapping[str, str] = field(default_factory=dict)
    notifications: Sequence[databricks.PipelineNotificationArgsDict] = ()
    """`{"email_recipients": [...], "alerts": [...]}` each."""
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
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Any other field of the provider's `Pipeline` (`environment`, `filters`, `root_path`,
    `ingestion_definition`, `restart_window`, …), snake_case, sent as given."""
    import_id: str | None = None
    """Adopt an existing pipeline by its id instead of creating one (Pulumi import)."""

    def __post_init__(self) -> None:
        if not self.libraries and not ({"ingestion_definition", "gateway_definition"} & set(self.settings)):
            raise ValueError(f"DltPipeline {self.name!r}: at least one library is required")
        if self.serverless and self.clusters:
            raise ValueError(f"DltPipeline {self.name!r}: a serverless pipeline takes no clusters")
        taken = {"name", "catalog", "schema", "target", "storage"} & set(self.settings)
        if taken:
            raise ValueError(f"DltPipeline {self.name!r}: settings must not set {', '.join(sorted(taken))}")


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
            **dict(args.settings),
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
            libraries=list(args.libraries) or None,
            configuration=dict(args.configuration) or None,
            notifications=list(args.notifications) or None,
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


def _cluster(
    cluster: databricks.PipelineClusterArgsDict, tags: Mapping[str, str], spot: str | None
) -> databricks.PipelineClusterArgsDict:
    """The cluster as given, with the spot attributes under what it sets itself, and the
    pipeline's tags: classic compute is billed to cluster tags."""
    out: dict[str, Any] = {"label": "default", **cluster}
    if spot is not None:
        key, attributes = SPOT_ATTRIBUTES[spot]
        out[key] = {**attributes, **out.get(key, {})}
    custom_tags = {**tags, **out.get("custom_tags", {})}
    if custom_tags:
        out["custom_tags"] = custom_tags
    return cast(databricks.PipelineClusterArgsDict, out)
