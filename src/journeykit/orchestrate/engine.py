"""The orchestration engine: events in, journeys advanced, messages queued in the outbox.

>>> from journeykit.orchestrate.spec import Automation, Trigger
>>> from journeykit.orchestrate.clock import ManualClock
>>> engine = Engine(
...     [Automation(id="tag-buyers", trigger=Trigger(event="Purchase"),
...                 steps=[{"action": "add_tag", "tag": "buyer"}])],
...     "sqlite://", clock=ManualClock(datetime(2026, 1, 1)))
>>> engine.handle({"event_id": "e1", "person_id": "p1", "event": "Purchase"}).entered
1
>>> engine.profile("p1")["tags"]
['buyer']
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from journeykit.errors import InputError, InvalidSpec

from .batch import Batch
from .clock import Clock, SystemClock, to_utc_naive
from .runtime import Compiled
from .spec import Automation, Cap, QuietHours, Schedule
from .state import StateStore, automations_t, profiles_t, schedules_t, seen_t, timers_t
from .timeutil import next_time_of_day


@dataclass(frozen=True)
class EngineSettings:
    """How the engine runs.

    Attributes:
        global_caps: frequency caps across all automations (higher ``priority`` wins a slot
            when messages compete in one batch).
        quiet_hours: quiet hours for automations that set none.
        timezone_trait: the profile trait holding a person's IANA time zone.
        max_cascade: how deep emitted events may trigger further events.
        batch_size: events per transaction.
        remember_events: skip events whose ``event_id`` was handled before.
        suppress_events: event names that put the person on the global suppression list,
            each with the channel they close (``*`` = every channel), for example
            ``{"Unsubscribed": "email"}``: their unsent messages on it are cancelled and
            nothing more is sent there (see :mod:`.suppression`).
        event_time: handle each event at its own time (``ts``) rather than the clock's, and
            fire the timers due before an event first: a replay of past events then waits,
            counts goal windows and applies caps as if live, whatever the batch size. The
            clock must be settable (:class:`.clock.ManualClock`); events come in time order.
    """

    global_caps: tuple[Cap, ...] = ()
    quiet_hours: QuietHours | None = None
    timezone_trait: str = "timezone"
    max_cascade: int = 8
    batch_size: int = 500
    remember_events: bool = True
    suppress_events: Mapping[str, str] = field(default_factory=dict)
    event_time: bool = False


@dataclass(frozen=True)
class HandleResult:
    """What one call did (counts)."""

    events: int = 0
    duplicates: int = 0
    entered: int = 0
    completed: int = 0
    converted: int = 0
    exited: int = 0
    queued: int = 0
    capped: int = 0
    fired: int = 0

    def __add__(self, other: HandleResult) -> HandleResult:
        return HandleResult(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


def normalize_event(event: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Check an event in the canonical layout and make its fields uniform.

    ``properties``/``traits`` may be dicts or JSON text; ``ts`` anything
    :func:`.clock.to_utc_naive` reads (default: now).
    """
    name = event.get("event")
    if not isinstance(name, str) or not name:
        raise InputError("an event needs a name", field="event")
    out: dict[str, Any] = {"event": name}
    for key in ("properties", "traits"):
        value = event.get(key)
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else None
            except json.JSONDecodeError as exc:
                raise InputError(f"not JSON: {exc}", field=key) from None
        if value is not None and not isinstance(value, dict):
            if isinstance(value, float) and math.isnan(value):
                value = None
            else:
                raise InputError("must be an object", field=key)
        out[key] = value
    if out["properties"] is None:
        out["properties"] = {}
    for key in ("event_id", "person_id", "channel"):
        value = event.get(key)
        out[key] = (
            None
            if value is None or (isinstance(value, float) and math.isnan(value))
            else str(value)
        )
    ts = event.get("ts")
    out["ts"] = now if ts is None else to_utc_naive(ts)
    revenue = event.get("revenue")
    out["revenue"] = (
        None if revenue is None or (isinstance(revenue, float) and math.isnan(revenue)) else revenue
    )
    return out


def next_run(schedule: Schedule, last: datetime | None, now: datetime) -> datetime:
    """When a schedule runs next, after a run at ``last`` (or first, when ``last`` is None)."""
    if schedule.at is None:
        return now if last is None else max(last + schedule.every, now)
    base = now if last is None else max(now, last + schedule.every - timedelta(hours=1))
    return next_time_of_day(base, schedule.timezone, schedule.at, schedule.weekdays)


