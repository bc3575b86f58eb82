"""What forces a resource's replacement: what the diff and the data-loss guard use.

`force_new.json` beside this file is read from the Databricks provider itself: the schema of the
provider plugin `make engine` builds (the pinned pulumi-databricks release's upstream
terraform-provider-databricks, bridged), written by `python -m engine.build --write-force-new`.
It lists, per resource type, the input paths whose change replaces the resource (SDKv2 ForceNew,
plugin-framework RequiresReplace) and those where the provider decides per change
(RequiresReplaceIf). tests/engine checks that the file is what the built provider says, and that
the real engine's verdicts on real changes match this diff's.

What a schema flag cannot show (the provider's CustomizeDiff) is written out below, each found by
a real-engine preview or read in the provider source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PIPELINE = "databricks:index/pipeline:Pipeline"
SQL_TABLE = "databricks:index/sqlTable:SqlTable"

_FACTS = json.loads((Path(__file__).with_name("force_new.json")).read_text(encoding="utf-8"))
# type -> input paths (camelCase; "[]" for any element of a list) that force replacement.
FORCE_NEW: dict[str, tuple[str, ...]] = {t: tuple(paths) for t, paths in _FACTS["forceNew"].items()}
# type -> SDKv2 blocks marked ForceNew: adding or removing the block (or a list element) replaces.
FORCE_NEW_BLOCKS: dict[str, tuple[str, ...]] = {t: tuple(paths) for t, paths in _FACTS["forceNewBlocks"].items()}
# type -> input paths whose change the provider may turn into a replacement (RequiresReplaceIf).
REPLACE_IF: dict[str, tuple[str, ...]] = {t: tuple(paths) for t, paths in _FACTS["replaceIf"].items()}

# Types whose replacement or deletion loses data, and what is lost.
HOLDS_DATA: dict[str, str] = {
    PIPELINE: "it owns the tables it publishes; deleting it drops them",
    "databricks:index/schema:Schema": "a Unity Catalog schema and every table in it",
    SQL_TABLE: "a Unity Catalog table",
    "databricks:index/table:Table": "a Unity Catalog table",
    "databricks:index/volume:Volume": "a Unity Catalog volume and its files",
    "databricks:index/catalog:Catalog": "a Unity Catalog catalog and everything in it",
}

_DESTINATION_KINDS = ("email", "slack", "pagerduty", "microsoftTeams", "genericWebhook")


def replacement_reasons(
    type_: str, old: Mapping[str, Any], new: Mapping[str, Any], changed_paths: Sequence[str]
) -> list[str]:
    """Why changing `old` into `new` replaces the resource (empty: updated in place)."""
    reasons = []
    generic = [re.sub(r"\[\d+\]", "[]", path) for path in changed_paths]
    for prop in FORCE_NEW.get(type_, ()):
        if any(_under(path, prop) for path in generic):
            reasons.append(f"{prop} changed (forces replacement)")
    for block in FORCE_NEW_BLOCKS.get(type_, ()):
        if _counts(old["inputs"], block) != _counts(new["inputs"], block):
            reasons.append(f"{block} added or removed (forces replacement)")
    for prop in new.get("replaceOnChanges", []):
        if any(_under(path, prop) for path in changed_paths):
            reasons.append(f"{prop} changed (replaceOnChanges)")
    a, b = old["inputs"], new["inputs"]
    if type_ == PIPELINE and bool(a.get("storage")) != bool(b.get("storage")):
        reasons.append("switching between storage and catalog (forces replacement)")
    if type_ == SQL_TABLE and b.get("tableType") == "VIEW" and a.get("comment") != b.get("comment"):
        reasons.append("comment of a view changed (forces replacement)")
    if type_.endswith("notificationDestination:NotificationDestination"):
        # A config holding a credential is one masked secret: its type cannot be seen offline.
        configs = [x.get("config") for x in (a, b)]
        kinds = [{k for k in _DESTINATION_KINDS if c.get(k)} if isinstance(c, dict) else None for c in configs]
        if None not in kinds and kinds[0] != kinds[1]:
            reasons.append("config type switched (forces replacement)")
    if old.get("provider") and new.get("provider") and _provider_urn(old) != _provider_urn(new):
        reasons.append("provider changed")
    return sorted(set(reasons), key=reasons.index)


def _counts(value: Any, path: str) -> list[int]:
    """How many elements the block at `path` ("a[].b": every b of a's elements) has: 0 absent,
    1 an object, n a list."""
    head, _, rest = path.partition(".")
    many = head.endswith("[]")
    item = value.get(head.removesuffix("[]")) if isinstance(value, Mapping) else None
    if rest:
        items = item if isinstance(item, list) and many else [item]
        return [n for element in items for n in _counts(element, rest)]
    if item is None or item == [] or item == {}:
        return [0]
    return [len(item) if isinstance(item, list) else 1]


def _under(path: str, prop: str) -> bool:
    """`path` is `prop` or inside it, or contains it (a whole object added or removed)."""
    return path == prop or path.startswith((prop + ".", prop + "[")) or prop.startswith((path + ".", path + "["))


def _provider_urn(res: Mapping[str, Any]) -> str:
    # A provider reference is "<provider urn>::<provider id>"; the id is unknown in a preview.
    return str(res["provider"]).rsplit("::", 1)[0]
