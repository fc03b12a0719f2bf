"""A safe filter language for segments, funnel steps and breakdowns.

A filter is text such as::

    channel == "app" and properties.platform in ("ios", "android")
      and count(event == "purchase", 30d) >= 2 and first_channel == "ads"

It is tokenised and parsed by a small recursive-descent parser into a tree, checked against a
whitelist of fields, and compiled into Ibis expressions. Values become bound literals; nothing
a user writes is ever evaluated as Python or pasted into SQL. A malformed filter raises
:class:`~journeykit.errors.InvalidFilter` with the position of the problem.

Grammar (keywords are case-insensitive)::

    filter     := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := value [op value | ["not"] "in" "(" literal ("," literal)* ")"
                         | "is" ["not"] "null" | "contains" string]
    op         := "==" | "!=" | "<" | "<=" | ">" | ">="
    value      := literal | field | "count" "(" [filter] ["," duration] ")"
                | "cohort" "(" string ")" | "(" filter ")"
    literal    := string | number | true | false | null
    field      := name ("." name)?

Fields:

- on the event: ``event``, ``channel``, ``type``, ``source``, ``revenue``, ``ts``, ``seq``,
  ``prev_event``, ``person_id``, ``event_id``, ``properties.<key>``;
- on the person: ``first_channel``, ``last_channel`` (the channels of the first and last
  touch), ``first_seen``, ``last_seen``, ``n_events``, ``lifetime_revenue``, ``traits.<key>``;
- ``count(<event filter>, 30d)``: how many of the person's events match, in the window that
  ends at the latest event of the workspace (or ``as_of``); without a window, ever;
- ``cohort("name")``: whether the person is in a cohort handed to the evaluation.

Semantics: :meth:`Filter.events` keeps the events for which the filter holds, person fields
read from the event's person; :meth:`Filter.people` keeps the people with at least one such
event. So ``not channel == "app"`` means "has an event outside the app"; "never used the app"
is ``count(channel == "app") == 0``. Comparisons with a missing value (null) are false.
Property and trait values are JSON text: compared as text with a string, as a number with a
number (text that is not a number is null), and as ``"true"``/``"false"`` with a boolean.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from journeykit.analytics._common import (
    US_PER_SECOND,
    TableSource,
    engine,
    json_text,
    left_join,
)
from journeykit.analytics.filter_syntax import (
    EVENT_FIELDS,
    PERSON_FIELDS,
    BoolOp,
    Cohort,
    Compare,
    Contains,
    Count,
    Field,
    InList,
    IsNull,
    Literal,
    Node,
    Not,
    _Parser,
    walk,
)
from journeykit.errors import InvalidFilter

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    import pandas as pd

__all__ = [
    "EVENT_FIELDS",
    "PERSON_FIELDS",
    "Field",
    "Filter",
    "field_value",
    "parse_field",
    "parse_filter",
    "person_table",
    "walk",
]


# --- the public object ----------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """A parsed, checked filter. Build one with :func:`parse_filter`.

    Attributes:
        text: the filter as written.
        root: the parsed tree.
    """

    text: str
    root: Node = field(repr=False)

    @property
    def person_level(self) -> bool:
        """True when the filter reads only person fields, counts and cohorts."""
        return not any(isinstance(n, Field) and n.level == "event" for n in _outer(self.root))

    @property
    def needs_people(self) -> bool:
        """True when the filter reads a person field (a join with ``people``)."""
        return any(isinstance(n, Field) and n.level == "person" for n in _outer(self.root))

    def annotate(
        self,
        ws: TableSource,
        events: ibis.Table | None = None,
        *,
        as_of: datetime | str | None = None,
        cohorts: Mapping[str, Any] | None = None,
    ) -> ibis.Table:
        """The events (``events`` or the workspace's) with the columns the filter needs.

        Person fields, counts and cohorts become columns joined on ``person_id``; call
        :meth:`predicate` on the result.
        """
        t = ws.table("events") if events is None else events
        return _Compiler(self, ws, as_of, cohorts).annotate(t)

    def predicate(self, table: ibis.Table) -> ir.BooleanValue:
        """The boolean expression of the filter over an :meth:`annotate` d table."""
        return _Compiler(self, None, None, None).compile(self.root, table)

    def events(
        self,
        ws: TableSource,
        events: ibis.Table | None = None,
        *,
        as_of: datetime | str | None = None,
        cohorts: Mapping[str, Any] | None = None,
    ) -> ibis.Table:
        """The events for which the filter holds (the events table's columns only).

        Args:
            ws: the workspace.
            events: a subset of the events to filter (default: all).
            as_of: the end of ``count(..., window)`` windows (default: the latest event).
            cohorts: named cohorts for ``cohort("name")``: DataFrames or Ibis tables with a
                ``person_id`` column, or filters.

        >>> import journeykit, tempfile
        >>> from journeykit.ingest import load
        >>> ws = journeykit.open(tempfile.mkdtemp())
        >>> _ = load(ws, [{"ts": "2026-01-05T10:00:00", "event": "signup", "user_id": "u1",
        ...                "channel": "app"}])
        >>> parse_filter('channel == "app"').events(ws).count().execute()
        1
        """
        t = ws.table("events") if events is None else events
        cols = t.columns
        annotated = self.annotate(ws, t, as_of=as_of, cohorts=cohorts)
        return annotated.filter(self.predicate(annotated)).select(*cols)

    def people(
        self,
        ws: TableSource,
        events: ibis.Table | None = None,
        *,
        as_of: datetime | str | None = None,
        cohorts: Mapping[str, Any] | None = None,
    ) -> ibis.Table:
        """The people (one ``person_id`` column, distinct) with an event the filter keeps.

        A filter of person fields, counts and cohorts only is evaluated on the ``people``
        table directly (no scan of the events).
        """
        if self.person_level and events is None:
            people = ws.table("people").select("person_id")
            comp = _Compiler(self, ws, as_of, cohorts)
            t = comp.annotate(people)
            return t.filter(comp.compile(self.root, t)).select("person_id")
        return self.events(ws, events, as_of=as_of, cohorts=cohorts).select("person_id").distinct()


def parse_filter(text: str | Filter) -> Filter:
    """Parse and check a filter; raise :class:`InvalidFilter` pointing at the problem.

    >>> parse_filter('channel == "app" and count(event == "purchase", 30d) >= 2').text
    'channel == "app" and count(event == "purchase", 30d) >= 2'
    >>> parse_filter("channel = 'app'")
    Traceback (most recent call last):
    ...
    journeykit.errors.InvalidFilter: field 'filter': unexpected character '=' (use == to compare)
      channel = 'app'
              ^
    """
    if isinstance(text, Filter):
        return text
    if not isinstance(text, str):
        raise InvalidFilter(f"a filter is text, not {type(text).__name__}")
    return Filter(text, _Parser(text).parse())


def parse_field(text: str) -> Field:
    """Parse one field name (for breakdowns), e.g. ``"properties.platform"``.

    >>> parse_field("first_channel").level
    'person'
    """
    parser = _Parser(text)
    node = parser.parse_field() if parser.tok.kind == "name" else None
    if node is None or parser.tok.kind != "end":
        raise parser.error("expected one field name, e.g. channel or properties.platform")
    return node


def field_value(node: Field, table: ibis.Table, backend: str) -> ir.Value:
    """The Ibis value of a field over a table that holds the columns it needs.

    ``properties.<key>`` reads the event's ``properties`` column and ``traits.<key>`` the
    joined ``_traits`` column; person fields read their ``_p_`` prefixed joined columns.
    """
    if node.name.startswith("properties."):
        return json_text(table.properties, node.name.split(".", 1)[1], backend)
    if node.name.startswith("traits."):
        return json_text(table["_p_traits"], node.name.split(".", 1)[1], backend)
    if node.level == "person":
        return table["_p_" + PERSON_FIELDS[node.name][0]]
    return table[node.name]


def join_people(ws: TableSource, table: ibis.Table, columns: set[str]) -> ibis.Table:
    """Join the named ``people`` columns onto ``table`` as ``_p_<column>``."""
    if not columns:
        return table
    people = ws.table("people")
    picked = people.select("person_id", *[people[c].name(f"_p_{c}") for c in sorted(columns)])
    return left_join(table, picked, ["person_id"])


def people_columns(nodes: Iterable[Node]) -> set[str]:
    """The ``people`` columns a set of nodes reads."""
    out = set()
    for n in nodes:
        if isinstance(n, Field) and n.level == "person":
            out.add("traits" if n.name.startswith("traits.") else PERSON_FIELDS[n.name][0])
    return out


def _outer(node: Node) -> Iterator[Node]:
    """Nodes outside count(...) conditions."""
    yield node
    if isinstance(node, Count):
        return
    children: tuple[Node, ...] = ()
    if isinstance(node, Compare):
        children = (node.left, node.right)
    elif isinstance(node, InList | IsNull | Contains):
        children = (node.operand,)
    elif isinstance(node, BoolOp):
        children = node.items
    elif isinstance(node, Not):
        children = (node.item,)
    for child in children:
        yield from _outer(child)


class _Compiler:
    """Turns a filter tree into Ibis expressions over an annotated table."""

    def __init__(
        self,
        flt: Filter,
        ws: TableSource | None,
        as_of: datetime | str | None,
        cohorts: Mapping[str, Any] | None,
    ) -> None:
        self.flt = flt
        self.ws = ws
        self.as_of = as_of
        self.cohorts = cohorts or {}
        self.backend = engine(ws) if ws is not None else ""

    def annotate(self, t: ibis.Table) -> ibis.Table:
        import ibis

        assert self.ws is not None
        ws = self.ws
        nodes = list(_outer(self.flt.root))
        t = join_people(ws, t, people_columns(nodes))
        counts = [n for n in nodes if isinstance(n, Count)]
        for i, node in enumerate(counts):
            ev = ws.table("events")
            keep = ev
            if node.cond is not None:
                keep = keep.filter(_Compiler(self.flt, ws, None, None).compile(node.cond, ev))
            if node.window is not None:
                end = self._as_of(ev)
                start = end - ibis.interval(
                    seconds=int(node.window.total_seconds() * US_PER_SECOND) // US_PER_SECOND
                )
                keep = keep.filter(keep.ts > start, keep.ts <= end)
            agg = keep.group_by("person_id").agg(**{f"_n{i}": keep.count()})
            t = left_join(t, agg, ["person_id"])
            t = t.mutate(**{f"_n{i}": t[f"_n{i}"].fill_null(0)})
        cohort_nodes = [n for n in nodes if isinstance(n, Cohort)]
        for i, member_of in enumerate(cohort_nodes):
            members = self._cohort(member_of).mutate(**{f"_c{i}": ibis.literal(True)})
            t = left_join(t, members, ["person_id"])
            t = t.mutate(**{f"_c{i}": t[f"_c{i}"].fill_null(False)})
        return t

    def _as_of(self, ev: ibis.Table) -> Any:
        import ibis

        if self.as_of is not None:
            from journeykit.analytics._common import parse_time

            return ibis.literal(parse_time(self.as_of, field="as_of"), type="timestamp")
        return ev.ts.max()

    def _cohort(self, node: Cohort) -> ibis.Table:

        assert self.ws is not None
        if node.name not in self.cohorts:
            known = ", ".join(sorted(self.cohorts)) or "none given"
            raise InvalidFilter(
                f"unknown cohort {node.name!r} (cohorts: {known})",
                text=self.flt.text,
                position=node.pos,
            )
        return person_table(self.ws, self.cohorts[node.name])

    def compile(self, node: Node, t: ibis.Table) -> Any:
        import ibis

        backend = self.backend or _table_backend(t)
        if isinstance(node, BoolOp):
            parts = [self.compile(n, t) for n in node.items]
            out = parts[0]
            for p in parts[1:]:
                out = (out & p) if node.op == "and" else (out | p)
            return out
        if isinstance(node, Not):
            return ~self.compile(node.item, t).fill_null(False)
        if isinstance(node, Literal):
            return ibis.literal(node.value)
        if isinstance(node, Field):
            return field_value(node, t, backend)
        if isinstance(node, Count):
            counts = [n for n in _outer(self.flt.root) if isinstance(n, Count)]
            return t[f"_n{counts.index(node)}"]
        if isinstance(node, Cohort):
            cohorts = [n for n in _outer(self.flt.root) if isinstance(n, Cohort)]
            return t[f"_c{cohorts.index(node)}"]
        if isinstance(node, IsNull):
            value = self.compile(node.operand, t)
            return value.notnull() if node.negate else value.isnull()
        if isinstance(node, Contains):
            value = self.compile(node.operand, t)
            return value.cast("string").contains(node.needle).fill_null(False)
        if isinstance(node, InList):
            value = self.compile(node.operand, t)
            values = [v.value for v in node.values if v.value is not None]
            value = _coerce(value, node.operand, values[0] if values else "")
            lits = [_lit(v) for v in values]
            hit = value.isin(lits) if lits else ibis.literal(False)
            if any(v.value is None for v in node.values):
                hit = hit | value.isnull()
            return (~hit if node.negate else hit).fill_null(False)
        if isinstance(node, Compare):
            return self._compare(node, t)
        raise InvalidFilter("cannot evaluate this part", text=self.flt.text, position=node.pos)

    def _compare(self, node: Compare, t: ibis.Table) -> Any:
        left, right = node.left, node.right
        if isinstance(right, Literal) and right.value is None:
            value = self.compile(left, t)
            return value.isnull() if node.op == "==" else value.notnull()
        if isinstance(left, Literal) and left.value is None:
            value = self.compile(right, t)
            return value.isnull() if node.op == "==" else value.notnull()
        a, b = self.compile(left, t), self.compile(right, t)
        if isinstance(right, Literal):
            a = _coerce(a, left, right.value)
            b = _lit(right.value, left)
        elif isinstance(left, Literal):
            b = _coerce(b, right, left.value)
            a = _lit(left.value, right)
        out = {
            "==": lambda: a == b,
            "!=": lambda: a != b,
            "<": lambda: a < b,
            "<=": lambda: a <= b,
            ">": lambda: a > b,
            ">=": lambda: a >= b,
        }[node.op]()
        return out.fill_null(False)


def _coerce(value: Any, node: Node, literal: Any) -> Any:
    """Read JSON text as a number when compared with a number."""
    if isinstance(node, Field) and node.kind == "json":
        if isinstance(literal, float) and not isinstance(literal, bool):
            return value.try_cast("float64")
        return value
    return value


def _lit(value: Any, other: Node | None = None) -> Any:
    import ibis

    if isinstance(value, bool):
        if isinstance(other, Field) and other.kind == "json":
            return ibis.literal("true" if value else "false")
        return ibis.literal(value)
    if isinstance(other, Field) and other.kind == "time" and isinstance(value, str):
        from journeykit.analytics._common import parse_time

        return ibis.literal(parse_time(value, field="filter"), type="timestamp")
    return ibis.literal(value)


def _table_backend(t: ibis.Table) -> str:
    try:
        return str(t._find_backend().name)
    except Exception:  # an unbound table (memtable only): DuckDB semantics
        return "duckdb"


def _person_frame(value: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        if "person_id" not in value.columns:
            raise InvalidFilter("a cohort DataFrame needs a person_id column")
        return value[["person_id"]].drop_duplicates().astype({"person_id": object})
    return pd.DataFrame({"person_id": sorted({str(v) for v in value})}, dtype=object)


def person_table(ws: TableSource, value: Any) -> ibis.Table:
    """People (a ``person_id`` table) from a filter, its text, an Ibis table or a DataFrame."""
    import ibis

    if isinstance(value, str | Filter):
        return parse_filter(value).people(ws)
    if isinstance(value, ibis.Table):
        return value.select("person_id").distinct()
    return ibis.memtable(_person_frame(value))
