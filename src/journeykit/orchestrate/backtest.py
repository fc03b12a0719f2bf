"""Backtests: replay past events through automations before launch.

The replay runs the real engine on an in-memory state in event time (each event at its own
time, timers firing as simulated time passes); nothing is sent. Events before the replay
window only build profiles (traits, event counts), so conditions on a person's past work as
they will live. It tells, per automation and per step, who would enter and what would be sent
on which channel, with a rendered sample of each message, and how often entrants already reach
the goal (the baseline an automation has to beat).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from .clock import ManualClock, to_utc_naive
from .engine import Engine, EngineSettings
from .runtime import Compiled
from .spec import Automation
from .state import journeys_t, outbox_t, steps_t

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class BacktestStep:
    """One step of a backtest: how many journeys reached it and what it would send.

    ``sent`` counts messages that would go out (queued and not cancelled before they were
    due); ``capped`` those a frequency cap would stop.
    """

    step_id: str
    kind: str
    reached: int
    sent: int
    capped: int
    channel: str | None


@dataclass(frozen=True)
class MessageSample:
    """A message as one person would get it (rendered when it was queued)."""

    step_id: str
    channel: str
    person_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class BacktestReport:
    """What an automation would have done over ``[start, end)``.

    ``messages`` are the messages that would be sent (by channel in ``by_channel``, by step
    in ``steps``). ``expected_conversion`` is the goal rate of entries whose goal window closed
    by ``end`` (``mature``): no message was really sent, so it is the baseline without the
    automation; ``expected_conversions`` applies it to everyone who entered.
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
    expected_conversions: float = math.nan
    steps: tuple[BacktestStep, ...] = ()
    person_ids: tuple[str, ...] = ()
    samples: tuple[MessageSample, ...] = ()


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
    samples: int = 1,
    send: Literal["when_due", "at_end"] = "when_due",
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
        samples: rendered messages kept per step (``samples``).
        send: ``when_due`` counts a message as sent when it falls due (a live run), so a
            journey that ends later does not take it back; ``at_end`` counts only the messages
            still queued at the end (a replay, which sends when it is done).

    Returns:
        One report per automation.
    """
    rows = _records(events)
    for r in rows:
        r["ts"] = to_utc_naive(r["ts"])
    rows.sort(key=lambda r: r["ts"])  # stable: events of one time keep their order
    end = (
        to_utc_naive(as_of)
        if as_of is not None
        else (rows[-1]["ts"] + timedelta(microseconds=1) if rows else datetime(1970, 1, 1))
    )
    start = end - lookback
    history = [r for r in rows if r["ts"] < start]
    window = [r for r in rows if start <= r["ts"] < end]
    clock = ManualClock(history[0]["ts"] if history else start)
    engine = Engine(
        list(automations),
        "sqlite://",
        clock=clock,
        settings=replace(settings or EngineSettings(), remember_events=False, event_time=True),
    )
    if history:
        engine.handle_batch(history, enter=False)
    clock.set(start)
    engine.handle_batch(window)
    engine.fire_until(end)
    clock.set(end)
    return [_report(engine, c, start, end, samples, send) for c in engine.compiled.values()]


def _report(
    engine: Engine, c: Compiled, start: datetime, end: datetime, samples: int, send: str
) -> BacktestReport:
    j, o, st = journeys_t.c, outbox_t.c, steps_t.c
    aid = c.id
    # a message counts as sent unless its journey ended (cancelling it) before it was due:
    # live, the dispatcher sends a due message at once
    delivered: sa.ColumnElement[bool] = o.status.in_(("pending", "sending", "sent"))
    if send == "when_due":
        delivered = sa.or_(
            delivered,
            sa.and_(
                o.status == "cancelled", j.ended_at.is_not(None), o.next_attempt_at <= j.ended_at
            ),
        )
    with engine.state.begin() as conn:
        groups: dict[str, int] = dict(
            conn.execute(
                sa.select(j.grp, sa.func.count()).where(j.automation_id == aid).group_by(j.grp)
            ).all()
        )
        entrants = [
            r[0]
            for r in conn.execute(
                sa.select(j.person_id)
                .where(j.automation_id == aid)
                .distinct()
                .order_by(j.person_id)
            )
        ]
        people = conn.execute(
            sa.select(sa.func.count(sa.distinct(j.person_id))).where(
                j.automation_id == aid, j.grp == "treatment"
            )
        ).scalar()
        mature, converted = conn.execute(
            sa.select(sa.func.count(), sa.func.count(j.converted_at)).where(
                j.automation_id == aid, j.track_until.is_not(None), j.track_until <= end
            )
        ).one()
        sent_rows = list(
            conn.execute(
                sa.select(o.step_id, o.channel, o.person_id, o.payload)
                .select_from(outbox_t.join(journeys_t, o.journey_id == j.journey_id))
                .where(o.automation_id == aid, o.kind != "emit", delivered)
                .order_by(o.step_id, o.person_id, o.outbox_id)
            )
        )
        capped_by_step: dict[str, int] = dict(
            conn.execute(
                sa.select(o.step_id, sa.func.count())
                .where(o.automation_id == aid, o.status == "capped")
                .group_by(o.step_id)
            ).all()
        )
        reached: dict[str, int] = dict(
            conn.execute(
                sa.select(st.step_id, sa.func.count())
                .where(st.automation_id == aid)
                .group_by(st.step_id)
            ).all()
        )
    by_channel: dict[str, int] = {}
    by_step: dict[str, int] = {}
    channel_of: dict[str, str] = {}
    picked: list[MessageSample] = []
    per_step_samples: dict[str, int] = {}
    for step_id, channel, person, payload in sent_rows:
        by_channel[channel] = by_channel.get(channel, 0) + 1
        by_step[step_id] = by_step.get(step_id, 0) + 1
        channel_of[step_id] = channel
        if per_step_samples.get(step_id, 0) < samples:
            per_step_samples[step_id] = per_step_samples.get(step_id, 0) + 1
            picked.append(MessageSample(step_id, channel, person, json.loads(payload)))
    steps = tuple(
        BacktestStep(
            sid,
            kind,
            int(reached.get(sid, 0)),
            by_step.get(sid, 0),
            int(capped_by_step.get(sid, 0)),
            channel_of.get(sid),
        )
        for sid, kind in c.step_kinds.items()
    )
    messages = sum(by_channel.values())
    capped = sum(capped_by_step.values())
    weeks = max((end - start) / timedelta(days=7), 1 / 7)
    treatment = int(groups.get("treatment", 0))
    holdout = int(groups.get("holdout", 0))
    rate = converted / mature if mature else math.nan
    return BacktestReport(
        automation_id=aid,
        start=start,
        end=end,
        entered=treatment + holdout,
        people=int(people or 0),
        treatment=treatment,
        holdout=holdout,
        messages=messages,
        capped=capped,
        messages_per_person_per_week=messages / people / weeks if people else 0.0,
        by_channel=tuple(sorted(by_channel.items())),
        mature=int(mature),
        converted=int(converted),
        expected_conversion=rate,
        expected_conversions=rate * (treatment + holdout) if mature else math.nan,
        steps=steps,
        person_ids=tuple(entrants),
        samples=tuple(picked),
    )
