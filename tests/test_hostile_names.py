"""A name that slipped past the settings' validation stays one name in every SQL statement the stack writes.

The loader accepts only Unity Catalog names of letters, digits and underscores; the SQL builders quote what they
write anyway. Here each builder gets hostile catalog, schema, table and pipeline names (and environments and slots,
which reach the SQL as tag values), the validation bypassed (`model_copy`, `model_construct`, objects built
directly), and what it writes is held to the statement it writes for a plain stand-in name:

- sqlglot (dialect databricks) reads exactly as many statements, each of the same kind, none a DROP, DELETE or any
  other statement kind, and no statement that sqlglot keeps as an opaque Command except the DEEP CLONE it cannot
  parse (whose pieces are parsed one by one instead);
- token for token and node for node, the hostile statement is the stand-in's with the name in the same places: a
  quoted identifier whose name is the hostile text, or a string literal whose value is exactly the hostile text.

An event log table reaches the queries as one dotted string, which `monitoring.queries` refuses unless it is three
plain names: a hostile event log name is refused before any SQL is written (the last tests).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from types import SimpleNamespace
from typing import Any, Literal

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

from lakeflow.components.pipeline_alerts import (
    CLUSTER_METRICS,
    DAILY_COST,
    MONTHLY_COST,
    PIPELINE_METRICS,
    PipelineAlertsArgs,
    WatchedPipeline,
    _breach_queries,
)
from lakeflow.config.loader import StackSettings
from lakeflow.config.models import CriticalTable, EventLog
from lakeflow.model.deployment import resolve
from lakeflow.ops import dr_restore as restore
from lakeflow.ops import health
from lakeflow.sql import queries
from lakeflow.sql.dashboard import serialized_dashboard
from lakeflow.sql.queries import PipelineRef
from lakeflow.sql.snapshots import snapshot_sql, snapshots
from tests.conftest import ROOT, by_type

HOSTILE = {
    "drop-schema": "x`;DROP SCHEMA prod CASCADE;--",
    "dot": "a.b",
    "space": "a b",
    "comment": "x/**/y",
    "single-quote": "x'y",
    "double-quote": 'x"y',
    "backslash": "back\\slash",
    "trailing-backslash": "trailing\\",
    "escaped-quote": "\\' OR 1=1 --",
    "newline": "a\nb",
    "indented-newline": "a\n        b",
    "crlf": "a\r\nb",
    "line-separator": "a\u2028b",
}
STAND_IN = "stand_in"  # the plain name each hostile statement is held to

EVENT_LOG = "prod.sales.sales_pipeline_event_log"
OTHER = PipelineRef("clicks", "prod", "prod.web.clicks_event_log", slot="blue")
FORBIDDEN = tuple(
    getattr(exp, kind)
    for kind in (
        "Drop",
        "Delete",
        "Insert",
        "Update",
        "Merge",
        "Create",
        "Alter",
        "TruncateTable",
        "Command",
        "Use",
        "Grant",
        "Revoke",
        "Set",
        "Transaction",
        "Commit",
        "Rollback",
    )
    if hasattr(exp, kind)
)
NAMES = (TokenType.IDENTIFIER, TokenType.STRING)

NO_ROUTING: Any = None  # PipelineAlertsArgs.settings: where alerts go, not read by the queries

Builder = Callable[[str, str], list[str]]
"""(name, like) -> the statements written with `name`; `like` is the hostile name under test (a builder that
cannot give a dotted name every role gives the stand-in the same roles)."""


# --- what the stack writes, for one name ---------------------------------------------------------------------------


def ref(name: str) -> PipelineRef:
    """A pipeline whose name, environment and live slot are `name` (tag values in the SQL); its event log is plain."""
    return PipelineRef(name, name, EVENT_LOG, slot=name)


def pipeline_query(query: Callable[[PipelineRef], str]) -> Builder:
    return lambda name, like: [query(ref(name))]


def alert(metric_id: str) -> Builder:
    """The query of one stack-wide alert, as `PipelineAlerts` builds it: the hostile pipeline next to a plain one."""

    def build(name: str, like: str) -> list[str]:
        hostile = WatchedPipeline.from_ref(ref(name), daily_limit_usd=120, monthly_budget_usd=3000)
        if metric_id in (*CLUSTER_METRICS, DAILY_COST.id, MONTHLY_COST.id):  # stack-wide: next to a plain one
            args = PipelineAlertsArgs("prod_pipelines", name, [hostile, WatchedPipeline.from_ref(OTHER)], NO_ROUTING)
        else:  # the pipeline's own event-log alerts (docs/adr/0007)
            args = PipelineAlertsArgs("prod_pipelines", name, [hostile], NO_ROUTING, scope="pipeline")
        return [sql for metric, sql in _breach_queries(args) if metric.id == metric_id]

    return build


def environment_cost(period: Literal["day", "month"]) -> Builder:
    """`CostAlerts`: the environment's spend against its limit."""
    return lambda name, like: [queries.cost_breaches(period, name, {name: 25000}, by="Environment")]


