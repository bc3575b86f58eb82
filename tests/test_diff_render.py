"""The diff for readers, unit by unit and with hostile input: decoded values (base64 of JSON or
text, JSON as text), unified-diff hunks, key inputs, owners, Markdown escaping, the Mermaid graph.

The judge renders plans a pull request produced, so every name, URN, type and value here may be
written by an attacker: nothing may break the comment's Markdown, its tables, its code spans or
its graph, and nothing may raise."""

from __future__ import annotations

import base64
import html
import json
import random
import re
from typing import Any

import pytest

from lakeflow.offline.diff import (
    MAX_DECODED,
    Diff,
    InputChange,
    ResourceChange,
    diff_from_preview,
    diff_plans,
    key_inputs,
    summary_text,
    value_diff,
)
from lakeflow.offline.diff_render import (
    MARKDOWN_BUDGET,
    _markdown,
    code,
    fenced,
    md_text,
    mermaid,
    mermaid_text,
    render_markdown,
    render_text,
)

JOB = "databricks:index/job:Job"
ALERT = "databricks:index/alertV2:AlertV2"
FILE = "databricks:index/file:File"
PIPELINE = "databricks:index/pipeline:Pipeline"
TABLE = "databricks:index/sqlTable:SqlTable"
COMPONENT = "lakeflow:index:DltPipeline"

HOSTILE = [
    "a`b",
    "``x``",
    "`lead",
    "trail`",
    " spaced ",
    "p|q",
    "<script>alert(1)</script>",
    "*bold* _em_ [link](http://x)",
    "line1\nline2",
    "x\n\n# heading\n> quote",
    '"]] --> evil["x',
    "end",
    "a\"b'c",
    "#quot; &amp; &lt;",
    "\r\n|---|---|",
    "tab\there\x1b[31mred\x00",
    "@team <!-- x -->",
    "```\n```",
    "invoice\u202etxt.exe",  # a right-to-left override: reads as another name
]


# --- checkers ------------------------------------------------------------------------------------


def decode_span(span: str) -> str:
    """The content of one CommonMark code span (the whole string), as a renderer shows it."""
    fence = re.match(r"`+", span)
    assert fence, span
    n = len(fence.group())
    assert span.endswith("`" * n) and len(span) >= 2 * n + 1, span
    inner = span[n:-n]
    for run in re.findall(r"`+", inner):
        assert len(run) != n, f"a run of {n} backticks inside closes the span early: {span!r}"
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
        inner = inner[1:-1]
    return inner


def cells(row: str) -> list[str]:
    """A GFM table row's cells: split on `|` not escaped by a backslash."""
    assert row.startswith("| ") and row.endswith(" |"), row
    return [c.strip() for c in re.split(r"(?<!\\)\|", row[1:-1])]


def _scan(line: str) -> tuple[str, list[str]]:
    """A Markdown line split as CommonMark does: the text outside code spans, and the spans'
    contents (a backtick run opens a span closed by the next run of the same length;
    backslash-escaped backticks are text)."""
    line = line.replace("\\`", "")
    out, spans, i = [], [], 0
    while i < len(line):
        run = re.match(r"`+", line[i:])
        if not run:
            out.append(line[i])
            i += 1
            continue
        n = len(run.group())
        closing = re.search(rf"(?<!`)`{{{n}}}(?!`)", line[i + n :])
        if closing is None:
            out.append(run.group())
            i += n
            continue
        spans.append(decode_span(line[i : i + n + closing.end()]))
        i += n + closing.end()
    return "".join(out), spans


def outside_code(line: str) -> str:
    return _scan(line)[0]


def code_spans(line: str) -> list[str]:
    return _scan(line)[1]


ALLOWED_TAGS = re.compile(r"</?(details|summary|code)>")


