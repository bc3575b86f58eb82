"""`make policy STACK=<stack>`: the CrossGuard policy pack (`policy/`) run over the offline plan.

The same policy objects `pulumi preview --policy-pack policy` loads are called here directly with
`ResourceValidationArgs` / `StackValidationArgs` built from the recorded registrations, with the
same per-stack config file (`policy/config/<stack>.json`, the `--policy-pack-config` format).
Exit 1 when a mandatory policy is violated; advisory findings are printed and do not fail.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from lakeflow.config.errors import ConfigErrors
from lakeflow.config.input_files import FileRefused, read_plan, read_policy_config
from lakeflow.config.project import command_parser
from lakeflow.offline.records import PlanRecord, ResourceRecord
from lakeflow.policy.rules import POLICIES


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str  # mandatory | advisory
    urn: str | None
    message: str

    def render(self) -> str:
        return f"[{self.level}] {self.policy}: {self.urn or '(stack)'}: {self.message}"


def policy_config(policy: Any, pack_config: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A policy's config (schema defaults, then the pack config file) and its enforcement level."""
    own = pack_config.get(policy.name, {})
    if isinstance(own, str):  # "policy-name": "advisory" is the short form
        own = {"enforcementLevel": own}
    schema = getattr(policy, "config_schema", None)
    defaults = {k: v["default"] for k, v in (schema.properties if schema else {}).items() if "default" in v}
    level = own.get("enforcementLevel") or (policy.enforcement_level or EnforcementLevel.MANDATORY).value
    return {**defaults, **{k: v for k, v in own.items() if k != "enforcementLevel"}}, level


def check(plan: PlanRecord, pack_config: dict[str, Any]) -> list[Violation]:
    resources = plan["resources"]
    policy_resources: dict[str, PolicyResource] = {}
    for r in resources:  # registration order: parents and dependencies exist already
        policy_resources[r["urn"]] = PolicyResource(
            resource_type=r["type"],
            props=r["inputs"],
            urn=r["urn"],
            name=r["name"],
            opts=_options(r),
            provider=None,
            parent=policy_resources.get(r["parent"] or ""),
            dependencies=[policy_resources[d] for d in r["dependencies"] if d in policy_resources],
            property_dependencies={},
        )

    found: list[Violation] = []
    for policy in POLICIES:
        config, level = policy_config(policy, pack_config)
        if level == "disabled":
            continue

        def report(message: str, urn: str | None = None, *, _name: str = policy.name, _level: str = level) -> None:
            found.append(Violation(_name, _level, urn, message))

        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r["type"], r["inputs"], r["urn"], r["name"], _options(r), None, config)
                policy.validate(args, _reporter(report, r["urn"]))
        elif isinstance(policy, StackValidationPolicy) and policy.validate is not None:
            policy.validate(StackValidationArgs(list(policy_resources.values()), config), report)
    return found


def _reporter(report: Callable[..., None], urn: str) -> Callable[[str, str | None], None]:
    """A resource policy's violations belong to the resource being validated."""

    def report_for(message: str, other_urn: str | None = None) -> None:
        report(message, other_urn or urn)

    return report_for


def _options(r: ResourceRecord) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=r["protect"],
        ignore_changes=r["ignoreChanges"],
        delete_before_replace=r["deleteBeforeReplace"],
        aliases=[a["urn"] for a in r["aliases"] if "urn" in a],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=r["parent"],
    )


def main(argv: list[str] | None = None) -> int:
    from lakeflow.offline.plan import plan_stack, refused

    parser = command_parser("policy", __doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="policy pack config (default: policy/config/<stack>.json)")
    parser.add_argument(
        "--plan",
        type=Path,
        metavar="FILE",
        help="judge this saved plan (make plan JSON=...) instead of planning the stack: the pull-request judge",
    )
    args = parser.parse_args(argv)

    config_path = args.config or args.root / "policy" / "config" / f"{args.stack}.json"
    try:
        pack_config = read_policy_config(config_path, "--config") if args.config or config_path.exists() else {}
        if args.plan:
            plan = read_plan(args.plan, "--plan")
            if plan["stack"] != args.stack:
                raise FileRefused(f"--plan={args.plan}: a plan of stack {plan['stack']!r}, not {args.stack!r}")
        else:
            plan = plan_stack(args.stack, args.root).to_json()
    except ConfigErrors as exc:
        print(f"Stack {args.stack!r} not planned, nothing registered.\n{exc.report()}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not refused(exc):
            raise
        print(f"make policy: {exc}", file=sys.stderr)
        return 2
    violations = check(plan, pack_config)
    for v in violations:
        print(v.render())
    mandatory = sum(v.level == "mandatory" for v in violations)
    print(
        f"Policies: {len(POLICIES)} checked on stack {args.stack!r}: {mandatory} mandatory violation(s), "
        f"{len(violations) - mandatory} advisory finding(s)."
    )
    return 1 if mandatory else 0


if __name__ == "__main__":
    from lakeflow.offline import batch

    batch.run(main)
