"""`DltPipeline`: one Lakeflow Declarative Pipeline (DLT) and who may use it.

Children (names derive from the component's name and never change); the event log is
published as a Unity Catalog table when `event_log` is given:
  - `<name>-pipeline`     databricks.Pipeline, Unity Catalog (`catalog` + `schema`, never `storage`,
                          whose change would force a replacement and drop the pipeline's tables)
  - `<name>-permissions`  databricks.Permissions (CAN_VIEW / CAN_RUN / CAN_MANAGE), when any are given

Inputs: `DltPipelineArgs` (or the same keys as a mapping, `DltPipelineArgsDict`).
Outputs: `pipeline_id`, `url`.

Set `protect=True` on the component to protect the pipeline: children inherit it. With
`import_id`, the pipeline is adopted (Pulumi import) instead of created: the plan must then match
the existing pipeline, which `pulumi preview` checks.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Required, TypedDict, cast

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls, run_as
from lakeflow.components.types import Channel, Cloud, Edition, EventLogTable, coerce_args

if TYPE_CHECKING:
    LibrarySpec = databricks.PipelineLibraryArgsDict
    ClusterSpec = databricks.PipelineClusterArgsDict
    NotificationSpec = databricks.PipelineNotificationArgsDict
else:
    # The provider's ArgsDicts at runtime are plain mappings to Pulumi's schema analyzer.
    LibrarySpec = Mapping[str, Any]
    ClusterSpec = Mapping[str, Any]
    NotificationSpec = Mapping[str, Any]

# Guide 11.2: workers on spot capacity that falls back to on-demand; the first node (the driver)
# stays on demand so losing spot capacity never kills the update.
SPOT_ATTRIBUTES = {
    Cloud.AWS: ("aws_attributes", {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1}),
    Cloud.AZURE: ("azure_attributes", {"availability": "SPOT_WITH_FALLBACK_AZURE", "first_on_demand": 1}),
    Cloud.GCP: ("gcp_attributes", {"availability": "PREEMPTIBLE_WITH_FALLBACK_GCP", "first_on_demand": 1}),
}


@dataclass(frozen=True)
class DltPipelineArgs:
    """The inputs of a `DltPipeline`. Optional fields are typed `T | None` (the schema's optional
    properties); None means the default given."""

    name: str
    """Physical pipeline name in the workspace (see `lakeflow.model.naming.physical_name`)."""
    catalog: str
    """Unity Catalog catalog the pipeline publishes to."""
    schema: str
    """Default schema of the published tables."""
    libraries: Sequence[LibrarySpec]
    """Source code, each as the provider's `PipelineLibraryArgs` takes it (snake_case mappings:
    `{"notebook": {"path": ...}}`, `{"glob": {"include": ...}}`, `{"maven": {...}}`, …). At least
    one, unless `settings` holds an ingestion or gateway definition (Lakeflow Connect)."""
    development: bool | None = False
    continuous: bool | None = False
    photon: bool | None = False
    serverless: bool | None = False
    channel: Channel | None = Channel.CURRENT
    edition: Edition | None = Edition.ADVANCED
    """Ignored with `serverless` (Databricks picks it)."""
    clusters: Sequence[ClusterSpec] | None = ()
    """Classic compute, each as the provider's `PipelineClusterArgs` takes it; empty with `serverless`."""
    configuration: Mapping[str, str] | None = field(default_factory=dict)
    notifications: Sequence[NotificationSpec] | None = ()
    """`{"email_recipients": [...], "alerts": [...]}` each."""
    run_as: str | None = None
    """`sp:<application id>` or `user:<email>`."""
    tags: Mapping[str, str] | None = field(default_factory=dict)
    """Pipeline tags, also merged into every cluster's custom_tags (cost attribution)."""
    viewers: Sequence[str] | None = ()
    runners: Sequence[str] | None = ()
    managers: Sequence[str] | None = ()
    event_log: EventLogTable | None = None
    """The table to publish the event log to, so monitoring SQL can read it."""
    budget_policy_id: pulumi.Input[str] | None = None
    """Serverless usage is attributed only through a budget policy's tags."""
    spot: Cloud | None = None
    """Cloud whose spot-with-fallback attributes the clusters use; None: on demand."""
    settings: Mapping[str, Any] | None = field(default_factory=dict)
    """Any other field of the provider's `Pipeline` (`environment`, `filters`, `root_path`,
    `ingestion_definition`, `restart_window`, …), snake_case, sent as given."""
    import_id: str | None = None
    """Adopt an existing pipeline by its id instead of creating one (Pulumi import)."""

    def __post_init__(self) -> None:
        settings = self.settings or {}
        if not self.libraries and not ({"ingestion_definition", "gateway_definition"} & set(settings)):
            raise ValueError(f"DltPipeline {self.name!r}: at least one library is required")
        if self.serverless and self.clusters:
            raise ValueError(f"DltPipeline {self.name!r}: a serverless pipeline takes no clusters")
        taken = {"name", "catalog", "schema", "target", "storage"} & set(settings)
        if taken:
            raise ValueError(f"DltPipeline {self.name!r}: settings must not set {', '.join(sorted(taken))}")


