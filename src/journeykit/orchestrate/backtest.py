"""Backtests: replay past events through automations before launch.

The replay runs the real engine on an in-memory state with a clock that follows the events
(timers fire as simulated time passes); nothing is sent. It tells how many people would enter,
how many messages each would get per week, and how often entrants already reach the goal (the
baseline an automation has to beat).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .clock import ManualClock, to_utc_naive
from .engine import Engine, EngineSettings
from .spec import Automation
from .state import journeys_t, outbox_t

if TYPE_CHECKING:
    import pandas as pd

_STEP = timedelta(minutes=1)


@dataclass(frozen=True)
class BacktestReport:
    """What an automation would have done over ``[start, end)``.

    ``expected_conversion`` is the goal rate of entries whose goal window closed by ``end``
    (``mature``): no message was really sent, so it is the baseline without the automation.
    """

    automation_id: str
    start: datetime
    end: datetime
    entered: int
    people: int
    treatment: int
    holdout: int
    messages: int
    capped: int
    messages_per_person_per_week: float
    by_channel: tuple[tuple[str, int], ...]
    mature: int
    converted: int
    expected_conversion: float


def _records(events: Iterable[Mapping[str, Any]] | pd.DataFrame) -> list[dict[str, Any]]:
    if hasattr(events, "to_dict") and hasattr(events, "columns"):
        return list(events.to_dict("records"))  # type: ignore[union-attr]
    return [dict(e) for e in events]


def backtest(
    automations: Iterable[Automation],
    events: Iterable[Mapping[str, Any]] | pd.DataFrame,
    *,
    as_of: datetime | str | None = None,
    lookback: timedelta = timedelta(days=28),
    settings: EngineSettings | None = None,
) -> list[BacktestReport]:
    """Replay ``events`` (canonical layout; a DataFrame or dicts) through ``automations``.

    Events before ``as_of - lookback`` only build profiles (traits, tags, event counts); events
    in the window run the automations as if live. Nothing is sent.

    Args:
        automations: the automations to try.
        events: past events; ``ts`` required.
        as_of: the end of the replay (default: just after the last event).
        lookback: the length of the replayed window.
        settings: engine settings (global caps, quiet hours) to apply.

    Returns:
        One report per automation.
    """
    rows = _records(events)
    for r in rows:
        r["ts"] = to_utc_naive(r["ts"])
    rows.sort(key=lambda r: r["ts"])
    end = (
        to_utc_naive(as_of)
        if as_of is not None
        else (rows[-1]["ts"] + timedelta(microseconds=1) if rows else datetime(1970, 1, 1))
    )
    start = end - lookback
    history = [r for r in rows if r["ts"] < start]
    window = [r for r in rows if start <= r["ts"] < end]
    clock = ManualClock(history[0]["ts"] if history else start)
    base = settings or EngineSettings()
    engine = Engine(
        list(automations),
        "sqlite://",
        clock=clock,
        settings=EngineSettings(
            global_caps=base.global_caps,
            quiet_hours=base.quiet_hours,
            timezone_trait=base.timezone_trait,
            max_cascade=base.max_cascade,
            batch_size=base.batch_size,
            remember_events=False,
        ),
    )
    if history:
        clock.set(history[-1]["ts"])
        engine.handle_batch(history, enter=False)
    clock.set(start)

    def deliver() -> None:
        # a dispatcher without latency: what is due now counts as sent (so a later exit
        # does not cancel it), what quiet hours hold stays pending until its time
        o = outbox_t.c
        with engine.state.begin() as conn:
            conn.execute(
                sa.update(outbox_t)
                .where(o.status == "pending", o.next_attempt_at <= clock.now())
                .values(status="sent", sent_at=clock.now(), attempts=1)
            )

    def run_timers(until: datetime) -> None:
        while (due := engine.next_due()) is not None and due <= until:
            clock.set(min(until, due + _STEP))
            engine.fire_due_timers(limit=5000)
            deliver()

    i = 0
    size = base.batch_size
    while i < len(window):
        first = window[i]["ts"]
        run_timers(first)
        nxt = engine.next_due()
        stop = (
            first + _STEP
            if nxt is None
            else min(first + _STEP, max(nxt, first + timedelta(microseconds=1)))
        )
        j = i
        while j < len(window) and j - i < size and window[j]["ts"] < stop:
            j += 1
        clock.set(window[j - 1]["ts"])
        engine.handle_batch(window[i:j])
        deliver()
        i = j
    run_timers(end)
    clock.set(end)
    return [_report(engine, a.id, start, end) for a in engine.automations]


def _report(engine: Engine, automation_id: str, start: datetime, end: datetime) -> BacktestReport:
    j, o = journeys_t.c, outbox_t.c
    with engine.state.begin() as conn:
        groups: dict[str, int] = dict(
            conn.execute(
                sa.select(j.grp, sa.func.count())
                .where(j.automation_id == automation_id)
                .group_by(j.grp)
            ).all()
        )
        people = conn.execute(
            sa.select(sa.func.count(sa.distinct(j.person_id))).where(
                j.automation_id == automation_id, j.grp == "treatment"
            )
        ).scalar()
        mature, converted = conn.execute(
            sa.select(sa.func.count(), sa.func.count(j.converted_at)).where(
                j.automation_id == automation_id, j.track_until.is_not(None), j.track_until <= end
            )
        ).one()
        channels = conn.execute(
            sa.select(o.channel, o.status, sa.func.count())
            .where(o.automation_id == automation_id, o.kind != "emit")
            .group_by(o.channel, o.status)
        ).all()
    by_channel: dict[str, int] = {}
    messages = capped = 0
    for channel, status, n in channels:
        if status in ("pending", "sending", "sent"):
            by_channel[channel] = by_channel.get(channel, 0) + n
            messages += n
        elif status == "capped":
            capped += n
    weeks = max((end - start) / timedelta(days=7), 1 / 7)
    treatment = int(groups.get("treatment", 0))
    return BacktestReport(
        automation_id=automation_id,
        start=start,
        end=end,
        entered=treatment + int(groups.get("holdout", 0)),
        people=int(people or 0),
        treatment=treatment,
        holdout=int(groups.get("holdout", 0)),
        messages=messages,
        capped=capped,
        messages_per_person_per_week=messages / people / weeks if people else 0.0,
        by_channel=tuple(sorted(by_channel.items())),
        mature=int(mature),
        converted=int(converted),
        expected_conversion=converted / mature if mature else math.nan,
    )
