"""The benchmark's generated project (bench/workload.py) stays a project the stack accepts: when a
rule of the loader tightens, the benchmark's pipelines must follow, or `make bench` stops at its
first check (as it did when dependent schedules could no longer start a scheduled upstream)."""

from __future__ import annotations

import sys

import pytest

from lakeflow.offline.plan import plan_stack
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import plan_bench

pytestmark = pytest.mark.plan


def test_the_benchmark_project_plans(tmp_path):
    plan = plan_stack("bench", plan_bench.write_project(20, tmp_path / "n20"))
    assert plan.schema_errors == []
    kinds = {r["type"].rsplit(":", 1)[-1] for r in plan.resources}
    assert {"Pipeline", "Job", "AlertV2"} <= kinds


def test_the_suite_benchmark_refuses_a_baseline_it_cannot_check_out():
    """bench/suite_bench.py measures against a commit: a ref that is none stops it at once, saying which."""
    import subprocess

    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "suite_bench.py"), "--base", "no-such-ref", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "suite_bench: cannot check out no-such-ref" in done.stderr, done.stderr
