"""The resolve step (lakeflow.model.deployment): each fact it works out is what the stack's plan
registered, so the commands that read the facts agree with what was deployed."""

from __future__ import annotations

import dataclasses

import pytest

from lakeflow.model.deployment import resolve
from tests.conftest import ROOT, STACKS, Project, by_type, live_pipelines


@pytest.fixture(scope="module")
def deployments():
    return {stack: resolve(Project(ROOT).load(stack)) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_the_facts_are_what_the_plan_registered(stack, deployments, plans):
    deployment, plan = deployments[stack], plans[stack]
    live = live_pipelines(plan)
    assert set(deployment.pipelines) == set(live)
    for name, facts in deployment.pipelines.items():
        registered = live[name]["inputs"]
        slot_tags = {"Slot": facts.live_slot} if facts.live_slot else {}
        assert registered["tags"] == {**facts.tags, **slot_tags}
        event_log = registered["eventLog"]
        assert f"{event_log['catalog']}.{event_log['schema']}.{event_log['name']}" == facts.event_log_table
        if facts.live_slot is None:
            assert registered["name"] == facts.physical_name
        else:
            assert registered["tags"]["Slot"] == facts.live_slot == plan.outputs["releases"][name]["active"]
    jobs = {j["inputs"]["name"] for j in by_type(plan, "Job")}
    scheduled = {f.schedule_job_name for f in deployment.pipelines.values() if f.spec.schedule is not None}
    assert scheduled and scheduled <= jobs


@pytest.mark.parametrize("stack", STACKS)
def test_each_alert_watches_the_threshold_the_facts_hold(stack, deployments, plans):
    """The processing-lag alert of each pipeline fires above the lag its facts allow (the objective
    plus one schedule period), the number `make health` judges by."""
    alerts = {a["name"]: a["inputs"]["queryText"] for a in by_type(plans[stack], "AlertV2")}
    for name, facts in deployments[stack].pipelines.items():
        limit = float(facts.thresholds.processing_lag_minutes)
        assert f"('{name}', {limit})" in alerts[f"pipeline-alerts-{name}-processing-lag"], name


def test_the_deployment_is_frozen(deployments):
    deployment = deployments["prod"]
    facts = next(iter(deployment.pipelines.values()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.physical_name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        deployment.pipelines["x"] = facts  # type: ignore[index]
    with pytest.raises(TypeError):
        facts.tags["Pipeline"] = "x"  # type: ignore[index]


@pytest.mark.parametrize("stack", STACKS)
def test_the_dr_schemas_are_the_schemas_the_plan_creates(stack, deployments, plans):
    registered = {
        (r["inputs"]["catalogName"], r["inputs"]["name"])
        for r in by_type(plans[stack], "Schema")
        if r["name"].startswith("disaster-recovery-schema-")
    }
    assert {f.dr_schema for f in deployments[stack].pipelines.values() if f.dr_schema is not None} == registered
    assert bool(registered) == (stack != "dev")  # dev takes no snapshots


def test_the_ref_of_a_slot_is_the_live_ref_with_that_slots_event_log(deployments):
    facts = deployments["prod"].pipeline("customer_360")
    assert facts.ref_of(facts.spec.data_schema, facts.live_slot) == facts.ref
    candidate = facts.ref_of("customer_green", "green")
    assert (candidate.slot, candidate.environment, candidate.name) == ("green", "prod", "customer_360")
    assert candidate.event_log.endswith("customer_green.customer_360_event_log")