def check_markdown(md: str) -> None:
    """What any rendered comment must be: tables of 3 cells whose spans decode, summaries with
    nothing but our own tags, fences that nothing inside closes, no raw HTML outside code."""
    lines = md.split("\n")
    fence: str | None = None
    for line in lines:
        if fence is not None:
            if re.fullmatch(r" {0,3}`{3,}\s*", line) and len(line.strip()) >= len(fence):
                assert line.strip() == fence, f"a line inside closes the block: {line!r}"
                fence = None
            continue
        opened = re.fullmatch(r"(`{3,})([a-z]*)", line)
        if opened:
            fence = opened.group(1)
            continue
        if line.startswith("<details><summary>"):
            assert line.endswith("</summary>"), line
            rest = ALLOWED_TAGS.sub("", line)
            assert "<" not in rest and ">" not in rest, line
            continue
        if line.startswith("| ") and not line.endswith(" | before | after |"):
            row = cells(line)
            assert len(row) == 3, (line, row)
            for cell in row:
                if cell != "*(absent)*":
                    decode_span(cell.replace("\\|", "|"))
            continue
        if line.startswith("- <code>"):
            raise AssertionError(f"raw HTML in a Markdown list item is parsed as Markdown: {line!r}")
        text = outside_code(line)
        for bad in ("<script", "<!--", "](http"):
            assert bad not in text or line.startswith("<!-- lakeflow-diff:"), line
    assert fence is None, "an unclosed fenced block"


def outside_fences(md: str) -> list[str]:
    """The lines of a Markdown document that are not inside a fenced code block."""
    out, fence = [], None
    for line in md.split("\n"):
        if fence is None and (opened := re.fullmatch(r"(`{3,})[a-z]*", line)):
            fence = opened.group(1)
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            out.append(line)
    return out


MERMAID_LABEL = r'"((?:[^"\[\]{}()<>`|;#]|#\d+;|<br/>)*)"'


def check_mermaid(block: str) -> tuple[dict[str, str], list[tuple[str, str]], list[str]]:
    """A Mermaid flowchart GitHub can draw: balanced subgraph/end, ids [A-Za-z0-9_]+, labels
    quoted with nothing inside that ends them, every edge between declared nodes, every class
    defined. Returns (node id -> label, edges, subgraph titles)."""
    lines = block.split("\n")
    assert lines[0] == "```mermaid" and lines[-1] == "```" and lines[1] == "flowchart LR", block
    nodes: dict[str, str] = {}
    classes_used: set[str] = set()
    classes: set[str] = set()
    edges: list[tuple[str, str]] = []
    titles: list[str] = []
    depth = 0
    for line in lines[2:-1]:
        s = line.strip()
        if m := re.fullmatch(rf"subgraph ([A-Za-z0-9_]+) \[{MERMAID_LABEL}\]", s):
            depth += 1
            assert depth == 1, "nested subgraph"
            titles.append(m.group(2))
        elif s == "end":
            depth -= 1
            assert depth >= 0, "end without subgraph"
        elif m := re.fullmatch(r"classDef ([a-z]+) fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6}", s):
            classes.add(m.group(1))
        elif m := re.fullmatch(r"([A-Za-z0-9_]+) --> ([A-Za-z0-9_]+)", s):
            edges.append((m.group(1), m.group(2)))
        elif m := re.fullmatch(rf"([A-Za-z0-9_]+)\[{MERMAID_LABEL}\](?::::([a-z]+))?", s):
            assert m.group(1) not in nodes, f"node declared twice: {s}"
            assert m.group(1) != "end"
            nodes[m.group(1)] = m.group(2)
            if m.group(3):
                classes_used.add(m.group(3))
        else:
            raise AssertionError(f"not a flowchart statement: {line!r}")
    assert depth == 0, "subgraph without end"
    for a, b in edges:
        assert a in nodes and b in nodes, (a, b)
    assert classes_used <= classes
    return nodes, edges, titles


def mermaid_block(md: str) -> str:
    start = md.index("```mermaid")
    return md[start : md.index("\n```", start + 3) + 4]


# --- plans ---------------------------------------------------------------------------------------


def res(type_: str, name: str, inputs: dict[str, Any], parent: str | None = None, **options: Any) -> dict[str, Any]:
    qualified = type_ if parent is None else f"{parent.split('::')[2]}${type_}"
    return {
        "urn": f"urn:pulumi:prod::lakeflow::{qualified}::{name}",
        "type": type_,
        "name": name,
        "parent": parent,
        "custom": not type_.startswith("lakeflow:"),
        "provider": None,
        "inputs": inputs,
        "protect": False,
        "retainOnDelete": False,
        "deleteBeforeReplace": False,
        "aliases": [],
        "dependencies": [],
        "ignoreChanges": [],
        "replaceOnChanges": [],
        **options,
    }


def plan(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"project": "lakeflow", "stack": "prod", "resources": list(resources)}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- 1. decoded values ---------------------------------------------------------------------------


