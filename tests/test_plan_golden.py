"""Nothing users see changes by accident (issue 20, docs/adr/0009): the JSON plans of the shipped
stacks are committed under tests/fixtures/plans/ and must stay byte-identical. A change that means
to change them (a new alias, a renamed child, a new setting) rewrites them in the same commit:

    .venv/bin/python -m tests.test_plan_golden --write

and its diff (`make diff`) shows 0 replace and 0 delete unless that is the point of the change.
"""

from __future__ import annotations

import difflib
import json
import sys

import pytest

from lakeflow.offline.plan import plan_stack
from tests.conftest import ROOT, STACKS

pytestmark = pytest.mark.plan

GOLDEN = ROOT / "tests" / "fixtures" / "plans"


def rendered(plan) -> str:
    """As `make plan JSON=` writes it."""
    return json.dumps(plan.to_json(), indent=2, sort_keys=False) + "\n"


@pytest.mark.parametrize("stack", STACKS)
def test_the_shipped_stacks_plan_byte_identically(plans, stack):
    expected = (GOLDEN / f"{stack}.json").read_text(encoding="utf-8")
    actual = rendered(plans[stack])
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), f"committed {stack}.json", "planned now", n=2, lineterm=""
        )
        shown = "\n".join(list(diff)[:80])
        pytest.fail(f"the plan of {stack} changed (python -m tests.test_plan_golden --write if meant):\n{shown}")


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python -m tests.test_plan_golden --write", file=sys.stderr)
        return 2
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for stack in STACKS:
        (GOLDEN / f"{stack}.json").write_text(rendered(plan_stack(stack, ROOT)), encoding="utf-8")
        print(f"wrote {GOLDEN / f'{stack}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
