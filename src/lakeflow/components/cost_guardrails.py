"""`CostGuardrails`: account-level budgets and budget policies (guide 11), one set per stack.

Needs an **account-level** provider, passed in by the caller (`providers=`): budgets and budget
policies live in the Databricks account, not in a workspace.

Children (names from the component's name and the pipeline's logical name):
  - `<name>-budget`             databricks.Budget of the environment (Environment tag, this workspace)
  - `<name>-<pipeline>-budget`  databricks.Budget of one pipeline (its Environment + Pipeline tags)
  - `<name>-<pipeline>-policy`  databricks.BudgetPolicy for a serverless pipeline: serverless usage
                                is attributed through the policy's tags only, never through
                                cluster tags, so the pipeline and its job point at this policy.
  - `<name>-<pipeline>-policy-access`  databricks.AccessControlRuleSet of that policy: the User
                                role (`roles/budgetPolicy.user`) for `policy_users`, whom Databricks
                                lets attach it to the pipeline and its job (else only its creator
                                may), and Manager for `policy_managers`. Authoritative: it replaces
                                the creator's automatic grant.

Budgets email their owners at each configured percentage of the monthly amount (list price).
Inputs: `CostGuardrailsArgs` (or the same keys as a mapping, `CostGuardrailsArgsDict`).
Outputs: `policy_ids` (pipeline -> budget policy id).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Required, TypedDict

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.types import coerce_args


@dataclass(frozen=True)
class PipelineCost:
    """One pipeline's budget and, when serverless, its budget policy."""

    pipeline: str
    """Logical name (child names derive from it)."""
    display_name: str
    tags: Mapping[str, str]
    """The pipeline's tags: the budget filters on its Environment and Pipeline, the policy carries all."""
    monthly_budget_usd: int | None = None
    serverless: bool | None = False
    """Make a budget policy for it (serverless usage is attributed through a policy only)."""


@dataclass(frozen=True)
class CostGuardrailsArgs:
    """The inputs of `CostGuardrails`."""

    account_id: pulumi.Input[str]
    workspace_id: pulumi.Input[int]
    display_prefix: str
    environment: str
    monthly_budget_usd: int | None = None
    """The environment's budget (all its pipelines); None: none."""
    alert_percents: Sequence[int] | None = (50, 80, 100)
    emails: Sequence[str] | None = ()
    pipelines: Sequence[PipelineCost] | None = field(default_factory=tuple)
    policy_users: Sequence[str] | None = ()
    """Principals (`sp:<application id>`, `user:<email>`, `group:<name>`) that attach the budget
    policies: the identity the pipelines run as and are deployed by."""
    policy_managers: Sequence[str] | None = ()

    def __post_init__(self) -> None:
        budgets = self.monthly_budget_usd or any(p.monthly_budget_usd for p in self.pipelines or ())
        if budgets and not self.emails:
            raise ValueError("CostGuardrails: budgets need at least one email to alert")


class PipelineCostDict(TypedDict, total=False):
    pipeline: Required[str]
    display_name: Required[str]
    tags: Required[Mapping[str, str]]
    monthly_budget_usd: int
    serverless: bool


class CostGuardrailsArgsDict(TypedDict, total=False):
    """`CostGuardrailsArgs` as a plain mapping (same keys)."""

    account_id: Required[pulumi.Input[str]]
    workspace_id: Required[pulumi.Input[int]]
    display_prefix: Required[str]
    environment: Required[str]
    monthly_budget_usd: int
    alert_percents: Sequence[int]
    emails: Sequence[str]
    pipelines: Sequence[PipelineCost | PipelineCostDict]
    policy_users: Sequence[str]
    policy_managers: Sequence[str]


if TYPE_CHECKING:
    CostGuardrailsArgsInput = CostGuardrailsArgs | CostGuardrailsArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at runtime and takes no Union.
    CostGuardrailsArgsInput = CostGuardrailsArgs


