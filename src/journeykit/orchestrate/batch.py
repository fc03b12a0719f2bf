"""One unit of work: load the people an input touches, run their journeys, write it all back.

Every change an event or a timer causes (profile, journeys, new timers, queued messages, the
step log, cancellations) is written in the one transaction that also records the event as
seen or the timer as fired, so a crash leaves either all of it or none of it.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from journeykit.errors import InputError

from . import suppression
from .conditions import TRIGGER_FIELDS
from .flush import write
from .payloads import build_payload
from .runtime import (
    JSON,
    Compiled,
    Instr,
    Journey,
    Profile,
    idempotency_key,
    is_message,
    journey_id,
    unit_hash,
)
from .spec import (
    AddTagAction,
    EmitAction,
    RemoveTagAction,
    SetTraitAction,
    UnsetTraitAction,
    WaitForEvent,
    WaitUntil,
)
from .state import journeys_t, outbox_t, profiles_t
from .templates import render_value
from .timeutil import next_time_of_day, zone

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .engine import Engine


@dataclass
class _Message:
    journey: Journey
    automation: Compiled
    step_id: str
    kind: str
    channel: str
    payload: dict[str, Any] | None
    key: str
    tz: str
    error: str | None = None
    at: datetime | None = None  # when it was queued (events in event time differ in a batch)


def trigger_context(ev: dict[str, Any]) -> str:
    """What a journey keeps of the event that started it (JSON)."""
    return JSON.encode({k: ev.get(k) for k in sorted(TRIGGER_FIELDS)})


def trigger_event(j: Journey) -> dict[str, Any]:
    """The event that started a journey, as it was (``{}`` for journeys without one)."""
    if not j.context:
        return {}
    ev = json.loads(j.context)
    if isinstance(ev.get("ts"), str):
        with contextlib.suppress(ValueError):
            ev["ts"] = datetime.fromisoformat(ev["ts"])
    return ev


def scope_of(
    p: Profile, ev: dict[str, Any] | None, j: Journey | None, now: datetime
) -> dict[str, Any]:
    """The names an expression or a template can read, for a person, an event and a journey.

    Without an event (a timer resumed the journey) the event names read the trigger event, so
    ``properties.value`` still renders after a wait; ``trigger`` always does.
    """
    trigger = trigger_event(j) if j is not None else {}
    ev = ev or trigger
    return {
        "event": ev.get("event"),
        "channel": ev.get("channel"),
        "ts": ev.get("ts"),
        "person_id": p.person_id,
        "revenue": ev.get("revenue"),
        "properties": ev.get("properties") or {},
        "traits": p.traits,
        "events": p.counts,
        "segments": p.tags,
        "stage": p.stage,
        "now": now,
        "trigger": trigger,
        "journey": {
            "matched": j.matched,
            "entry": j.entry,
            "variant": j.variant,
            "group": j.grp,
            "automation_id": j.automation_id,
        }
        if j
        else {},
    }


def _epoch(dt: datetime) -> float:
    return dt.replace(tzinfo=UTC).timestamp()


class Batch:
    """The working set of one transaction."""

    def __init__(
        self, engine: Engine, conn: Connection, now: datetime, *, allow_entry: bool = True
    ) -> None:
        self.e = engine
        self.conn = conn
        self.now = now
        self.now_epoch = _epoch(now)
        self.allow_entry = allow_entry
        self.profiles: dict[str, Profile] = {}
        self.journeys: dict[str, list[Journey]] = defaultdict(list)
        self.by_id: dict[str, Journey] = {}
        self.timers: list[dict[str, Any]] = []
        self.fired: list[int] = []
        self.cancel_timers_of: set[str] = set()
        self.cancel_timer_steps: list[dict[str, str]] = []
        self.cancel_outbox_of: set[str] = set()
        self.cancel_held_of: dict[str, str] = {}  # journey id -> reason
        self.cancel_keys: dict[str, str] = {}  # idempotency key -> reason
        self.exit_checks = [c for c in engine.compiled.values() if c.exit_when is not None]
        self.steps: dict[tuple[str, str], dict[str, Any]] = {}
        self.messages: list[_Message] = []
        self.queue: deque[dict[str, Any]] = deque()
        self.counts: Counter[str] = Counter()

    # ---- loading ---------------------------------------------------------------------------
    def load(self, person_ids: set[str] | list[str], *, skip_locked: bool = False) -> set[str]:
        """Load (and on PostgreSQL lock) the profiles and live journeys of ``person_ids``.

        With ``skip_locked`` people another worker holds are left out. Returns the loaded ids.
        """
        ids = sorted(set(person_ids) - set(self.profiles))
        if not ids:
            return set()
        store = self.e.state
        loaded: list[str] = []

        def select(chunk: list[str]) -> None:
            q = sa.select(profiles_t.c.person_id, profiles_t.c.data).where(
                profiles_t.c.person_id.in_(sa.bindparam("ids", expanding=True))
            )
            if store.skip_locked:
                q = q.order_by(profiles_t.c.person_id).with_for_update(skip_locked=skip_locked)
            for pid, data in self.conn.execute(q, {"ids": chunk}):
                self.profiles[pid] = Profile.load(pid, data)
                loaded.append(pid)

        select(ids)
        missing = [pid for pid in ids if pid not in self.profiles]
        if missing and store.skip_locked:
            # create the rows first so that concurrent workers queue on the same row lock
            self.conn.execute(
                store.insert_ignore(profiles_t, ["person_id"]),
                [{"person_id": p, "data": "{}", "updated_at": self.now} for p in missing],
            )
            select(missing)
        elif missing:
            for pid in missing:
                self.profiles[pid] = Profile(pid)
                loaded.append(pid)
        need = [pid for pid in loaded if self.profiles[pid].needs_journeys(self.now_epoch)]
        if need:
            q = sa.select(journeys_t).where(
                journeys_t.c.person_id.in_(sa.bindparam("ids", expanding=True)),
                sa.or_(journeys_t.c.status == "waiting", journeys_t.c.track_until > self.now),
            )
            for row in self.conn.execute(q, {"ids": need}):
                self._add(Journey.from_row(row))
        return set(loaded)

    def _add(self, j: Journey) -> None:
        if j.journey_id not in self.by_id:
            self.by_id[j.journey_id] = j
            self.journeys[j.person_id].append(j)

    # ---- scopes ----------------------------------------------------------------------------
    def scope(
        self, p: Profile, ev: dict[str, Any] | None, j: Journey | None = None
    ) -> dict[str, Any]:
        """The names an expression can read, for this person, event and journey."""
        return scope_of(p, ev, j, self.now)

    # ---- events ----------------------------------------------------------------------------
    def process(self, ev: dict[str, Any]) -> None:
        """Apply one event and everything it causes (internal events included)."""
        self._process(ev)
        while self.queue:
            self._process(self.queue.popleft())

    def _process(self, ev: dict[str, Any]) -> None:
        pid = ev["person_id"]
        p = self.profiles[pid]
        _apply(p, ev)
        scope = self.scope(p, ev)
        name = ev["event"]
        for j in list(self.journeys.get(pid, ())):
            c = self.e.compiled.get(j.automation_id)
            if c is None:
                continue
            if (
                j.converted_at is None
                and name in c.goal_names
                and j.track_until is not None
                and self.now <= j.track_until
                and ev.get("event_id") != j.entry_event_id
                and c.matches_goal(ev, scope)
            ):
                j.converted_at = self.now
                j.dirty = True
                self.counts["converted"] += 1
                if j.status == "waiting" and c.exit_on_goal:
                    self.end(j, p, "converted", "goal")
                    continue
                if c.exit_on_goal:  # ended already: a message it left held must not go out
                    self.cancel_held_of[j.journey_id] = "the person converted before it was sent"
            if j.status != "waiting":
                continue
            if c.id in p.entries and c.exit_when is not None and c.exit_when.evaluate(scope):
                self.end(j, p, "exited", f"exit criteria: {c.spec.exit.when}")
                continue
            if c.exit_on_unmatch and not c.still_matches(scope):
                self.end(j, p, "exited", "trigger no longer matches")
                continue
            awaited = c.wait_events.get(j.step_id or "")
            if (
                awaited
                and name in awaited[0]
                and (awaited[1] is None or awaited[1].evaluate(scope))
            ):
                self.cancel_timer_steps.append({"b_j": j.journey_id, "b_s": j.step_id or ""})
                j.matched = True
                self.run(j, c, c.pc_of[j.step_id or ""] + 1, p, ev)
        for c in self.exit_checks:
            if c.id in p.entries and c.exit_when is not None and c.exit_when.evaluate(scope):
                self._cancel_held(pid, c.id, f"exit criteria after the journey: {c.spec.exit.when}")
        channel = self.e.settings.suppress_events.get(name)
        if channel is not None:
            self._suppress(pid, channel, f"{name} at {self.now:%Y-%m-%d %H:%M}")
        if self.allow_entry and not ev.get("_no_entry"):
            for c in self.e.by_event.get(name, ()):
                if c.spec.enabled and c.matches_trigger(ev, scope):
                    self.enter(c, p, ev)

    def resume(self, j: Journey, kind: str) -> None:
        """Fire a timer: continue the journey after its wait (``kind`` wait or timeout)."""
        c = self.e.compiled.get(j.automation_id)
        if c is None or j.status != "waiting" or j.step_id not in c.pc_of:
            return
        if kind == "timeout":
            j.matched = False
        p = self.profiles[j.person_id]
        self.run(j, c, c.pc_of[j.step_id] + 1, p, None)
        while self.queue:
            self._process(self.queue.popleft())

    # ---- journeys --------------------------------------------------------------------------
    def enter(self, c: Compiled, p: Profile, ev: dict[str, Any]) -> None:
        """Start a journey for ``p`` if the re-entry policy allows it."""
        info = p.entries.get(c.id)
        entry = 1
        if info:
            n, at, active = info[0], info[1], info[2]
            policy = c.spec.reentry.policy
            if policy == "never" or (active and policy != "restart"):
                return
            if self.now_epoch - at < c.spec.reentry.cooldown.total_seconds():
                return
            if active:
                for cur in self.journeys.get(p.person_id, ()):
                    if cur.automation_id == c.id and cur.status == "waiting":
                        self.end(cur, p, "exited", "entered again")
            entry = int(n) + 1
        # the arm is the person's, fixed at their first entry: a later change of the holdout
        # share moves no one who entered before (older profiles: the same hash decides)
        if info and len(info) > 4:
            held = bool(info[4])
        else:
            held = bool(c.spec.holdout) and unit_hash("holdout", c.id, p.person_id) < c.spec.holdout
        grp = "holdout" if held else "treatment"
        track = self.now + c.within if c.within is not None else None
        j = Journey(
            journey_id(c.id, p.person_id, entry),
            c.id,
            p.person_id,
            entry,
            grp,
            "waiting",
            self.now,
            self.now,
            entry_event_id=ev.get("event_id"),
            track_until=track,
            context=trigger_context(ev),
            new=True,
        )
        self._add(j)
        p.entries[c.id] = [entry, self.now_epoch, 1, _epoch(track) if track else 0, int(held)]
        p.dirty = True
        self.counts["entered"] += 1
        # a held-out journey walks the same waits, branches and exits without acting, so both
        # arms re-enter on the same terms and are measured over the same windows
        self.run(j, c, 0, p, ev)

    def _finish(self, j: Journey, p: Profile, status: str, reason: str | None) -> None:
        j.status = status
        j.step_id = None
        j.ended_at = self.now
        j.updated_at = self.now
        j.exit_reason = reason
        j.dirty = True
        entry = p.entries.get(j.automation_id)
        if entry and int(entry[0]) == j.entry:
            entry[2] = 0
            p.dirty = True
        if status != "converted":  # conversions are counted when they happen
            self.counts[status] += 1

    def end(self, j: Journey, p: Profile, status: str, reason: str) -> None:
        """End a journey early; its pending timers and unsent messages are cancelled."""
        self._finish(j, p, status, reason)
        self.cancel_timers_of.add(j.journey_id)
        self.cancel_outbox_of.add(j.journey_id)

    def log(self, j: Journey, step_id: str, outcome: str) -> None:
        """Record that a treated journey reached a step (the funnel)."""
        if j.grp == "holdout":
            return
        self.steps[(j.journey_id, step_id)] = {
            "journey_id": j.journey_id,
            "step_id": step_id,
            "automation_id": j.automation_id,
            "at": self.now,
            "outcome": outcome,
        }

    def run(self, j: Journey, c: Compiled, pc: int, p: Profile, ev: dict[str, Any] | None) -> None:
        """Run the program from ``pc`` until a wait or the end."""
        program = c.program
        j.dirty = True
        j.updated_at = self.now
        while pc < len(program):
            ins = program[pc]
            if ins.kind == "jump":
                pc = ins.target
                continue
            sid = ins.step_id
            if ins.kind == "branch":
                assert ins.cond is not None
                ok = ins.cond.evaluate(self.scope(p, ev, j))
                self.log(j, sid, "then" if ok else "else")
                pc = pc + 1 if ok else ins.target
            elif ins.kind == "split":
                u = unit_hash("split", c.id, sid, p.person_id)
                acc = 0.0
                name, target = ins.arms[-1][0], ins.arms[-1][2]
                for arm_name, share, arm_pc in ins.arms:
                    acc += share
                    if u < acc:
                        name, target = arm_name, arm_pc
                        break
                j.variant = f"{j.variant},{sid}={name}" if j.variant else f"{sid}={name}"
                self.log(j, sid, name)
                pc = target
            elif ins.kind == "wait":
                self._wait(j, c, ins, p)
                return
            else:
                if j.grp != "holdout":
                    self._act(j, c, ins, p, ev)
                pc += 1
        self._finish(j, p, "completed", None)

    def tz(self, p: Profile, c: Compiled) -> str:
        """The person's time zone (their ``timezone`` trait), else the automation's."""
        name = p.traits.get(self.e.settings.timezone_trait)
        if isinstance(name, str):
            try:
                zone(name)
                return name
            except ValueError:
                pass
        return c.spec.timezone

    def _wait(self, j: Journey, c: Compiled, ins: Instr, p: Profile) -> None:
        w = ins.step.wait
        kind = "wait"
        if isinstance(w, timedelta):
            due = self.now + w
        elif isinstance(w, WaitUntil):
            due = next_time_of_day(self.now, self.tz(p, c), w.until, w.weekdays)
        else:
            assert isinstance(w, WaitForEvent)
            due, kind = self.now + w.timeout, "timeout"
            j.matched = None
        j.status = "waiting"
        j.step_id = ins.step_id
        self.timers.append(
            {
                "journey_id": j.journey_id,
                "automation_id": c.id,
                "person_id": j.person_id,
                "step_id": ins.step_id,
                "kind": kind,
                "due_at": due,
                "status": "pending",
            }
        )
        self.log(j, ins.step_id, "waiting")

    def _act(
        self, j: Journey, c: Compiled, ins: Instr, p: Profile, ev: dict[str, Any] | None
    ) -> None:
        step = ins.step
        sid = ins.step_id
        scope = self.scope(p, ev, j)
        key = idempotency_key(c.id, p.person_id, j.entry, sid)
        if is_message(step) or isinstance(step, EmitAction):
            kind = "emit" if isinstance(step, EmitAction) else str(step.action)
            channel = "events" if isinstance(step, EmitAction) else step.channel
            try:
                payload = build_payload(step, scope, c, j, sid, key, self.now)
                error = None
            except (InputError, TypeError, ValueError) as exc:
                payload, error = None, f"cannot render the message: {exc}"
            self.messages.append(
                _Message(j, c, sid, kind, channel, payload, key, self.tz(p, c), error, self.now)
            )
            if (
                isinstance(step, EmitAction)
                and payload is not None
                and _depth(ev) < self.e.settings.max_cascade
            ):
                self.queue.append(
                    {
                        "event_id": key,
                        "ts": self.now,
                        "person_id": p.person_id,
                        "event": step.event,
                        "channel": "journeykit",
                        "properties": payload["properties"],
                        "traits": None,
                        "_depth": _depth(ev) + 1,
                    }
                )
            return
        if isinstance(step, SetTraitAction):
            p.traits[step.trait] = render_value(step.value, scope)
        elif isinstance(step, UnsetTraitAction):
            p.traits.pop(step.trait, None)
        elif isinstance(step, AddTagAction | RemoveTagAction):
            adding = isinstance(step, AddTagAction)
            if (step.tag in p.tags) != adding:
                if adding:
                    p.tags.append(step.tag)
                else:
                    p.tags.remove(step.tag)
                if _depth(ev) < self.e.settings.max_cascade:
                    self.queue.append(
                        {
                            "event_id": key,
                            "ts": self.now,
                            "person_id": p.person_id,
                            "event": "Segment Entered" if adding else "Segment Exited",
                            "channel": "journeykit",
                            "properties": {"segment": step.tag},
                            "traits": None,
                            "_depth": _depth(ev) + 1,
                        }
                    )
        p.dirty = True
        self.log(j, sid, "done")

    # ---- compliance ------------------------------------------------------------------------
    def _cancel_held(self, pid: str, automation_id: str, reason: str) -> None:
        """Cancel a person's unsent messages of one automation, journeys ended or not.

        Rows written before are cancelled now (so a re-entry later in this batch keeps its
        own messages); messages queued earlier in this batch are cancelled once written.
        """
        o = outbox_t.c
        self.conn.execute(
            sa.update(outbox_t)
            .where(
                o.person_id == pid,
                o.automation_id == automation_id,
                o.status == "pending",
                o.kind != "emit",
            )
            .values(status="cancelled", last_error=reason)
        )
        for m in self.messages:
            if m.journey.person_id == pid and m.automation.id == automation_id:
                self.cancel_keys[m.key] = reason

    def _suppress(self, pid: str, channel: str, reason: str) -> None:
        """Put a person on the suppression list and cancel what waits for them."""
        entries = suppression.rows(
            person_id=pid, address=None, channel=channel, reason=reason, now=self.now
        )
        suppression.add(self.conn, self.e.state, entries)
        suppression.cancel_pending(self.conn, pid, channel, f"suppressed: {reason}")
        for m in self.messages:
            if m.journey.person_id == pid and m.kind != "emit" and channel in ("*", m.channel):
                self.cancel_keys[m.key] = f"suppressed: {reason}"

    # ---- writing ---------------------------------------------------------------------------
    def finalize(self) -> None:
        """Write every change of this unit of work (inside the caller's transaction)."""
        write(self)
        o = outbox_t.c
        for column, todo in ((o.journey_id, self.cancel_held_of), (o.idem_key, self.cancel_keys)):
            if todo:
                self.conn.execute(
                    sa.update(outbox_t)
                    .where(column == sa.bindparam("b_k"), o.status == "pending", o.kind != "emit")
                    .values(status="cancelled", last_error=sa.bindparam("v_err")),
                    [{"b_k": k, "v_err": why} for k, why in sorted(todo.items())],
                )


def _depth(ev: dict[str, Any] | None) -> int:
    return int(ev.get("_depth", 0)) if ev else 0


def _apply(p: Profile, ev: dict[str, Any]) -> None:
    traits = ev.get("traits")
    if traits:
        p.traits.update(traits)
    name = ev["event"]
    if not ev.get("_synthetic"):
        p.counts[name] = p.counts.get(name, 0) + 1
    props = ev.get("properties") or {}
    if name == "Segment Entered" and isinstance(props.get("segment"), str):
        if props["segment"] not in p.tags:
            p.tags.append(props["segment"])
    elif name == "Segment Exited" and props.get("segment") in p.tags:
        p.tags.remove(props["segment"])
    elif name == "Stage Entered" and isinstance(props.get("stage"), str):
        p.stage = props["stage"]
    p.dirty = True