def dashboard(dataset: str) -> Builder:
    """The dashboard's datasets named `dataset` (or ending `_<dataset>`), as the SQL its queryLines hold."""

    def build(name: str, like: str) -> list[str]:
        doc = json.loads(serialized_dashboard(name, [ref(name), OTHER]))
        return [
            "".join(d["queryLines"])
            for d in doc["datasets"]
            if d["name"] == dataset or d["name"].endswith(f"_{dataset}")
        ]

    return build


@cache
def prod() -> StackSettings:
    from lakeflow.offline.stack_file import load_stack

    return load_stack(ROOT, "prod")


class _Recorded(health._Warehouse):
    """The stack's warehouse, as `make health` uses it: records each query, answers NULL."""

    def __init__(self) -> None:
        super().__init__(None, "warehouse")
        self.sent: list[str] = []

    def value(self, sql: str, column: str) -> float | None:
        self.sent.append(sql)
        return None


def _workspace() -> Any:
    """Just enough of the SDK's WorkspaceClient for `health.check_pipeline`: an idle pipeline, no update yet."""
    pipeline = SimpleNamespace(name="prod_x", state=None, health=None, cause=None)
    page = SimpleNamespace(updates=[], next_page_token=None)
    return SimpleNamespace(
        pipelines=SimpleNamespace(get=lambda pipeline_id: pipeline, list_updates=lambda **kwargs: page)
    )


def health_checks(
    name: str, like: str = "", event_log: EventLog | None = None, warehouse: _Recorded | None = None
) -> list[str]:
    """What `make health` sends for sales_pipeline renamed `name`, in environment `name`."""
    settings = prod()
    spec = settings.pipeline("sales_pipeline")
    log = event_log or EventLog(catalog="prod", schema="sales", name="sales_pipeline_event_log")
    spec = spec.model_copy(update={"name": name, "monitoring": spec.monitoring.model_copy(update={"event_log": log})})
    settings = dataclasses.replace(
        settings, config=settings.config.model_copy(update={"environment": name}), pipelines=(spec,)
    )
    warehouse = warehouse or _Recorded()
    now = datetime(2025, 11, 29, 14, tzinfo=UTC)
    facts = resolve(settings).pipelines[spec.name]
    health.check_pipeline(_workspace(), warehouse, settings, facts, "id", spec.monitoring.thresholds, now)
    return warehouse.sent


def dr_settings(name: str, like: str, dr_target: bool = False) -> StackSettings:
    """prod, with sales_pipeline's catalog, schema and critical table named `name`, and its snapshots in catalog
    `name` (the stack's drCatalog) or, with `dr_target`, in `name`.`name`. A catalog or schema comes from one
    `<catalog>.<schema>` string, which a dot cannot survive: for a dotted name (`like`, the hostile name the
    statement is held to) the pipeline's table and the DR catalog only."""
    settings = prod()
    spec = settings.pipeline("sales_pipeline")
    assert spec.dr is not None
    pair = f"{name}.{name}" if "." not in like else None
    dr = spec.dr.model_copy(
        update={
            "critical_tables": [CriticalTable.model_construct(name=name, rpo_minutes=None)],
            "target": pair if dr_target else None,
        }
    )
    spec = spec.model_copy(update={"target": pair or spec.target, "tables": ["silver_orders", name], "dr": dr})
    return dataclasses.replace(
        settings,
        config=settings.config.model_copy(update={"dr_catalog": name}),
        pipelines=tuple(spec if p.name == spec.name else p for p in settings.pipelines),
    )