def test_base64_of_json_is_compared_as_the_document():
    old = {"config": {"alertCron": "0 */5 * * * ?"}, "pipelines": {"a": {"max_workers": 10, "tags": ["x"]}}}
    new = {"config": {"alertCron": "0 */5 * * * ?"}, "pipelines": {"a": {"max_workers": 20}, "b": {"n": 1}}}
    d = value_diff("contentBase64", b64(json.dumps(old, indent=2)), b64(json.dumps(new, indent=2)))
    assert d is not None and (d.kind, d.encoding) == ("json", "base64")
    assert [(e.path, e.old, e.new) for e in d.entries] == [
        ("pipelines.a.max_workers", 10, 20),
        ("pipelines.a.tags", ["x"], "(absent)"),
        ("pipelines.b", "(absent)", {"n": 1}),
    ]


def test_any_input_holding_base64_of_json_or_text_is_decoded_not_only_content_base64():
    doc = b64(json.dumps({"k": 1, "pad": "some padding to be long"}))
    d = value_diff("settings.blob", doc, b64(json.dumps({"k": 2, "pad": "some padding to be long"})))
    assert d is not None and d.kind == "json" and [e.path for e in d.entries] == ["k"]
    text = value_diff("script", b64("echo one\necho two\n"), b64("echo one\necho three\n"))
    assert text is not None and (text.kind, text.encoding) == ("text", "base64")
    assert "-echo two" in text.lines and "+echo three" in text.lines


def test_json_written_as_text_is_compared_as_a_document_with_list_elements_aligned():
    old = json.dumps({"datasets": [{"name": "a"}, {"name": "b"}], "pages": [1]}, indent=1)
    new = json.dumps({"datasets": [{"name": "a"}, {"name": "new"}, {"name": "b"}], "pages": [1]}, indent=1)
    d = value_diff("serializedDashboard", old, new)
    assert d is not None and (d.kind, d.encoding) == ("json", None)
    # an element inserted is one addition, not every later element changed
    assert [(e.path, e.old, e.new) for e in d.entries] == [("datasets[1]", "(absent)", {"name": "new"})]


def test_keys_that_are_not_identifiers_are_quoted_in_the_path():
    d = value_diff(
        "contentBase64",
        b64(json.dumps({"spark_conf": {"spark.x.enabled": "true", "a b": 1}})),
        b64(json.dumps({"spark_conf": {"spark.x.enabled": "false", "a b": 2}})),
    )
    assert d is not None
    assert [e.path for e in d.entries] == ['spark_conf["spark.x.enabled"]', 'spark_conf["a b"]']


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        ("contentBase64", "not base64 at all!", "ZZZZ"),  # garbage: shown as before
        ("contentBase64", b64("{}"), "%%%%"),  # one side garbage: both shown as before
        ("contentBase64", base64.b64encode(b"\x00\x01\xff\xfe").decode(), base64.b64encode(b"\x89PNG").decode()),
        ("contentBase64", "[secret]", b64('{"a": 1}')),
        ("name", "ENHANCED", "CURRENT_"),  # short words that are valid base64 are words
        ("warehouseId", "1c2d3e4f5a6b7c8d", "2c2d3e4f5a6b7c8d"),
        ("count", 1, 2),
        ("tags", {"a": 1}, {"a": 2}),
        ("comment", "one line", "another line"),
    ],
)
def test_what_is_not_decodable_keeps_the_plain_display(path, old, new):
    assert value_diff(path, old, new) is None
    change = InputChange(path, old, new)
    line = render_text(
        Diff("prod", [ResourceChange("update", "urn:pulumi:prod::p::t::r", "t", "r", None, changes=[change])]), "x"
    )
    assert f"{path}: " in line


def test_decoding_is_size_and_depth_limited():
    huge = b64(json.dumps({"a": "x" * MAX_DECODED}))
    assert value_diff("contentBase64", huge, b64('{"a": 1}')) is None  # too large: as before
    deep_old, deep_new = "[" * 100 + "1" + "]" * 100, "[" * 100 + "2" + "]" * 100
    d = value_diff("contentBase64", b64(deep_old), b64(deep_new))
    assert d is not None and d.kind == "text"  # too deep for a document: its lines instead
    deeper = "[" * 100_000 + "]" * 100_000  # deeper than the interpreter's recursion limit
    assert value_diff("doc", deeper, "[]\n") is not None


