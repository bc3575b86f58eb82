"""The offline plan's records, typed: what the recorder writes, the JSON plan holds, and the diff
and the policy runner read (`make plan JSON=`). Plain dicts at run time (they are the JSON), typed
for the type checker, so a misspelt key is an error before it is a silent `None`.

Keys are the engine's own (camelCase), as in `pulumi preview --json`. Imports nothing from Pulumi:
the diff, the deploy gate's judge, runs without it.
"""

from typing import Any, TypedDict


class AliasRecord(TypedDict, total=False):
    """An alias as registered: a whole URN, or the parts that differ (the rest: the resource's own)."""

    urn: str
    name: str
    type: str
    project: str
    stack: str
    parentUrn: str
    noParent: bool


class ResourceRecord(TypedDict):
    """One registration: a resource and its options."""

    urn: str
    type: str
    name: str
    parent: str | None
    """URN of the parent component; None for a child of the stack."""
    provider: str | None
    custom: bool
    """False for a component resource."""
    inputs: dict[str, Any]
    """The provider's inputs (camelCase), secrets masked, unknowns as `UNKNOWN_TEXT`."""
    dependencies: list[str]
    propertyDependencies: dict[str, list[str]]
    protect: bool
    retainOnDelete: bool
    deleteBeforeReplace: bool
    aliases: list[AliasRecord]
    ignoreChanges: list[str]
    replaceOnChanges: list[str]
    importId: str | None


class PlanRecord(TypedDict):
    """A whole plan, as `make plan JSON=` writes it."""

    project: str
    stack: str
    workspace: str | None
    """`databricks:host` of the stack's default provider."""
    resources: list[ResourceRecord]
    outputs: dict[str, Any]