def dr_snapshots(dr_target: bool) -> Builder:
    """The snapshot job's queries, as src/lakeflow/program.py writes them."""

    def build(name: str, like: str) -> list[str]:
        settings = dr_settings(name, like, dr_target)
        spec = settings.pipeline("sales_pipeline")
        assert spec.dr is not None
        return [snapshot_sql(s, spec.dr) for s in snapshots(spec, settings.config)]

    return build


def restore_plan(name: str, like: str, **as_of: Any) -> restore.RestorePlan:
    return restore.restore_plan(dr_settings(name, like), "sales_pipeline", **as_of)


def restore_sql(**as_of: Any) -> Builder:
    """The SQL steps of `make dr-restore` (as its --json prints them)."""
    return lambda name, like: [
        c for step in restore_plan(name, like, **as_of).steps if step.kind == "sql" for c in step.commands
    ]


def restore_runbook(name: str, like: str) -> list[str]:
    """The SQL steps of the printed restore plan, each as printed: what a person pastes into a SQL editor."""
    plan = restore_plan(name, like, timestamp="2026-11-28T06:00:00Z")
    text = restore.render(plan)
    blocks = []
    for i, step in enumerate(plan.steps, 1):
        if step.kind == "sql":
            start = text.index(f"\n{i}. {step.title}  [sql]\n") + len(f"\n{i}. {step.title}  [sql]\n")
            end = text.find(f"\n\n{i + 1}. ", start)
            blocks.append(text[start : end if end >= 0 else len(text)])
    return blocks


_VIEW_PLAN: dict[str, Any] = {}


def blue_green_views(name: str, like: str) -> list[str]:
    """`BlueGreenPipeline`'s view definitions (over its active slot) for catalog, slot schema and table `name`,
    from one recorded program with a component per name."""
    if not _VIEW_PLAN:
        from lakeflow.components.blue_green import BlueGreenPipeline, BlueGreenPipelineArgs, SlotArgs
        from lakeflow.components.dlt_pipeline import DltPipelineArgs
        from lakeflow.offline.recorder import record

        names = [STAND_IN, *HOSTILE.values()]

        def program() -> None:
            for i, n in enumerate(names):
                slots = [
                    SlotArgs(
                        slot=slot,
                        pipeline=DltPipelineArgs(
                            name=f"prod_p{i}_{slot}",
                            catalog=n,
                            schema=n if slot == "blue" else "p_green",
                            libraries=[{"notebook": {"path": f"/Repos/p{i}_{slot}/nb"}}],
                        ),
                        repo_path=f"/Repos/p{i}_{slot}",
                        ref="tag:v1",
                    )
                    for slot in ("blue", "green")
                ]
                args = BlueGreenPipelineArgs("https://example.com/p.git", slots, "blue", n, n, [n, "t2"], "wh")
                BlueGreenPipeline(f"bg{i}", args)

        plan = record("lakeflow", "prod", {}, set(), program)
        views = {r["name"]: r["inputs"]["viewDefinition"] for r in by_type(plan, "SqlTable")}
        for i, n in enumerate(names):
            _VIEW_PLAN[n] = [views[f"bg{i}-view-{n}"], views[f"bg{i}-view-t2"]]
    return _VIEW_PLAN[name]


# The per-pipeline measurements read from the event log.
EVENT_LOG_METRICS = (
    queries.failed_updates,
    queries.processing_lag_minutes,
    queries.expectation_pass_rate,
    queries.drop_rate,
    queries.availability,
)