def test_decoding_never_raises_on_random_input():
    rng = random.Random(19)
    alphabet = 'AZaz09+/=={}[]",:\n \\u00'
    for _ in range(400):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        b = rng.choice([a[::-1], b64(a), "{" + a, "(absent)", a + "\n"])
        value_diff(rng.choice(["contentBase64", "x", "queryText"]), a, b)
        value_diff("contentBase64", b64(a), b64(b))


def test_multi_line_text_is_unified_diff_hunks_with_context():
    old = "\n".join(f"line {i}" for i in range(20))
    new = old.replace("line 10", "line ten")
    d = value_diff("queryText", old, new)
    assert d is not None and (d.kind, d.encoding) == ("text", None)
    assert d.lines == ("@@ -8,7 +8,7 @@", " line 7", " line 8", " line 9", "-line 10", "+line ten", " line 11",
                       " line 12", " line 13")  # fmt: skip
    added = value_diff("viewDefinition", "(absent)", "SELECT 1\nFROM t")
    assert added is not None and added.lines[-2:] == ("+SELECT 1", "+FROM t")


def test_a_long_single_line_change_shows_where_it_differs():
    before = "SELECT " + ", ".join(f"col_{i}" for i in range(60)) + " FROM `prod`.`sales`.`orders`"
    after = before.replace("`orders`", "`orders_v2`")
    d = diff_plans(plan(res(TABLE, "v", {"viewDefinition": before})), plan(res(TABLE, "v", {"viewDefinition": after})))
    out = render_text(d, "base")
    assert "`orders`" in out and "`orders_v2`" in out
    md = render_markdown(d, "base")
    check_markdown(md)
    assert "orders_v2" in md


# --- 2./4. text and Markdown, hostile --------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_code_spans_round_trip_any_text(text):
    one_line = text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")
    one_line = re.sub("[\x00-\x08\x0b-\x1f\x7f\u202e]", "\ufffd", one_line)
    assert decode_span(code(text)) == one_line
    (cell,) = cells(f"| {code(text, table=True)} |")
    assert decode_span(cell.replace("\\|", "|")) == one_line
    assert "\n" not in code(text) and "\r" not in code(text)


def test_plain_text_escapes_markup():
    assert md_text("*a* _b_ <c> [d](e) `f` |g| x\n# y") == r"\*a\* \_b\_ \<c\> \[d\](e) \`f\` \|g\| x⏎\# y"


def test_a_fenced_block_is_longer_than_any_fence_inside():
    block = fenced(["```", " ````", "+```` x"], "diff")
    assert block[0] == "`````diff" and block[-1] == "`````"


def _hostile_diff() -> Diff:
    old, new = [], []
    for i, name in enumerate(HOSTILE):
        comp = res(COMPONENT, name, {})
        old.append(comp)
        new.append(comp)
        sql_old = f"SELECT '{name}'\nFROM t{i}\n```\nWHERE x = 1"
        old.append(res(ALERT, f"{name}-alert", {"displayName": name, "queryText": sql_old}, parent=comp["urn"]))
        new.append(
            res(ALERT, f"{name}-alert", {"displayName": f"{name}|2", "queryText": sql_old + "|2"}, parent=comp["urn"])
        )
        new.append(res(JOB, f"{name}-job", {"name": name, "schedule": {"quartzCronExpression": name}}))
        old.append(res(PIPELINE, f"{name}-gone", {"name": name, "catalog": "c`|", "schema": "<s>"}))
    return diff_plans(plan(*old), plan(*new), allow_destroy=[f"urn:pulumi:prod::lakeflow::{HOSTILE[6]}"])


@pytest.mark.parametrize("level", ["full", "compact", "minimal"])
def test_markdown_with_hostile_names_keeps_its_structure(level):
    d = _hostile_diff()
    assert d.count("create") and d.count("update") and d.count("delete") and d.violations and d.unmatched
    md = _markdown(d, "base `ref` | x", level)
    check_markdown(md)
    check_mermaid(mermaid_block(md))
    # every hostile name shows, escaped, never as markup of its own
    lines = outside_fences(md)
    assert not [line for line in lines if line.lstrip().startswith(("# heading", "> quote"))]
    assert not [line for line in lines if line.startswith("|---") and line != "|---|---|---|"]
    for name in ("a`b", "p|q", "*bold* _em_", "<script>alert(1)</script>"):
        assert any(name in span for line in lines for span in code_spans(line.replace("\\|", "|"))), name


