"""The Delta CLONE statement, checked piece by piece with sqlglot's Databricks dialect.

sqlglot parses `CREATE TABLE … CLONE …` but not the `DEEP` keyword, a temporal source or
TBLPROPERTIES after it (it falls back to an opaque Command). So the statement's skeleton is
matched against the documented grammar (docs.databricks.com, "CREATE TABLE CLONE"):

    [CREATE OR] REPLACE TABLE table_name [SHALLOW | DEEP] CLONE source_table_name [TBLPROPERTIES clause]

and every piece is parsed by sqlglot: the names as tables, the source with its temporal
specification as a query over it, the properties as `ALTER TABLE … SET TBLPROPERTIES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

_CLONE = re.compile(
    r"^CREATE OR REPLACE TABLE (?P<target>\S+)\s+DEEP CLONE (?P<source>\S+)"
    r"(?P<temporal> (?:VERSION AS OF \d+|TIMESTAMP AS OF '[^']+'))?"
    r"(?:\s+TBLPROPERTIES \((?P<props>.*)\))?$",
    re.S,
)


@dataclass(frozen=True)
class Clone:
    target: str
    source: str
    version: int | None
    timestamp: str | None
    properties: dict[str, str]


def parse(sql: str) -> exp.Expression:
    """One statement, parsed strictly: no fallback to an opaque Command."""
    tree = sqlglot.parse_one(sql, read="databricks", error_level=sqlglot.ErrorLevel.RAISE)
    assert not isinstance(tree, exp.Command), f"sqlglot could not parse: {sql}"
    return tree


def _table(name: str) -> str:
    tree = parse(f"SELECT * FROM {name}")
    table = tree.find(exp.Table)
    assert table is not None and len(table.parts) == 3, f"not a three-part table name: {name}"
    return ".".join(p.name for p in table.parts)


def parse_clone(sql: str) -> Clone:
    m = _CLONE.match(sql)
    assert m, f"not a [CREATE OR] REPLACE TABLE … DEEP CLONE … statement:\n{sql}"
    source_query = parse(f"SELECT * FROM {m['source']}{m['temporal'] or ''}")
    version = source_query.find(exp.Version)
    properties: dict[str, str] = {}
    if m["props"] is not None:
        alter = parse(f"ALTER TABLE {m['target']} SET TBLPROPERTIES ({m['props']})")
        for prop in alter.find_all(exp.Property):
            properties[prop.name] = prop.text("value")
    kind = version.this if version else None
    value = version.expression.this if version else None
    return Clone(
        target=_table(m["target"]),
        source=_table(m["source"]),
        version=int(value) if kind == "VERSION" else None,
        timestamp=value if kind == "TIMESTAMP" else None,
        properties=properties,
    )


@dataclass(frozen=True)
class Snapshot:
    target: str
    source: str
    properties: dict[str, str]


def parse_snapshot(sql: str) -> Snapshot:
    """`CREATE OR REPLACE TABLE t TBLPROPERTIES (...) AS SELECT * FROM s`, parsed whole by sqlglot:
    the pipeline's table is only read (a streaming table or materialized view is never a CLONE
    source without WITH HISTORY, docs/adr/0006)."""
    tree = parse(sql)
    assert isinstance(tree, exp.Create) and tree.args.get("replace") and tree.kind == "TABLE", sql
    query = tree.expression
    assert isinstance(query, exp.Select) and [e.sql() for e in query.expressions] == ["*"], sql
    (source,) = list(query.find_all(exp.Table))
    assert "CLONE" not in sql.upper(), sql
    return Snapshot(
        target=".".join(p.name for p in tree.this.find(exp.Table).parts),  # type: ignore[union-attr]
        source=".".join(p.name for p in source.parts),
        properties={p.name: p.text("value") for p in tree.find_all(exp.Property)},
    )