class Engine:
    """Runs automations against events and timers, keeping all state in a :class:`StateStore`.

    Args:
        automations: the automations to run (their ids must be unique).
        state: a :class:`StateStore` or its URL (``sqlite:///state.sqlite``,
            ``postgresql://…``).
        clock: where "now" comes from (a :class:`.clock.ManualClock` in tests and backtests).
        settings: global caps, quiet hours and tuning.
        register: record the automations in the state (for listing and schedules).
    """

    def __init__(
        self,
        automations: Iterable[Automation],
        state: StateStore | str,
        *,
        clock: Clock | None = None,
        settings: EngineSettings | None = None,
        register: bool = True,
    ) -> None:
        self.state = state if isinstance(state, StateStore) else StateStore(state)
        self.clock: Clock = clock or SystemClock()
        self.settings = settings or EngineSettings()
        if self.settings.event_time and not callable(getattr(self.clock, "set", None)):
            raise ValueError("event_time needs a clock the engine can set (a ManualClock)")
        self.compiled: dict[str, Compiled] = {}
        for a in automations:
            if a.id in self.compiled:
                raise InvalidSpec(f"automation id {a.id!r} is used twice", field="id")
            self.compiled[a.id] = Compiled(a)
        self.by_event: dict[str, list[Compiled]] = {}
        for c in sorted(self.compiled.values(), key=lambda c: -c.priority):
            for name in c.trigger_names:
                self.by_event.setdefault(name, []).append(c)
        if register:
            self.register()

    @property
    def automations(self) -> list[Automation]:
        """The automations this engine runs."""
        return [c.spec for c in self.compiled.values()]

    def register(self) -> None:
        """Record the automations (id, version, spec) and schedule their first runs."""
        now = self.clock.now()

        def write(conn: Connection) -> None:
            existing = {
                r.automation_id: r.version
                for r in conn.execute(
                    sa.select(automations_t.c.automation_id, automations_t.c.version)
                )
            }
            for c in self.compiled.values():
                a = c.spec
                values = {
                    "name": a.name,
                    "version": a.version,
                    "priority": a.priority,
                    "trigger": a.trigger.model_dump_json(exclude_none=True),
                    "enabled": a.enabled,
                    "spec": a.model_dump_json(by_alias=True),
                    "updated_at": now,
                }
                if a.id not in existing:  # another worker may register it at the same moment
                    conn.execute(
                        self.state.insert_ignore(automations_t, ["automation_id"]),
                        [{"automation_id": a.id, "registered_at": now, **values}],
                    )
                elif existing[a.id] != a.version:
                    conn.execute(
                        sa.update(automations_t)
                        .where(automations_t.c.automation_id == a.id)
                        .values(**values)
                    )
                if a.trigger.schedule is not None:
                    conn.execute(
                        self.state.insert_ignore(schedules_t, ["automation_id"]),
                        [
                            {
                                "automation_id": a.id,
                                "next_run_at": next_run(a.trigger.schedule, None, now),
                            }
                        ],
                    )

        self.state.run(write)

    # ---- events ------------------------------------------------------------------------------
    def handle(self, event: Mapping[str, Any]) -> HandleResult:
        """Evaluate one event (see :meth:`handle_batch`)."""
        return self.handle_batch([event])

    def handle_batch(
        self, events: Sequence[Mapping[str, Any]], *, enter: bool = True
    ) -> HandleResult:
        """Evaluate events in order, in transactions of ``settings.batch_size``.

        Events without a ``person_id`` are broadcasts: a ``Metric Alert`` enters the audience
        of automations triggered by that metric. A re-sent ``event_id`` is skipped. With
        ``enter=False`` events only update profiles and running journeys (history replay).
        With ``settings.event_time`` each event is handled at its ``ts`` and the timers due
        by then fire first (a transaction ends early when a timer falls due inside it).
        """
        now = self.clock.now()
        evs = [normalize_event(e, now) for e in events]
        personal = [e for e in evs if e["person_id"]]
        result = HandleResult()
        size = self.settings.batch_size
        if self.settings.event_time:
            i = 0
            while i < len(personal):
                result += self.fire_until(max(self.clock.now(), personal[i]["ts"]))
                step = self.state.run(
                    partial(
                        self._handle,
                        evs=personal[i : i + size],
                        allow_entry=enter,
                        stop_at=self.next_due(),
                    )
                )
                i += step.events + step.duplicates
                result += step
        else:
            for start in range(0, len(personal), size):
                chunk = personal[start : start + size]
                result += self.state.run(partial(self._handle, evs=chunk, allow_entry=enter))
        for ev in evs:
            if enter and not ev["person_id"]:
                result += self._broadcast(ev)
        return result

    def _handle(
        self,
        conn: Connection,
        evs: list[dict[str, Any]],
        allow_entry: bool = True,
        stop_at: datetime | None = None,
    ) -> HandleResult:
        batch = Batch(self, conn, self.clock.now(), allow_entry=allow_entry)
        fresh, duplicates = evs, 0
        remember = self.settings.remember_events
        claimed = remember and self.state.skip_locked
        owned: set[str] = set()
        if remember:
            ids = list(dict.fromkeys(e["event_id"] for e in evs if e["event_id"]))
            if ids and claimed:
                # concurrent workers: the insert itself decides who owns an event
                stmt = self.state.insert_ignore(seen_t, ["event_id"]).returning(seen_t.c.event_id)
                rows = conn.execute(stmt, [{"event_id": i, "seen_at": batch.now} for i in ids])
                owned = {r[0] for r in rows}
            elif ids:  # one writer (SQLite, BEGIN IMMEDIATE): look, then insert what is handled
                seen: set[str] = set()
                for start in range(0, len(ids), 900):
                    part = ids[start : start + 900]
                    seen.update(
                        r[0]
                        for r in conn.execute(
                            sa.select(seen_t.c.event_id).where(
                                seen_t.c.event_id.in_(sa.bindparam("ids", expanding=True))
                            ),
                            {"ids": part},
                        )
                    )
                owned = set(ids) - seen
        fresh, taken, position = [], set(), []
        for n, e in enumerate(evs):
            eid = e["event_id"]
            if remember and eid is not None and (eid not in owned or eid in taken):
                continue
            if eid is not None:
                taken.add(eid)
            fresh.append(e)
            position.append(n)
        batch.load({e["person_id"] for e in fresh})
        done = len(fresh)
        timed = self.settings.event_time
        for k, e in enumerate(fresh):
            if timed:
                at = max(batch.now, e["ts"])
                queued = [t["due_at"] for t in batch.timers]
                if (stop_at is not None and stop_at <= at) or (queued and min(queued) <= at):
                    done = k  # a timer falls due first: the caller fires it, then goes on
                    break
                _move(batch, at)
            batch.process(e)
        consumed = position[done] if done < len(fresh) else len(evs)
        handled = [e["event_id"] for e in fresh[:done] if e["event_id"] is not None]
        duplicates = consumed - done
        batch.finalize()
        if remember and not claimed:
            self.state.bulk(
                conn,
                _insert_seen,
                [{"event_id": i, "seen_at": batch.now} for i in handled],
                key="seen.insert",
            )
        elif claimed and done < len(fresh):
            later = [e["event_id"] for e in fresh[done:] if e["event_id"] is not None]
            conn.execute(
                sa.delete(seen_t).where(seen_t.c.event_id.in_(sa.bindparam("ids", expanding=True))),
                {"ids": later},
            )
        return _result(batch, events=done, duplicates=duplicates)

    def _broadcast(self, ev: dict[str, Any]) -> HandleResult:
        result = HandleResult()
        if ev["event"] != "Metric Alert":
            return result
        for c in self.by_event.get("Metric Alert", ()):
            probe = {**ev, "properties": {**ev["properties"], "automation_id": c.id}}
            metric = ev["properties"].get("metric")
            if not c.spec.enabled or c.trigger.metric_alert not in ("*", metric):
                continue
            if c.conditions is None:
                eid = f"{ev['event_id']}:{c.id}" if ev["event_id"] else None
                subject = {**probe, "person_id": f"metric:{metric}", "event_id": eid}
                result += self.handle_batch([subject])
            else:
                result += self.enter_audience(c.id, probe)
        return result

    def enter_audience(self, automation_id: str, event: Mapping[str, Any]) -> HandleResult:
        """Offer ``event`` to every known person for one automation (schedules, metric alerts).

        Each person gets a copy with a derived ``event_id``, so a repeated call enters no one twice.
        """
        base = normalize_event(event, self.clock.now())
        base["properties"] = {**base["properties"], "automation_id": automation_id}
        base["_synthetic"] = True
        result, last = HandleResult(), ""
        while True:
            q = (
                sa.select(profiles_t.c.person_id)
                .where(profiles_t.c.person_id > last, ~profiles_t.c.person_id.startswith("metric:"))
                .order_by(profiles_t.c.person_id)
                .limit(self.settings.batch_size)
            )
            with self.state.begin() as conn:
                people = [r[0] for r in conn.execute(q)]
            if not people:
                return result
            last = people[-1]
            chunk = [
                {**base, "person_id": pid, "event_id": f"{base['event_id']}:{automation_id}:{pid}"}
                for pid in people
            ]
            result += self.state.run(partial(self._handle, evs=chunk))

    # ---- timers and schedules ----------------------------------------------------------------
    def fire_due_timers(self, limit: int = 1000) -> HandleResult:
        """Fire up to ``limit`` due timers in one transaction (shared between workers)."""
        return self.state.run(lambda conn: self._fire(conn, limit))

    def _fire(self, conn: Connection, limit: int) -> HandleResult:
        now = self.clock.now()
        t = timers_t.c
        q = (
            sa.select(t.timer_id, t.journey_id, t.person_id, t.step_id, t.kind)
            .where(t.status == "pending", t.due_at <= now)
            .order_by(t.due_at, t.timer_id)
            .limit(limit)
        )
        if self.state.skip_locked:
            q = q.with_for_update(skip_locked=True)
        rows = list(conn.execute(q))
        if not rows:
            return HandleResult()
        batch = Batch(self, conn, now)
        batch.load({r.person_id for r in rows}, skip_locked=True)
        for r in rows:
            if r.person_id not in batch.profiles:
                continue  # another worker holds this person; the timer stays for later
            batch.fired.append(r.timer_id)
            j = batch.by_id.get(r.journey_id)
            if j is not None and j.step_id == r.step_id:
                batch.resume(j, r.kind)
        batch.finalize()
        return _result(batch, fired=len(batch.fired))

    def fire_until(self, until: datetime) -> HandleResult:
        """Fire, each at its own due time, every timer due by ``until`` (event time)."""
        result = HandleResult()
        while (due := self.next_due()) is not None and due <= until:
            self.clock.set(due)  # type: ignore[attr-defined]
            result += self.fire_due_timers(limit=self.settings.batch_size)
        return result

    def next_due(self) -> datetime | None:
        """When the earliest pending timer is due (None when there is none)."""
        with self.state.begin() as conn:
            return conn.execute(
                sa.select(sa.func.min(timers_t.c.due_at)).where(timers_t.c.status == "pending")
            ).scalar()

    def run_schedules(self) -> HandleResult:
        """Run the scheduled automations that are due (each run enters its audience once)."""
        result = HandleResult()
        now = self.clock.now()
        for c in self.compiled.values():
            schedule = c.trigger.schedule
            if schedule is None or not c.spec.enabled:
                continue

            def claim(conn: Connection, aid: str = c.id) -> datetime | None:
                s = schedules_t.c
                q = sa.select(s.next_run_at).where(
                    s.automation_id == aid,
                    s.next_run_at <= now,
                    sa.or_(s.lease_until.is_(None), s.lease_until < now),
                )
                if self.state.skip_locked:
                    q = q.with_for_update(skip_locked=True)
                tick = conn.execute(q).scalar()
                if tick is not None:
                    conn.execute(
                        sa.update(schedules_t)
                        .where(s.automation_id == aid)
                        .values(lease_until=now + timedelta(minutes=10))
                    )
                return tick

            tick = self.state.run(claim)
            if tick is None:
                continue
            ev = {
                "event_id": f"schedule:{c.id}:{tick.isoformat()}",
                "event": "Schedule Fired",
                "ts": now,
                "properties": {"scheduled_for": tick.isoformat()},
            }
            result += self.enter_audience(c.id, ev)
            following = next_run(schedule, tick, now)
            done = (
                sa.update(schedules_t)
                .where(schedules_t.c.automation_id == c.id)
                .values(next_run_at=following, lease_until=None)
            )
            self.state.run(partial(_execute, stmt=done))
        return result

    # ---- profiles ----------------------------------------------------------------------------
    def upsert_profile(
        self,
        person_id: str,
        *,
        traits: Mapping[str, Any] | None = None,
        events: Mapping[str, int] | None = None,
        tags: Iterable[str] | None = None,
        stage: str | None = None,
    ) -> None:
        """Seed what is known about a person (history from the workspace); triggers nothing."""

        def write(conn: Connection) -> None:
            batch = Batch(self, conn, self.clock.now(), allow_entry=False)
            batch.load([person_id])
            p = batch.profiles[person_id]
            p.traits.update(traits or {})
            for name, n in (events or {}).items():
                p.counts[name] = p.counts.get(name, 0) + int(n)
            for tag in tags or ():
                if tag not in p.tags:
                    p.tags.append(tag)
            if stage is not None:
                p.stage = stage
            p.dirty = True
            batch.finalize()

        self.state.run(write)

    def seed_profiles(
        self,
        people: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, int]]],
        *,
        add: bool = False,
        seen: Iterable[str] = (),
    ) -> int:
        """Build profiles from history: ``(person_id, traits, event counts)`` per person.

        No automation sees these events: nobody enters, no journey moves. Traits the engine
        set itself win over those given. Counts are added with ``add``; otherwise each count
        becomes the larger of the stored and the given one, so seeding the same history twice
        changes nothing. ``seen`` marks event ids as handled in the same transactions.

        Returns:
            The number of people written.
        """
        rows = list(people)
        ids = list(dict.fromkeys(seen))
        size = self.settings.batch_size

        def write(conn: Connection, chunk: list[Any], marks: list[str]) -> None:
            batch = Batch(self, conn, self.clock.now(), allow_entry=False)
            batch.load([pid for pid, _, _ in chunk])
            for pid, traits, counts in chunk:
                p = batch.profiles[pid]
                p.traits = (
                    {**(traits or {}), **p.traits} if not add else {**p.traits, **(traits or {})}
                )
                for name, n in counts.items():
                    old = p.counts.get(name, 0)
                    p.counts[name] = old + int(n) if add else max(old, int(n))
                p.dirty = True
            batch.finalize()
            if marks:
                conn.execute(
                    self.state.insert_ignore(seen_t, ["event_id"]),
                    [{"event_id": i, "seen_at": batch.now} for i in marks],
                )

        for start in range(0, max(len(rows), 1 if ids else 0), size):
            marks = ids if start == 0 else []
            self.state.run(partial(write, chunk=rows[start : start + size], marks=marks))
        return len(rows)

    def absorb(self, events: Sequence[Mapping[str, Any]]) -> int:
        """Add events to profiles only (traits, event counts): history that must not act.

        Each event id is taken once (as :meth:`handle_batch` does). Returns how many were new.
        """
        now = self.clock.now()
        evs = [normalize_event(e, now) for e in events]
        evs = [e for e in evs if e["person_id"]]
        ids = [e["event_id"] for e in evs if e["event_id"]]
        known: set[str] = set()
        if ids and self.settings.remember_events:
            with self.state.begin() as conn:
                for start in range(0, len(ids), 900):
                    known.update(
                        r[0]
                        for r in conn.execute(
                            sa.select(seen_t.c.event_id).where(
                                seen_t.c.event_id.in_(ids[start : start + 900])
                            )
                        )
                    )
        people: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}
        taken: list[str] = []
        for e in evs:
            if e["event_id"] in known:
                continue
            if e["event_id"]:
                known.add(e["event_id"])
                taken.append(e["event_id"])
            traits, counts = people.setdefault(e["person_id"], ({}, {}))
            traits.update(e["traits"] or {})
            counts[e["event"]] = counts.get(e["event"], 0) + 1
        self.seed_profiles(
            [(pid, t, c) for pid, (t, c) in people.items()],
            add=True,
            seen=taken if self.settings.remember_events else (),
        )
        return sum(sum(c.values()) for _, c in people.values())

    def profile(self, person_id: str) -> dict[str, Any] | None:
        """What the engine knows about a person: traits, tags, event counts, stage, entries."""
        with self.state.begin() as conn:
            data = conn.execute(
                sa.select(profiles_t.c.data).where(profiles_t.c.person_id == person_id)
            ).scalar()
        return None if data is None else json.loads(data)


def _move(batch: Batch, at: datetime) -> None:
    """Let a unit of work go on at ``at`` (event time), and the engine's clock with it."""
    if at > batch.now:
        batch.now = at
        batch.now_epoch = at.replace(tzinfo=UTC).timestamp()
        batch.e.clock.set(at)  # type: ignore[attr-defined]


def _insert_seen() -> Any:
    return sa.insert(seen_t)


def _execute(conn: Connection, stmt: Any) -> None:
    conn.execute(stmt)


def _result(batch: Batch, **extra: int) -> HandleResult:
    c = batch.counts
    return HandleResult(
        entered=c["entered"],
        completed=c["completed"],
        converted=c["converted"],
        exited=c["exited"],
        queued=c["queued"],
        capped=c["capped"],
        **extra,
    )