def test_summary_lines_are_html_escaped():
    d = _hostile_diff()
    md = _markdown(d, "base", "full")
    summaries = [line for line in md.split("\n") if line.startswith("<details><summary>")]
    assert summaries
    titles = {html.unescape(m) for line in summaries for m in re.findall(r"<code>(.*?)</code>", line)}
    assert any("<script>alert(1)</script>-alert" in t for t in titles)


def test_text_output_never_writes_control_characters():
    out = render_text(_hostile_diff(), "base")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", out)
    assert "\\x1b[31mred\\x00" in out and "invoice\\u202etxt.exe" in out and "\u202e" not in out
    assert all(not line.startswith("# heading") for line in out.split("\n"))


def test_markdown_stays_within_its_budget_for_a_huge_change():
    old, new = [], []
    for i in range(400):
        sql = "\n".join(f"SELECT {j} AS c{j}" for j in range(30))
        old.append(res(ALERT, f"p{i}-alert", {"displayName": f"a{i}", "queryText": sql}))
        new.append(
            res(ALERT, f"p{i}-alert", {"displayName": f"a{i}", "queryText": sql.replace("SELECT 7", "SELECT 8")})
        )
        new.append(res(JOB, f"p{i}-job", {"name": f"j{i}"}))
    md = render_markdown(diff_plans(plan(*old), plan(*new)), "base")
    assert len(md) <= MARKDOWN_BUDGET + 2000, len(md)
    check_markdown(md)
    assert "`make diff STACK=prod` prints them" in md
    nodes, _, _ = check_mermaid(mermaid_block(md))
    assert len(nodes) == 61 and nodes["more"] == "… and 740 more changed resources"


# --- 3. key inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "inputs", "expected"),
    [
        (
            PIPELINE,
            {
                "name": "prod_sales",
                "catalog": "prod",
                "schema": "sales",
                "continuous": False,
                "clusters": [
                    {"label": "default", "autoscale": {"minWorkers": 2, "maxWorkers": 20, "mode": "ENHANCED"}}
                ],
            },
            [
                ("name", "prod_sales"),
                ("catalog", "prod"),
                ("schema", "sales"),
                ("compute", "default: 2-20 workers ENHANCED"),
                ("continuous", "false"),
            ],
        ),
        (
            PIPELINE,
            {"name": "p", "target": "t", "serverless": True, "continuous": True},
            [("name", "p"), ("schema", "t"), ("compute", "serverless"), ("continuous", "true")],
        ),
        (
            JOB,
            {
                "name": "prod_sales_schedule",
                "schedule": {"quartzCronExpression": "0 0 */6 * * ?", "timezoneId": "UTC", "pauseStatus": "PAUSED"},
                "tasks": [{"taskKey": "sales", "pipelineTask": {"pipelineId": "x"}}],
            },
            [
                ("name", "prod_sales_schedule"),
                ("schedule", "0 0 */6 * * ? UTC (paused)"),
                ("tasks", "sales (pipeline)"),
            ],
        ),
        (
            JOB,
            {"name": "j", "trigger": {"tableUpdate": {"tableNames": ["a.b.c", "a.b.d"]}}},
            [("name", "j"), ("trigger", "update of a.b.c, a.b.d")],
        ),
        (
            ALERT,
            {
                "displayName": "[P2] lag",
                "evaluation": {
                    "comparisonOperator": "GREATER_THAN",
                    "source": {"aggregation": "COUNT", "name": "pipeline"},
                    "threshold": {"value": {"doubleValue": 90}},
                },
                "schedule": {"quartzCronSchedule": "0 */5 * * * ?", "timezoneId": "UTC"},
            },
            [("name", "[P2] lag"), ("evaluation", "COUNT(pipeline) > 90"), ("schedule", "0 */5 * * * ? UTC")],
        ),
        (
            "databricks:index/permissions:Permissions",
            {
                "pipelineId": "123",
                "accessControls": [
                    {"groupName": "analysts", "permissionLevel": "CAN_VIEW"},
                    {"servicePrincipalName": "sp1", "permissionLevel": "CAN_MANAGE"},
                ],
            },
            [("pipelineId", "123"), ("access", "analysts CAN_VIEW, sp:sp1 CAN_MANAGE")],
        ),
        (
            TABLE,
            {
                "catalogName": "prod",
                "schemaName": "cur",
                "name": "v",
                "tableType": "VIEW",
                "viewDefinition": "SELECT *\nFROM x",
            },
            [("name", "prod.cur.v"), ("type", "VIEW"), ("view", "SELECT * …")],
        ),
        (
            FILE,
            {"path": "/Volumes/a/b/c.json", "contentBase64": b64('{"a": 1}')},
            [("path", "/Volumes/a/b/c.json"), ("content", "JSON document, 8 bytes")],
        ),
        (
            "databricks:index/query:Query",
            {"displayName": "snap", "queryText": "CREATE TABLE x\nAS SELECT 1"},
            [("name", "snap"), ("sql", "CREATE TABLE x …")],
        ),
        (
            "vendor:index/thing:Thing",
            {"a": 1, "b": {"nested": True}, "c": "x", "d": True, "e": 2.5, "f": "more"},
            [("a", "1"), ("c", "x"), ("d", "true"), ("e", "2.5")],
        ),
        (COMPONENT, {}, []),
    ],
)
def test_key_inputs_say_what_a_resource_is(type_, inputs, expected):
    assert key_inputs(type_, inputs) == expected


