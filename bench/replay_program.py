"""`python bench/replay_program.py PLAN.json`: the like-for-like baseline of the benchmark.

Registers exactly the custom resources the offline plan recorded (same types, names and
inputs, providers excepted) as plain `pulumi.CustomResource`s: no YAML, no settings, no
components, no schema check, no recording. The difference between the tool and this program is
what the tool's own layers cost; the difference between this program and `bare_program.py` is
how many more resources the stack declares (alerts, permissions, budgets...).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pulumi
import pulumi_databricks  # noqa: F401  (a bare program imports its provider SDK too)
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await


class PreviewMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        return "", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        raise RuntimeError(f"the baseline calls no provider functions: {args.token}")


def main(path: Path) -> None:
    plan = json.loads(path.read_text(encoding="utf-8"))
    resources = [r for r in plan["resources"] if r["custom"] and not r["type"].startswith("pulumi:providers:")]

    def program() -> None:
        for r in resources:
            pulumi.CustomResource(r["type"], r["name"], dict(r["inputs"]))

    pulumi.runtime.set_mocks(PreviewMocks(), project=plan["project"], stack=plan["stack"], preview=True)
    _sync_await(run_pulumi_func(program))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
