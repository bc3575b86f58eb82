"""CrossGuard policy pack (`pulumi preview --policy-pack policy`); rules in `lakeflow_policies`."""
