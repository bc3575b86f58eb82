"""Entry point of the policy pack for the Pulumi CLI. PolicyPack starts a gRPC server and
blocks, so it is only ever constructed here; the rules live in lakeflow_policies.py, which the
offline plan (`make policy`) imports and runs too."""

from lakeflow_policies import POLICIES  # type: ignore[import-not-found]  # run from policy/ by the CLI
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="lakeflow", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
