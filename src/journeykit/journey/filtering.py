"""Filters inside a journey spec: touchpoint and goal conditions, personas, property reads.

Everything a spec filters with goes through this module, which hands the text to the safe
filter language of :mod:`journeykit.analytics.filters` (parsed into a tree and compiled into
Ibis expressions; nothing a user writes is pasted into SQL). Touchpoint and goal conditions
decide about one event, so they may read event fields only (``event``, ``channel``,
``properties.<key>``, ...); personas may use the whole language (person fields, ``count(...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from journeykit.errors import InvalidFilter

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from journeykit.store import Workspace


def check_filter(text: str, *, event_level: bool) -> None:
    """Parse a filter; raise :class:`InvalidFilter` if it is malformed.

    Args:
        text: the filter.
        event_level: when true, the filter may read event fields only.

    >>> check_filter('channel == "app"', event_level=True)
    >>> check_filter("n_events > 3", event_level=True)
    Traceback (most recent call last):
    ...
    journeykit.errors.InvalidFilter: field 'filter': a touchpoint or goal condition reads the event only; 'n_events' is a person field
    """
    from journeykit.analytics.filters import Field, parse_filter, walk

    flt = parse_filter(text)
    if not event_level:
        return
    for node in walk(flt.root):
        if isinstance(node, Field) and node.level != "event":
            raise InvalidFilter(
                "a touchpoint or goal condition reads the event only; "
                f"{node.name!r} is a person field"
            )
        if type(node).__name__ in ("Count", "Cohort"):
            raise InvalidFilter(
                "a touchpoint or goal condition reads the event only; "
                "count(...) and cohort(...) describe a person"
            )


def event_condition(table: ibis.Table, text: str) -> ir.BooleanValue:
    """The boolean Ibis expression of an event-level filter over an events table."""
    from journeykit.analytics.filters import parse_filter

    return parse_filter(text).predicate(table)


def persona_people(ws: Workspace, text: str, groups: ibis.Table | None = None) -> ibis.Table:
    """The people (a ``person_id`` table) a persona filter selects.

    ``groups`` may hold one row per person, event name and channel (the map's touch groups):
    a filter that reads only ``event``, ``channel`` and ``person_id`` gives the same people
    over it, and it is much smaller than the events.
    """
    from journeykit.analytics.filters import Field, parse_filter, walk

    flt = parse_filter(text)
    nodes = list(walk(flt.root))
    fields = {n.name for n in nodes if isinstance(n, Field)}
    counted = any(type(n).__name__ in ("Count", "Cohort") for n in nodes)
    if groups is not None and not counted and fields <= {"event", "channel", "person_id"}:
        return flt.people(ws, events=groups.select("person_id", "event", "channel"))
    return flt.people(ws)


def property_text(table: ibis.Table, key: str) -> ir.StringValue:
    """The text of ``properties.<key>`` of each event (numbers as their digits; null if absent)."""
    from journeykit.analytics.filters import field_value, parse_field

    return field_value(parse_field(f"properties.{key}"), table, backend_name(table))


def event_field(table: ibis.Table, field: str) -> ir.Value:
    """The value of a spec field over an events table: a column (``revenue``, ``channel``) or
    the text of ``properties.<key>`` (how the spec names where a value is)."""
    from journeykit.analytics.filters import field_value, parse_field

    return field_value(parse_field(field), table, backend_name(table))


def event_money(table: ibis.Table, field: str) -> ir.FloatingValue:
    """The money of each event from the spec's revenue field: the ``revenue`` column, or a
    property read as a number (numeric text too); null where it has none."""
    if field == "revenue":
        return table.revenue
    return event_field(table, field).cast("string").strip().try_cast("float64")


def property_texts(table: ibis.Table, keys: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``properties.<key>`` text for several keys; DuckDB parses each document once for all.

    Keys must be plain names (letters, digits, ``_``, ``-``); they become a bound list of
    JSON paths, never SQL text.
    """
    import re

    import ibis

    keys = list(keys)
    for key in keys:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", key):
            raise InvalidFilter(f"{key!r} is not a property name")
    if len(keys) < 2 or backend_name(table) != "duckdb":
        return {k: property_text(table, k) for k in keys}
    values = _json_strings()(table.properties, ibis.literal([f"$.{k}" for k in keys]))
    return {k: values[i] for i, k in enumerate(keys)}


_JSON_STRINGS: list[Any] = []


def _json_strings() -> Any:
    """DuckDB's json_extract_string over a list of paths (declared once, on first use)."""
    if not _JSON_STRINGS:
        import ibis

        @ibis.udf.scalar.builtin(name="json_extract_string")
        def json_strings(doc: str, paths: list[str]) -> list[str]:  # type: ignore[empty-body]
            """DuckDB's json_extract_string with a list of paths."""

        _JSON_STRINGS.append(json_strings)
    return _JSON_STRINGS[0]


def backend_name(table: ibis.Table | Any) -> str:
    """The name of the engine behind an Ibis table (``duckdb`` for unbound tables)."""
    try:
        return str(table._find_backend().name)
    except Exception:  # an unbound memtable: DuckDB semantics
        return "duckdb"
