"""What the real engine decides, in the terms of our offline tools: the resources a preview
registers, the create / update / replace / delete sets of a change, and the policy verdicts.

A change is judged the way it would be against a real deployment: the base program is previewed
for real, its steps become a deployment (`deployment_from_preview`: every resource as the
provider's Check returned its inputs, outputs = those inputs, placeholder ids, the providers it
used), that deployment is imported into a fresh stack (`pulumi stack import`), and the changed
program is previewed against it. The provider's own Diff then says update or replace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.build import Engine
from engine.sandbox import Sandbox, StubWorkspace, deployment
from lakeflow.offline.diff import ENGINE_OPS, diff_plans, plan_json
from lakeflow.offline.recorder import placeholder_id

ACTIONS = ("create", "update", "replace", "delete")
PROVIDER_ID = "placeholder-provider"


def preview_json(sandbox: Sandbox, stack: str, policy_pack: bool = True) -> dict[str, Any]:
    """`pulumi preview --json` of `stack`; raises with the engine's output when it fails."""
    done = sandbox.preview(stack, "--json", policy_pack=policy_pack)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise AssertionError(
            f"pulumi preview --json printed no JSON ({done.returncode}):\n{done.stdout}{done.stderr}"
        ) from None
    if done.returncode != 0:
        diagnostics = json.dumps(result.get("diagnostics"), indent=2)
        raise AssertionError(f"pulumi preview failed ({done.returncode}):\n{diagnostics}\n{done.stderr}")
    return result


def changes(preview: Mapping[str, Any]) -> dict[str, set[str]]:
    """URNs by action (create/update/replace/delete) of a preview's steps; `same` is left out."""
    by_action: dict[str, set[str]] = {a: set() for a in ACTIONS}
    for step in preview.get("steps", []):
        action = ENGINE_OPS.get(step["op"])
        if action:
            by_action[action].add(step["urn"])
    return by_action


def registered(preview: Mapping[str, Any]) -> dict[str, str]:
    """URN -> type of every resource a preview of a new stack registers (reads and the root stack
    included), as the engine's steps list them."""
    return {step["urn"]: (step.get("newState") or step.get("oldState"))["type"] for step in preview.get("steps", [])}


def _strip_defaults(value: Any) -> Any:
    """A provider's outputs have no `__defaults` bookkeeping (its Check adds it to inputs only)."""
    if isinstance(value, dict):
        return {k: _strip_defaults(v) for k, v in value.items() if k != "__defaults"}
    if isinstance(value, list):
        return [_strip_defaults(v) for v in value]
    return value


UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # how the engine writes an unknown value in JSON


