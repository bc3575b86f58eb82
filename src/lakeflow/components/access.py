"""Access-control lists shared by the components: who may view, run and manage an object."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pulumi_databricks as databricks

from lakeflow.components.types import principal_field

T = TypeVar("T")


def access_controls(
    levels: Sequence[tuple[str, Sequence[str]]],
) -> list[databricks.PermissionsAccessControlArgs]:
    """One entry per principal, at the highest level it is granted (later levels are higher)."""
    best: dict[str, str] = {}
    for level, principals in levels:
        for principal in principals:
            best[principal] = level
    entries = []
    for principal in sorted(best):
        field, name = principal_field(principal)
        entries.append(databricks.PermissionsAccessControlArgs(permission_level=best[principal], **{field: name}))
    return entries


def run_as(principal: str | None, args_type: type[T]) -> T | None:
    """`sp:<id>` / `user:<email>` as the given `…RunAsArgs` (pipelines and jobs each have one)."""
    if principal is None:
        return None
    field, name = principal_field(principal)
    return args_type(**{field: name})


JOB_WEBHOOKS_PER_EVENT = 3
"""Jobs API: a job's webhook notifications take at most 3 destinations per event (on_failure, ...)."""


def check_webhook_cap(owner: str, destinations: Sequence[object]) -> None:
    if len(destinations) > JOB_WEBHOOKS_PER_EVENT:
        raise ValueError(
            f"{owner}: {len(destinations)} failure destinations; a job notifies at most "
            f"{JOB_WEBHOOKS_PER_EVENT} (emails go in its email notifications)"
        )
