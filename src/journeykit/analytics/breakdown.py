"""Breakdowns: the groups a funnel, flow or retention table is split by.

A breakdown is a list of dimensions and, optionally, named segments:

- ``"day"``, ``"week"``, ``"month"``: the calendar bucket of the anchor event (a funnel's first
  step, a cohort's first event), as the bucket's first day;
- an event field (``"channel"``, ``"event"``, ``"properties.platform"``): read on the anchor
  event;
- a person field (``"first_channel"``, ``"last_channel"``, ``"traits.plan"``);
- a mapping ``{name: segment}`` whose values are filters (text or
  :class:`~journeykit.analytics.filters.Filter`), Ibis tables or DataFrames with a
  ``person_id`` column (cohorts). Its groups go in a ``segment`` column; a person in two
  segments counts in both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from journeykit.analytics._common import (
    TableSource,
    engine,
    left_join,
    period_index,
    period_start,
)
from journeykit.analytics.filters import (
    Field,
    field_value,
    join_people,
    parse_field,
    people_columns,
    person_table,
)
from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis
    import pandas as pd

TIME_DIMS = ("day", "week", "month")
NONE_LABEL = "(none)"
SEGMENT = "segment"

By = str | Sequence[str] | Mapping[str, Any] | None


@dataclass(frozen=True)
class Breakdown:
    """A parsed breakdown: dimensions (in order) and named segments."""

    dims: tuple[str, ...] = ()
    segments: tuple[tuple[str, Any], ...] = ()

    @property
    def columns(self) -> list[str]:
        """The group columns of the result tables."""
        return [*self.dims, *([SEGMENT] if self.segments else [])]

    @property
    def event_fields(self) -> list[Field]:
        """Dimensions read on the anchor event."""
        return [f for f in self._fields() if f.level == "event"]

    @property
    def needs_anchor(self) -> bool:
        """True when a dimension reads the anchor event (an event field or a time bucket)."""
        return bool(self.event_fields) or any(d in TIME_DIMS for d in self.dims)

    def _fields(self) -> list[Field]:
        return [parse_field(d) for d in self.dims if d not in TIME_DIMS]

    def apply(self, ws: TableSource, units: ibis.Table, anchor: ibis.Table | None) -> ibis.Table:
        """Add the group columns to ``units`` (one row per unit, keyed by ``person_id``).

        Args:
            ws: the workspace (people and segments are read from it).
            units: the units, with ``person_id`` and ``_anchor_seq`` when ``anchor`` is given.
            anchor: events (``person_id``, ``seq``, ``ts``, ``_us`` and the raw columns event
                fields read) to read event dimensions from, matched on ``_anchor_seq``.
        """
        import ibis

        backend = engine(ws)
        t = units
        if self.needs_anchor:
            if anchor is None:
                raise InputError("this breakdown needs an anchor event", field="by")
            cols = {"ts", "_us"} | {
                "properties" if f.name.startswith("properties.") else f.name
                for f in self.event_fields
            }
            picked = anchor.select("person_id", "seq", *sorted(cols))
            picked = picked.rename({f"_a_{c}": c for c in ["person_id", "seq", *sorted(cols)]})
            t = t.left_join(
                picked,
                [t.person_id == picked._a_person_id, t._anchor_seq == picked._a_seq],
            )
        t = join_people(ws, t, people_columns(self._fields()))
        values: dict[str, Any] = {}
        for dim in self.dims:
            if dim in TIME_DIMS:
                values[dim] = period_index(t["_a_ts"], t["_a__us"], dim)  # type: ignore[arg-type]
                continue
            fld = parse_field(dim)
            if fld.level == "event":
                proxy = _Prefixed(t, "_a_")
                values[dim] = field_value(fld, proxy, backend).cast("string")  # type: ignore[arg-type]
            else:
                values[dim] = field_value(fld, t, backend).cast("string")
        t = t.mutate(**{f"_g_{i}": v for i, v in enumerate(values.values())})
        if self.segments:
            members = None
            for name, value in self.segments:
                one = person_table(ws, value).mutate(**{SEGMENT: ibis.literal(name)})
                members = one if members is None else members.union(one)
            assert members is not None
            members = members.rename(_m_person_id="person_id")
            t = t.join(members, t.person_id == members._m_person_id).drop("_m_person_id")
        drop = [c for c in t.columns if c.startswith(("_a_", "_p_"))]
        t = t.drop(*drop) if drop else t
        return t.rename({dim: f"_g_{i}" for i, dim in enumerate(self.dims)})

    def finish(self, df: pd.DataFrame) -> pd.DataFrame:
        """Turn bucket indexes into dates and missing values into ``(none)`` in a result."""
        for dim in self.dims:
            if dim not in df.columns:
                continue
            if dim in TIME_DIMS:
                df[dim] = [None if v != v else period_start(int(v), dim) for v in df[dim]]  # type: ignore[arg-type]
            else:
                df[dim] = df[dim].astype(object).where(df[dim].notna(), NONE_LABEL)
        return df


class _Prefixed:
    """A table view where ``t.name`` reads column ``prefix + name`` (anchor columns)."""

    def __init__(self, table: ibis.Table, prefix: str) -> None:
        self._t = table
        self._p = prefix

    def __getattr__(self, name: str) -> Any:
        return self._t[self._p + name]

    def __getitem__(self, name: str) -> Any:
        return self._t[self._p + name]


def parse_by(by: By) -> Breakdown:
    """Read a ``by=`` argument: a dimension, a list of them, or ``{name: segment}``.

    >>> parse_by(["properties.platform", "week"]).columns
    ['properties.platform', 'week']
    >>> parse_by({"ios": 'properties.platform == "ios"'}).columns
    ['segment']
    """
    if by is None:
        return Breakdown()
    if isinstance(by, Mapping):
        if not by:
            raise InputError("give at least one segment", field="by")
        return Breakdown(segments=tuple((str(k), v) for k, v in by.items()))
    dims = (by,) if isinstance(by, str) else tuple(by)
    segments: list[tuple[str, Any]] = []
    plain: list[str] = []
    for d in dims:
        if isinstance(d, Mapping):
            segments += [(str(k), v) for k, v in d.items()]
        elif d in TIME_DIMS:
            plain.append(d)
        else:
            parse_field(str(d))  # raises InvalidFilter on unknown names
            plain.append(str(d))
    if len(set(plain)) != len(plain):
        raise InputError("a dimension is named twice", field="by")
    return Breakdown(dims=tuple(plain), segments=tuple(segments))


def group_filter(df: pd.DataFrame, group: Mapping[str, Any] | None) -> pd.DataFrame:
    """Rows of ``df`` whose group columns equal ``group``'s values."""
    if not group:
        return df
    mask = None
    for k, v in group.items():
        if k not in df.columns:
            raise InputError(f"{k!r} is not a group column of this result", field="group")
        hit = df[k] == v
        mask = hit if mask is None else mask & hit
    return df[mask] if mask is not None else df


def join_units(left: ibis.Table, right: ibis.Table, keys: Sequence[str]) -> ibis.Table:
    """``left LEFT JOIN right`` on unit keys (one copy of the keys)."""
    return left_join(left, right, keys)