@pytest.mark.parametrize(
    "inputs",
    [
        {"clusters": "not a list", "name": 3},
        {"clusters": [None, 1, {"autoscale": "x"}]},
        {"evaluation": "x", "schedule": [1], "tasks": {"a": 1}, "trigger": 5, "accessControls": [None]},
        {"grants": [{"privileges": "x"}], "contentBase64": "%%%"},
        {"displayName": "x" * 10_000},
    ],
)
@pytest.mark.parametrize("type_", [PIPELINE, JOB, ALERT, FILE, TABLE, "databricks:index/grants:Grants", "x:y:Z"])
def test_key_inputs_never_fail_on_an_unexpected_shape(type_, inputs):
    for key, value in key_inputs(type_, inputs):
        assert isinstance(key, str) and isinstance(value, str) and len(value) <= 80


def test_a_replace_shows_what_the_old_resource_loses():
    schema = "databricks:index/schema:Schema"
    d = diff_plans(
        plan(res(schema, "s", {"name": "a", "catalogName": "c"})),
        plan(res(schema, "s", {"name": "b", "catalogName": "c"})),
    )
    text = render_text(d, "base")
    assert (
        "    +- replace  Schema s\n"
        "          replace: name changed (forces replacement)\n"
        "          deletes the old one: name=c.a\n"
        "          and its data: a Unity Catalog schema and every table in it\n"
        "          name: a -> b\n"
    ) in text
    md = render_markdown(d, "base")
    check_markdown(md)
    assert (
        "**Deleted, then created anew:**\n- name: `c.a`\n"
        "- **and its data:** a Unity Catalog schema and every table in it\n"
    ) in md


# --- 5./6. owners and the graph ----------------------------------------------------------------------


def test_changes_are_grouped_by_pipeline_then_component_then_stack():
    comp = res(COMPONENT, "sales", {})
    alerts = res("lakeflow:index:PipelineAlerts", "pipeline-alerts", {})
    old = plan(
        comp,
        res(PIPELINE, "sales-pipeline", {"name": "a", "clusters": [{"autoscale": {"maxWorkers": 10}}]}, comp["urn"]),
        alerts,
        res(ALERT, "pipeline-alerts-sales-lag", {"queryText": "VALUES\n  ('sales', 60)\n"}, alerts["urn"]),
        res(ALERT, "pipeline-alerts-cpu", {"queryText": "a"}, alerts["urn"]),
        res("databricks:index/directory:Directory", "folder", {"path": "/a"}),
    )
    new = json.loads(json.dumps(old).replace('"maxWorkers": 10', '"maxWorkers": 20').replace("60)", "90)"))
    new["resources"][4]["inputs"]["queryText"] = "b"
    new["resources"][5]["inputs"]["path"] = "/b"
    d = diff_plans(old, new)
    assert [(o.kind, o.label, [c.name for c in cs]) for o, cs in d.groups()] == [
        ("pipeline", "sales", ["sales-pipeline", "pipeline-alerts-sales-lag"]),
        ("component", "pipeline-alerts (PipelineAlerts)", ["pipeline-alerts-cpu"]),
        ("stack", "stack", ["folder"]),
    ]
    (_, sales), *_ = d.groups()
    assert summary_text(sales) == (
        "1 pipeline updated (clusters[0].autoscale.maxWorkers 10 -> 20), "
        "1 alert updated (queryText ('sales', 60) -> ('sales', 90))"
    )
    text = render_text(d, "base")
    assert "  [sales] 1 pipeline updated (clusters[0].autoscale.maxWorkers 10 -> 20)" in text
    md = render_markdown(d, "base")
    check_markdown(md)
    assert "- `sales`: 1 pipeline updated (`clusters[0].autoscale.maxWorkers 10 -> 20`)" in md
    nodes, edges, titles = check_mermaid(mermaid_block(md))
    assert titles == ["sales", "pipeline-alerts #40;PipelineAlerts#41;", "stack"]
    by_label = {label: node for node, label in nodes.items()}
    assert (by_label["DltPipeline sales"], by_label["~ update<br/>Pipeline sales-pipeline"]) in edges
    assert (
        by_label["PipelineAlerts pipeline-alerts"],
        by_label["~ update<br/>AlertV2 pipeline-alerts-sales-lag"],
    ) in edges


