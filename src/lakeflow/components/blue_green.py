"""`BlueGreenPipeline`: two long-lived slots of one pipeline, and the stable names consumers read
(guide 3.2-3.3, 7.4).

Inputs: `BlueGreenPipelineArgs` (or the same keys as a mapping, `BlueGreenPipelineArgsDict`); each
slot's pipeline is a `DltPipelineArgs` (or `DltPipelineArgsDict`).

Children (names derive from the component's name and never change):
  - `<name>-repo-<slot>`        databricks.Repo: the pipeline code, checked out at the slot's tag
                                or branch. A new version is a checkout in place.
  - `<name>-<slot>`             DltPipeline: the slot's pipeline, publishing into its own schema.
                                The adopted slot (the pipeline declared before blue/green) carries an
                                alias to its old URN, so it stays the same resource.
  - `<name>-views`              databricks.Schema of the stable views (retained on delete).
  - `<name>-views-grants`       databricks.Grants: consumers may use the view schema.
  - `<name>-view-<table>`       databricks.SqlTable (VIEW) per published table: `SELECT * FROM` the
                                active slot's table. A cutover changes only its definition (ALTER VIEW).
  - `<name>-view-<table>-grants`  databricks.Grants: consumers SELECT on the view, never on a slot.

Switching `active` changes pointers in place (view definitions here; the schedule job's pipeline
id, alert queries and snapshot sources where the stack wires them): nothing is created, replaced
or deleted. Outputs: `pipeline_id` and `url` of the active slot, `slot_ids`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Required, TypedDict

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.dlt_pipeline import DltPipeline, DltPipelineArgs, DltPipelineArgsDict
from lakeflow.components.types import coerce_args, principal_field
from lakeflow.sql.names import quoted


@dataclass(frozen=True)
class SlotArgs:
    """One slot (`blue`, `green`, …) of a `BlueGreenPipeline`."""

    slot: str
    pipeline: DltPipelineArgs
    """The slot's pipeline: its own physical name, schema, libraries under `repo_path`."""
    repo_path: str
    ref: pulumi.Input[str]
    """`tag:<tag>` or `branch:<branch>` (an Output when promoted from another stack)."""
    adopted: bool | None = False
    """The pipeline declared before blue/green: an alias keeps it the same resource."""
    protect: bool | None = False


@dataclass(frozen=True)
class BlueGreenPipelineArgs:
    """The inputs of a `BlueGreenPipeline`."""

    repo_url: str
    slots: Sequence[SlotArgs]
    active: str
    """The slot the stable views read."""
    catalog: str
    view_schema: str
    tables: Sequence[str]
    warehouse_id: pulumi.Input[str]
    """Runs the view DDL."""
    consumers: Sequence[str] | None = ()
    view_comment: str | None = ""

    def __post_init__(self) -> None:
        if self.active not in {s.slot for s in self.slots}:
            raise ValueError(f"BlueGreenPipeline: active slot {self.active!r} is not declared")
        if not self.tables:
            raise ValueError("BlueGreenPipeline: no tables to publish views of")


class SlotArgsDict(TypedDict, total=False):
    """`SlotArgs` as a plain mapping (same keys)."""

    slot: Required[str]
    pipeline: Required[DltPipelineArgs | DltPipelineArgsDict]
    repo_path: Required[str]
    ref: Required[pulumi.Input[str]]
    adopted: bool
    protect: bool


class BlueGreenPipelineArgsDict(TypedDict, total=False):
    """`BlueGreenPipelineArgs` as a plain mapping (same keys)."""

    repo_url: Required[str]
    slots: Required[Sequence[SlotArgs | SlotArgsDict]]
    active: Required[str]
    catalog: Required[str]
    view_schema: Required[str]
    tables: Required[Sequence[str]]
    warehouse_id: Required[pulumi.Input[str]]
    consumers: Sequence[str]
    view_comment: str


if TYPE_CHECKING:
    BlueGreenPipelineArgsInput = BlueGreenPipelineArgs | BlueGreenPipelineArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at runtime and takes no Union.
    BlueGreenPipelineArgsInput = BlueGreenPipelineArgs


class BlueGreenPipeline(pulumi.ComponentResource):
    """Two long-lived slots of one pipeline, and stable views over the active one."""

    pipeline_id: pulumi.Output[str]
    url: pulumi.Output[str]
    slot_ids: Mapping[str, pulumi.Output[str]]

    def __init__(self, name: str, args: BlueGreenPipelineArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(BlueGreenPipelineArgs, args, f"BlueGreenPipeline {name!r}")
        super().__init__("lakeflow:index:BlueGreenPipeline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.slots: dict[str, DltPipeline] = {}
        self.refs: dict[str, pulumi.Output[str]] = {}
        for slot in args.slots:
            ref = pulumi.Output.from_input(slot.ref)
            self.refs[slot.slot] = ref
            repo = databricks.Repo(
                f"{name}-repo-{slot.slot}",
                url=args.repo_url,
                path=slot.repo_path,
                tag=ref.apply(lambda r: r.split(":", 1)[1] if r.startswith("tag:") else None),
                branch=ref.apply(lambda r: r.split(":", 1)[1] if r.startswith("branch:") else None),
                opts=child,
            )
            self.slots[slot.slot] = DltPipeline(
                f"{name}-{slot.slot}",
                slot.pipeline,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[repo],
                    protect=bool(slot.protect),
                    # It used to be the stack's `DltPipeline <name>`: same resources, new names.
                    aliases=[pulumi.Alias(name=name, parent=pulumi.ROOT_STACK_RESOURCE)] if slot.adopted else None,
                ),
            )

        active = next(s for s in args.slots if s.slot == args.active)
        schema = databricks.Schema(
            f"{name}-views",
            catalog_name=args.catalog,
            name=args.view_schema,
            comment=f"Stable names of {name}'s tables (views over its active blue/green slot)",
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, protect=bool(active.protect)),
        )
        principals = sorted(principal_field(c)[1] for c in args.consumers or ())

        def grant(resource_name: str, privilege: str, **securable: pulumi.Input[str]) -> None:
            if principals:
                grants = [databricks.GrantsGrantArgs(principal=p, privileges=[privilege]) for p in principals]
                databricks.Grants(resource_name, grants=grants, opts=child, **securable)  # type: ignore[arg-type]

        grant(f"{name}-views-grants", "USE_SCHEMA", schema=schema.id)
        self.views: dict[str, databricks.SqlTable] = {}
        for table in args.tables:
            view = databricks.SqlTable(
                f"{name}-view-{table}",
                catalog_name=args.catalog,
                schema_name=schema.name,
                name=table,
                table_type="VIEW",
                # The only thing a cutover changes: ALTER VIEW, in place.
                view_definition=f"SELECT * FROM {quoted(args.catalog, active.pipeline.schema, table)}",
                comment=args.view_comment or None,
                warehouse_id=args.warehouse_id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.slots[args.active]]),
            )
            self.views[table] = view
            grant(f"{name}-view-{table}-grants", "SELECT", table=view.id)

        self.pipeline_id = self.slots[args.active].pipeline_id
        self.url = self.slots[args.active].url
        self.slot_ids = {s: p.pipeline_id for s, p in self.slots.items()}
        self.register_outputs({"pipeline_id": self.pipeline_id, "url": self.url, "slot_ids": dict(self.slot_ids)})
