"""The orchestrator fed from a workspace: profiles from history, then new events by arrival.

A live run acts only on events that are new to it. The orchestration state remembers, per
workspace, how far it has read (``jk_feeds``), by *arrival*: events are taken in the order they
reached the workspace (``received_at``, else their own time, then ``event_id``), so an event
that arrives late (long after its own time) is still seen.

Starting a run (:func:`plan`):

* first run (no position stored): every stored event builds profiles (traits, event counts)
  and no journey starts; the run acts on what arrives from then on;
* later runs: the events that arrived while no run was reading are the *backlog*;
* ``since``: the backlog is every event from that time on (profiles come from the ones
  before it).

A backlog with events older than ``max_age`` is refused (:class:`ReplayRefused`, which says
how many people and messages acting on it would touch) unless the caller chooses: ``replay``
acts on it in event time (:func:`replay_backlog`: waits and goal windows count from each
event's own time, and nothing is sent before the replay is done, so journeys that ended in
the meantime send nothing), ``from_now`` only adds it to profiles.

While following, an event whose own time is older than ``max_age`` when it arrives (a file of
old events loaded into a live workspace) only updates its person's profile.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from journeykit.errors import JourneykitError

if TYPE_CHECKING:
    from journeykit.orchestrate.engine import Engine, EngineSettings
    from journeykit.orchestrate.spec import Automation
    from journeykit.orchestrate.state import StateStore
    from journeykit.store import Store

log = logging.getLogger("journeykit.orchestrate.feed")

#: The arrival key of an event (its place in the order events reached the workspace).
ARRIVAL = "coalesce(e.received_at, e.ts)"
_COLUMNS = (
    f"e.event_id, e.ts, {ARRIVAL} AS arrival, e.person_id, e.event, e.channel, "
    "e.properties, e.revenue, p.traits"
)


@dataclass(frozen=True, order=True)
class Position:
    """A place in arrival order: events after it are new."""

    received_at: datetime
    event_id: str


#: The position before every event (a feed that started on an empty workspace).
ORIGIN = Position(datetime(1970, 1, 1), "")


class ReplayRefused(JourneykitError):
    """A run would act on old events and nobody said to (``replay`` or ``from_now``).

    Attributes:
        events: events in the backlog; ``old`` of them older than ``max_age``.
        people: people those events belong to; ``entrants``: people a dry run enters.
        messages: messages the dry run would send.
        oldest: the time of the oldest event.
    """

    def __init__(
        self,
        events: int,
        old: int,
        people: int,
        entrants: int,
        messages: int,
        oldest: datetime,
        max_age: timedelta,
    ) -> None:
        self.events, self.old, self.people = events, old, people
        self.entrants, self.messages, self.oldest, self.max_age = (
            entrants,
            messages,
            oldest,
            max_age,
        )
        super().__init__(
            f"{old} of the {events} events waiting are older than {_age(max_age)} "
            f"(the oldest from {oldest:%Y-%m-%d %H:%M} UTC). Acting on them would touch "
            f"{people} people: {entrants} would enter automations and {messages} messages "
            "would be sent. Run with --replay to act on them in event time, or with "
            "--from-now to only add them to profiles"
        )


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# ---- reading ------------------------------------------------------------------------------------


def _rows(store: Store, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    out = []
    for event_id, ts, arrival, person, name, channel, props, revenue, traits in store.fetchall(
        sql, params
    ):
        out.append(
            {
                "event_id": event_id,
                "ts": ts,
                "arrival": arrival,
                "person_id": person,
                "event": name,
                "channel": channel,
                "properties": json.loads(props or "{}"),
                "revenue": revenue,
                "traits": json.loads(traits) if traits else {},
            }
        )
    return out


def end_position(store: Store) -> Position | None:
    """The arrival position of the newest event (None for an empty workspace)."""
    row = store.execute(
        f"SELECT {ARRIVAL}, e.event_id FROM events e ORDER BY 1 DESC, 2 DESC LIMIT 1"
    ).fetchone()
    return None if row is None else Position(row[0], row[1])


def _beyond(a: str, b: str) -> str:
    # (a, b) > (?, ?) spelt out: DuckDB cannot compare row values in a range (BETWEEN)
    return f"({a} > ? OR ({a} = ? AND {b} > ?))"


def _window(
    after: Position | None, upto: Position | None, since: datetime | None, before: datetime | None
) -> tuple[list[str], list[Any]]:
    where, params = ["e.person_id IS NOT NULL"], []
    if after is not None:
        where.append(_beyond(ARRIVAL, "e.event_id"))
        params += [after.received_at, after.received_at, after.event_id]
    if upto is not None:
        where.append(f"NOT {_beyond(ARRIVAL, 'e.event_id')}")
        params += [upto.received_at, upto.received_at, upto.event_id]
    if since is not None:
        where.append("e.ts >= ?")
        params.append(since)
    if before is not None:
        where.append("e.ts < ?")
        params.append(before)
    return where, params


def read_events(
    store: Store,
    *,
    after: Position | None = None,
    upto: Position | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    order: Literal["arrival", "time"] = "arrival",
    page: int = 5000,
) -> Iterator[list[dict[str, Any]]]:
    """Events with a person, in pages, in arrival order or in time order.

    ``after``/``upto`` bound the arrival position, ``since``/``before`` the event time.
    """
    where, params = _window(after, upto, since, before)
    first = ARRIVAL if order == "arrival" else "e.ts"
    key = f"{first}, e.event_id"
    last: tuple[Any, str] | None = None
    while True:
        cond = list(where)
        args = list(params)
        if last is not None:
            cond.append(_beyond(first, "e.event_id"))
            args += [last[0], last[0], last[1]]
        sql = (
            f"SELECT {_COLUMNS} FROM events e LEFT JOIN people p USING (person_id) "
            f"WHERE {' AND '.join(cond)} ORDER BY {key} LIMIT {int(page)}"
        )
        rows = _rows(store, sql, args)
        if not rows:
            return
        yield rows
        tail = rows[-1]
        last = (tail["arrival"] if order == "arrival" else tail["ts"], tail["event_id"])
        if len(rows) < page:
            return


def history_profiles(
    store: Store, *, upto: Position | None, before: datetime | None = None
) -> Iterator[tuple[str, dict[str, Any], dict[str, int]]]:
    """Per person: traits and event counts of the stored events up to a position."""
    where, params = _window(None, upto, None, before)
    sql = (
        "SELECT c.person_id, any_value(p.traits), list(c.event), list(c.n) FROM ("
        "  SELECT e.person_id, e.event, count(*) AS n FROM events e "
        f"  WHERE {' AND '.join(where)} GROUP BY ALL"
        ") c LEFT JOIN people p USING (person_id) GROUP BY c.person_id ORDER BY c.person_id"
    )
    cur = store.execute(sql, params)
    while batch := cur.fetchmany(5000):
        for pid, traits, names, counts in batch:
            yield pid, (json.loads(traits) if traits else {}), dict(zip(names, counts, strict=True))


def backtest_events(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The events a backtest of ``[start, end)`` needs, in time order: those of the window,
    and the earlier ones of the same people (their history, which builds their profiles)."""
    sql = (
        f"SELECT {_COLUMNS} FROM events e LEFT JOIN people p USING (person_id) "
        "WHERE e.ts < ? AND e.person_id IN "
        "(SELECT DISTINCT person_id FROM events WHERE ts >= ? AND ts < ? AND person_id IS NOT NULL) "
        "ORDER BY e.ts, e.person_id, e.seq NULLS LAST, e.event_id"
    )
    return _rows(store, sql, [end, start, end])


