"""Automations against the data they will run on: event names, properties and traits.

A spec can be valid and still never fire: ``event: Basket Savd`` waits for an event no one
sends, ``{{ properties.valu }}`` renders empty. :func:`mentions` lists every event name and
every ``properties.``/``traits.`` path an automation reads (fields, expressions, templates), and
:func:`check` compares them with what a workspace holds. A name the data lacks but that is close
to one it has is an error (a typo: "did you mean …?"); a name with nothing close is a warning
(the event may simply not have happened yet).

The caller passes the known names and the matcher (the CLI gives the workspace's events and the
code base's one closest-name matcher), so this module reads no workspace itself.

>>> from journeykit.orchestrate.loader import loads
>>> [a] = loads("id: a\\ntrigger: {event: Basket Savd}\\nsteps: []")
>>> [f.message for f in check([a], events=["Basket Saved"], closest=lambda n, k: tuple(k))]
["event 'Basket Savd' matches no event in the workspace; did you mean 'Basket Saved'?"]
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .conditions import parse
from .spec import (
    Automation,
    BranchStep,
    CrmTaskAction,
    EmailAction,
    EmitAction,
    SetTraitAction,
    WaitForEvent,
    WaitStep,
    WebhookAction,
)
from .templates import paths as template_paths
from .templates import strings

#: events journeykit itself produces for triggers of other kinds
INTERNAL_EVENTS = frozenset(
    {"Segment Entered", "Segment Exited", "Stage Entered", "Metric Alert", "Schedule Fired"}
)

Closest = Callable[[str, list[str]], Sequence[str]]


@dataclass(frozen=True)
class Finding:
    """One problem found: ``level`` error (fix it) or warning (check it)."""

    level: Literal["error", "warning"]
    automation_id: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: automation {self.automation_id!r}, {self.where}: {self.message}"


@dataclass
class Mentions:
    """What an automation reads: event names and paths, each with where it was written."""

    events: list[tuple[str, str]] = field(default_factory=list)  # (where, name)
    paths: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)  # (where, path)
    emitted: set[str] = field(default_factory=set)
    listened: set[str] = field(default_factory=set)  # trigger and awaited events


def _expr(m: Mentions, where: str, text: str | None) -> None:
    if not text:
        return
    cond = parse(text)
    m.events.extend((where, name) for name in sorted(cond.event_names))
    m.paths.extend((where, p) for p in sorted(cond.paths, key=str))


def _template(m: Mentions, where: str, value: Any) -> None:
    for text in strings(value):
        for path in template_paths(text):
            if path[0] == "events" and len(path) > 1:
                m.events.append((where, str(path[1])))
            m.paths.append((where, path))


def mentions(a: Automation) -> Mentions:
    """Every event name and data path ``a`` reads, with where it is written."""
    m = Mentions()
    if a.trigger.event:
        for name in a.trigger.event_names:
            m.events.append(("trigger.event", name))
            m.listened.add(name)
    _expr(m, "trigger.where", a.trigger.where)
    _expr(m, "trigger.conditions", a.trigger.conditions)
    if a.goal is not None:
        m.events.extend(("goal.event", name) for name in a.goal.event_names)
        _expr(m, "goal.where", a.goal.where)
    _expr(m, "exit.when", a.exit.when)
    for name, tpl in a.templates.items():
        for part in ("subject", "text", "html"):
            _template(m, f"templates.{name}.{part}", getattr(tpl, part))
    for sid, step in a.walk():
        here = f"step {sid}"
        if isinstance(step, WaitStep) and isinstance(step.wait, WaitForEvent):
            for name in step.wait.event_names:
                m.events.append((f"{here} wait.event", name))
                m.listened.add(name)
            _expr(m, f"{here} wait.where", step.wait.where)
        elif isinstance(step, BranchStep):
            _expr(m, f"{here} branch.if", step.branch.if_)
        elif isinstance(step, EmitAction):
            m.emitted.add(step.event)
            _template(m, f"{here} properties", step.properties)
        elif isinstance(step, EmailAction):
            for part in ("to", "subject", "text", "html"):
                _template(m, f"{here} {part}", getattr(step, part))
        elif isinstance(step, WebhookAction):
            _template(m, f"{here} url", step.url)
            _template(m, f"{here} body", step.body)
        elif isinstance(step, CrmTaskAction):
            _template(m, f"{here} url", step.url)
            _template(m, f"{here} task", step.task)
        elif isinstance(step, SetTraitAction):
            _template(m, f"{here} value", step.value)
    return m


def _hint(close: Sequence[str]) -> str:
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def check(
    automations: Sequence[Automation],
    *,
    events: Collection[str],
    closest: Closest,
    properties: Mapping[str, Collection[str]] | None = None,
    traits: Collection[str] | None = None,
) -> list[Finding]:
    """Compare what ``automations`` read with what the data holds.

    Args:
        automations: the automations.
        events: the event names the workspace holds.
        closest: ``closest(name, known) -> names`` (best first), the code base's matcher.
        properties: per event name, the property keys its events carry (None: not checked).
        traits: the trait keys people carry (None: not checked).
    """
    found: list[Finding] = []
    all_m = {a.id: mentions(a) for a in automations}
    produced = set(INTERNAL_EVENTS).union(*(m.emitted for m in all_m.values()))
    known = sorted(set(events))
    have = set(known) | produced
    seen_traits = set(traits or ()) | {
        s.trait for a in automations for _, s in a.walk() if isinstance(s, SetTraitAction)
    }
    for a in automations:
        m = all_m[a.id]
        for where, name in dict.fromkeys(m.events):
            if name in have:
                continue
            close = list(closest(name, known))
            level: Literal["error", "warning"] = "error" if close else "warning"
            found.append(
                Finding(
                    level,
                    a.id,
                    where,
                    f"event {name!r} matches no event in the workspace{_hint(close)}",
                )
            )
        keys: set[str] = set()
        if properties is not None:
            for name in m.listened:
                keys.update(properties.get(name, ()))
        for where, path in dict.fromkeys(m.paths):
            root, rest = path[0], path[1:]
            if root == "trigger" and rest[:1] == ("properties",):
                root, rest = "properties", rest[1:]
            if not rest or not isinstance(rest[0], str):
                continue
            other_events = where in ("goal.where", "exit.when")  # they read other events
            if root == "properties" and properties is not None and keys and not other_events:
                pool, what = keys, f"the events that start or resume {a.id!r}"
            elif root == "traits" and traits is not None and seen_traits:
                pool, what = seen_traits, "people's traits"
            else:
                continue
            if rest[0] in pool:
                continue
            close = list(closest(rest[0], sorted(pool)))
            found.append(
                Finding(
                    "warning",
                    a.id,
                    where,
                    f"{root}.{rest[0]} is in none of {what}{_hint(close)} (it would always "
                    "be empty)",
                )
            )
    return found
