"""Writing a unit of work back: profiles, journeys, timers, cancellations, the step log, and
the outbox (where frequency caps, priority and quiet hours are applied)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .runtime import JSON, Journey
from .state import journeys_t, outbox_t, profiles_t, steps_t, timers_t
from .timeutil import quiet_until

if TYPE_CHECKING:
    from .batch import Batch

_OPEN = ("pending", "sending", "sent")


def _cancel(status: Any) -> Any:
    return sa.case((status == "pending", "cancelled"), else_=status)


def write(self: Batch) -> None:
    """Write every change of a unit of work (inside its transaction)."""
    conn, now, store = self.conn, self.now, self.e.state
    _write_messages(self)
    new_p = [p for p in self.profiles.values() if p.dirty and not p.exists]
    old_p = [p for p in self.profiles.values() if p.dirty and p.exists]
    bulk = store.bulk
    bulk(
        conn,
        _insert_profiles,
        [{"person_id": p.person_id, "data": p.dump(), "updated_at": now} for p in new_p],
        key="profiles.insert",
    )
    bulk(
        conn,
        _update_profiles,
        [{"b_pid": p.person_id, "b_data": p.dump(), "b_now": now} for p in old_p],
        key="profiles.update",
    )
    new_j = [j.row() for j in self.by_id.values() if j.new]
    old_j = [j for j in self.by_id.values() if j.dirty and not j.new]
    bulk(conn, _insert_journeys, new_j, key="journeys.insert")
    if old_j:
        bulk(
            conn,
            _update_journeys,
            [
                {"b_id": j.journey_id, **{f"v_{c}": getattr(j, c) for c in _JOURNEY_VALUES}}
                for j in old_j
            ],
            key="journeys.update",
        )
    if self.fired:
        conn.execute(
            sa.update(timers_t)
            .where(timers_t.c.timer_id.in_(sa.bindparam("ids", expanding=True)))
            .values(status="fired", fired_at=now),
            {"ids": self.fired},
        )
    bulk(
        conn,
        lambda: store.insert_ignore(timers_t, ["journey_id", "step_id"]),
        self.timers,
        key="timers.insert",
    )
    # Cancellations filter on the journey only and leave rows that are no longer pending as
    # they are (CASE), so that planners use the journey index rather than the status index.
    t, o = timers_t.c, outbox_t.c
    if self.cancel_timer_steps:
        bulk(
            conn,
            lambda: (
                sa.update(timers_t)
                .where(t.journey_id == sa.bindparam("b_j"), t.step_id == sa.bindparam("b_s"))
                .values(status=_cancel(t.status))
            ),
            self.cancel_timer_steps,
            key="timers.cancel_step",
        )
    if self.cancel_timers_of:
        ids = {"ids": sorted(self.cancel_timers_of)}
        conn.execute(
            sa.update(timers_t)
            .where(t.journey_id.in_(sa.bindparam("ids", expanding=True)))
            .values(status=_cancel(t.status)),
            ids,
        )
        conn.execute(
            sa.update(outbox_t)
            .where(o.journey_id.in_(sa.bindparam("ids", expanding=True)))
            .values(
                status=_cancel(o.status),
                last_error=sa.case(
                    (o.status == "pending", "the journey ended before it was sent"),
                    else_=o.last_error,
                ),
            ),
            ids,
        )
    bulk(
        conn,
        lambda: store.insert_ignore(steps_t, ["journey_id", "step_id"]),
        list(self.steps.values()),
        key="steps.insert",
    )


def _write_messages(self: Batch) -> None:
    if not self.messages:
        return
    settings = self.e.settings
    # each message counts from when it was queued: in event time (replays) the messages of
    # one batch carry different times, and caps and quiet hours must not depend on batching
    times = [m.at or self.now for m in self.messages]
    capped_any = bool(settings.global_caps) or any(m.automation.spec.caps for m in self.messages)
    recent: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
    if capped_any:
        windows = [cap.per for cap in settings.global_caps] + [
            cap.per for m in self.messages for cap in m.automation.spec.caps
        ]
        since = min(times) - max(windows)
        people = sorted({m.journey.person_id for m in self.messages if m.kind != "emit"})
        for start in range(0, len(people), 500):
            q = sa.select(
                outbox_t.c.person_id,
                outbox_t.c.channel,
                outbox_t.c.automation_id,
                outbox_t.c.created_at,
            ).where(
                outbox_t.c.person_id.in_(people[start : start + 500]),
                outbox_t.c.created_at >= since,
                outbox_t.c.status.in_(_OPEN),
                outbox_t.c.kind != "emit",
            )
            for pid, channel, aid, at in self.conn.execute(q):
                recent[pid].append((channel, aid, at))
    order = sorted(
        range(len(self.messages)),
        key=lambda i: (times[i], -self.messages[i].automation.priority, i),
    )
    rows = []
    for i in order:
        m = self.messages[i]
        j, c, now = m.journey, m.automation, times[i]
        status, reason, due, outcome = "pending", None, now, "queued"
        if m.error is not None:
            status, reason, outcome = "dead", m.error, "failed"
        elif m.kind != "emit" and capped_any:
            reason = _capped(
                recent[j.person_id],
                m.channel,
                c.id,
                c.spec.caps,
                settings.global_caps,
                now,
            )
            if reason:
                status, outcome = "capped", "capped"
                self.counts["capped"] += 1
            else:
                recent[j.person_id].append((m.channel, c.id, now))
        if status == "pending" and m.kind != "emit":
            quiet = c.spec.quiet_hours or settings.quiet_hours
            if quiet is not None and (not quiet.channels or m.channel in quiet.channels):
                until = quiet_until(now, m.tz, quiet.start, quiet.end)
                if until is not None:
                    due, outcome = until, "held"
        if status == "pending":
            self.counts["queued"] += 1
        rows.append(
            {
                "idem_key": m.key,
                "journey_id": j.journey_id,
                "automation_id": c.id,
                "person_id": j.person_id,
                "step_id": m.step_id,
                "kind": m.kind,
                "channel": m.channel,
                "priority": c.priority,
                "payload": JSON.encode(m.payload),
                "status": status,
                "attempts": 0,
                "next_attempt_at": due,
                "created_at": now,
                "last_error": reason,
            }
        )
        self.log(j, m.step_id, outcome)
    store = self.e.state
    store.bulk(
        self.conn,
        lambda: store.insert_ignore(outbox_t, ["idem_key"]),
        rows,
        key="outbox.insert",
    )


def _capped(
    recent: list[tuple[str, str, datetime]],
    channel: str,
    automation_id: str,
    caps: list[Any],
    global_caps: tuple[Any, ...],
    now: datetime,
) -> str | None:
    for cap in caps:
        if cap.channel in ("*", channel):
            n = sum(
                1
                for ch, aid, at in recent
                if aid == automation_id and cap.channel in ("*", ch) and at > now - cap.per
            )
            if n >= cap.max:
                return f"frequency cap: {cap.max} per {cap.per} on {cap.channel} in {automation_id}"
    for cap in global_caps:
        if cap.channel in ("*", channel):
            n = sum(1 for ch, _aid, at in recent if cap.channel in ("*", ch) and at > now - cap.per)
            if n >= cap.max:
                return f"global frequency cap: {cap.max} per {cap.per} on {cap.channel}"
    return None


_JOURNEY_VALUES = [c for c in Journey.COLUMNS if c != "journey_id"]


def _insert_profiles() -> Any:
    return sa.insert(profiles_t)


def _update_profiles() -> Any:
    return (
        sa.update(profiles_t)
        .where(profiles_t.c.person_id == sa.bindparam("b_pid"))
        .values(data=sa.bindparam("b_data"), updated_at=sa.bindparam("b_now"))
    )


def _insert_journeys() -> Any:
    return sa.insert(journeys_t)


def _update_journeys() -> Any:
    return (
        sa.update(journeys_t)
        .where(journeys_t.c.journey_id == sa.bindparam("b_id"))
        .values({c: sa.bindparam(f"v_{c}") for c in _JOURNEY_VALUES})
    )