# ---- starting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Where a run starts and what waits for it.

    Attributes:
        feed: the feed's name in the state (the workspace folder).
        stored: the position the last run read to (None on a first run).
        end: the newest arrival when the run started; the backlog ends there.
        since: act on events from this time on (None: the backlog since ``stored``).
        events, old, people: the backlog: events, those older than ``max_age``, people.
        oldest: the time of the oldest event of the backlog.
    """

    feed: str
    stored: Position | None
    end: Position | None
    since: datetime | None
    events: int
    old: int
    people: int
    oldest: datetime | None

    def backlog(self, store: Store, page: int) -> Iterator[list[dict[str, Any]]]:
        """The backlog in time order."""
        if self.end is None or (self.stored is None and self.since is None):
            return iter(())
        after = None if self.since is not None else self.stored
        return read_events(
            store, after=after, upto=self.end, since=self.since, order="time", page=page
        )


def stored_position(state: StateStore, feed: str) -> Position | None:
    """The position a feed has read to (None before its first run)."""
    from journeykit.orchestrate.state import feeds_t

    if not sa.inspect(state.engine).has_table("jk_feeds", schema=state.schema):
        return None
    with state.begin() as conn:
        row = conn.execute(
            sa.select(feeds_t.c.received_at, feeds_t.c.event_id).where(feeds_t.c.feed == feed)
        ).first()
    return None if row is None else Position(row[0], row[1])


def save_position(state: StateStore, feed: str, position: Position, now: datetime) -> None:
    """Remember how far a feed has read."""
    from journeykit.orchestrate.state import feeds_t

    def write(conn: Any) -> None:
        f = feeds_t.c
        done = conn.execute(
            sa.update(feeds_t)
            .where(f.feed == feed)
            .values(received_at=position.received_at, event_id=position.event_id, updated_at=now)
        )
        if done.rowcount == 0:
            conn.execute(
                sa.insert(feeds_t).values(
                    feed=feed,
                    received_at=position.received_at,
                    event_id=position.event_id,
                    started_at=now,
                    updated_at=now,
                )
            )

    state.run(write)


def plan(
    store: Store,
    state: StateStore,
    feed: str,
    *,
    since: datetime | None,
    max_age: timedelta,
    now: datetime,
) -> Plan:
    """Look at what a run starting now would act on (reads only)."""
    stored = stored_position(state, feed)
    end = end_position(store)
    if end is None or (stored is None and since is None):
        return Plan(feed, stored, end, since, 0, 0, 0, None)
    after = None if since is not None else stored
    where, params = _window(after, end, since, None)
    n, old, people, oldest = store.execute(
        "SELECT count(*), count(*) FILTER (WHERE e.ts < ?), count(DISTINCT e.person_id), "
        f"min(e.ts) FROM events e WHERE {' AND '.join(where)}",
        [now - max_age, *params],
    ).fetchone()
    return Plan(feed, stored, end, since, int(n), int(old), int(people), oldest)


def dry_run(
    store: Store,
    plan_: Plan,
    automations: list[Automation],
    settings: EngineSettings,
    now: datetime,
) -> tuple[int, int]:
    """People who would enter and messages that would be sent if the backlog were replayed.

    A backtest over the backlog's people: their earlier events build profiles, the backlog
    runs the automations. Nothing is written to the state.
    """
    from journeykit.orchestrate.backtest import backtest

    if plan_.oldest is None:
        return 0, 0
    events: list[dict[str, Any]] = []
    people: set[str] = set()
    for page in plan_.backlog(store, 5000):
        people.update(e["person_id"] for e in page)
    if not people:
        return 0, 0
    ids = sorted(people)
    for start in range(0, len(ids), 5000):
        sql = (
            f"SELECT {_COLUMNS} FROM events e LEFT JOIN people p USING (person_id) "
            "WHERE e.person_id IN (SELECT unnest(?)) AND e.ts <= ? ORDER BY e.ts, e.event_id"
        )
        events += _rows(store, sql, [ids[start : start + 5000], now])
    reports = backtest(
        automations,
        events,
        as_of=now + timedelta(microseconds=1),
        lookback=now + timedelta(microseconds=1) - plan_.oldest,
        settings=settings,
        samples=0,
        send="at_end",
    )
    entrants = len({p for r in reports for p in r.person_ids})
    return entrants, sum(r.messages for r in reports)


def start(
    store: Store,
    state: StateStore,
    automations: list[Automation],
    feed: str,
    *,
    since: datetime | None = None,
    max_age: timedelta = timedelta(hours=1),
    replay: bool = False,
    from_now: bool = False,
    settings: EngineSettings | None = None,
    now: datetime,
    stop: threading.Event | None = None,
) -> Plan:
    """Prepare a run: profiles from history, the backlog handled; returns where to follow from.

    On a first run every stored event (before ``since``, when given) builds profiles. A backlog
    whose events are all younger than ``max_age`` is acted on as live events; an older one
    needs ``replay`` (acted on in event time, see :func:`replay_backlog`) or ``from_now``
    (profiles only). The position where following starts (``plan.end``) is saved at the end.

    Raises:
        ReplayRefused: the backlog holds events older than ``max_age`` and neither ``replay``
            nor ``from_now`` is set. Nothing was written.
    """
    from journeykit.orchestrate.engine import Engine, EngineSettings

    settings = settings or EngineSettings()
    p = plan(store, state, feed, since=since, max_age=max_age, now=now)
    if p.old and not (replay or from_now):
        entrants, messages = dry_run(store, p, automations, settings, now)
        assert p.oldest is not None
        raise ReplayRefused(p.events, p.old, p.people, entrants, messages, p.oldest, max_age)
    engine = Engine(automations, state, settings=settings)
    if p.stored is None and p.end is not None:
        # the first run: history becomes profiles, and acts on nothing
        n = engine.seed_profiles(history_profiles(store, upto=p.end, before=since))
        log.info("profiles built from history", extra={"people": n})
    elif p.stored is not None and since is not None and p.end is not None:
        # arrived since the last run but from before `since`: history as well
        for page in read_events(store, after=p.stored, upto=p.end, before=since):
            engine.absorb(page)
    if p.events:
        if from_now:
            for page in p.backlog(store, settings.batch_size):
                engine.absorb(page)
        elif replay:
            replay_backlog(store, state, automations, p, settings=settings, stop=stop)
        else:  # all of it recent: as if it had just arrived
            for page in p.backlog(store, settings.batch_size):
                engine.handle_batch(page)
    if stop is None or not stop.is_set():
        save_position(state, feed, p.end or ORIGIN, now)
    return p


def replay_backlog(
    store: Store,
    state: StateStore,
    automations: list[Automation],
    p: Plan,
    *,
    settings: EngineSettings | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Act on the backlog in event time; returns the events handled.

    Nothing is sent here: the messages wait in the outbox for the run that follows, and a
    journey that ends later in the replay cancels the ones it had not sent.
    """
    from journeykit.orchestrate.clock import ManualClock
    from journeykit.orchestrate.engine import Engine, EngineSettings

    if p.oldest is None:
        return 0
    base = settings or EngineSettings()
    clock = ManualClock(p.oldest)
    engine = Engine(automations, state, clock=clock, settings=replace(base, event_time=True))
    handled = 0
    for page in p.backlog(store, base.batch_size):
        if stop is not None and stop.is_set():
            break
        handled += engine.handle_batch(page).events
    return handled


