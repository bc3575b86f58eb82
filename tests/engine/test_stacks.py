"""The real engine previews every shipped stack as the offline plan registers it, the provider's
Check finds nothing wrong, and the policy pack gives `make policy`'s verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.agreement import stream_preview
from engine.build import force_new_json
from engine.preview import prepare
from engine.sandbox import Sandbox, StubWorkspace
from lakeflow.offline.plan import plan_stack
from lakeflow.offline.policy import check
from lakeflow.offline.stack_file import read_stack_config
from tests.conftest import ROOT, STACKS
from tests.engine.conftest import edit


def _preview(engine, stack: str, root: Path = ROOT):
    with StubWorkspace() as stub, Sandbox(engine, stub, root) as sandbox:
        prepare(sandbox, stack, root)
        result = stream_preview(sandbox, stack)
        assert stub.violations == [], "a preview of new resources must not call the Databricks API"
    return result


def _offline_verdicts(stack: str, root: Path = ROOT) -> set[tuple[str, str | None, str]]:
    config = root / "policy" / "config" / f"{stack}.json"
    pack_config = json.loads(config.read_text()) if config.exists() else {}
    return {(v.policy, v.urn, v.level) for v in check(plan_stack(stack, root).to_json(), pack_config)}


@pytest.mark.parametrize("stack", STACKS)
def test_the_real_preview_registers_the_offline_plan_and_the_provider_accepts_it(stack, engine):
    real = _preview(engine, stack)
    plan = plan_stack(stack)
    assert real.returncode == 0, real.diagnostics
    # The file backend names a referenced stack organization/<project>/<stack> (make preview's
    # stand-in for lakeflow:promoteFrom); everything else must be identical.
    source = read_stack_config(ROOT, "lakeflow", stack)[0].get("lakeflow:promoteFrom")
    stand_in = f"organization/lakeflow/{source.rsplit('/', 1)[-1]}" if source else None
    offline = {
        (r["urn"].replace(source, stand_in) if source and stand_in else r["urn"]): r["type"] for r in plan.resources
    }
    registered = {urn: type_ for urn, (type_, _) in real.steps.items() if type_ != "pulumi:pulumi:Stack"}
    assert registered == offline
    assert {op for _, op in real.steps.values()} <= {"create", "read"}
    # The provider's Check reports errors and warnings as diagnostics; the program's own warnings
    # (pulumi.log.warn) are the only ones expected.
    problems = [(sev, msg) for sev, msg in real.diagnostics if sev in ("error", "warning")]
    assert sorted(msg for _, msg in problems) == sorted(w.strip() for w in plan.warnings)
    verdicts = _offline_verdicts(stack)
    assert real.policy == verdicts
    assert not [v for v in verdicts if v[2] == "mandatory"]  # advisory findings only (dev: a hand-run pipeline)


def test_the_policy_pack_gives_the_same_violations_under_the_real_engine(engine, project_copy):
    root = project_copy("unprotected")
    edit(root / "Pulumi.prod.yaml", "lakeflow:protect: true", "lakeflow:protect: false")
    real = _preview(engine, "prod", root)
    offline = _offline_verdicts("prod", root)
    assert real.returncode != 0  # a mandatory violation fails the preview
    assert {policy for policy, _, _ in offline} == {"production-data-protected"}
    assert real.policy == offline


def test_the_committed_replacement_table_is_what_the_built_provider_says(engine):
    committed = (ROOT / "src" / "lakeflow" / "offline" / "force_new.json").read_text()
    assert committed == force_new_json(engine), "run: python -m engine.build --write-force-new"


def test_make_preview_stands_in_for_what_a_credential_free_preview_lacks_and_exits_0(engine, capsys):
    from engine.preview import main

    assert main(["--stack", "prod"]) == 0
    out = capsys.readouterr().out
    assert "Real engine: Pulumi v3.274.0, databricks provider 1.104.0" in out
    assert "lakeflow:pagerdutyIntegrationKey -> a stand-in secret" in out
    assert "lakeflow:promoteFrom -> organization/lakeflow/staging" in out
    assert "Previewing update (prod)" in out and "to create" in out


def test_the_real_cli_refuses_a_stack_that_lacks_a_required_key(engine, project_copy, capsys):
    from engine.preview import main

    root = project_copy("no-team")
    edit(root / "Pulumi.dev.yaml", "  lakeflow:team: DataEngineering\n", "")
    assert main(["--stack", "dev", "--root", str(root)]) != 0
    assert "Stack 'dev' is missing configuration value 'team'" in capsys.readouterr().err


def test_a_needed_secret_that_is_not_set_is_named_with_its_command_under_the_real_cli(engine):
    with StubWorkspace() as stub, Sandbox(engine, stub) as sandbox:
        sandbox.init_stack("staging")  # no stand-in for lakeflow:slackWebhookUrl
        done = sandbox.preview("staging", policy_pack=False)
    assert done.returncode != 0
    assert (
        "lakeflow:slackWebhookUrl: is a secret this stack needs (routeP1: slack; routeP2: slack; routeP3: slack) "
        "and has no value (pulumi config set --secret lakeflow:slackWebhookUrl <value> --stack staging)"
    ) in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