class CostGuardrails(pulumi.ComponentResource):
    """Account-level budgets and budget policies of one stack."""

    policy_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: CostGuardrailsArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(CostGuardrailsArgs, args, f"CostGuardrails {name!r}")
        super().__init__("lakeflow:index:CostGuardrails", name, None, opts)
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        if args.monthly_budget_usd:
            self._budget(
                f"{name}-budget",
                f"{args.display_prefix} environment",
                args.monthly_budget_usd,
                {"Environment": args.environment},
                child,
            )
        policy_ids: dict[str, pulumi.Output[str]] = {}
        for p in args.pipelines or ():
            if p.monthly_budget_usd:
                self._budget(
                    f"{name}-{p.pipeline}-budget",
                    p.display_name,
                    p.monthly_budget_usd,
                    {"Environment": args.environment, "Pipeline": p.pipeline},
                    child,
                )
            if p.serverless:
                policy = databricks.BudgetPolicy(
                    f"{name}-{p.pipeline}-policy",
                    policy_name=p.display_name,
                    custom_tags=[
                        databricks.BudgetPolicyCustomTagArgs(key=k, value=v) for k, v in sorted(p.tags.items())
                    ],
                    binding_workspace_ids=[args.workspace_id],
                    opts=child,
                )
                policy_ids[p.pipeline] = policy.policy_id
                rules = [
                    databricks.AccessControlRuleSetGrantRuleArgs(role=role, principals=[_acl_principal(x) for x in who])
                    for role, who in (
                        ("roles/budgetPolicy.manager", args.policy_managers or ()),
                        ("roles/budgetPolicy.user", args.policy_users or ()),
                    )
                    if who
                ]
                if rules:
                    databricks.AccessControlRuleSet(
                        f"{name}-{p.pipeline}-policy-access",
                        name=pulumi.Output.all(args.account_id, policy.policy_id).apply(
                            lambda ids: f"accounts/{ids[0]}/budgetPolicies/{ids[1]}/ruleSets/default"
                        ),
                        grant_rules=rules,
                        opts=child,
                    )
        self.policy_ids = policy_ids
        self.register_outputs({"policy_ids": self.policy_ids})

    def _budget(
        self, name: str, title: str, amount: int, tags: Mapping[str, str], opts: pulumi.ResourceOptions
    ) -> None:
        a = self._args
        databricks.Budget(
            name,
            account_id=a.account_id,
            display_name=f"{title} monthly budget",
            alert_configurations=[
                databricks.BudgetAlertConfigurationArgs(
                    time_period="MONTH",
                    trigger_type="CUMULATIVE_SPENDING_EXCEEDED",
                    quantity_type="LIST_PRICE_DOLLARS_USD",
                    quantity_threshold=f"{amount * pct / 100:g}",
                    action_configurations=[
                        databricks.BudgetAlertConfigurationActionConfigurationArgs(
                            action_type="EMAIL_NOTIFICATION", target=email
                        )
                        for email in a.emails or ()
                    ],
                )
                for pct in sorted(set(a.alert_percents or ()))
            ],
            filter=databricks.BudgetFilterArgs(
                workspace_id=databricks.BudgetFilterWorkspaceIdArgs(operator="IN", values=[a.workspace_id]),
                tags=[
                    databricks.BudgetFilterTagArgs(
                        key=k, value=databricks.BudgetFilterTagValueArgs(operator="IN", values=[v])
                    )
                    for k, v in sorted(tags.items())
                ],
            ),
            opts=opts,
        )


_ACL_PREFIX = {"sp": "servicePrincipals", "user": "users", "group": "groups"}


def _acl_principal(principal: str) -> str:
    """`sp:<application id>` -> `servicePrincipals/<application id>` (account rule-set form)."""
    kind, _, name = principal.partition(":")
    return f"{_ACL_PREFIX[kind]}/{name}"