# builder -> (what it writes for a name, does the name reach the SQL)
BUILDERS: dict[str, tuple[Builder, bool]] = {
    # monitoring.queries, per pipeline: the event-log measurements name no pipeline; the node metrics do, by tag
    **{q.__name__: (pipeline_query(q), False) for q in EVENT_LOG_METRICS},
    "cpu_utilization": (pipeline_query(queries.cpu_utilization), True),
    "memory_utilization": (pipeline_query(queries.memory_utilization), True),
    # the stack's alerts: event-log UNIONs per pipeline, node and cost verdicts over the system tables
    **{f"alert:{m.id}": (alert(m.id), True) for m, _, _ in PIPELINE_METRICS},
    f"alert:{DAILY_COST.id}": (alert(DAILY_COST.id), True),
    f"alert:{MONTHLY_COST.id}": (alert(MONTHLY_COST.id), True),
    "cost_alerts:day": (environment_cost("day"), True),
    "cost_alerts:month": (environment_cost("month"), True),
    # the dashboard's datasets
    "dashboard:dbu_by_pipeline": (dashboard("dbu_by_pipeline"), True),
    "dashboard:execution_summary": (dashboard("execution"), False),
    "dashboard:data_quality_trend": (dashboard("quality"), False),
    "dashboard:latency_by_table": (dashboard("latency"), False),
    # make health
    "health:check_pipeline": (health_checks, True),
    # disaster recovery
    "dr:snapshot_sql": (dr_snapshots(dr_target=False), True),
    "dr:snapshot_sql(dr.target)": (dr_snapshots(dr_target=True), True),
    "dr:restore_plan": (restore_sql(), True),
    "dr:restore_plan(version)": (restore_sql(table=None, version=3), True),
    "dr:restore_plan(timestamp)": (restore_sql(timestamp="2026-11-28T06:00:00Z"), True),
    "dr:render": (restore_runbook, True),
    # blue/green
    "blue_green:view_definition": (blue_green_views, True),
}
PLAN_BUILDERS = {"blue_green:view_definition"}


# --- the checks ------------------------------------------------------------------------------------------------------


@cache  # a pure function of the text: the plain statements recur for every hostile name
def _tokens(sql: str) -> tuple[Token, ...]:
    return tuple(sqlglot.tokenize(sql, read="databricks"))


def _statements(sql: str) -> list[str]:
    """The text of each statement, split where sqlglot's tokenizer ends one (a `;` outside quotes)."""
    out: list[list[Token]] = []
    current: list[Token] = []
    for token in _tokens(sql):
        if token.token_type == TokenType.SEMICOLON:
            out.append(current)
            current = []
        else:
            current.append(token)
    out.append(current)
    return [sql[t[0].start : t[-1].end + 1] for t in out if t]


def _parse(sql: str) -> exp.Expression:
    trees = [t for t in sqlglot.parse(sql, read="databricks") if t is not None and not isinstance(t, exp.Semicolon)]
    assert len(trees) == 1, f"not one statement:\n{sql}"
    assert isinstance(trees[0], exp.Expression), sql
    return trees[0]