def test_an_engine_preview_is_grouped_from_its_urns():
    """A preview lists only what changes: the owner comes from the URN's type chain and names."""
    parent = "urn:pulumi:prod::lakeflow::lakeflow:index:PipelineAlerts::pipeline-alerts"
    urn = f"urn:pulumi:prod::lakeflow::lakeflow:index:PipelineAlerts${ALERT}::pipeline-alerts-cpu"
    pipeline = f"urn:pulumi:prod::lakeflow::{COMPONENT}${PIPELINE}::orders-pipeline"
    state = {"type": ALERT, "parent": parent, "inputs": {"queryText": "a\nb"}}
    updated = {**state, "inputs": {"queryText": "a\nc"}}
    created = {"type": PIPELINE, "parent": f"urn:pulumi:prod::lakeflow::{COMPONENT}::orders", "inputs": {"name": "o"}}
    preview = {
        "steps": [
            {"op": "update", "urn": urn, "oldState": state, "newState": updated, "diffReasons": ["queryText"]},
            {"op": "create", "urn": pipeline, "newState": created},
        ]
    }
    d = diff_from_preview("prod", preview)
    assert [(o.label, [c.name for c in cs]) for o, cs in d.groups()] == [
        ("orders", ["orders-pipeline"]),
        ("pipeline-alerts (PipelineAlerts)", ["pipeline-alerts-cpu"]),
    ]
    assert "-b" in render_text(d, "deployed") and "+c" in render_text(d, "deployed")
    check_mermaid(mermaid(d))


@pytest.mark.parametrize("text", HOSTILE)
def test_mermaid_labels_cannot_end_or_restyle_a_node(text):
    label = mermaid_text(text)
    assert re.fullmatch(r'(?:[^"\[\]{}()<>`|;#\n\r]|#\d+;)*', label), label


def test_the_graph_is_capped():
    new = plan(*(res(JOB, f"job-{i}", {"name": str(i)}) for i in range(100)))
    nodes, _, _ = check_mermaid(mermaid(diff_plans(plan(), new)))
    assert len(nodes) == 61 and nodes["more"] == "… and 40 more changed resources"


# --- 7. acknowledgements -------------------------------------------------------------------------------


def test_an_acknowledgement_of_nothing_is_reported_with_the_closest_destroyed_urn():
    gone = res(PIPELINE, "orders-pipeline", {"name": "orders"})
    typo = gone["urn"].replace("orders", "ordres")
    d = diff_plans(plan(gone), plan(), allow_destroy=[typo, "urn:pulumi:prod::x::y::z", typo])
    assert [(u.urn, u.closest) for u in d.unmatched] == [(typo, gone["urn"]), ("urn:pulumi:prod::x::y::z", None)]
    assert [v.urn for v in d.violations] == [gone["urn"]]  # still refused
    out = render_text(d, "base")
    assert f"Data-loss guard: acknowledgement matches no destroyed resource: {typo}" in out
    assert f"closest destroyed or replaced resource: {gone['urn']}" in out
    assert "quote it with single quotes" in out
    md = render_markdown(d, "base")
    check_markdown(md)
    assert f"> - acknowledgement matches no destroyed resource: {code(typo)}; closest destroyed" in md
    assert d.to_json()["dataLossGuard"]["unmatchedAcknowledgements"] == [
        {"urn": typo, "closest": gone["urn"]},
        {"urn": "urn:pulumi:prod::x::y::z", "closest": None},
    ]
