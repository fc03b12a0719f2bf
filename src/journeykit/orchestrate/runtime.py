"""The run-time form of an automation (compiled steps, parsed conditions) and of the state rows.

Steps compile to a flat program: actions and waits run in order, a branch jumps to its ``else``
arm, a split jumps to the arm a person's hash picks, and arms jump past the block when done.
A journey at rest remembers only the id of the wait it is in, so programs may be re-compiled.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .conditions import Condition, parse
from .spec import (
    MESSAGE_ACTIONS,
    Automation,
    BranchStep,
    SplitStep,
    WaitForEvent,
    WaitStep,
    WaitUntil,
)

#: One compact encoder for state JSON (json.dumps with options builds a new one per call).
JSON = json.JSONEncoder(separators=(",", ":"), default=str)


def unit_hash(*parts: str) -> float:
    """A number in [0, 1) fixed by ``parts`` (for holdouts and splits).

    >>> unit_hash("holdout", "a", "p1") == unit_hash("holdout", "a", "p1")
    True
    """
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def idempotency_key(automation_id: str, person_id: str, entry: int, step_id: str) -> str:
    """The one key of an action: person, automation, step and entry.

    >>> len(idempotency_key("a", "p", 1, "step1"))
    40
    """
    raw = "\x1f".join((automation_id, person_id, str(entry), step_id))
    return hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()


@dataclass
class Instr:
    """One instruction of a compiled program."""

    kind: str  # action | wait | branch | split | jump
    step_id: str
    step: Any = None
    cond: Condition | None = None
    target: int = -1  # jump target; a branch's else arm
    arms: list[tuple[str, float, int]] = field(default_factory=list)


def compile_steps(steps: list[Any]) -> list[Instr]:
    """Flatten nested steps into a program (ids as in :func:`.spec.walk_steps`)."""
    out: list[Instr] = []

    def emit(block: list[Any], prefix: str) -> None:
        for i, step in enumerate(block, start=1):
            sid = step.id or f"{prefix}{i}"
            if isinstance(step, BranchStep):
                at = len(out)
                out.append(Instr("branch", sid, step, cond=parse(step.branch.if_)))
                emit(step.branch.then, f"{sid}.then")
                jump = len(out)
                out.append(Instr("jump", f"{sid}#end"))
                out[at].target = len(out)
                emit(step.branch.else_, f"{sid}.else")
                out[jump].target = len(out)
            elif isinstance(step, SplitStep):
                at = len(out)
                out.append(Instr("split", sid, step))
                jumps = []
                for arm in step.split:
                    out[at].arms.append((arm.name, arm.share, len(out)))
                    emit(arm.steps, f"{sid}.{arm.name}")
                    jumps.append(len(out))
                    out.append(Instr("jump", f"{sid}#{arm.name}"))
                for j in jumps:
                    out[j].target = len(out)
            elif isinstance(step, WaitStep):
                out.append(Instr("wait", sid, step))
            else:
                out.append(Instr("action", sid, step))

    emit(steps, "step")
    return out


def _maybe(text: str | None) -> Condition | None:
    return parse(text) if text else None


class Compiled:
    """An automation ready to run: conditions parsed, steps compiled."""

    def __init__(self, automation: Automation) -> None:
        a = automation
        self.spec = a
        self.id = a.id
        self.priority = a.priority
        self.trigger = a.trigger
        self.trigger_kind = a.trigger.kind
        self.trigger_names = frozenset(a.trigger.event_names)
        self.trigger_channels = (
            frozenset(
                [a.trigger.channel] if isinstance(a.trigger.channel, str) else a.trigger.channel
            )
            if a.trigger.channel
            else None
        )
        self.where = _maybe(a.trigger.where)
        self.conditions = _maybe(a.trigger.conditions)
        self.goal_names = frozenset(a.goal.event_names) if a.goal else frozenset()
        self.goal_where = _maybe(a.goal.where) if a.goal else None
        self.within: timedelta | None = a.goal.within if a.goal else None
        self.exit_when = _maybe(a.exit.when)
        self.exit_on_goal = a.exit.mode in ("on_conversion", "either")
        self.exit_on_unmatch = a.exit.mode in ("trigger_unmatched", "either")
        self.program = compile_steps(a.steps)
        self.pc_of = {ins.step_id: pc for pc, ins in enumerate(self.program)}
        self.wait_events: dict[str, tuple[frozenset[str], Condition | None]] = {}
        for ins in self.program:
            if ins.kind == "wait" and isinstance(ins.step.wait, WaitForEvent):
                w = ins.step.wait
                self.wait_events[ins.step_id] = (frozenset(w.event_names), _maybe(w.where))
        self.step_kinds = {
            ins.step_id: _step_kind(ins) for ins in self.program if ins.kind != "jump"
        }

    # -- matching --------------------------------------------------------------------------
    def matches_trigger(self, ev: dict[str, Any], scope: dict[str, Any]) -> bool:
        """Whether ``ev`` starts this automation for its person (profile already updated)."""
        if ev["event"] not in self.trigger_names:
            return False
        if self.trigger_channels is not None and ev.get("channel") not in self.trigger_channels:
            return False
        props = ev["properties"]
        kind = self.trigger_kind
        if kind == "segment" and props.get("segment") != self.trigger.segment:
            return False
        if kind == "stage" and props.get("stage") != self.trigger.stage:
            return False
        if kind == "metric_alert":
            if (
                self.trigger.metric_alert != "*"
                and props.get("metric") != self.trigger.metric_alert
            ):
                return False
            if props.get("automation_id") not in (None, self.id):
                return False
        if kind == "schedule" and props.get("automation_id") != self.id:
            return False
        if self.where is not None and not self.where.evaluate(scope):
            return False
        return self.conditions is None or self.conditions.evaluate(scope)

    def still_matches(self, scope: dict[str, Any]) -> bool:
        """Whether the person still belongs to the trigger (segment, stage, conditions)."""
        if self.trigger_kind == "segment" and self.trigger.segment not in scope["segments"]:
            return False
        if self.trigger_kind == "stage" and scope["stage"] != self.trigger.stage:
            return False
        return self.conditions is None or self.conditions.evaluate(scope)

    def matches_goal(self, ev: dict[str, Any], scope: dict[str, Any]) -> bool:
        """Whether ``ev`` is a conversion."""
        if ev["event"] not in self.goal_names:
            return False
        return self.goal_where is None or self.goal_where.evaluate(scope)


def _step_kind(ins: Instr) -> str:
    if ins.kind == "action":
        return str(ins.step.action)
    if ins.kind == "wait":
        w = ins.step.wait
        return (
            "wait_until"
            if isinstance(w, WaitUntil)
            else "wait_event"
            if isinstance(w, WaitForEvent)
            else "wait"
        )
    return ins.kind


def is_message(step: Any) -> bool:
    """Whether an action step sends something outside (webhook, e-mail, CRM task)."""
    return isinstance(step, MESSAGE_ACTIONS)


# ---- state rows -------------------------------------------------------------------------------


@dataclass
class Profile:
    """What the engine knows about a person (kept in ``jk_profiles.data`` as JSON).

    ``entries`` maps automation id to ``[entry number, entered (epoch s), in journey (0/1),
    track conversions until (epoch s or 0), held out (0/1, fixed at the first entry)]``.
    """

    person_id: str
    traits: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    stage: str | None = None
    entries: dict[str, list[float]] = field(default_factory=dict)
    exists: bool = False
    dirty: bool = False

    @classmethod
    def load(cls, person_id: str, data: str) -> Profile:
        """Read a stored profile."""
        d = json.loads(data)
        return cls(
            person_id,
            d.get("traits", {}),
            d.get("tags", []),
            d.get("counts", {}),
            d.get("stage"),
            d.get("entries", {}),
            exists=True,
        )

    def dump(self) -> str:
        """The JSON stored for this profile."""
        return JSON.encode(
            {
                "traits": self.traits,
                "tags": self.tags,
                "counts": self.counts,
                "stage": self.stage,
                "entries": self.entries,
            }
        )

    def needs_journeys(self, now_epoch: float) -> bool:
        """Whether any journey of this person is running or still counting conversions."""
        return any(e[2] or e[3] > now_epoch for e in self.entries.values())


@dataclass
class Journey:
    """One run of an automation for one person (a ``jk_journeys`` row)."""

    journey_id: str
    automation_id: str
    person_id: str
    entry: int
    grp: str
    status: str
    entered_at: datetime
    updated_at: datetime
    variant: str | None = None
    step_id: str | None = None
    matched: bool | None = None
    entry_event_id: str | None = None
    ended_at: datetime | None = None
    track_until: datetime | None = None
    converted_at: datetime | None = None
    exit_reason: str | None = None
    context: str | None = None  # the trigger event as JSON
    new: bool = False
    dirty: bool = False

    COLUMNS = (
        "journey_id",
        "automation_id",
        "person_id",
        "entry",
        "grp",
        "variant",
        "status",
        "step_id",
        "matched",
        "entry_event_id",
        "entered_at",
        "updated_at",
        "ended_at",
        "track_until",
        "converted_at",
        "exit_reason",
        "context",
    )

    def row(self) -> dict[str, Any]:
        """The columns of this journey."""
        return {c: getattr(self, c) for c in self.COLUMNS}

    @classmethod
    def from_row(cls, row: Any) -> Journey:
        """Build from a ``jk_journeys`` row."""
        m = row._mapping
        return cls(**{c: m[c] for c in cls.COLUMNS})


def journey_id(automation_id: str, person_id: str, entry: int) -> str:
    """The id of a journey: automation, entry number and person.

    >>> journey_id("welcome", "p_1", 2)
    'welcome|2|p_1'
    """
    return f"{automation_id}|{entry}|{person_id}"