class EventLogTableDict(TypedDict):
    catalog: str
    schema: str
    name: str


class DltPipelineArgsDict(TypedDict, total=False):
    """`DltPipelineArgs` as a plain mapping (same keys)."""

    name: Required[str]
    catalog: Required[str]
    schema: Required[str]
    libraries: Required[Sequence[LibrarySpec]]
    development: bool
    continuous: bool
    photon: bool
    serverless: bool
    channel: Channel
    edition: Edition
    clusters: Sequence[ClusterSpec]
    configuration: Mapping[str, str]
    notifications: Sequence[NotificationSpec]
    run_as: str
    tags: Mapping[str, str]
    viewers: Sequence[str]
    runners: Sequence[str]
    managers: Sequence[str]
    event_log: EventLogTable | EventLogTableDict
    budget_policy_id: pulumi.Input[str]
    spot: Cloud
    settings: Mapping[str, Any]
    import_id: str


if TYPE_CHECKING:
    DltPipelineArgsInput = DltPipelineArgs | DltPipelineArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at runtime and takes no Union.
    DltPipelineArgsInput = DltPipelineArgs


class DltPipeline(pulumi.ComponentResource):
    """One Lakeflow Declarative Pipeline in Unity Catalog, and who may use it."""

    pipeline_id: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: DltPipelineArgsInput, opts: pulumi.ResourceOptions | None = None):
        a = coerce_args(DltPipelineArgs, args, f"DltPipeline {name!r}")
        super().__init__("lakeflow:index:DltPipeline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(a.tags or {})
        serverless = bool(a.serverless)

        self.pipeline: databricks.Pipeline = databricks.Pipeline(
            f"{name}-pipeline",
            **dict(a.settings or {}),
            name=a.name,
            catalog=a.catalog,
            schema=a.schema,
            development=bool(a.development),
            continuous=bool(a.continuous),
            # Serverless compute always runs Photon: say so rather than send `false`, which the
            # provider would report back differently (a diff on every preview).
            photon=True if serverless else bool(a.photon),
            serverless=serverless or None,
            channel=str(a.channel or Channel.CURRENT),
            # Serverless pipelines have no edition: Databricks picks it.
            edition=None if serverless else str(a.edition or Edition.ADVANCED),
            clusters=[_cluster(c, tags, a.spot) for c in a.clusters or ()] or None,
            libraries=list(a.libraries) or None,
            configuration=dict(a.configuration or {}) or None,
            notifications=list(a.notifications or ()) or None,
            run_as=run_as(a.run_as, databricks.PipelineRunAsArgs),
            tags=tags or None,
            budget_policy_id=a.budget_policy_id,
            event_log=databricks.PipelineEventLogArgs(
                catalog=a.event_log.catalog, schema=a.event_log.schema, name=a.event_log.name
            )
            if a.event_log
            else None,
            opts=pulumi.ResourceOptions(parent=self, import_=a.import_id) if a.import_id else child,
        )
        self.pipeline_id = self.pipeline.id
        self.url = self.pipeline.url

        # The run-as principal owns the pipeline: a pipeline runs as its owner, and without IS_OWNER
        # the owner would be whoever deployed it (provider: the current identity).
        acl = access_controls(
            [
                ("CAN_VIEW", a.viewers or ()),
                ("CAN_RUN", a.runners or ()),
                ("CAN_MANAGE", a.managers or ()),
                ("IS_OWNER", [a.run_as] if a.run_as else []),
            ]
        )
        self.permissions: databricks.Permissions | None = (
            databricks.Permissions(f"{name}-permissions", pipeline_id=self.pipeline.id, access_controls=acl, opts=child)
            if acl
            else None
        )

        self.register_outputs({"pipeline_id": self.pipeline_id, "url": self.url})


def _cluster(cluster: ClusterSpec, tags: Mapping[str, str], spot: Cloud | None) -> ClusterSpec:
    """The cluster as given, with the spot attributes under what it sets itself, and the
    pipeline's tags: classic compute is billed to cluster tags."""
    out: dict[str, Any] = {"label": "default", **cluster}
    if spot is not None:
        key, attributes = SPOT_ATTRIBUTES[spot]
        out[key] = {**attributes, **out.get(key, {})}
    custom_tags = {**tags, **out.get("custom_tags", {})}
    if custom_tags:
        out["custom_tags"] = custom_tags
    return cast(ClusterSpec, out)
