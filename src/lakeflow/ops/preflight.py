"""`make preflight STACK=<stack> [JSON=1]`: what the stack assumes but does not create, checked in the workspace.

Run it before a stack's first `pulumi up` (docs/going-live.md), and after a change of identity, grants or
workspace. It reads the stack's settings (Pulumi.<stack>.yaml, pipelines/*.yaml; no outputs: nothing needs
to be deployed) and asks the workspace, through the Databricks SDK (credentials: see src/lakeflow/ops/workspace.py),
as the identity that will deploy (the SDK's current user, "the deployer"). Each row names what is
missing and the grant or command that fixes it:

  catalog         each catalog the pipelines publish into (targets, blue/green view schemas, event logs)
                  exists; the deployer has USE CATALOG and CREATE SCHEMA on it (it creates the view
                  schemas), and so has the run-as identity (each pipeline creates its schema on its
                  first update, as that identity)
  dr_catalog      disasterRecovery only: the DR catalog (drCatalog, each pipeline's dr.target): the
                  deployer USE CATALOG + CREATE SCHEMA (snapshot and backup schemas), the run-as
                  identity USE CATALOG (its snapshot jobs write there)
  warehouse       warehouseId (and drWarehouseId) exists and the run-as identity (the alerts and the
                  snapshot jobs run as it) has CAN USE; the deployer too with blue/green (view DDL)
  system_table    the alerts' identity has SELECT, with USE CATALOG `system` and USE SCHEMA, on the
                  system tables the stack's alerts read (system.compute.* for classic-compute
                  pipelines, system.billing.* with cost limits); a schema not found is not enabled
  run_as          the run-as principal (runAs) exists in the workspace and is active
  run_as_use      the deployer may run as it: the Service Principal User (or Manager) role on the
                  service principal, read from its account rule set (needs lakeflow:accountId;
                  without it this is a MANUAL CHECK); another user as run-as needs a workspace admin
  principal       every group, user and service principal the stack grants access to (viewers,
                  runners, managers, release consumers) exists; groups granted Unity Catalog
                  privileges (consumers, and managers with disasterRecovery) are account groups
  git_credential  with blue/green (the stack creates Repos): the deployer has a Git credential for
                  each repository's provider
  folder          the folders the stack writes into: the Repos parent `/Repos/<env>_lakeflow` and the
                  monitoring folder's parent exist, or can be made by `pulumi up`, and the deployer
                  has CAN MANAGE there
  code            the code of each pipeline that is not blue/green (its notebooks, files, the folder of a
                  glob; under lakeflow:variables.REPO_ROOT) is in the workspace
  volume          each file-arrival trigger's landing volume exists and the run-as identity has READ
                  VOLUME on it (with USE CATALOG and USE SCHEMA)

Unity Catalog privileges count when held directly, inherited from a parent, through ownership of the
catalog or volume, or through one of the principal's groups (nested groups are not followed); workspace
permissions (warehouse, folder) directly or through a group, `users` included. A 403 on a check is UNKNOWN:
"cannot verify (permission denied)", with the grant to ask for. What no API answers is UNKNOWN as
well, its detail starting "MANUAL CHECK", never OK.

What a check leaves out on purpose is listed below the table ("not checked: ...", JSON `not_checked`):
the code of blue/green pipelines (their Repos check it out) and of pipelines without libraries.

The workspace: `--http-timeout SECONDS` (or LAKEFLOW_HTTP_TIMEOUT; default 30) bounds each call and
connecting (at most 5 s), `--retry-timeout` the SDK's retries (default: the same); see
src/lakeflow/ops/workspace.py. A row's detail is one line, shortened at a word boundary; an UNKNOWN row's whole
error is the JSON report's `error` (and printed below the row with `--verbose`).

Exit status: 0 every prerequisite present; 1 something MISSING (whatever else is UNKNOWN); 2 something
could not be checked (UNKNOWN rows), or the command could not run at all (no credentials; the host
unreachable: DNS, connection refused, TLS, no answer within the timeout; credentials refused; no
Databricks API at the host; credentials for another workspace than the stack's databricks:host; a
configuration error: one line on stderr, within seconds). Nothing is changed: every call is a read.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lakeflow.config.errors import ConfigErrors
from lakeflow.config.loader import StackSettings
from lakeflow.config.models import Library, monitoring_folder
from lakeflow.config.project import command_parser
from lakeflow.model.deployment import resolve
from lakeflow.model.naming import physical_name
from lakeflow.ops import workspace
from lakeflow.ops.workspace import EXIT_ERROR, EXIT_OK, EXIT_WARNING, OpsError
from lakeflow.sql.names import quoted

EFFECTIVE_PAGES = 20  # pages of effective permissions read per securable (a page may be empty; the token ends it)


class Status(StrEnum):
    OK = "OK"
    MISSING = "MISSING"
    UNKNOWN = "UNKNOWN"


EXIT_CODES = {Status.OK: EXIT_OK, Status.MISSING: EXIT_WARNING, Status.UNKNOWN: EXIT_ERROR}


@dataclass(frozen=True)
class Check:
    check: str
    target: str
    status: Status
    detail: str
    fix: str = ""
    """The grant or command that makes it present (MISSING), or the one to ask for (UNKNOWN)."""
    error: str = ""
    """UNKNOWN: the whole text of the error behind `detail` (which is one line, shortened)."""


@dataclass
class Report:
    stack: str
    deployer: str
    """Who deploys (the SDK's current user): an email, or a service principal's application id."""
    run_as: str | None
    """lakeflow:runAs; None: everything runs as the deployer."""
    checks: list[Check] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    """What a check leaves out on purpose, and why (e.g. the code of a blue/green pipeline)."""

    @property
    def status(self) -> Status:
        found = {c.status for c in self.checks}
        return Status.MISSING if Status.MISSING in found else Status.UNKNOWN if Status.UNKNOWN in found else Status.OK

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "deployer": self.deployer,
            "run_as": self.run_as,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "checks": [
                {**{k: v for k, v in asdict(c).items() if k != "error" or v}, "status": c.status.value}
                for c in self.checks
            ],
            "not_checked": self.not_checked,
        }


# --- identities ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    role: str
    """deployer | run-as"""
    kind: str
    """user | sp"""
    name: str
    """How grants, ACLs and rule sets name it: an email, or a service principal's application id."""
    groups: frozenset[str] = frozenset()
    """Display names of the groups it is a direct member of."""
    admin: bool = False

    @property
    def label(self) -> str:
        return self.role  # the report's header names both identities

    @property
    def acl_field(self) -> str:
        return "service_principal_name" if self.kind == "sp" else "user_name"

    @property
    def workspace_groups(self) -> frozenset[str]:
        return self.groups | {"users"}  # every workspace identity is in `users`

    @property
    def catalog_groups(self) -> frozenset[str]:
        return self.groups | {"account users"}  # and every account identity in `account users`


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def _group_names(values: Iterable[Any] | None) -> frozenset[str]:
    return frozenset(g.display for g in values or () if getattr(g, "display", None))


# --- API calls ----------------------------------------------------------------------------------------------


class _Failed(Exception):
    """An API call that did not answer: `kind` is not_found, denied or error; `full`: the whole text of
    the error behind it (the JSON report's `error`, and --verbose's)."""

    def __init__(self, kind: str, line: str, full: str = ""):
        super().__init__(line)
        self.kind = kind
        self.full = full


def _call(what: str, call: Callable[[], Any]) -> Any:
    """Run one API call. A workspace that cannot be used (unreachable, no answer in time, credentials
    refused, no Databricks API at the host) stops the run (workspace.Unusable: the same for every check);
    any other failure is a _Failed the check reports, never a traceback."""
    from databricks.sdk.errors import NotFound, PermissionDenied

    try:
        return call()
    except Exception as exc:  # every SDK error class, timeouts, an unreachable host: one line
        error = workspace.api_error(exc, what)
        if isinstance(error, workspace.Unusable):
            raise error from None
        if isinstance(exc, NotFound):
            raise _Failed("not_found", f"{what}: not found", error.full) from None
        if isinstance(exc, PermissionDenied):
            raise _Failed("denied", f"{what}: cannot verify (permission denied)", error.full) from None
        raise _Failed("error", f"could not check: {error}", error.full) from None


def _scim_filter(attribute: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{attribute} eq "{escaped}"'


# Unity Catalog privileges as the API names them -> as GRANT statements write them.
def _sql(privilege: str) -> str:
    return privilege.replace("_", " ")


def _grant(privileges: Sequence[str], securable: str, name: str, who: str) -> str:
    return f"GRANT {', '.join(_sql(p) for p in privileges)} ON {securable} {name} TO {quoted(who)}"


# Permission levels at least as strong as the one asked for.
_WAREHOUSE_USE = ("CAN_USE", "CAN_MONITOR", "CAN_MANAGE", "IS_OWNER")
_FOLDER_MANAGE = ("CAN_MANAGE",)
_RUN_AS_ROLES = ("roles/servicePrincipal.user", "roles/servicePrincipal.manager")

# Repos infer the provider from the host (as the Databricks provider does); others: any credential.
GIT_PROVIDERS = {
    "github.com": "gitHub",
    "gitlab.com": "gitLab",
    "dev.azure.com": "azureDevOpsServices",
    "bitbucket.org": "bitbucketCloud",
}

# The system tables each kind of alert reads (src/lakeflow/sql/queries.py: node_breaches, cost_breaches).
COMPUTE_TABLES = ("system.compute.clusters", "system.compute.node_timeline")
BILLING_TABLES = ("system.billing.usage", "system.billing.list_prices")


def alert_system_tables(settings: StackSettings) -> list[str]:
    """The system tables the stack's alerts read: node metrics for pipelines on classic compute, list-price
    cost for pipelines with a cost limit and for the environment's own cost limits."""
    cfg = settings.config
    tables: list[str] = []
    if any(not s.serverless for s in settings.pipelines):
        tables += COMPUTE_TABLES
    costs = [s.cost.daily_limit_usd or s.cost.monthly_budget_usd for s in settings.pipelines]
    if any(costs) or cfg.daily_cost_limit_usd or cfg.monthly_cost_limit_usd:
        tables += BILLING_TABLES
    return tables


def repos_parent(settings: StackSettings) -> str | None:
    """The folder the blue/green slots' Repos are checked out in (src/lakeflow/program.py), if the stack has any."""
    if not any(s.release for s in settings.pipelines):
        return None
    return f"/Repos/{physical_name(settings.config, 'lakeflow')}"


# --- the checks -----------------------------------------------------------------------------------------------


class Preflight:
    def __init__(self, w: Any, settings: StackSettings):
        self.w = w
        self.settings = settings
        self.cfg = settings.config
        # What the stack deploys, resolved once (lakeflow.model.deployment): the checks ask for what it needs.
        self.pipelines = tuple(resolve(settings).pipelines.values())
        self.checks: list[Check] = []
        self.not_checked: list[str] = []
        self._effective: dict[tuple[str, str, str | None], dict[str, frozenset[str]]] = {}
        self._metastore: str | None = None

    def add(
        self, check: str, target: str, status: Status, detail: str, fix: str = "", cause: _Failed | None = None
    ) -> None:
        """`cause`: the failure an UNKNOWN row reports; its whole text goes with the row."""
        error = cause.full if cause is not None and cause.full and cause.full != str(cause) else ""
        self.checks.append(Check(check, target, status, detail, fix, error))

    def run(self) -> Report:
        # Who deploys: the first call, so no credentials or an unreachable host stop here, in one line.
        me = workspace.guarded("the current user (the deployer)", self.w.current_user.me)
        kind = "sp" if _UUID.fullmatch(me.user_name or "") else "user"
        groups = _group_names(me.groups)
        self.deployer = Identity("deployer", kind, me.user_name or "", groups, admin="admins" in groups)
        self.run_as, run_as_failure = self._run_as_identity()
        # The identity the pipelines, schedule and snapshot jobs and the alerts run as.
        self.runner = self.run_as or self.deployer
        self._catalogs()
        self._warehouses()
        self._system_tables()
        self._run_as_checks(run_as_failure)
        # A pipeline file's own run_as: the same identity checks (its grants are not read: the
        # catalog checks are the stack run-as principal's).
        own = {p.run_as for p in self.pipelines} - {self.cfg.run_as}
        for principal in sorted(p for p in own if p):
            identity, failure = self._run_as_identity(principal)
            self._run_as_checks(failure, principal, identity)
        self._principals()
        self._git_credentials()
        self._folders()
        self._code()
        self._volumes()
        return Report(self.settings.stack, self.deployer.name, self.cfg.run_as, self.checks, self.not_checked)

    # --- identities ---------------------------------------------------------------------------------------

    def _run_as_identity(self, principal: str | None = None) -> tuple[Identity | None, _Failed | None]:
        """The run-as identity (None: the deployer's own), with its groups when the workspace knows it;
        `principal`: a pipeline file's own run_as instead of lakeflow:runAs."""
        principal = principal or self.cfg.run_as
        if principal is None:
            return None, None
        kind, name = principal.split(":", 1)
        if name == self.deployer.name:
            return self.deployer, None
        identity = Identity("run-as", kind, name)
        try:
            found = self._lookup(kind, name)
        except _Failed as failure:
            return identity, failure
        if found is None:
            return identity, _Failed("not_found", "")
        groups = _group_names(found.groups)
        inactive = _Failed("inactive", str(found.id or "")) if found.active is False else None
        return Identity("run-as", kind, name, groups, admin="admins" in groups), inactive

    def _lookup(self, kind: str, name: str) -> Any:
        """The workspace's SCIM record of a principal (`group` / `user` / `sp`), or None."""
        if kind == "sp":
            what, attribute, api = f"service principal {name}", "applicationId", self.w.service_principals
        elif kind == "user":
            what, attribute, api = f"user {name}", "userName", self.w.users
        else:
            what, attribute, api = f"group {name}", "displayName", self.w.groups
        return _call(what, lambda: next(iter(api.list(filter=_scim_filter(attribute, name))), None))

    # --- Unity Catalog -------------------------------------------------------------------------------------

    def _assignments(self, securable: str, full_name: str, principal: str | None) -> dict[str, frozenset[str]]:
        """Effective privileges on a securable (inherited from its parents included), by principal; all
        principals when `principal` is None. Read once per run."""
        key = (securable, full_name, principal)
        if key not in self._effective:
            held: dict[str, set[str]] = {}
            token: str | None = None
            for _ in range(EFFECTIVE_PAGES):
                page = _call(
                    f"{securable} {full_name}",
                    partial(
                        self.w.grants.get_effective,
                        securable_type=securable,
                        full_name=full_name,
                        principal=principal,
                        max_results=0,
                        page_token=token,
                    ),
                )
                for assignment in page.privilege_assignments or []:
                    # Filtered by principal, every assignment is the principal's (however the API spells it).
                    who = principal if principal is not None else assignment.principal or ""
                    held.setdefault(who, set()).update(
                        p.privilege.value for p in assignment.privileges or [] if p.privilege is not None
                    )
                token = page.next_page_token
                if not token:
                    break
            else:
                raise _Failed("error", f"could not check: {securable} {full_name}: more than {EFFECTIVE_PAGES} pages")
            self._effective[key] = {k: frozenset(v) for k, v in held.items()}
        return self._effective[key]

    def _lacking(
        self, securable: str, full_name: str, who: Identity, needed: Sequence[str], owner: str | None = None
    ) -> list[str]:
        """The privileges of `needed` that `who` does not hold on the securable. Raises _Failed."""
        if owner and (owner == who.name or owner in who.catalog_groups):
            return []

        def missing(held: frozenset[str]) -> list[str]:
            return [] if "ALL_PRIVILEGES" in held else [p for p in needed if p not in held]

        own = frozenset().union(*self._assignments(securable, full_name, who.name).values())
        lacking = missing(own)
        if lacking:  # held through a group? (the principal filter may not expand groups)
            everyone = self._assignments(securable, full_name, None)
            through = frozenset().union(own, *(v for k, v in everyone.items() if k in who.catalog_groups))
            lacking = missing(through)
        return lacking

    def _catalogs(self) -> None:
        data = dict.fromkeys(c for p in self.pipelines for c in (p.spec.catalog, p.event_log.catalog) if c)
        for catalog in data:
            self._catalog("catalog", catalog, ("USE_CATALOG", "CREATE_SCHEMA"), ("USE_CATALOG", "CREATE_SCHEMA"))
        if not self.cfg.disaster_recovery:
            return
        dr = dict.fromkeys(
            [
                *([self.cfg.dr_catalog] if self.cfg.dr_catalog else []),
                *(p.dr_schema[0] for p in self.pipelines if p.dr_schema is not None),
            ]
        )
        for catalog in dr:
            self._catalog("dr_catalog", catalog, ("USE_CATALOG", "CREATE_SCHEMA"), ("USE_CATALOG",))

    def _catalog(self, check: str, catalog: str, deployer: tuple[str, ...], runner: tuple[str, ...]) -> None:
        """What the deployer needs on the catalog, and what the run-as identity needs (when it is another)."""
        who = [(self.deployer, deployer)]
        if self.runner is not self.deployer:
            who.append((self.runner, runner))
        name = quoted(catalog)
        grants = "; ".join(_grant(p, "CATALOG", name, i.name) for i, p in who)
        try:
            info = _call(f"catalog {catalog}", lambda: self.w.catalogs.get(catalog))
        except _Failed as failure:
            if failure.kind == "not_found":
                self.add(check, catalog, Status.MISSING, "catalog not found", f"CREATE CATALOG {name}; {grants}")
            else:
                self.add(check, catalog, Status.UNKNOWN, str(failure), self._ask(failure, grants), failure)
            return
        for identity, privileges in who:
            target = f"{catalog} ({identity.role})"
            try:
                lacking = self._lacking("catalog", catalog, identity, privileges, info.owner)
            except _Failed as failure:
                grant = _grant(privileges, "CATALOG", name, identity.name)
                self.add(
                    check, target, Status.UNKNOWN, f"{identity.label}: {failure}", self._ask(failure, grant), failure
                )
                continue
            if lacking:
                self.add(
                    check,
                    target,
                    Status.MISSING,
                    f"{identity.label} lacks {', '.join(_sql(p) for p in lacking)}",
                    _grant(lacking, "CATALOG", name, identity.name),
                )
            else:
                self.add(check, target, Status.OK, f"{identity.label} has {', '.join(_sql(p) for p in privileges)}")

    @staticmethod
    def _ask(failure: _Failed, grant: str) -> str:
        if failure.kind == "denied":
            return f"ask the owner or a metastore admin to run: {grant}"
        return "run it again; if it persists, check the host and the workspace's status"

    def _system_tables(self) -> None:
        who = self.runner
        for table in alert_system_tables(self.settings):
            catalog, schema, name = table.split(".")
            parts = [
                ("catalog", catalog, "CATALOG", quoted(catalog), "USE_CATALOG"),
                ("schema", f"{catalog}.{schema}", "SCHEMA", quoted(catalog, schema), "USE_SCHEMA"),
                ("table", table, "TABLE", quoted(catalog, schema, name), "SELECT"),
            ]
            everything = "; ".join(_grant([p], kind, q, who.name) for _, _, kind, q, p in parts)
            missing: list[str] = []
            unknown: _Failed | None = None
            not_enabled = False
            for securable, full_name, kind, q, privilege in parts:
                try:
                    if self._lacking(securable, full_name, who, [privilege]):
                        missing.append(_grant([privilege], kind, q, who.name))
                except _Failed as failure:
                    if failure.kind == "not_found" and securable != "catalog":
                        not_enabled = True
                        break
                    unknown = unknown or failure
            if not_enabled:
                self.add(
                    "system_table",
                    table,
                    Status.MISSING,
                    f"system schema {catalog}.{schema} is not enabled (or {table} not found)",
                    f"databricks system-schemas enable {self._metastore_id()} {schema}  (a metastore admin); "
                    f"then {everything}",
                )
            elif missing:
                self.add("system_table", table, Status.MISSING, f"{who.label} cannot read it", "; ".join(missing))
            elif unknown is not None:
                self.add(
                    "system_table",
                    table,
                    Status.UNKNOWN,
                    f"{who.label}: {unknown}",
                    self._ask(unknown, everything),
                    unknown,
                )
            else:
                self.add("system_table", table, Status.OK, f"{who.label} has SELECT")

    def _metastore_id(self) -> str:
        if self._metastore is None:
            try:
                self._metastore = _call("metastore", self.w.metastores.current).metastore_id or "<metastore id>"
            except _Failed:
                self._metastore = "<metastore id>"  # `databricks metastores current` shows it
        return self._metastore

    def _volumes(self) -> None:
        who = self.runner
        urls = dict.fromkeys(
            s.schedule.file_arrival.url for s in self.settings.pipelines if s.schedule and s.schedule.file_arrival
        )
        for url in urls:
            parts = url.split("/")
            if len(parts) < 5 or parts[1] != "Volumes" or not all(parts[2:5]):
                self.add(
                    "volume",
                    url,
                    Status.UNKNOWN,
                    f"MANUAL CHECK: {url} is not a Unity Catalog volume: check that its external location "
                    f"exists and that {who.label} may read it",
                    f"GRANT READ FILES ON EXTERNAL LOCATION `<location>` TO {quoted(who.name)}",
                )
                continue
            catalog, schema, volume = parts[2:5]
            full = f"{catalog}.{schema}.{volume}"
            name = quoted(catalog, schema, volume)
            needs = [
                ("catalog", catalog, "CATALOG", quoted(catalog), "USE_CATALOG"),
                ("schema", f"{catalog}.{schema}", "SCHEMA", quoted(catalog, schema), "USE_SCHEMA"),
                ("volume", full, "VOLUME", name, "READ_VOLUME"),
            ]
            grants = "; ".join(_grant([p], kind, q, who.name) for _, _, kind, q, p in needs)
            try:
                info = _call(f"volume {full}", partial(self.w.volumes.read, full))
            except _Failed as failure:
                if failure.kind == "not_found":
                    self.add(
                        "volume",
                        full,
                        Status.MISSING,
                        f"landing volume of {url} not found",
                        f"CREATE SCHEMA IF NOT EXISTS {quoted(catalog, schema)}; CREATE VOLUME {name}; {grants}",
                    )
                else:
                    self.add("volume", full, Status.UNKNOWN, str(failure), self._ask(failure, grants), failure)
                continue
            missing: list[str] = []
            unknown: _Failed | None = None
            for securable, full_name, kind, q, privilege in needs:
                owner = info.owner if securable == "volume" else None
                try:
                    if self._lacking(securable, full_name, who, [privilege], owner):
                        missing.append(_grant([privilege], kind, q, who.name))
                except _Failed as failure:
                    unknown = unknown or failure
            if missing:
                self.add(
                    "volume", full, Status.MISSING, f"{who.label} cannot read the landing files", "; ".join(missing)
                )
            elif unknown is not None:
                self.add("volume", full, Status.UNKNOWN, f"{who.label}: {unknown}", self._ask(unknown, grants), unknown)
            else:
                self.add("volume", full, Status.OK, f"exists; {who.label} has READ VOLUME")

    # --- SQL warehouses ------------------------------------------------------------------------------------

    def _warehouses(self) -> None:
        cfg = self.cfg
        ids = {cfg.warehouse_id: "lakeflow:warehouseId"}
        if cfg.disaster_recovery and cfg.dr_warehouse_id:
            ids.setdefault(cfg.dr_warehouse_id, "lakeflow:drWarehouseId")
        for warehouse_id, key in ids.items():
            users = [self.runner]
            views = any(s.release for s in self.settings.pipelines)
            if key == "lakeflow:warehouseId" and views and self.runner is not self.deployer:
                users.append(self.deployer)  # the blue/green views' DDL runs as the deployer
            self._warehouse(warehouse_id, key, users)

    def _warehouse(self, warehouse_id: str, key: str, users: list[Identity]) -> None:
        def grant(who: Identity) -> str:
            acl = {"access_control_list": [{who.acl_field: who.name, "permission_level": "CAN_USE"}]}
            return f"databricks warehouses update-permissions {warehouse_id} --json '{json.dumps(acl)}'"

        try:
            info = _call(f"SQL warehouse {warehouse_id}", lambda: self.w.warehouses.get(warehouse_id))
            state = info.state.value if info.state else ""
            if state in ("DELETED", "DELETING"):
                raise _Failed("not_found", "")
        except _Failed as failure:
            if failure.kind == "not_found":
                create = {"name": f"{self.cfg.environment}-lakeflow", "cluster_size": "2X-Small",
                          "enable_serverless_compute": True, "max_num_clusters": 1}  # fmt: skip
                self.add(
                    "warehouse",
                    warehouse_id,
                    Status.MISSING,
                    f"no SQL warehouse {warehouse_id} ({key})",
                    f"set {key} to an existing warehouse's id (databricks warehouses list), or create one: "
                    f"databricks warehouses create --json '{json.dumps(create)}'",
                )
            else:
                self.add(
                    "warehouse",
                    warehouse_id,
                    Status.UNKNOWN,
                    str(failure),
                    self._ask_warehouse(failure, grant),
                    failure,
                )
            return
        try:
            acl = _call(
                f"permissions of SQL warehouse {warehouse_id}", lambda: self.w.warehouses.get_permissions(warehouse_id)
            ).access_control_list
        except _Failed as failure:
            for who in users:
                target = f"{warehouse_id} ({who.role})"
                self.add(
                    "warehouse",
                    target,
                    Status.UNKNOWN,
                    f"{who.label}: {failure}",
                    self._ask_warehouse(failure, grant, who),
                    failure,
                )
            return
        for who in users:
            target = f"{warehouse_id} ({who.role})"
            via = _holder(acl or [], who, _WAREHOUSE_USE)
            if via is None:
                self.add(
                    "warehouse",
                    target,
                    Status.MISSING,
                    f"{who.label} has no CAN USE on {info.name or warehouse_id}",
                    grant(who),
                )
            else:
                self.add("warehouse", target, Status.OK, f"{who.label} may use {info.name or warehouse_id}{via}")

    @staticmethod
    def _ask_warehouse(failure: _Failed, grant: Callable[[Identity], str], who: Identity | None = None) -> str:
        if failure.kind != "denied":
            return "run it again; if it persists, check the host and the workspace's status"
        if who is None:
            return "ask a workspace admin for CAN VIEW on the warehouse (reading it) and CAN MANAGE (its permissions)"
        return f"ask the warehouse's owner (CAN MANAGE reads its permissions) to run: {grant(who)}"

    # --- identities the stack names --------------------------------------------------------------------------

    def _run_as_checks(
        self, failure: _Failed | None, principal: str | None = None, identity: Identity | None = None
    ) -> None:
        """The run-as principal (lakeflow:runAs, or `principal` with its `identity`) exists, is
        active, and the deployer may run as it."""
        deployer = self.deployer
        if principal is None:
            principal, identity = self.cfg.run_as, self.run_as
        if principal is None:
            self.add("run_as", "-", Status.OK, "no lakeflow:runAs: pipelines, jobs and alerts run as the deployer")
            return
        kind, name = principal.split(":", 1)
        what = "service principal" if kind == "sp" else "user"
        if identity is deployer:
            self.add("run_as", principal, Status.OK, f"the deployer is the run-as {what}")
            self.add("run_as_use", principal, Status.OK, "the deployer runs as itself")
            return
        if failure is None:
            self.add("run_as", principal, Status.OK, f"{what} {name} is in the workspace and active")
        elif failure.kind == "inactive":
            patch = {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": True}],
            }
            command = "service-principals" if kind == "sp" else "users"
            self.add(
                "run_as",
                principal,
                Status.MISSING,
                f"{what} {name} is deactivated in the workspace",
                f"databricks {command} patch {failure} --json '{json.dumps(patch)}'  (a workspace admin)",
            )
        elif failure.kind == "not_found":
            fix = (
                f"databricks service-principals create --application-id {name}  (a workspace admin; adds the "
                "account's service principal to the workspace)"
                if kind == "sp"
                else f"databricks users create --user-name {name}  (a workspace admin)"
            )
            self.add("run_as", principal, Status.MISSING, f"{what} {name} is not in the workspace", fix)
        else:
            self.add(
                "run_as", principal, Status.UNKNOWN, str(failure), self._ask_admin(failure, f"{what} {name}"), failure
            )
        if kind == "user":
            if deployer.admin:
                self.add(
                    "run_as_use", principal, Status.OK, "the deployer is a workspace admin: may run as another user"
                )
            else:
                self.add(
                    "run_as_use",
                    principal,
                    Status.MISSING,
                    f"only a workspace admin may run pipelines and jobs as another user ({deployer.label} is not one)",
                    f"deploy as {name} or as a workspace admin, or set lakeflow:runAs to a service principal "
                    f"(sp:<application id>) {deployer.name} holds Service Principal User on",
                )
            return
        self._service_principal_user(name)

    def _service_principal_user(self, application_id: str) -> None:
        deployer, target = self.deployer, f"sp:{application_id}"
        grant = (
            f"give {deployer.name} the Service Principal User role on {application_id}: workspace settings > "
            f"Identity and access > Service principals > {application_id} > Permissions > Grant access "
            "(a workspace admin or the service principal's manager)"
        )
        if self.cfg.account_id is None:
            self.add(
                "run_as_use",
                target,
                Status.UNKNOWN,
                "MANUAL CHECK: without lakeflow:accountId the Service Principal User role cannot be read "
                f"through the API: check that {deployer.label} holds it",
                f"{grant}; or set lakeflow:accountId so that preflight reads it",
            )
            return
        rule_set = f"accounts/{self.cfg.account_id}/servicePrincipals/{application_id}/ruleSets/default"
        try:
            rules = _call(
                f"roles on service principal {application_id}",
                lambda: self.w.account_access_control_proxy.get_rule_set(name=rule_set, etag=""),
            ).grant_rules
        except _Failed as failure:
            if failure.kind == "denied":
                fix = f"ask a workspace admin or the service principal's manager to confirm, or to {grant}"
            else:
                fix = self._ask(failure, grant)
            self.add("run_as_use", target, Status.UNKNOWN, f"{deployer.label}: {failure}", fix, failure)
            return
        prefix = "servicePrincipals" if deployer.kind == "sp" else "users"
        names = {f"{prefix}/{deployer.name}": "", **{f"groups/{g}": f" (through group {g})" for g in deployer.groups}}
        held = [
            (rule.role.rsplit(".", 1)[-1], names[p])
            for rule in rules or []
            if rule.role in _RUN_AS_ROLES
            for p in rule.principals or []
            if p in names
        ]
        if held:
            role, via = held[0]
            self.add("run_as_use", target, Status.OK, f"{deployer.label} holds Service Principal {role.title()}{via}")
        else:
            self.add(
                "run_as_use",
                target,
                Status.MISSING,
                f"{deployer.label} holds neither Service Principal User nor Manager on it (account admins hold "
                "them implicitly)",
                grant,
            )

    @staticmethod
    def _ask_admin(failure: _Failed, what: str) -> str:
        if failure.kind == "denied":
            return f"ask a workspace admin to confirm that {what} is in the workspace and active"
        return "run it again; if it persists, check the host and the workspace's status"

    def _principals(self) -> None:
        cfg = self.cfg
        granted: dict[str, bool] = {}  # principal -> needs Unity Catalog privileges (an account group)
        # Who may use each pipeline: the stack's lists and its file's (a stack has at least one pipeline).
        for pipeline in self.pipelines:
            for p in (*pipeline.viewers, *pipeline.runners, *pipeline.managers):
                granted.setdefault(p, False)
            for p in pipeline.spec.release.consumers if pipeline.spec.release else ():
                granted[p] = True
        if cfg.disaster_recovery:
            for p in cfg.managers:  # readers of the snapshot and backup schemas
                granted[p] = True
        for principal, in_catalog in sorted(granted.items()):
            kind, name = principal.split(":", 1)
            if kind != "group" and name in (self.deployer.name, self.runner.name):
                continue  # checked above
            what = {"group": "group", "user": "user", "sp": "service principal"}[kind]
            try:
                found = self._lookup(kind, name)
            except _Failed as failure:
                self.add(
                    "principal",
                    principal,
                    Status.UNKNOWN,
                    str(failure),
                    self._ask_admin(failure, f"{what} {name}"),
                    failure,
                )
                continue
            if found is None:
                fix = {
                    "group": f"add the account group {name} to the workspace (account console > Workspaces > "
                    "Permissions), or rename it in the stack",
                    "user": f"databricks users create --user-name {name}  (a workspace admin)",
                    "sp": f"databricks service-principals create --application-id {name}  (a workspace admin)",
                }[kind]
                self.add("principal", principal, Status.MISSING, f"{what} {name} is not in the workspace", fix)
            elif kind == "group" and in_catalog and getattr(found.meta, "resource_type", None) == "WorkspaceGroup":
                self.add(
                    "principal",
                    principal,
                    Status.MISSING,
                    f"{name} is a workspace-local group: Unity Catalog grants (release consumers, DR readers) "
                    "need an account group",
                    f"create the account group {name} and add it to the workspace (or migrate the workspace group)",
                )
            else:
                self.add("principal", principal, Status.OK, f"{what} {name} is in the workspace")

    # --- Repos and folders -----------------------------------------------------------------------------------

    def _git_credentials(self) -> None:
        urls = dict.fromkeys(s.release.repo_url for s in self.settings.pipelines if s.release)
        if not urls:
            return
        deployer = self.deployer
        try:
            credentials = _call("Git credentials of the deployer", lambda: list(self.w.git_credentials.list()))
        except _Failed as failure:
            for url in urls:
                self.add("git_credential", url, Status.UNKNOWN, str(failure), "run it again (as the deployer)", failure)
            return
        for url in urls:
            provider = GIT_PROVIDERS.get((urlparse(url).hostname or "").lower())
            matching = [
                c for c in credentials if provider is None or (c.git_provider or "").lower() == provider.lower()
            ]
            if matching:
                user = f" ({matching[0].git_username})" if matching[0].git_username else ""
                self.add(
                    "git_credential",
                    url,
                    Status.OK,
                    f"{deployer.label} has a {matching[0].git_provider} credential{user}",
                )
            else:
                self.add(
                    "git_credential",
                    url,
                    Status.MISSING,
                    f"{deployer.label} has no {provider or 'Git'} credential: the Repos cannot clone a private "
                    "repository",
                    f"databricks git-credentials create {provider or '<provider>'} --git-username <user> "
                    "--personal-access-token <token>  (as the deployer)",
                )

    def _folders(self) -> None:
        folders = {}
        if (repos := repos_parent(self.settings)) is not None:
            folders[repos] = "the blue/green slots' Repos"
        monitoring = monitoring_folder(self.cfg)
        if monitoring is not None:
            folders.setdefault(posixpath.dirname(monitoring), f"the monitoring folder {monitoring}")
        for path, what in folders.items():
            self._folder(path, what)

    def _code(self) -> None:
        """The code of each pipeline the stack does not check out itself (blue/green slots get their Repos)."""
        root = self.cfg.variables.get("REPO_ROOT")
        for spec in self.settings.pipelines:
            if spec.release is not None:
                self.not_checked.append(f"code of {spec.name}: blue/green, its slots' Repos check it out (pulumi up)")
                continue
            if not spec.libraries:
                self.not_checked.append(f"code of {spec.name}: it declares no libraries")
                continue
            paths = [_library_path(lib) for lib in spec.libraries]
            absent: list[str] = []
            unknown: _Failed | None = None
            for path in paths:
                try:
                    _call(f"library {path}", partial(self.w.workspace.get_status, path))
                except _Failed as failure:
                    if failure.kind == "not_found":
                        absent.append(path)
                    else:
                        unknown = unknown or failure
            if absent:
                under_root = root is not None and all(p.startswith(root + "/") for p in absent)
                repo = root.removeprefix("/Workspace") if root else ""
                fix = (
                    f"check the pipeline code out at {root} (lakeflow:variables.REPO_ROOT): databricks repos create "
                    f"<git url> --path {repo}; or pull the branch that has {', '.join(absent)}"
                    if under_root
                    else f"put the code at {', '.join(absent)} (or change the pipeline's libraries)"
                )
                detail = f"{len(absent)} of {len(paths)} library path(s) not found: {', '.join(absent)}"
                self.add("code", spec.name, Status.MISSING, detail, fix)
            elif unknown is not None:
                fix = "ask for CAN READ on the code's folder" if unknown.kind == "denied" else self._ask(unknown, "")
                self.add("code", spec.name, Status.UNKNOWN, str(unknown), fix, unknown)
            else:
                self.add("code", spec.name, Status.OK, f"{len(paths)} library path(s) found")

    def _folder(self, path: str, what: str) -> None:
        deployer = self.deployer
        absent: list[str] = []
        current = path
        while True:
            try:
                info = _call(f"workspace folder {current}", partial(self.w.workspace.get_status, current))
                break
            except _Failed as failure:
                if failure.kind == "not_found" and current.rstrip("/").count("/") > 1:
                    absent.append(current)
                    current = posixpath.dirname(current)
                    continue
                if failure.kind == "not_found":
                    self.add("folder", path, Status.MISSING, f"{current} does not exist", "")
                else:
                    fix = f"ask for CAN MANAGE on {current}" if failure.kind == "denied" else self._ask(failure, "")
                    self.add("folder", path, Status.UNKNOWN, f"for {what}: {failure}", fix, failure)
                return
        top = "/" + (current.removeprefix("/Workspace").strip("/").split("/")[0] if current.strip("/") else "")
        at_top = current.removeprefix("/Workspace") in (top, "/") or current in ("/", "/Workspace")
        if absent and at_top:
            # Nothing of it exists below the top level (/Users, /Repos): only a workspace admin makes folders there.
            first = absent[-1]
            if deployer.admin:
                self.add("folder", path, Status.OK, "absent: pulumi up makes it (the deployer is a workspace admin)")
                return
            acl = {"access_control_list": [{deployer.acl_field: deployer.name, "permission_level": "CAN_MANAGE"}]}
            fix = (
                f"databricks workspace mkdirs {path}  (a workspace admin), then: databricks workspace "
                f"update-permissions directories <the object id of {first}> --json '{json.dumps(acl)}'"
            )
            if top == "/Users":
                owner = first.rsplit("/", 1)[-1]
                detail = f"home folder {first} does not exist (made when {owner} joins the workspace or signs in)"
                fix += "; or set lakeflow:workspaceFolder to a folder the deployer manages"
            else:
                detail = f"{first} does not exist and only a workspace admin may make it (for {what})"
            self.add("folder", path, Status.MISSING, detail, fix)
            return
        kind = info.object_type.value if info.object_type else "object"
        if kind != "DIRECTORY":
            self.add(
                "folder",
                path,
                Status.MISSING,
                f"{current} is a {kind.lower()}, not a folder (for {what})",
                f"move {current} away, or choose another folder (lakeflow:workspaceFolder)",
            )
            return
        where = f"absent: pulumi up makes it inside {current}" if absent else "exists"
        home = f"/Users/{deployer.name}"
        if (
            deployer.admin
            or current.removeprefix("/Workspace") == home
            or current.removeprefix("/Workspace").startswith(home + "/")
        ):
            why = "the deployer is a workspace admin" if deployer.admin else "the deployer's home"
            self.add("folder", path, Status.OK, f"{where} ({why})")
            return
        object_id = str(info.object_id)
        acl_fix = {"access_control_list": [{deployer.acl_field: deployer.name, "permission_level": "CAN_MANAGE"}]}
        grant = f"databricks workspace update-permissions directories {object_id} --json '{json.dumps(acl_fix)}'"
        try:
            acl = _call(
                f"permissions of {current}",
                lambda: self.w.workspace.get_permissions(
                    workspace_object_type="directories", workspace_object_id=object_id
                ),
            ).access_control_list
        except _Failed as failure:
            fix = f"ask the folder's owner to run: {grant}" if failure.kind == "denied" else self._ask(failure, grant)
            self.add("folder", path, Status.UNKNOWN, f"{deployer.label}: {failure}", fix, failure)
            return
        via = _holder(acl or [], deployer, _FOLDER_MANAGE)
        if via is None:
            self.add("folder", path, Status.MISSING, f"{where}; {deployer.label} has no CAN MANAGE on {current}", grant)
        else:
            self.add("folder", path, Status.OK, f"{where}; {deployer.label} has CAN MANAGE{via}")


def _library_path(lib: Library) -> str:
    """The workspace path a library needs: its notebook or file, or the folder a glob starts from."""
    if lib.notebook is not None:
        return lib.notebook.path
    if lib.file is not None:
        return lib.file.path
    assert lib.glob is not None
    fixed = []
    for part in lib.glob.include.split("/"):
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    return "/".join(fixed) or "/"


def _holder(acl: Iterable[Any], who: Identity, levels: Sequence[str]) -> str | None:
    """How `who` holds one of `levels` in a workspace ACL: "" directly, " (through group g)", or None."""
    found: str | None = None
    for entry in acl:
        held = {p.permission_level.value for p in entry.all_permissions or [] if p.permission_level is not None}
        if not held.intersection(levels):
            continue
        if getattr(entry, who.acl_field, None) == who.name:
            return ""
        if entry.group_name and entry.group_name in who.workspace_groups and found is None:
            found = f" (through group {entry.group_name})"
    return found


def check_stack(w: Any, settings: StackSettings) -> Report:
    return Preflight(w, settings).run()


def stack_host(root: Path, stack: str) -> str | None:
    """`databricks:host` of Pulumi.<stack>.yaml: the workspace `pulumi up` deploys to."""
    from lakeflow.offline.stack_file import project_name, read_stack_config

    return read_stack_config(root, project_name(root), stack)[0].get("databricks:host")


def same_workspace(host: str | None, deploys_to: str | None, stack: str) -> None:
    """Refuse to check a workspace the stack does not deploy to (a stale DATABRICKS_HOST or profile)."""

    def site(url: str | None) -> str:
        text = url or ""
        parsed = urlparse(text if "://" in text else f"https://{text}")
        return (parsed.hostname or "").lower() + (f":{parsed.port}" if parsed.port else "")

    if deploys_to and site(host) != site(deploys_to):
        raise OpsError(
            f"the credentials reach {host}, but stack {stack!r} deploys to {deploys_to} (databricks:host): "
            f"point DATABRICKS_HOST (or the profile) at {deploys_to}"
        )


# --- output -----------------------------------------------------------------------------------------------------


def render(report: Report, verbose: bool = False) -> str:
    """The table; a detail is one line, shortened at a word boundary (the JSON report has the whole text,
    and `verbose` prints the error behind an UNKNOWN row below it)."""
    header = ("CHECK", "TARGET", "STATUS", "DETAIL", "FIX")
    rows = [(c.check, c.target, c.status.value, workspace.brief(c.detail), c.fix) for c in report.checks]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()

    run_as = f"run-as {report.run_as}" if report.run_as else "no run-as: everything runs as the deployer"
    lines = [
        f"Preflight of stack {report.stack!r}: {report.status.value}",
        f"deployer {report.deployer} (the current credentials); {run_as}",
        "",
        line(header),
    ]
    for row, check in zip(rows, report.checks, strict=True):
        lines.append(line(row))
        if verbose and check.error:
            lines += [f"    | {text}" for text in check.error.splitlines()]
    counts = {s: sum(1 for c in report.checks if c.status is s) for s in Status}
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    lines += [""] + [f"not checked: {what}" for what in report.not_checked]
    lines.append(f"{len(report.checks)} check(s): {summary or 'none'}; exit {report.exit_code}")
    return "\n".join(lines)


# --- command ------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from lakeflow.offline.stack_file import load_stack

    parser = command_parser("preflight", __doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    workspace.add_connection_options(parser)
    args = parser.parse_args(argv)
    try:
        bounds = workspace.connection_timeouts(args)
        settings = load_stack(args.root, args.stack)
        deploys_to = stack_host(args.root, args.stack)
        w = workspace.client(
            bounds,
            before_connect=lambda host: same_workspace(host, deploys_to, args.stack),  # before anything is sent
            verbose=args.verbose,
        )
        report = check_stack(w, settings)
    except ConfigErrors as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_ERROR
    except OpsError as exc:
        workspace.report_error("make preflight", exc, args.verbose)
        return EXIT_ERROR
    print(json.dumps(report.as_json(), indent=2) if args.json else render(report, args.verbose))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