# ---- following ------------------------------------------------------------------------------------


class WorkspaceFeed:
    """A worker source: the workspace's new events, in arrival order, from a position.

    Args:
        open_store: a context manager giving the workspace's store for one read (the command
            line opens the workspace only while it reads; the server lends its own).
        state: the orchestration state (where the position is kept).
        feed: the feed's name.
        position: where to start (events after it are new).
        max_age: events whose own time is older than this when they arrive only update
            profiles.
        follow: keep reading as events arrive (else the source ends when nothing is left).
        interval: seconds between reads when nothing wakes the feed.
        wake: set by whoever adds events (the server's loader) to read at once.
    """

    def __init__(
        self,
        open_store: Callable[[], AbstractContextManager[Store]],
        state: StateStore,
        feed: str,
        position: Position | None,
        *,
        max_age: timedelta = timedelta(hours=1),
        follow: bool = True,
        interval: float = 1.0,
        wake: threading.Event | None = None,
    ) -> None:
        self.open_store = open_store
        self.state = state
        self.feed = feed
        self.position = position
        self.max_age = max_age
        self.follow = follow
        self.interval = interval
        self.wake = wake
        self.exhausted = False
        self.too_old = 0
        self.engine: Engine | None = None
        self._pending: Position | None = None
        self._last_read = 0.0
        self._more = True

    def attach(self, engine: Engine) -> None:
        """The engine that handles what this feed gives (for events that only build profiles)."""
        self.engine = engine

    def poll(self, max_events: int, timeout: float) -> list[Mapping[str, Any]]:
        """The next new events (at most ``max_events``)."""
        woken = self.wake is not None and self.wake.is_set()
        if not (self._more or woken or time.monotonic() - self._last_read >= self.interval):
            return []
        if woken and self.wake is not None:
            self.wake.clear()
        self._last_read = time.monotonic()
        with self.open_store() as store:
            rows = next(iter(read_events(store, after=self.position, page=max_events)), [])
        self._more = len(rows) >= max_events
        if not rows:
            self.exhausted = not self.follow
            return []
        self._pending = Position(rows[-1]["arrival"], rows[-1]["event_id"])
        assert self.engine is not None, "attach() an engine first"
        oldest_allowed = self.engine.clock.now() - self.max_age
        old = [r for r in rows if r["ts"] < oldest_allowed]
        if old:
            self.engine.absorb(old)
            self.too_old += len(old)
            log.warning(
                "events older than the live window arrived: profiles only",
                extra={"events": len(old), "max_age_seconds": self.max_age.total_seconds()},
            )
        return [r for r in rows if r["ts"] >= oldest_allowed]

    def idle(self, seconds: float) -> None:
        """Wait up to ``seconds`` for whoever adds events to wake the feed."""
        if self.wake is not None:
            self.wake.wait(seconds)
        else:
            time.sleep(seconds)

    def commit(self) -> None:
        """Remember the position of what was handled."""
        if self._pending is not None:
            now = self.engine.clock.now() if self.engine is not None else datetime.now()
            save_position(self.state, self.feed, self._pending, now)
            self.position, self._pending = self._pending, None
