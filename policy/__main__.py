"""Entry point of the policy pack for the Pulumi CLI. PolicyPack starts a gRPC server and
blocks, so it is only ever constructed here; the rules are src/lakeflow/policy/rules.py, which the
offline plan (`make policy`) runs too.

The pack judges with the code of the checkout it sits in (the judge's, .github/deploy-gate.sh),
never with whatever `lakeflow` the virtualenv happens to have installed: that checkout's `src`
goes first on the path."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from pulumi_policy import EnforcementLevel, PolicyPack

from lakeflow.policy.rules import POLICIES

PolicyPack(name="lakeflow", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
