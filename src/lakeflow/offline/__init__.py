"""The offline plan: the real program under Pulumi's mock runtime, every registration recorded
and checked against the provider SDK's own input types. No credentials, no Pulumi CLI."""

# How a plan writes a value known only after apply: the recorder writes it, the diff reads it
# (kept here so the diff, the deploy gate's judge, runs without importing Pulumi).
UNKNOWN_TEXT = "(known after apply)"


def make_urn(stack: str, project: str, parent_qualified: str | None, type_: str, name: str) -> str:
    """A resource's URN as the engine makes it: its type qualified by its parent's type chain
    (`lakeflow:index:DltPipeline$databricks:index/pipeline:Pipeline`), unless the parent is the
    stack itself (None). The one place URNs are built: the recorder registers with it, the diff
    resolves aliases with it."""
    qualified = f"{parent_qualified}${type_}" if parent_qualified else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def urn_parts(urn: str) -> tuple[str, str, str, str]:
    """urn:pulumi:<stack>::<project>::<qualified type>::<name> -> its four parts."""
    head, project, qualified, name = urn.split("::", 3)
    return head.removeprefix("urn:pulumi:"), project, qualified, name