def _renamed(tree: exp.Expression, name: str) -> exp.Expression:
    """`tree` with `name` replaced by the stand-in in identifiers and string literals (and nowhere else)."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Identifier | exp.Literal) and isinstance(node.this, str) and name in node.this:
            assert not isinstance(node, exp.Literal) or node.is_string, node
            node = node.copy()
            node.set("this", node.this.replace(name, STAND_IN))
        return node

    renamed = tree.transform(swap)
    assert isinstance(renamed, exp.Expression)
    return renamed


def _read_only(tree: exp.Expression, sql: str) -> None:
    assert isinstance(tree, exp.Select | exp.Union | exp.Describe), f"{type(tree).__name__}:\n{sql}"
    assert not list(tree.find_all(*FORBIDDEN)), f"{[type(n).__name__ for n in tree.find_all(*FORBIDDEN)]}:\n{sql}"


def _allowed(tree: exp.Expression, sql: str) -> None:
    """A read; or one of the two writes the DR statements make, each to a table of its own: the snapshot
    (`CREATE OR REPLACE TABLE <x>_dr_snapshot … AS SELECT`, a read of the pipeline's table) and dropping a
    restore table (`DROP TABLE IF EXISTS <x>_dr_restore`)."""
    written = tree.find(exp.Table)
    if isinstance(tree, exp.Create):
        assert tree.args.get("replace") and tree.kind == "TABLE" and written is not None, sql
        assert written.name.endswith("_dr_snapshot"), sql
        _read_only(tree.expression, sql)
    elif isinstance(tree, exp.Drop):
        assert tree.kind == "TABLE" and tree.args.get("exists") and written is not None, sql
        assert written.name.endswith("_dr_restore"), sql
    else:
        _read_only(tree, sql)


def _clone_pieces(sql: str) -> list[exp.Expression]:
    """`CREATE OR REPLACE TABLE <target> DEEP CLONE <source> [<temporal>] [TBLPROPERTIES (...)]`, which sqlglot
    keeps as a Command, as three statements it parses: SELECT from the target, SELECT from the source as of its
    temporal specification, ALTER TABLE SET TBLPROPERTIES."""
    tokens = _tokens(sql)
    assert [t.token_type for t in tokens[:4]] == [TokenType.CREATE, TokenType.OR, TokenType.REPLACE, TokenType.TABLE]
    words = [(i, t.text.upper()) for i, t in enumerate(tokens) if t.token_type == TokenType.VAR]
    deep = [i for i, w in words if w == "DEEP" and tokens[i + 1].text.upper() == "CLONE"]
    props = [i for i, w in words if w == "TBLPROPERTIES"]
    assert len(deep) == 1 and len(props) <= 1, sql
    clone = deep[0] + 1
    end = tokens[props[0]].start if props else len(sql)
    pieces = [
        f"SELECT * FROM {sql[tokens[3].end + 1 : tokens[deep[0]].start]}",
        f"SELECT * FROM {sql[tokens[clone].end + 1 : end]}",
    ]
    trees = [_parse(p) for p in pieces]
    for tree, piece in zip(trees, pieces, strict=True):
        _read_only(tree, piece)
        (table,) = tree.find_all(exp.Table)
        assert len(table.parts) == 3, piece
    if props:
        alter = f"ALTER TABLE t SET TBLPROPERTIES {sql[tokens[props[0]].end + 1 :]}"
        trees.append(_parse(alter))
        assert isinstance(trees[-1], exp.Alter) and not list(trees[-1].find_all(*FORBIDDEN[:5])), alter
    return trees


@cache  # a pure function of the text: each plain statement is checked against every hostile name
def _plain_trees(plain: str) -> tuple[bool, tuple[str, ...]]:
    """Whether sqlglot keeps `plain` as a Command (then checked as its clone pieces), and the repr of each tree
    a hostile statement's renamed tree must equal."""
    if isinstance(sqlglot.parse_one(plain, read="databricks"), exp.Command):
        return True, tuple(repr(tree) for tree in _clone_pieces(plain))
    return False, (repr(_parse(plain)),)


def assert_same_statement(hostile: str, plain: str, name: str) -> None:
    """`hostile` is `plain` with `name` where `plain` has the stand-in: one statement of the same kind, the name
    one whole quoted identifier or string literal wherever the stand-in is."""
    h_tokens, p_tokens = _tokens(hostile), _tokens(plain)
    assert [t.token_type for t in h_tokens] == [t.token_type for t in p_tokens], hostile
    assert TokenType.SEMICOLON not in {t.token_type for t in h_tokens}, hostile
    for h, p in zip(h_tokens, p_tokens, strict=True):
        if h.token_type in NAMES:
            # an identifier's name, a string literal's value (both unescaped by the tokenizer)
            assert h.text.replace(name, STAND_IN) == p.text, (h.text, p.text)
        else:
            assert h.text == p.text, (h.text, p.text)
    command, p_trees = _plain_trees(plain)
    if command:
        h_trees = _clone_pieces(hostile)
    else:
        h_trees = [_parse(hostile)]
        _allowed(h_trees[0], hostile)
    for h_tree, p_tree in zip(h_trees, p_trees, strict=True):
        assert repr(_renamed(h_tree, name)) == p_tree, hostile
        for node in h_tree.find_all(exp.Identifier, exp.Literal):
            if name in node.name:
                # a whole identifier (or the stand-in's derived one, e.g. `<table>_dr_snapshot`), a whole literal
                plain_text = node.name.replace(name, STAND_IN)
                assert node.name == name or (isinstance(node, exp.Identifier) and plain_text != STAND_IN), node


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(
    "builder",
    [pytest.param(b, marks=[pytest.mark.plan] if b in PLAN_BUILDERS else [], id=b) for b in BUILDERS],
)
def test_a_hostile_name_stays_one_name_in_what_each_builder_writes(builder: str, name: str) -> None:
    build, reaches = BUILDERS[builder]
    plain, hostile = build(STAND_IN, name), build(name, name)
    assert plain and len(hostile) == len(plain), (plain, hostile)
    for h_sql, p_sql in zip(hostile, plain, strict=True):
        h_statements, p_statements = _statements(h_sql), _statements(p_sql)
        # a printed block holds several statements, each ended by `;`; every other text is one statement
        assert len(h_statements) == len(p_statements) >= 1, h_sql
        assert len(p_statements) == 1 or builder == "dr:render", p_sql
        for h, p in zip(h_statements, p_statements, strict=True):
            assert_same_statement(h, p, name)
    if reaches:
        whole = [t for sql in hostile for t in _tokens(sql) if t.token_type in NAMES and t.text == name]
        assert whole, f"{name!r} does not reach what {builder} writes"
    else:
        assert not any(name in sql for sql in hostile)


def test_the_printed_restore_plan_holds_as_many_statements_as_its_sql_steps() -> None:
    name = HOSTILE["drop-schema"]
    plan = restore_plan(name, name, timestamp="2026-11-28T06:00:00Z")
    commands = [len(step.commands) for step in plan.steps if step.kind == "sql"]
    blocks = restore_runbook(name, name)
    assert [len(_statements(b)) for b in blocks] == commands and sum(commands) >= 3


def test_the_checks_catch_a_name_that_is_not_quoted() -> None:
    """The check itself: a name pasted unquoted, a literal escaped by doubling its quote (two adjacent literals in
    Databricks), a backtick left single, a name split into two identifiers: each fails it."""
    bad = [
        ("SELECT * FROM cat.{}.t", "x;DROP SCHEMA prod CASCADE"),
        ("SELECT * FROM cat.{}.t", "a b"),
        ("SELECT 1 FROM t WHERE p = '{}'", "O''Brien"),
        ("SELECT * FROM `cat`.`{}`.`t`", "x`;DROP SCHEMA prod CASCADE;--"),
        ("SELECT * FROM `cat`.`{}`", "b`.`c"),
    ]
    for template, written in bad:
        name = written.replace("''", "'")
        with pytest.raises((AssertionError, SqlglotError)):
            assert_same_statement(template.format(written), template.format(STAND_IN), name)
    assert_same_statement("SELECT * FROM `cat`.`x``y`.`t`", f"SELECT * FROM `cat`.`{STAND_IN}`.`t`", "x`y")


# --- event log names: refused before any SQL is written --------------------------------------------------------------

EVENT_LOG_BUILDERS: dict[str, Callable[[PipelineRef], object]] = {
    **{
        q.__name__: q
        for q in (
            *EVENT_LOG_METRICS,
            queries.execution_summary,
            queries.data_quality_trend,
            queries.latency_by_table,
        )
    },
    "alerts": lambda r: _breach_queries(
        PipelineAlertsArgs("prod_pipelines", "prod", [WatchedPipeline.from_ref(r)], NO_ROUTING, scope="pipeline")
    ),
    "dashboard": lambda r: serialized_dashboard("prod", [r]),
}


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("part", ["catalog", "schema", "table"])
def test_a_hostile_event_log_name_is_refused(part: str, name: str) -> None:
    parts = dict(zip(["catalog", "schema", "table"], EVENT_LOG.split("."), strict=True))
    hostile = ".".join({**parts, part: name}.values())
    with pytest.raises(ValueError, match="fully qualified"):
        PipelineRef("sales_pipeline", "prod", hostile)
    # past the PipelineRef check: every query that reads the event log refuses it again
    smuggled = PipelineRef("sales_pipeline", "prod", EVENT_LOG)
    object.__setattr__(smuggled, "event_log", hostile)
    for builder, build in EVENT_LOG_BUILDERS.items():
        with pytest.raises(ValueError, match="fully qualified"):
            build(smuggled)
            pytest.fail(f"{builder} wrote SQL over {hostile!r}")


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_make_health_sends_nothing_for_a_hostile_event_log_name(name: str) -> None:
    log = EventLog.model_construct(catalog="prod", schema_=name, name="sales_pipeline_event_log")
    warehouse = _Recorded()
    with pytest.raises(ValueError, match="fully qualified"):
        health_checks("sales_pipeline", event_log=log, warehouse=warehouse)
    assert warehouse.sent == []
