"""The CrossGuard policies (the pack folder `policy/` runs them under the Pulumi CLI)."""
