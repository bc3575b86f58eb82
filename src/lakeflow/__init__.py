"""Databricks Lakeflow Declarative Pipelines in production, as Pulumi components.

- `lakeflow.components`  the Pulumi components (usable from any Pulumi program)
- `lakeflow.sql`         every SQL text the stack writes, names quoted in one place
- `lakeflow.config`      pipeline files and stack config -> validated settings
- `lakeflow.model`       settings -> the resolved deployment (names, tags, thresholds, ...)
- `lakeflow.program`     the Pulumi program of this repository's stacks
- `lakeflow.offline`     the offline plan, diff and policy runner
- `lakeflow.ops`         the day-2 commands
- `lakeflow.policy`      the CrossGuard policies
"""
