"""What the data says about each event name: the figures spec inference decides from.

Three reads of a workspace, each a few scans of the events table:

* :func:`event_profile`: per event name, how often and by how many people it happens, where it
  sits in journeys (the share of people for whom it is the very first event, the share of its
  occurrences that open a session, the median relative position of a person's first one), how
  often it carries revenue, and its channels.
* :func:`conversion_profile`: per event name, relative to a set of conversion events: the
  share of converters who did it before their first conversion, the share of the people doing
  it who convert, how often a conversion comes right after it, and its most common
  predecessor.
* :func:`property_profile`: per event name and property key, how often the key has a value,
  whether the values are numbers (their range, whether whole) or text (length, words, distinct
  values), read from up to ``sample`` occurrences per event name.
* :func:`gap_shares`: how the time between a person's consecutive events falls around
  candidate session gaps.

Values are bound parameters; nothing a user typed is formatted into SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.store import Workspace


def event_profile(ws: Workspace, *, session_gap_seconds: float = 1800.0) -> pd.DataFrame:
    """One row per event name, most events first.

    Columns: ``event``, ``events``, ``people``, ``per_person`` (events per person doing it),
    ``first_share`` (share of its people whose first event it is), ``entry_share`` (share of
    its occurrences that open a session: no earlier event within ``session_gap_seconds``),
    ``position`` (median relative position of a person's first one: 0 first, 1 last),
    ``revenue_share`` (share of occurrences with revenue > 0), ``revenue`` (sum of positive
    revenue), ``channel`` (the commonest channel or None), ``channel_share`` (its share),
    ``channels`` (every channel, commonest first).
    """
    gap_us = int(session_gap_seconds * 1_000_000)
    frame = ws.store.df(
        """
        WITH firsts AS (
            SELECT person_id, event, min(seq) AS first_seq, count(*) AS n,
                   max(CASE WHEN seq = 1 THEN 1 ELSE 0 END) AS opened
            FROM events WHERE person_id IS NOT NULL GROUP BY 1, 2
        ),
        per_event AS (
            SELECT f.event, count(*) AS people, sum(f.opened) AS openers,
                   median((f.first_seq - 1) / greatest(p.n_events - 1, 1)) AS position
            FROM firsts f JOIN people p USING (person_id) GROUP BY 1
        ),
        occ AS (
            SELECT event, count(*) AS events,
                   avg(CASE WHEN prev_ts IS NULL
                            OR epoch_us(ts) - epoch_us(prev_ts) > $gap THEN 1 ELSE 0 END)
                       AS entry_share,
                   avg(CASE WHEN revenue > 0 THEN 1 ELSE 0 END) AS revenue_share,
                   coalesce(sum(CASE WHEN revenue > 0 THEN revenue END), 0) AS revenue
            FROM events WHERE person_id IS NOT NULL GROUP BY 1
        ),
        chans AS (
            SELECT event, list(channel ORDER BY n DESC, channel) AS channels,
                   list(n ORDER BY n DESC, channel) AS counts
            FROM (SELECT event, channel, count(*) AS n FROM events
                  WHERE channel IS NOT NULL AND person_id IS NOT NULL GROUP BY 1, 2)
            GROUP BY 1
        )
        SELECT o.event, o.events, e.people, o.events / e.people AS per_person,
               e.openers / e.people AS first_share, o.entry_share, e.position,
               o.revenue_share, o.revenue,
               coalesce(c.channels, []) AS channels, coalesce(c.counts, []) AS channel_counts
        FROM occ o JOIN per_event e USING (event) LEFT JOIN chans c USING (event)
        ORDER BY o.events DESC, o.event
        """,
        {"gap": gap_us},
    )
    frame["channels"] = frame.channels.map(list)
    frame["channel"] = frame.channels.map(lambda c: c[0] if len(c) else None)
    frame["channel_share"] = [
        (float(counts[0]) / float(n)) if len(counts) else 0.0
        for counts, n in zip(frame.channel_counts, frame.events, strict=True)
    ]
    return frame.drop(columns=["channel_counts"])


def conversion_profile(ws: Workspace, conversions: list[str]) -> pd.DataFrame:
    """One row per event name, measured against the ``conversions`` events.

    Columns: ``event``, ``converters`` (people doing it who ever convert), ``before_share``
    (of those, the share whose first one comes before their first conversion),
    ``convert_share`` (share of its people who convert), ``next_share`` (share of its
    occurrences followed directly by a conversion), ``prev`` (its commonest predecessor event)
    and ``prev_share``.
    """
    return ws.store.df(
        """
        WITH conv AS (
            SELECT person_id, min(seq) AS conv_seq FROM events
            WHERE list_contains($conv, event) AND person_id IS NOT NULL GROUP BY 1
        ),
        firsts AS (
            SELECT person_id, event, min(seq) AS first_seq
            FROM events WHERE person_id IS NOT NULL GROUP BY 1, 2
        ),
        rel AS (
            SELECT f.event, count(*) AS people, count(c.conv_seq) AS converters,
                   avg(CASE WHEN c.conv_seq IS NULL THEN NULL
                            WHEN f.first_seq < c.conv_seq THEN 1 ELSE 0 END) AS before_share
            FROM firsts f LEFT JOIN conv c USING (person_id) GROUP BY 1
        ),
        nexts AS (
            SELECT prev_event AS event, count(*) AS followed
            FROM events WHERE list_contains($conv, event) AND prev_event IS NOT NULL GROUP BY 1
        ),
        occ AS (SELECT event, count(*) AS events FROM events GROUP BY 1),
        prevs AS (
            SELECT event, arg_max(prev_event, n) AS prev, max(n) / sum(n) AS prev_share
            FROM (SELECT event, prev_event, count(*) AS n FROM events
                  WHERE prev_event IS NOT NULL GROUP BY 1, 2)
            GROUP BY 1
        )
        SELECT r.event, r.converters, r.before_share, r.converters / r.people AS convert_share,
               coalesce(x.followed, 0) / o.events AS next_share, p.prev, p.prev_share
        FROM rel r JOIN occ o USING (event) LEFT JOIN nexts x USING (event)
        LEFT JOIN prevs p USING (event)
        ORDER BY r.event
        """,
        {"conv": list(conversions)},
    )


def property_profile(ws: Workspace, *, sample: int = 2000) -> pd.DataFrame:
    """One row per (event name, property key) with a value in up to ``sample`` occurrences
    per name.

    Columns: ``event``, ``key``, ``rows`` (occurrences read), ``present`` (share with a value),
    ``numeric`` (share of values that are numbers, or text that reads as one: a CSV export
    gives text), ``whole`` (share of numbers that are
    whole), ``min``, ``max``, ``distinct`` (distinct values), ``text_len`` (mean length of text
    values), ``words`` (mean words per text value), ``top`` (the commonest value as text).
    """
    return ws.store.df(
        """
        WITH s AS (
            SELECT event, properties FROM events
            WHERE properties IS NOT NULL AND properties <> '{}'
            QUALIFY row_number() OVER (PARTITION BY event) <= $sample
        ),
        n AS (SELECT event, count(*) AS rows FROM s GROUP BY 1),
        kv AS (
            SELECT event, key,
                   json_type(properties, '$."' || replace(key, '"', '\\"') || '"') AS t,
                   json_extract_string(properties, '$."' || replace(key, '"', '\\"') || '"')
                       AS v
            FROM (SELECT event, properties, unnest(json_keys(properties)) AS key FROM s)
        ),
        agg AS (
            SELECT event, key,
                   count(*) FILTER (WHERE t <> 'NULL') AS filled,
                   count(try_cast(v AS DOUBLE)) FILTER (WHERE t <> 'NULL') AS nums,
                   count(*) FILTER (WHERE try_cast(v AS DOUBLE) = round(try_cast(v AS DOUBLE)))
                       AS wholes,
                   min(try_cast(v AS DOUBLE)) AS min,
                   max(try_cast(v AS DOUBLE)) AS max,
                   count(DISTINCT v) AS distinct,
                   avg(length(v)) FILTER (WHERE t = 'VARCHAR') AS text_len,
                   avg(length(v) - length(replace(v, ' ', '')) + 1) FILTER (WHERE t = 'VARCHAR')
                       AS words,
                   mode(v) FILTER (WHERE t <> 'NULL') AS top
            FROM kv GROUP BY 1, 2
        )
        SELECT a.event, a.key, n.rows, a.filled / n.rows AS present,
               CASE WHEN a.filled > 0 THEN a.nums / a.filled ELSE 0 END AS numeric,
               CASE WHEN a.nums > 0 THEN a.wholes / a.nums ELSE 0 END AS whole,
               a.min, a.max, a.distinct, a.text_len, a.words, a.top
        FROM agg a JOIN n USING (event)
        WHERE a.filled > 0
        ORDER BY a.event, a.key
        """,
        {"sample": sample},
    )


def gap_shares(ws: Workspace, thresholds: Sequence[float]) -> tuple[int, list[float], list[float]]:
    """The gaps between a person's consecutive events, against candidate session gaps.

    Returns the number of gaps and, per threshold ``t`` (seconds), the share of gaps within
    x1.5 of it (``t / 1.5 <= gap < 1.5 t``) and the share shorter than it. One scan.
    """
    params: dict[str, float] = {}
    parts = []
    for i, t in enumerate(thresholds):
        params |= {f"lo{i}": t / 1.5 * 1e6, f"hi{i}": t * 1.5 * 1e6, f"t{i}": t * 1e6}
        parts.append(f"count(*) FILTER (WHERE g >= $lo{i} AND g < $hi{i})")
        parts.append(f"count(*) FILTER (WHERE g < $t{i})")
    row = ws.store.fetchall(
        f"""
        SELECT count(*), {", ".join(parts)} FROM (
            SELECT epoch_us(ts) - epoch_us(prev_ts) AS g FROM events
            WHERE prev_ts IS NOT NULL AND ts > prev_ts
        )
        """,
        params,
    )[0]
    total = int(row[0])
    counts = [float(x) / total if total else 0.0 for x in row[1:]]
    return total, counts[0::2], counts[1::2]
