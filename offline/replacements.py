"""What forces a resource's replacement: the one table the diff and the data-loss guard use.

Read from the Terraform provider that pulumi-databricks bridges,
github.com/databricks/terraform-provider-databricks, at the commits named per entry (checked
2026-11 for pulumi-databricks 1.118). A property listed here cannot be updated in place: the
provider deletes the resource and creates a new one (Pulumi's default is create-before-delete).
When the provider is upgraded, re-check these entries against its source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PIPELINE = "databricks:index/pipeline:Pipeline"
SQL_TABLE = "databricks:index/sqlTable:SqlTable"

# type -> input paths (camelCase, as registered) that force replacement when they change.
FORCE_NEW: dict[str, tuple[str, ...]] = {
    # pipelines/resource_pipeline.go @0148dbb3: s.SchemaPath("storage").SetForceNew(), and the
    # gateway/ingestion connection fields. `catalog` alone updates in place since PR #5180.
    PIPELINE: (
        "storage",
        "gatewayDefinition.connectionId",
        "gatewayDefinition.gatewayStorageCatalog",
        "gatewayDefinition.gatewayStorageSchema",
        "ingestionDefinition.connectionName",
        "ingestionDefinition.ingestionGatewayId",
    ),
    # catalog/resource_schema.go: for "name", "catalog_name", "storage_root" ... SetForceNew()
    "databricks:index/schema:Schema": ("name", "catalogName", "storageRoot"),
    # catalog/resource_sql_table.go @e173af38: tf:"force_new" on these fields.
    SQL_TABLE: (
        "catalogName",
        "schemaName",
        "tableType",
        "dataSourceFormat",
        "partitions",
        "storageCredentialName",
        "options",
    ),
    # catalog/resource_volume.go @c3c4fc58: tf:"force_new"; `name` is renamed in place.
    "databricks:index/volume:Volume": ("catalogName", "schemaName", "volumeType", "storageLocation"),
    # sql/resource_query.go @b9ade807, sql/resource_alert.go @a8558750,
    # dashboards/resource_dashboard.go @670320b9: parent_path ... SetForceNew().
    # AlertV2 is not listed: its parent_path is in the update mask (resource_alert_v2.go @84a7bd00).
    "databricks:index/query:Query": ("parentPath",),
    "databricks:index/sqlQuery:SqlQuery": ("parentPath",),
    "databricks:index/alert:Alert": ("parentPath",),
    "databricks:index/dashboard:Dashboard": ("parentPath",),
    # permissions/resource_permissions.go @64f44479: every object id field is ForceNew.
    "databricks:index/permissions:Permissions": (
        "pipelineId",
        "jobId",
        "dashboardId",
        "sqlAlertId",
        "sqlQueryId",
        "sqlDashboardId",
        "alertV2Id",
        "clusterId",
        "clusterPolicyId",
        "notebookPath",
        "directoryPath",
        "workspaceFilePath",
        "registeredModelId",
        "servingEndpointId",
        "warehouseId",
    ),
    # catalog/resource_grants.go @f03cd0c3: every securable field is ForceNew.
    "databricks:index/grants:Grants": (
        "catalog",
        "schema",
        "table",
        "volume",
        "function",
        "metastore",
        "externalLocation",
        "storageCredential",
        "share",
        "model",
        "foreignConnection",
    ),
    # settings/resource_notification_destination.go @f9c2ccfb: a switch of the config type.
    "databricks:index/notificationDestination:NotificationDestination": (),
}

# Types whose replacement or deletion loses data, and what is lost.
HOLDS_DATA: dict[str, str] = {
    PIPELINE: "it owns the tables it publishes; deleting it drops them",
    "databricks:index/schema:Schema": "a Unity Catalog schema and every table in it",
    SQL_TABLE: "a Unity Catalog table",
    "databricks:index/table:Table": "a Unity Catalog table",
    "databricks:index/volume:Volume": "a Unity Catalog volume and its files",
    "databricks:index/catalog:Catalog": "a Unity Catalog catalog and everything in it",
}

_DESTINATION_KINDS = ("email", "slack", "pagerduty", "microsoftTeams", "genericWebhook")


def replacement_reasons(
    type_: str, old: Mapping[str, Any], new: Mapping[str, Any], changed_paths: Sequence[str]
) -> list[str]:
    """Why changing `old` into `new` replaces the resource (empty: updated in place)."""
    reasons = []
    for prop in FORCE_NEW.get(type_, ()):
        if any(_under(path, prop) for path in changed_paths):
            reasons.append(f"{prop} changed (forces replacement)")
    for prop in new.get("replaceOnChanges", []):
        if any(_under(path, prop) for path in changed_paths):
            reasons.append(f"{prop} changed (replaceOnChanges)")
    a, b = old["inputs"], new["inputs"]
    if type_ == PIPELINE and bool(a.get("storage")) != bool(b.get("storage")):
        reasons.append("switching between storage and catalog (forces replacement)")
    if type_ == SQL_TABLE and b.get("tableType") == "VIEW" and a.get("comment") != b.get("comment"):
        reasons.append("comment of a view changed (forces replacement)")
    if type_.endswith("notificationDestination:NotificationDestination"):
        # A config holding a credential is one masked secret: its type cannot be seen offline.
        configs = [x.get("config") for x in (a, b)]
        kinds = [{k for k in _DESTINATION_KINDS if c.get(k)} if isinstance(c, dict) else None for c in configs]
        if None not in kinds and kinds[0] != kinds[1]:
            reasons.append("config type switched (forces replacement)")
    if old.get("provider") and new.get("provider") and _provider_urn(old) != _provider_urn(new):
        reasons.append("provider changed")
    return sorted(set(reasons), key=reasons.index)


def _under(path: str, prop: str) -> bool:
    return path == prop or path.startswith((prop + ".", prop + "["))


def _provider_urn(res: Mapping[str, Any]) -> str:
    # A provider reference is "<provider urn>::<provider id>"; the id is unknown in a preview.
    return str(res["provider"]).rsplit("::", 1)[0]
