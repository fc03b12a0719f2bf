"""Writing an inferred spec as YAML a person can read: each choice commented with its evidence.

The text reads back to the same :class:`~journeykit.journey.spec.JourneySpec` (inference checks
that); the comments above each touchpoint give its counts, position and channels, and why it
sits in its stage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.journey.infer import Decision


@dataclass(frozen=True)
class Proposal:
    """What inference proposes, before it is written (see :func:`write_yaml`)."""

    name: str
    stage_names: tuple[str, ...]
    stage: Mapping[str, str]
    kinds: Mapping[str, str]
    goal: str
    conversions: tuple[str, ...]
    revenue: str | None
    touches: tuple[str, ...]
    touch_channel: str
    contacts: tuple[str, ...]
    messages: tuple[str, ...]
    surveys: tuple[Mapping[str, Any], ...]
    currency: str | None
    session_gap: str


def scalar(text: str) -> str:
    """A YAML scalar: plain when safe, else double-quoted.

    >>> scalar("Order placed"), scalar("yes"), scalar("a: b")
    ('Order placed', '"yes"', '"a: b"')
    """
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 _\-./]*", text) and text.lower() not in (
        "yes", "no", "true", "false", "null", "on", "off", "y", "n",
    ):  # fmt: skip
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(items: Sequence[str]) -> str:
    return "[" + ", ".join(scalar(i) for i in items) + "]"


def write_yaml(
    p: Proposal, events: pd.DataFrame, people: int, decisions: Sequence[Decision]
) -> str:
    """The proposal as commented YAML.

    Args:
        p: the proposal.
        events: the event profile (:func:`~journeykit.journey.infer_profile.event_profile`,
            indexed by event name).
        people: how many people the workspace holds.
        decisions: the decisions, for the comments.
    """
    why = {(d.topic, d.subject): d for d in decisions}
    lines = [
        f"# A journey spec proposed by journeykit from {int(events.events.sum()):,} events of "
        f"{len(events)} names",
        f"# and {people:,} people. Each event's stage comes from where it sits in journeys "
        "(see the",
        "# comment above it); check the decisions, rename stages, merge touchpoints, add KPIs.",
        f"name: {scalar(p.name)}",
        "stages:",
    ]
    for s in p.stage_names:
        rows = [e for e in events.sort_values("position").index if p.stage.get(e) == s]
        if not rows:  # a stage needs a touchpoint
            continue
        lines.append(f"  - name: {scalar(s)}")
        lines.append("    touchpoints:")
        for e in rows:
            r = events.loc[e]
            chans = ", ".join(str(c) for c in r.channels[:4]) or "none"
            lines.append(
                f"      # {int(r.events):,} events, {int(r.people):,} people, "
                f"position {float(r.position):.2f}, channels: {chans}"
            )
            d = why.get(("stage", e))
            if d is not None:
                lines.append(f"      # {d.why}")
            entry = f"      - {{name: {scalar(e)}, events: [{scalar(e)}]"
            if p.kinds[e] != "action":
                entry += f", kind: {p.kinds[e]}"
            lines.append(entry + "}")
    g = why.get(("goal", ""))
    lines += [
        f"# goal: {g.why}" if g else "# goal: a placeholder, no conversion was found",
        "goals:",
        f"  - {{name: {scalar(p.goal)}, event: {scalar(p.goal)}}}",
    ]
    if p.conversions:
        lines += ["conversions:", f"  events: {_flow(p.conversions)}"]
        if p.revenue:
            lines.append(f"  revenue: {scalar(p.revenue)}")
        repeat = f"count(event == {json.dumps(p.conversions[0], ensure_ascii=False)}) >= 2"
        lines.append(f"personas:\n  - name: Repeat customers\n    where: {scalar(repeat)}")
    else:
        lines.append("personas: []")
    if p.currency:
        lines.append(f"currency: {p.currency}")
    if p.touches:
        lines += [
            "marketing:",
            f"  events: {_flow(p.touches)}",
            f"  channel: {scalar(p.touch_channel)}",
        ]
    lines.append(f"contacts: {_flow(p.contacts)}")
    lines.append(f"messages: {_flow(p.messages)}")
    if p.surveys:
        lines.append("surveys:")
        for survey in p.surveys:
            body = ", ".join(f"{k}: {scalar(str(v))}" for k, v in survey.items())
            lines.append(f"  - {{{body}}}")
    else:
        lines.append("surveys: []")
    lines.append(f"session_gap: {p.session_gap}")
    lines.append("")
    return "\n".join(lines)