def _known(value: Any, deployed: Any) -> Any:
    """`value` (checked inputs, unknowns where another resource's output goes) with each unknown
    replaced by what the deployed offline plan has at the same place."""
    if isinstance(value, str) and value == UNKNOWN:
        return deployed
    if isinstance(value, dict):
        fields = deployed if isinstance(deployed, dict) else {}
        return {k: _known(v, fields.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        items = deployed if isinstance(deployed, list) else []
        return [_known(v, items[i] if i < len(items) else None) for i, v in enumerate(value)]
    return value


def deployment_from_preview(
    preview: Mapping[str, Any],
    deployed_plan: Mapping[str, Any],
    provider_inputs: Mapping[str, Any],
    facts: Mapping[str, Any],
) -> dict[str, Any]:
    """A deployment (`pulumi stack import` format) holding what `preview` would have created.

    Every resource is as the provider's Check returned its inputs, with the values that come from
    other resources (unknown in the preview) taken from `deployed_plan` (the offline plan with
    placeholder ids: `plan_stack(..., deployed=True)`), its id `placeholder_id`, and outputs equal
    to those inputs plus what a Create leaves that the program does not set (`facts`, from the
    provider's schema: empty computed lists and maps, and for plugin-framework resources the
    `providerConfig` holding the workspace id). Each provider
    referenced gets the id PROVIDER_ID: default providers with `provider_inputs` (what the engine
    gives them from the stack's `databricks:` config), explicit ones their own inputs.
    """
    offline = {r["urn"]: r for r in deployed_plan["resources"]}
    resources: list[dict[str, Any]] = []
    providers: dict[str, dict[str, Any]] = {}
    for step in preview.get("steps", []):
        state = step.get("newState")
        if step["op"] != "create" or state is None:
            raise ValueError(f"the base preview must only create: {step['op']} {step['urn']}")
        res: dict[str, Any] = {"urn": state["urn"], "custom": state["custom"], "type": state["type"]}
        if state.get("parent"):
            res["parent"] = state["parent"]
        inputs = _known(state.get("inputs", {}), offline.get(state["urn"], {}).get("inputs"))
        outputs = _strip_defaults(inputs)
        for prop, kind in facts.get(state["type"], {}).get("computed", {}).items():
            if prop not in outputs and kind in ("list", "map") and prop != "providerConfig":
                outputs[prop] = [] if kind == "list" else {}
        if facts.get(state["type"], {}).get("framework") and "providerConfig" in facts[state["type"]]["computed"]:
            outputs["providerConfig"] = {"workspaceId": StubWorkspace.WORKSPACE_ID}
        if state["type"].startswith("pulumi:providers:"):
            res.update(id=PROVIDER_ID, inputs=inputs, outputs=outputs)
            providers[state["urn"]] = res
        elif state["custom"]:
            res.update(
                id=placeholder_id(state["type"], state["urn"].rsplit("::", 1)[1]), inputs=inputs, outputs=outputs
            )
        for key in ("protect", "retainOnDelete", "dependencies", "propertyDependencies"):
            if state.get(key):
                res[key] = state[key]
        if state.get("provider"):
            provider_urn = state["provider"].rsplit("::", 1)[0]
            res["provider"] = f"{provider_urn}::{PROVIDER_ID}"
            if provider_urn not in providers:
                providers[provider_urn] = {
                    "urn": provider_urn,
                    "custom": True,
                    "type": "pulumi:providers:" + provider_urn.rsplit("::", 1)[0].rsplit(":", 1)[-1],
                    "id": PROVIDER_ID,
                    "inputs": dict(provider_inputs),
                    "outputs": dict(provider_inputs),
                }
                resources.append(providers[provider_urn])
        resources.append(res)
    return deployment(resources)


def provider_facts(engine: Engine) -> dict[str, Any]:
    """What the built provider's schema says of each resource type (engine/provider/facts.go)."""
    plugin = engine.plugins / f"resource-databricks-v{engine.provider_version}"
    return json.loads((plugin / "facts.json").read_text())


def default_provider_inputs(sandbox: Sandbox, stack: str, engine: Engine) -> dict[str, Any]:
    """What the engine gives the stack's default Databricks provider: its `databricks:` config
    (as the sandbox set it) and the plugin version."""
    inputs: dict[str, Any] = {
        key.removeprefix("databricks:"): value
        for key, value, _ in sandbox.config(stack)
        if key.startswith("databricks:")
    }
    return {**inputs, "version": engine.provider_version}


def engine_preview(engine: Engine, base: Path, changed: Path, stack: str = "dev") -> dict[str, Any]:
    """`pulumi preview --json` of the project at `changed` against a deployment of the one at
    `base` (previewed for real and imported: `deployment_from_preview`)."""
    from engine.preview import prepare

    with StubWorkspace(allow=[StubWorkspace.ME]) as stub, Sandbox(engine, stub, base) as sandbox:
        prepare(sandbox, stack, base)
        base_preview = preview_json(sandbox, stack, policy_pack=False)
        deployed = plan_json(base, stack, deployed=True)
        state = deployment_from_preview(
            base_preview, deployed, default_provider_inputs(sandbox, stack, engine), provider_facts(engine)
        )
        sandbox.import_deployment(stack, state)
        sandbox.use_program(changed)
        result = preview_json(sandbox, stack, policy_pack=False)
        if stub.violations:
            raise AssertionError(f"the preview called the API beyond Configure and Me: {stub.violations}")
        return result


def engine_changes(engine: Engine, base: Path, changed: Path, stack: str = "dev") -> dict[str, set[str]]:
    """The real engine's verdict on changing the project at `base` into the one at `changed`."""
    return changes(engine_preview(engine, base, changed, stack))


def offline_changes(base: Path, changed: Path, stack: str = "dev") -> dict[str, set[str]]:
    """`make diff`'s verdict on the same change (offline plans of each, run from each copy)."""
    diff = diff_plans(plan_json(base, stack), plan_json(changed, stack))
    by_action: dict[str, set[str]] = {a: set() for a in ACTIONS}
    for change in diff.resources:
        if change.action in by_action:
            by_action[change.action].add(change.urn)
    return by_action


@dataclass
class StreamedPreview:
    """A preview as the engine's event stream tells it."""

    returncode: int
    steps: dict[str, tuple[str, str]] = field(default_factory=dict)  # urn -> (type, op)
    diagnostics: list[tuple[str, str]] = field(default_factory=list)  # (severity, message)
    policy: set[tuple[str, str | None, str]] = field(default_factory=set)  # (policy, urn, level)


def stream_preview(sandbox: Sandbox, stack: str, policy_pack: bool = True) -> StreamedPreview:
    """`pulumi preview --json` with PULUMI_ENABLE_STREAMING_JSON_PREVIEW: one engine event per
    line, which (unlike the summary JSON) carries the policy pack's violations."""
    sandbox.env["PULUMI_ENABLE_STREAMING_JSON_PREVIEW"] = "true"
    try:
        done = sandbox.preview(stack, "--json", policy_pack=policy_pack)
    finally:
        del sandbox.env["PULUMI_ENABLE_STREAMING_JSON_PREVIEW"]
    result = StreamedPreview(done.returncode)
    for line in done.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if "resourcePreEvent" in event:
            meta = event["resourcePreEvent"]["metadata"]
            result.steps[meta["urn"]] = (meta["type"], meta["op"])
        elif "diagnosticEvent" in event:
            diag = event["diagnosticEvent"]
            result.diagnostics.append((diag["severity"], diag["message"].strip()))
        elif "policyEvent" in event:
            p = event["policyEvent"]
            result.policy.add((p["policyName"], p.get("resourceUrn") or None, p["enforcementLevel"]))
    return result
