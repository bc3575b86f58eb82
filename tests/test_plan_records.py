"""The typed plan records (lakeflow.offline.records) are what the recorder writes and the diff and
policy runner read: every key of every record is declared, with the declared kind of value."""

from __future__ import annotations

import json
import typing

from lakeflow.offline.recorder import canonical_order
from lakeflow.offline.records import AliasRecord, PlanRecord, ResourceRecord

_KINDS = {str: str, bool: bool, dict: dict, list: list}


def _conforms(value: object, annotation: object) -> bool:
    origin = typing.get_origin(annotation) or annotation
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_conforms(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is typing.Any:
        return True
    return isinstance(value, _KINDS.get(origin, origin))  # type: ignore[arg-type]


def test_every_recorded_resource_is_a_resource_record(plans):
    hints = typing.get_type_hints(ResourceRecord)
    alias_keys = set(typing.get_type_hints(AliasRecord))
    for plan in plans.values():
        assert set(json.loads(json.dumps(plan.to_json()))) == set(typing.get_type_hints(PlanRecord))
        assert plan.resources and canonical_order(plan.resources) == plan.resources
        for resource in plan.resources:
            assert set(resource) == set(hints), resource["urn"]
            for key, annotation in hints.items():
                assert _conforms(resource[key], annotation), (resource["urn"], key, resource[key])
            for alias in resource["aliases"]:
                assert set(alias) <= alias_keys and alias, resource["urn"]
