"""Conversion paths: the touches that lead up to each conversion, for attribution.

A path is one person's run of touches ending at a conversion (or, for the touches after a
person's last conversion, ending without one). Only touches inside the lookback window before
the path's end belong to it.

:class:`Paths` holds two DataFrames:

``touches`` (one row per touch, sorted by ``path_id`` then ``ts``):

=========== ================================================================
path_id     ``person_id#k``: the person's (k+1)-th path
person_id   the person
ts          when the touch happened
channel     the touch's channel (ads, social, email, ...)
touchpoint  a finer label (the event name and campaign, or as given)
=========== ================================================================

``outcomes`` (one row per path, including conversions that had no touch):

=========== ================================================================
path_id     as above
person_id   the person
converted   whether the path ends with a conversion
revenue     the conversion's revenue (0 when not converted)
end_ts      the conversion's time, or the last touch's time when not converted
weight      (paths read from a table only) how many journeys took this path
            with this outcome; every path counts once without it
=========== ================================================================

Paths come from a workspace (:func:`paths_from_workspace`), from a long DataFrame of touches
and conversions (:func:`build_paths`), or from a table of aggregated paths as marketing tools
export them (:func:`paths_from_table`: ``"search > email > direct"``, conversions, value,
nulls), which carries no touch times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from journeykit.analytics.value._common import (
    events_table,
    isin_fast,
    require_columns,
    to_datetime,
)
from journeykit.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from journeykit.store import Workspace


@dataclass(frozen=True)
class Paths:
    """Touches and the outcome of each path (columns in the module docstring).

    Attributes:
        touches: one row per touch.
        outcomes: one row per path.
        lookback_days: the lookback window the paths were cut with (``None``: unlimited).
    """

    touches: pd.DataFrame
    outcomes: pd.DataFrame
    lookback_days: float | None

    @property
    def weights(self) -> np.ndarray:
        """How many journeys each outcome row stands for (ones unless read from a table)."""
        if "weight" in self.outcomes.columns:
            return self.outcomes["weight"].to_numpy(float)
        return np.ones(len(self.outcomes))

    @property
    def timed(self) -> bool:
        """Whether every touch has a time (paths read from a table have none)."""
        return bool(self.touches["ts"].notna().all())

    @property
    def conversions(self) -> float:
        """Conversions in all paths, with or without touches."""
        return float(self.outcomes["converted"].to_numpy(float) @ self.weights)

    @property
    def unattributed(self) -> float:
        """Conversions whose path has no touch in the lookback window (no model credits them)."""
        touched = isin_fast(self.outcomes["path_id"], self.touches["path_id"])
        conv = self.outcomes["converted"].to_numpy(float) * self.weights
        return float(conv[~touched].sum())


def build_paths(
    frame: pd.DataFrame,
    *,
    lookback_days: float | None = 30.0,
    converted_col: str = "converted",
    revenue_col: str = "revenue",
    touchpoint_col: str | None = None,
) -> Paths:
    """Cut a long DataFrame of touches and conversions into paths.

    Args:
        frame: one row per touch or conversion with ``person_id``, ``ts``, ``channel`` and a
            boolean ``converted_col`` that marks conversion rows (their channel is ignored);
            ``revenue_col`` holds the conversion's revenue (optional).
        lookback_days: only touches this many days before the path's end count (``None``:
            every touch since the previous conversion).
        converted_col, revenue_col: the names of those columns.
        touchpoint_col: a column with a finer touch label (default: the channel).

    Returns:
        :class:`Paths`.

    >>> import pandas as pd
    >>> f = pd.DataFrame({"person_id": ["a", "a", "a", "b"],
    ...     "ts": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-01"]),
    ...     "channel": ["ads", "email", None, "social"], "converted": [False, False, True, False],
    ...     "revenue": [None, None, 50.0, None]})
    >>> build_paths(f).outcomes[["path_id", "converted", "revenue"]].values.tolist()
    [['a#0', True, 50.0], ['b#0', False, 0.0]]
    """
    import pandas as pd

    require_columns(frame, ("person_id", "ts", "channel", converted_col), "build_paths")
    df = pd.DataFrame(
        {
            "person_id": frame["person_id"].astype(str).to_numpy(),
            "ts": pd.to_datetime(frame["ts"]).to_numpy(),
            "channel": frame["channel"].to_numpy(),
            "touchpoint": (
                frame[touchpoint_col] if touchpoint_col else frame["channel"]
            ).to_numpy(),
            "is_conv": frame[converted_col].fillna(False).astype(bool).to_numpy(),
            "revenue": (
                pd.to_numeric(frame[revenue_col]).fillna(0.0).to_numpy(float)
                if revenue_col in frame.columns
                else np.zeros(len(frame))
            ),
            "_order": np.arange(len(frame)),
        }
    )
    df = df.sort_values(["person_id", "ts", "is_conv", "_order"], kind="stable")
    # conversions strictly before each row = the path the row belongs to
    conv_int = df["is_conv"].astype(int)
    df["k"] = conv_int.groupby(df["person_id"]).cumsum() - conv_int
    df["path_id"] = df["person_id"] + "#" + df["k"].astype(str)
    conv = df[df["is_conv"]]
    touches = df[~df["is_conv"] & df["channel"].notna()]
    return _assemble(touches, conv, lookback_days)


def _assemble(touches: pd.DataFrame, conv: pd.DataFrame, lookback_days: float | None) -> Paths:
    import pandas as pd

    conv_out = pd.DataFrame(
        {
            "path_id": conv["path_id"].to_numpy(),
            "person_id": conv["person_id"].to_numpy(),
            "converted": True,
            "revenue": conv["revenue"].to_numpy(float),
            "end_ts": conv["ts"].to_numpy(),
        }
    )
    conv_end = pd.Series(pd.to_datetime(conv_out["end_ts"]).to_numpy(), index=conv_out["path_id"])
    end = pd.Series(conv_end.reindex(touches["path_id"]).to_numpy(), index=touches.index)
    end = end.fillna(touches.groupby("path_id")["ts"].transform("max"))
    if lookback_days is not None:
        touches = touches[touches["ts"] >= end - pd.Timedelta(days=float(lookback_days))]
    touches = touches.sort_values(["path_id", "ts"], kind="stable")
    open_paths = touches[~isin_fast(touches["path_id"], conv_out["path_id"])]
    open_out = (
        open_paths.groupby("path_id", sort=True)
        .agg(person_id=("person_id", "first"), end_ts=("ts", "max"))
        .reset_index()
        .assign(converted=False, revenue=0.0)
    )
    outcomes = pd.concat(
        [conv_out, open_out[["path_id", "person_id", "converted", "revenue", "end_ts"]]],
        ignore_index=True,
    )
    outcomes = outcomes.sort_values("path_id", kind="stable").reset_index(drop=True)
    outcomes["converted"] = outcomes["converted"].astype(bool)
    cols = ["path_id", "person_id", "ts", "channel", "touchpoint"]
    return Paths(touches[cols].reset_index(drop=True), outcomes, lookback_days)


def paths_from_workspace(
    ws: Workspace,
    *,
    lookback_days: float | None = 30.0,
    touch_events: str | Sequence[str] | None = None,
    conversion_event: str | Sequence[str] | None = None,
    channel_field: str | None = None,
    revenue_field: str | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
) -> Paths:
    """Build paths from a workspace: the touches before each conversion, within the lookback.

    The engine numbers each person's paths with a window (conversions before each row), finds
    each path's end and drops touches outside the lookback, so only the touches that count and
    one row per conversion leave it.

    Args:
        ws: the workspace.
        lookback_days: the lookback window in days (``None``: unlimited).
        touch_events: the event names that are touches (default: the spec's marketing touches).
        conversion_event: the conversion event name(s) (default: the spec's conversions).
        channel_field: where a touch's channel is, ``channel`` or ``properties.<key>``
            (default: the spec's ``marketing.channel``).
        revenue_field: where a conversion's value is (default: the spec's).
        start, end: only events in ``[start, end]`` are used.

    Returns:
        :class:`Paths`; a touch's ``touchpoint`` is its event name, with the ``campaign``
        property after a colon when there is one (``"ad_click: spring"``).

    Raises:
        NoSpec: a default is needed and the workspace has no journey spec.
    """
    import ibis

    from journeykit.analytics import vocabulary as vocab

    touches_named = vocab.touch_events(ws, touch_events)
    conversions = vocab.conversion_events(ws, conversion_event)
    channel_at = vocab.channel_field(ws, channel_field)
    revenue_at = vocab.revenue_field(ws, revenue_field)
    ev = events_table(ws)
    is_conversion = ev.event.isin(list(conversions))
    keep = ev.person_id.notnull() & (ev.event.isin(list(touches_named)) | is_conversion)
    if start is not None:
        keep &= ev.ts >= ibis.literal(to_datetime(start))
    if end is not None:
        keep &= ev.ts <= ibis.literal(to_datetime(end))
    rows = ev.filter(keep)
    is_conv = rows.event.isin(list(conversions)).cast("int64")
    # journey order (seq: time, then source order), conversions after touches at the same time
    before = ibis.window(
        group_by=rows.person_id, order_by=[rows.ts, is_conv, rows.seq], rows=(None, -1)
    )
    campaign = vocab.field_text(rows, "properties.campaign")
    rows = rows.mutate(
        is_conv=is_conv,
        k=is_conv.sum().over(before).fill_null(0),
        touch_channel=vocab.field_text(rows, channel_at),
        value=vocab.field_number(rows, revenue_at).fill_null(0.0),
        touchpoint=ibis.cases(
            (campaign.notnull() & (campaign != ""), rows.event.concat(": ", campaign)),
            else_=rows.event,
        ),
    )
    conv = rows.filter(rows.is_conv == 1).select(
        "person_id", "k", end_ts=rows.ts, revenue=rows.value
    )
    touches = rows.filter(rows.is_conv == 0)
    joined = touches.left_join(conv, ["person_id", "k"]).select(
        touches.person_id,
        touches.k,
        touches.ts,
        channel=touches.touch_channel,
        touchpoint=touches.touchpoint,
        conv_end=conv.end_ts,
    )
    path_end = ibis.coalesce(
        joined.conv_end, joined.ts.max().over(group_by=[joined.person_id, joined.k])
    )
    joined = joined.mutate(path_end=path_end)
    if lookback_days is not None:
        window = ibis.interval(seconds=round(float(lookback_days) * 86_400))
        joined = joined.filter(joined.ts >= joined.path_end - window)
    touch_df = joined.select("person_id", "k", "ts", "channel", "touchpoint").to_pandas()
    conv_df = conv.to_pandas()
    for df in (touch_df, conv_df):
        df["path_id"] = df["person_id"].astype(str) + "#" + df["k"].astype("int64").astype(str)
    touch_df["channel"] = touch_df["channel"].astype(object).fillna("(none)")
    conv_df = conv_df.rename(columns={"end_ts": "ts"})
    # the lookback was applied in the engine already
    return replace(_assemble(touch_df, conv_df, None), lookback_days=lookback_days)


def paths_from_table(
    table: pd.DataFrame,
    *,
    path_column: str = "path",
    conversions_column: str = "conversions",
    value_column: str | None = None,
    nulls_column: str | None = None,
    separator: str = ">",
) -> Paths:
    """Read a table of aggregated paths, the layout ChannelAttribution and marketing tools export.

    Each row is one path of channels in order (``"search > email > direct"``) with how many
    journeys took it and converted, optionally their total conversion value and how many took
    it without converting. Channel names are stripped of surrounding spaces; an empty path
    holds conversions no model can credit (:attr:`Paths.unattributed`). The paths carry no
    touch times, so ``time_decay`` cannot be computed on them.

    Args:
        table: the paths.
        path_column, conversions_column: the path and conversion-count columns.
        value_column: the total conversion value of the row's conversions (optional).
        nulls_column: journeys on the path that did not convert (optional; without it the
            Markov and ``shapley_rate`` models see converting paths only).
        separator: what separates channels in a path.

    Returns:
        :class:`Paths` with a ``weight`` column in ``outcomes``.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"path": ["search > email", "email"], "conversions": [2, 1],
    ...                   "value": [30.0, 5.0], "nulls": [1, 3]})
    >>> p = paths_from_table(t, value_column="value", nulls_column="nulls")
    >>> p.conversions, p.outcomes["weight"].tolist(), p.outcomes["revenue"].tolist()
    (3.0, [2.0, 1.0, 1.0, 3.0], [15.0, 0.0, 5.0, 0.0])
    """
    import pandas as pd

    columns = [path_column, conversions_column]
    columns += [c for c in (value_column, nulls_column) if c is not None]
    require_columns(table, columns, "paths_from_table")
    if not separator:
        raise InputError("the separator cannot be empty", field="separator")
    counts = {}
    for col in (conversions_column, nulls_column):
        if col is None:
            continue
        numbers = pd.to_numeric(table[col], errors="coerce")
        bad = numbers.isna() | (numbers < 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"row {row + 1}: {col} must be a count >= 0, not {table[col].iloc[row]!r}",
                field=col,
            )
        counts[col] = numbers.to_numpy(float)
    conv = counts[conversions_column]
    nulls = counts[nulls_column] if nulls_column is not None else np.zeros(len(table))
    if value_column is not None:
        value = pd.to_numeric(table[value_column], errors="coerce")
        if value.isna().any():
            row = int(np.flatnonzero(value.isna().to_numpy())[0])
            raise InputError(
                f"row {row + 1}: {value_column} must be a number, not "
                f"{table[value_column].iloc[row]!r}",
                field=value_column,
            )
        per_conv = np.divide(value.to_numpy(float), conv, out=np.zeros(len(table)), where=conv > 0)
    else:
        per_conv = np.zeros(len(table))
    touch_rows: list[tuple[str, str]] = []
    out_rows: list[tuple[str, bool, float, float]] = []
    texts = table[path_column].fillna("").astype(str).tolist()
    for i, text in enumerate(texts):
        channels = [c.strip() for c in text.split(separator) if c.strip()]
        for suffix, converted, weight, revenue in (
            ("c", True, conv[i], per_conv[i]),
            ("n", False, nulls[i], 0.0),
        ):
            if weight <= 0:
                continue
            path_id = f"{i}{suffix}"
            out_rows.append((path_id, converted, float(weight), float(revenue)))
            touch_rows.extend((path_id, ch) for ch in channels)
    touches = pd.DataFrame(touch_rows, columns=["path_id", "channel"])
    touches.insert(1, "person_id", touches["path_id"])
    touches.insert(2, "ts", pd.Series(pd.NaT, index=touches.index, dtype="datetime64[ns]"))
    touches["touchpoint"] = touches["channel"]
    outcomes = pd.DataFrame(out_rows, columns=["path_id", "converted", "weight", "revenue"])
    outcomes.insert(1, "person_id", outcomes["path_id"])
    outcomes["end_ts"] = pd.Series(pd.NaT, index=outcomes.index, dtype="datetime64[ns]")
    outcomes = outcomes[["path_id", "person_id", "converted", "revenue", "end_ts", "weight"]]
    return Paths(touches, outcomes, None)
