"""Helpers of the analytics tests: building logs, and slow, obvious pure-Python references."""

from __future__ import annotations

import itertools
import tempfile
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import journeykit
from journeykit.ingest import load
from journeykit.store import Workspace

T0 = datetime(2026, 3, 2, 9, 0, 0)  # a Monday


def rows_of(specs: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Rows from ``(user, event, minutes[, properties[, channel[, revenue]]])`` tuples."""
    rows = []
    for spec in specs:
        user, event, minutes = spec[0], spec[1], spec[2]
        props = spec[3] if len(spec) > 3 else {}
        row: dict[str, Any] = {
            "ts": (T0 + timedelta(minutes=minutes)).isoformat(),
            "event": event,
            "user_id": user,
            "channel": spec[4] if len(spec) > 4 else "web",
            "properties": props or {},
        }
        if len(spec) > 5 and spec[5] is not None:
            row["revenue"] = spec[5]
        rows.append(row)
    return rows


def fresh_ws(specs: list[tuple[Any, ...]]) -> Workspace:
    """A workspace in a new temporary folder (for hypothesis examples)."""
    ws = journeykit.open(tempfile.mkdtemp(prefix="jk-an-"))
    if specs:
        load(ws, rows_of(specs))
    return ws


def person_of(ws: Workspace) -> dict[str, str]:
    """user_id -> person_id."""
    ev = ws.table("events").select("user_id", "person_id").distinct().execute()
    return dict(zip(ev["user_id"], ev["person_id"], strict=True))


def journeys(ws: Workspace) -> dict[str, list[tuple[int, str, int]]]:
    """person_id -> [(seq, event, microseconds)] in journey order, read from the store."""
    df = ws.table("events").select("person_id", "seq", "event", "ts").execute()
    out: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for p, s, e, t in zip(df["person_id"], df["seq"], df["event"], df["ts"], strict=True):
        out[p].append((int(s), e, int(t.value // 1000)))
    for p in out:
        out[p].sort()
        assert [s for s, _, _ in out[p]] == list(range(1, len(out[p]) + 1))
    return dict(out)


def funnel_counts(
    js: dict[str, list[tuple[int, str, int]]],
    steps: list[str],
    mode: str,
    window: int | None = None,
    within: list[int | None] | None = None,
) -> list[int]:
    """Units reaching each step (first occurrence of step 1 starts the attempt)."""
    within = within or [None] * len(steps)
    counts = [0] * len(steps)
    for evs in js.values():
        if mode == "any":
            starts = [i for i, (_, e, _) in enumerate(evs) if e in steps]
            if not starts:
                continue
            i0 = starts[0]
            t0 = evs[i0][2]
            did = [
                any(e == s and (window is None or t - t0 <= window) for _, e, t in evs[i0:])
                for s in steps
            ]
            for k in range(len(steps)):
                if all(did[: k + 1]):
                    counts[k] += 1
            continue
        firsts = [i for i, (_, e, _) in enumerate(evs) if e == steps[0]]
        if not firsts:
            continue
        cur = firsts[0]
        t0 = prev_t = evs[cur][2]
        counts[0] += 1
        for k in range(1, len(steps)):
            if mode == "strict":
                cands = [cur + 1] if cur + 1 < len(evs) and evs[cur + 1][1] == steps[k] else []
            else:
                cands = [j for j in range(cur + 1, len(evs)) if evs[j][1] == steps[k]]
            if not cands:
                break
            j = cands[0]
            t = evs[j][2]
            if window is not None and t - t0 > window:
                break
            if within[k] is not None and t - prev_t > within[k]:
                break
            counts[k] += 1
            cur, prev_t = j, t
    return counts


def transitions(js: dict[str, list[tuple[int, str, int]]], collapse: bool = False) -> Counter:
    out: Counter = Counter()
    for evs in js.values():
        names = [e for _, e, _ in evs]
        if collapse:
            names = [e for i, e in enumerate(names) if i == 0 or names[i - 1] != e]
        for a, b in itertools.pairwise(names):
            out[(a, b)] += 1
    return out


def step_counts(js: dict[str, list[tuple[int, str, int]]], max_steps: int) -> Counter:
    out: Counter = Counter()
    for evs in js.values():
        for k, (_, e, _) in enumerate(evs[:max_steps], start=1):
            out[(k, e)] += 1
    return out


def variant_counts(js: dict[str, list[tuple[int, str, int]]], sep: str = " > ") -> Counter:
    return Counter(sep.join(e for _, e, _ in evs) for evs in js.values())


def weekly_retention(
    js: dict[str, list[tuple[int, str, int]]], periods: int
) -> dict[tuple[int, int], tuple[int, int]]:
    """(cohort week index, period) -> (cohort size, retained) for first-event cohorts."""
    day = 86_400_000_000

    def week(us: int) -> int:
        return (us // day + 3) // 7

    last = max(t for evs in js.values() for _, _, t in evs)
    size: Counter = Counter()
    kept: Counter = Counter()
    for evs in js.values():
        c = week(evs[0][2])
        size[c] += 1
        ks = {week(t) - c for _, _, t in evs[1:]}
        for k in ks:
            if k <= periods:
                kept[(c, k)] += 1
    out: dict[tuple[int, int], Any] = {}
    for c, n in size.items():
        for k in range(periods + 1):
            if c + k <= week(last):
                out[(c, k)] = (n, kept[(c, k)])
    return out
