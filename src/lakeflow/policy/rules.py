"""The policies: the operations guide's principles (1.3) and this project's own, as CrossGuard rules.

Self-contained (only `pulumi_policy`): the pack runs in its own virtualenv under the Pulumi CLI,
and `make policy` imports this module to run the same rules over the offline plan.

Inputs (`props`) use the engine's camelCase names. A resource is *production* when its
`Environment` tag is in the policy's `productionEnvironments` (default `["prod"]`); resources
without tags take the environment of the stack's tagged resources.

| policy | level | principle |
|---|---|---|
| pipeline-no-development-mode-in-production | mandatory | Reproducibility |
| pipeline-photon-in-production | advisory | Cost awareness |
| pipeline-enhanced-autoscaling-in-production | advisory | Cost awareness / resilience |
| pipeline-max-workers | mandatory | Cost awareness |
| pipeline-no-storage | mandatory | Resilience: a storage change replaces the pipeline |
| pipeline-scheduled-or-continuous | advisory | Automation |
| pipeline-failure-notifications-in-production | mandatory | Observability |
| pipeline-alerts-in-production | mandatory | Observability |
| no-scheduled-full-refresh | mandatory | Cost awareness (guide 11.2) |
| serverless-budget-policy-in-production | mandatory | Cost awareness (attribution) |
| budget-in-production | mandatory | Cost awareness |
| required-tags | mandatory | Cost awareness (attribution) |
| production-data-protected | mandatory | Resilience |
| run-as-service-principal-in-production | mandatory | Reproducibility |
| no-plaintext-secrets | mandatory | Security |
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError
from pulumi_policy.secret import Secret

from lakeflow.components.types import Tag
from lakeflow.policy.credentials import PATTERNS as _SECRET_PATTERNS
from lakeflow.policy.credentials import SECRET_KEY as _SECRET_KEY

PIPELINE = "databricks:index/pipeline:Pipeline"
JOB = "databricks:index/job:Job"
ALERT = "databricks:index/alertV2:AlertV2"
BUDGET = "databricks:index/budget:Budget"
QUERY = "databricks:index/query:Query"
SQL_TABLE = "databricks:index/sqlTable:SqlTable"
DATA_TYPES = {
    PIPELINE,
    "databricks:index/schema:Schema",
    "databricks:index/sqlTable:SqlTable",
    "databricks:index/table:Table",
    "databricks:index/volume:Volume",
    "databricks:index/catalog:Catalog",
}
REQUIRED_TAGS = (Tag.ENVIRONMENT, Tag.TEAM, Tag.COST_CENTER)
FAILURE_ALERTS = {"on-update-failure", "on-update-fatal-failure"}

_PROD_SCHEMA = {
    "productionEnvironments": {
        "type": "array",
        "items": {"type": "string"},
        "default": ["prod"],
        "description": "Environment tag values that count as production.",
    }
}


def _prod_config(extra: dict[str, Any] | None = None) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={**_PROD_SCHEMA, **(extra or {})})


def _production(props: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    env = (props.get("tags") or {}).get("Environment")
    return env in config.get("productionEnvironments", ["prod"])


def _clusters(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(props.get("clusters") or [])


# --- resource policies -----------------------------------------------------------------------


def _no_development_in_production(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == PIPELINE and _production(args.props, args.get_config()) and args.props.get("development"):
        report("A production pipeline must not run in development mode (development: true).", None)


def _photon_in_production(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    classic = args.resource_type == PIPELINE and not p.get("serverless")
    if classic and _production(p, args.get_config()) and not p.get("photon"):
        report("Production pipelines on classic compute should enable photon (guide 11.2).", None)


def _enhanced_autoscaling_in_production(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if args.resource_type != PIPELINE or not _production(p, args.get_config()) or p.get("serverless"):
        return
    for i, cluster in enumerate(_clusters(p)):
        autoscale = cluster.get("autoscale") or {}
        if autoscale.get("mode") != "ENHANCED":
            report(
                f"clusters[{i}] ({cluster.get('label', 'default')}) should use ENHANCED autoscaling (guide 9.3).", None
            )


def _max_workers(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != PIPELINE:
        return
    cap = args.get_config().get("maxWorkers", 20)
    for i, cluster in enumerate(_clusters(args.props)):
        size = (cluster.get("autoscale") or {}).get("maxWorkers", cluster.get("numWorkers"))
        if isinstance(size, int | float) and size > cap:
            report(f"clusters[{i}] may grow to {int(size)} workers; the cap is {cap}.", None)


def _no_storage(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == PIPELINE and args.props.get("storage"):
        report("Pipelines must publish to Unity Catalog (catalog + schema): a storage change forces replacement.", None)


def _failure_notifications(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if args.resource_type != PIPELINE or not _production(p, args.get_config()):
        return
    for n in p.get("notifications") or []:
        if FAILURE_ALERTS & set(n.get("alerts") or []) and n.get("emailRecipients"):
            return
    report("A production pipeline needs failure notifications (on-update-failure / on-update-fatal-failure).", None)


def _required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    tagged = [("tags", p.get("tags"))] if args.resource_type in (PIPELINE, JOB) else []
    tagged += [(f"clusters[{i}].customTags", c.get("customTags")) for i, c in enumerate(_clusters(p))]
    for where, tags in tagged:
        missing = [t for t in REQUIRED_TAGS if not (tags or {}).get(t)]
        if missing:
            report(f"{where} lacks the tag(s) {', '.join(missing)} (cost attribution, guide 4.1).", None)


def _run_as_service_principal(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if args.resource_type not in (PIPELINE, JOB) or not _production(p, args.get_config()):
        return
    if not (p.get("runAs") or {}).get("servicePrincipalName"):
        report("Production pipelines and jobs must run as a service principal (runAs.servicePrincipalName).", None)


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves of the inputs, skipping values Pulumi already treats as secrets."""
    if type(value).__name__ in ("_DictSecretsProxy", "_ListSecretsProxy"):
        value = value["__target"]  # the policy SDK's secrets proxy: look at the raw values
    if isinstance(value, Secret) or value == "[secret]":
        return
    if isinstance(value, Mapping):
        for key in value:
            yield from _walk_item(value, key, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i in range(len(value)):
            yield from _walk_item(value, i, f"{path}[{i}]")
    else:
        yield path, value


def _walk_item(container: Any, key: Any, path: str) -> Iterator[tuple[str, Any]]:
    try:
        item = container[key]
    except UnknownValueError:
        return  # computed by another resource: unknown during a preview, and never written by hand
    yield from _walk(item, path)


def _no_plaintext_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("databricks:"):
        return
    for path, value in _walk(args.props):
        if not isinstance(value, str) or not value:
            continue
        for what, pattern in _SECRET_PATTERNS:
            if pattern.search(value):
                report(f"{path} holds what looks like {what} in plain text; make it a secret.", None)
        leaf = re.split(r"[.\[]", path)[-1]
        if _SECRET_KEY.search(leaf) and not value.startswith("{{secrets/"):
            report(
                f"{path} looks like a credential in plain text; use {{{{secrets/<scope>/<key>}}}} or a secret.", None
            )


# --- stack policies --------------------------------------------------------------------------


def _candidate_slots(resources: list[PolicyResource]) -> set[str]:
    """Blue/green slots no stable view reads: candidates, run by release validation, not by
    schedules, and watched by it rather than by alerts (docs/runbooks/release.md)."""
    views = " ".join(str(r.props.get("viewDefinition", "")) for r in resources if r.resource_type == SQL_TABLE)
    views = views.replace("`", "")
    return {
        r.urn
        for r in resources
        if r.resource_type == PIPELINE
        and (r.props.get("tags") or {}).get(Tag.SLOT)
        and f"{r.props.get('catalog')}.{r.props.get('schema')}." not in views
    }


def _scheduled_or_continuous(args: StackValidationArgs, report: ReportViolation) -> None:
    triggered_by_a_job = {d.urn for r in args.resources if r.resource_type == JOB for d in r.dependencies}
    triggered_by_a_job |= _candidate_slots(args.resources)
    for r in args.resources:
        if r.resource_type == PIPELINE and not r.props.get("continuous") and r.urn not in triggered_by_a_job:
            report("Pipeline has no schedule job and is not continuous: it will only run by hand.", r.urn)


def _production_data_protected(args: StackValidationArgs, report: ReportViolation) -> None:
    config = args.get_config()
    production = any(_production(r.props, config) for r in args.resources if isinstance(r.props.get("tags"), Mapping))
    if not production:
        return
    for r in args.resources:
        if r.resource_type == SQL_TABLE and r.props.get("tableType") == "VIEW":
            continue  # a view holds no data
        if (r.props.get("tags") or {}).get(Tag.RETIRED) == "true":
            continue  # a blue/green slot on its way out, in two reviewed steps (docs/runbooks/release.md)
        if r.resource_type in DATA_TYPES and not r.opts.protect:
            report(f"Production {r.resource_type.rsplit(':', 1)[-1]} holds data and must be protect=True.", r.urn)


def _no_scheduled_full_refresh(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != JOB or not (args.props.get("schedule") or args.props.get("trigger")):
        return
    for task in args.props.get("tasks") or []:
        if (task.get("pipelineTask") or {}).get("fullRefresh"):
            report(
                f"Task {task.get('taskKey')} runs a full refresh on a schedule: the costliest update (guide 11.2).",
                None,
            )


def _set_or_computed(props: Mapping[str, Any], key: str) -> bool:
    """Set by the program, or computed from another resource (unknown during a preview)."""
    try:
        return bool(props.get(key))
    except UnknownValueError:
        return True


def _serverless_budget_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    serverless = args.resource_type == PIPELINE and p.get("serverless")
    if serverless and _production(p, args.get_config()) and not _set_or_computed(p, "budgetPolicyId"):
        report("Serverless usage is attributed only through a budget policy: set budgetPolicyId.", None)


def _budget_in_production(args: StackValidationArgs, report: ReportViolation) -> None:
    config = args.get_config()
    covered: set[str] = set()
    for r in args.resources:
        if r.resource_type == BUDGET:
            for tag in (r.props.get("filter") or {}).get("tags") or []:
                if tag.get("key") == "Environment":
                    covered.update((tag.get("value") or {}).get("values") or [])
    for r in args.resources:
        env = (r.props.get("tags") or {}).get("Environment")
        if r.resource_type == PIPELINE and _production(r.props, config) and env not in covered:
            report(f"Production environment {env!r} has no budget filtered to its Environment tag (guide 11).", r.urn)


def _alerts_in_production(args: StackValidationArgs, report: ReportViolation) -> None:
    config = args.get_config()
    # Identifiers may be quoted (`cat`.`schema`.`table`): compare without the backticks.
    queries = [str(r.props.get("queryText", "")).replace("`", "") for r in args.resources if r.resource_type == ALERT]
    candidates = _candidate_slots(args.resources)
    for r in args.resources:
        if r.resource_type != PIPELINE or not _production(r.props, config) or r.urn in candidates:
            continue
        log = r.props.get("eventLog") or {}
        table = ".".join(str(log.get(k, "")) for k in ("catalog", "schema", "name"))
        if not log or not any(table in q for q in queries):
            report("Production pipeline has no alert reading its event log (guide 6: every pipeline watched).", r.urn)


# A DR snapshot statement (src/lakeflow/sql/snapshots.py): `CREATE OR REPLACE TABLE <x>_dr_snapshot …`.
_SNAPSHOT = re.compile(r"CREATE OR REPLACE TABLE\s+(\S+_dr_snapshot`?)\s", re.I)
_RETENTION = re.compile(
    r"'(delta\.(?:logRetentionDuration|deletedFileRetentionDuration))'\s*=\s*'interval (\d+) days'", re.I
)


def _snapshot_keeps_history(args: ResourceValidationArgs, report: ReportViolation) -> None:
    text = str(args.props.get("queryText", "")) if args.resource_type == QUERY else ""
    if not _SNAPSHOT.search(text):
        return
    if re.search(r"\bDEEP\s+CLONE\b", text, re.I) and not re.search(r"\bWITH\s+HISTORY\b", text, re.I):
        report(
            "DR snapshot deep-clones the pipeline's table: Databricks refuses a deep clone of a streaming table or "
            "materialized view without WITH HISTORY (DELTA_DEEP_CLONE_MV_ST_ERROR.REQUIRES_WITH_HISTORY); read it "
            "with CREATE OR REPLACE TABLE … AS SELECT (docs/adr/0006).",
            None,
        )
    minimum = args.get_config().get("minRetentionDays", 7)
    days = {key.lower(): int(n) for key, n in _RETENTION.findall(text)}
    for key in ("delta.logRetentionDuration", "delta.deletedFileRetentionDuration"):
        if days.get(key.lower(), 0) < minimum:
            report(
                f"DR snapshot sets {key} to {days.get(key.lower(), 'the default')} days; a point-in-time restore "
                f"needs at least {minimum} (guide 10).",
                None,
            )


def _snapshots_in_production(args: StackValidationArgs, report: ReportViolation) -> None:
    config = args.get_config()
    prod = [r for r in args.resources if r.resource_type == PIPELINE and _production(r.props, config)]
    snapshots = [
        r for r in args.resources if r.resource_type == QUERY and _SNAPSHOT.search(str(r.props.get("queryText", "")))
    ]
    if prod and not snapshots:
        report(
            "No table of this production stack is snapshotted: declare dr.critical_tables and set "
            "lakeflow:disasterRecovery (guide 10).",
            prod[0].urn,
        )


POLICIES = [
    ResourceValidationPolicy(
        name="pipeline-no-development-mode-in-production",
        description="Production pipelines never run in development mode.",
        validate=_no_development_in_production,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_prod_config(),
    ),
    ResourceValidationPolicy(
        name="pipeline-photon-in-production",
        description="Production pipelines on classic compute use photon.",
        validate=_photon_in_production,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=_prod_config(),
    ),
    ResourceValidationPolicy(
        name="pipeline-enhanced-autoscaling-in-production",
        description="Production pipeline clusters use ENHANCED autoscaling.",
        validate=_enhanced_autoscaling_in_production,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=_prod_config(),
    ),
    ResourceValidationPolicy(
        name="pipeline-max-workers",
        description="No pipeline cluster grows beyond the configured worker cap.",
        validate=_max_workers,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties={"maxWorkers": {"type": "integer", "default": 20}}),
    ),
    ResourceValidationPolicy(
        name="pipeline-no-storage",
        description="Pipelines publish to Unity Catalog, never to a storage location.",
        validate=_no_storage,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="pipeline-failure-notifications-in-production",
        description="Production pipelines notify someone when an update fails.",
        validate=_failure_notifications,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_prod_config(),
    ),
    ResourceValidationPolicy(
        name="required-tags",
        description="Pipelines, their clusters and jobs carry Environment, Team and CostCenter tags.",
        validate=_required_tags,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="run-as-service-principal-in-production",
        description="Production pipelines and jobs run as a service principal.",
        validate=_run_as_service_principal,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_prod_config(),
    ),
    ResourceValidationPolicy(
        name="no-plaintext-secrets",
        description="No secret-looking value is passed in plain text.",
        validate=_no_plaintext_secrets,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="no-scheduled-full-refresh",
        description="No schedule runs a full refresh: it recomputes everything every time.",
        validate=_no_scheduled_full_refresh,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="serverless-budget-policy-in-production",
        description="Production serverless pipelines carry a budget policy, the only way their usage is attributed.",
        validate=_serverless_budget_policy,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_prod_config(),
    ),
    StackValidationPolicy(
        name="budget-in-production",
        description="Every production environment has a budget.",
        validate=_budget_in_production,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_prod_config(),
    ),
    StackValidationPolicy(
        name="pipeline-scheduled-or-continuous",
        description="Every pipeline is continuous or triggered by a job.",
        validate=_scheduled_or_continuous,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    StackValidationPolicy(
        name="pipeline-alerts-in-production",
        description="Every production pipeline publishes its event log and has alerts reading it.",
        validate=_alerts_in_production,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_prod_config(),
    ),
    ResourceValidationPolicy(
        name="dr-snapshot-keeps-history",
        description="DR snapshots keep Delta log and data files for point-in-time restores (guide 10).",
        validate=_snapshot_keeps_history,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={"minRetentionDays": {"type": "integer", "minimum": 1, "default": 7}}
        ),
    ),
    StackValidationPolicy(
        name="dr-snapshots-in-production",
        description="A production stack snapshots its critical tables (guide 10).",
        validate=_snapshots_in_production,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=_prod_config(),
    ),
    StackValidationPolicy(
        name="production-data-protected",
        description="In production, every resource that holds data is protected.",
        validate=_production_data_protected,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_prod_config(),
    ),
]
