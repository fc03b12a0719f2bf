"""A journey spec inferred from the data, with every decision explained.

:func:`infer_spec` reads a workspace it has never seen and proposes what its data means: the
conversion events and where their value is, the goal, the stage of every event, the marketing
touches and where their channel is, contact, message and survey events, the currency and the
session gap. Each decision comes with its evidence (figures from the data) and a confidence;
what it could not decide is listed too, so a person knows what to check.

How it decides:

* **Conversions** are the events that carry money: positive ``revenue`` on most occurrences,
  else a money-named numeric property (``total_price``, ``amount``, ...) on nearly all of them.
  Among those, a name that says a step is only on the way (``add_to_cart``, ``checkout
  started``, ``refund``) rules an event out when another one says it completes. Without money,
  a name that says a purchase or a completed booking, order or subscription decides.
* **Stages** (awareness, consideration, purchase, retention, advocacy) come from where events
  sit in journeys, measured against the first conversion: events that open journeys and
  sessions without raising the chance to convert are awareness; events done before the first
  conversion are consideration, or purchase when a conversion often comes right after them;
  events done after it are retention, or advocacy for reviews, surveys and referrals. An error
  takes the stage of the step it usually follows. Without conversions the events are cut into
  five stages by their median position in journeys.
* **Kinds, touches, contacts, messages and surveys** combine names (in any style: ``Order
  Completed``, ``order_completed``, ``orderCompleted``) with channels and with what the events
  carry (a whole-number score in 0-10 and a free-text field make a survey).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from journeykit.errors import InputError
from journeykit.journey import infer_words as W
from journeykit.journey.infer_profile import (
    conversion_profile,
    event_profile,
    gap_shares,
    property_profile,
)
from journeykit.journey.infer_yaml import Proposal, write_yaml

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.journey.spec import JourneySpec
    from journeykit.store import Workspace

#: Stage names for five stages; other counts get "stage 1", "stage 2", ...
FIVE = ("awareness", "consideration", "purchase", "retention", "advocacy")
AWARENESS, CONSIDERATION, PURCHASE, RETENTION, ADVOCACY = FIVE
_GAPS = (
    ("5m", 300),
    ("10m", 600),
    ("15m", 900),
    ("20m", 1200),
    ("30m", 1800),
    ("45m", 2700),
    ("1h", 3600),
    ("2h", 7200),
    ("3h", 10800),
    ("6h", 21600),
    ("12h", 43200),
)


@dataclass(frozen=True)
class Decision:
    """One thing inference decided.

    Attributes:
        topic: conversion, revenue, goal, stage, kind, touches, touch channel, contacts,
            messages, survey, currency or session gap.
        subject: the event or field it is about ("" for the data set as a whole).
        choice: what was decided.
        why: the evidence, in words and figures.
        confidence: 0 (a guess) to 1 (the data leaves no doubt).
    """

    topic: str
    subject: str
    choice: str
    why: str
    confidence: float


@dataclass(frozen=True)
class Inference:
    """The proposed spec, its YAML text (with comments), the decisions and the open questions."""

    spec: JourneySpec
    yaml: str
    decisions: tuple[Decision, ...]
    undecided: tuple[str, ...]

    def decision(self, topic: str, subject: str = "") -> Decision:
        """The decision on ``topic`` (about ``subject``)."""
        for d in self.decisions:
            if d.topic == topic and d.subject == subject:
                return d
        from journeykit.errors import NotFound

        raise NotFound(
            "decision",
            f"{topic} {subject}".strip(),
            [f"{d.topic} {d.subject}".strip() for d in self.decisions],
        )

    def table(self) -> pd.DataFrame:
        """The decisions as a table: topic, subject, choice, confidence, why."""
        import pandas as pd

        return pd.DataFrame(
            [(d.topic, d.subject, d.choice, round(d.confidence, 2), d.why) for d in self.decisions],
            columns=["topic", "subject", "choice", "confidence", "why"],
        )

    def explain(self) -> str:
        """The decisions and the open questions as plain text, one per line."""
        lines = [
            f"{d.topic}{' ' + d.subject if d.subject else ''}: {d.choice} "
            f"(confidence {d.confidence:.2f}; {d.why})"
            for d in self.decisions
        ]
        lines += [f"could not decide: {u}" for u in self.undecided]
        return "\n".join(lines)


@dataclass
class _State:
    """Working state of one inference."""

    ev: pd.DataFrame
    props: pd.DataFrame
    people: int
    converters: int = 0
    decisions: list[Decision] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)

    def decide(self, topic: str, subject: str, choice: str, why: str, confidence: float) -> None:
        self.decisions.append(Decision(topic, subject, choice, why, round(float(confidence), 2)))

    def row(self, event: str) -> Any:
        return self.ev.loc[event]

    def keys(self, event: str) -> pd.DataFrame:
        return self.props[self.props.event == event]


def _pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


# --- session gap --------------------------------------------------------------------------


def _session_gap(st: _State, ws: Workspace) -> tuple[str, float]:
    total, near, below = gap_shares(ws, [seconds for _, seconds in _GAPS])
    if total < 100:
        st.decide(
            "session gap",
            "",
            "30m",
            f"only {total} gaps between events: the usual 30 minutes",
            0.3,
        )
        return "30m", 1800.0
    width = 2 * math.log(1.5)  # every window spans x1.5 either side: the same width in log time
    best = min(
        range(len(_GAPS)),
        # the emptiest window, with a gentle pull to 30 minutes (the convention) on ties
        key=lambda i: near[i] / width + 0.01 * abs(math.log(_GAPS[i][1] / 1800.0)),
    )
    label, seconds = _GAPS[best]
    st.decide(
        "session gap",
        "",
        label,
        f"fewest gaps between a person's events lie near {label} "
        f"({_pct(near[best])} of {total:,} gaps within x1.5 of it); "
        f"{_pct(below[best])} of gaps are shorter",
        0.6 if near[best] < 0.05 else 0.4,
    )
    return label, float(seconds)


# --- conversions --------------------------------------------------------------------------


def _money_keys(st: _State) -> pd.DataFrame:
    p = st.props
    if p.empty:
        return p
    ranked = p.assign(rank=p.key.map(lambda k: W.key_rank(str(k), W.MONEY_KEYS)))
    return ranked[
        ranked["rank"].notna()
        & (ranked.present >= 0.8)
        & (ranked.numeric >= 0.9)
        & (ranked["max"] > 0)
    ].sort_values(["rank", "present"], ascending=[True, False])


def _prefer_completed(candidates: list[str]) -> tuple[list[str], list[str]]:
    """Split candidates into those whose names do not say "not done yet" and the rest."""
    done = [e for e in candidates if W.conversion_words(e) > 0]
    neutral = [e for e in candidates if not set(W.words(e)) & W.NOT_DONE]
    keep = done or neutral or candidates
    return keep, [e for e in candidates if e not in keep]


def _conversions(st: _State) -> tuple[list[str], str | None]:
    ev = st.ev
    with_revenue = ev[
        (ev.revenue_share >= 0.5) & ~ev.index.map(lambda e: bool(set(W.words(e)) & W.ERROR))
    ]
    if len(with_revenue):
        keep, dropped = _prefer_completed(list(with_revenue.index))
        for e in keep:
            r = ev.loc[e]
            st.decide(
                "conversion",
                e,
                "yes",
                f"{_pct(r.revenue_share)} of its {int(r.events):,} events carry revenue "
                f"(total {r.revenue:,.2f})",
                0.95 if W.conversion_words(e) > 0 else 0.8,
            )
        for e in dropped:
            st.decide(
                "conversion",
                e,
                "no",
                "carries revenue, but its name says a step on the way to " + " / ".join(keep),
                0.7,
            )
        st.decide("revenue", "", "revenue", "the revenue column holds the money", 0.95)
        return keep, "revenue"
    money = _money_keys(st)
    if len(money):
        events = list(dict.fromkeys(money.event))
        keep, dropped = _prefer_completed(events)
        key = str(money[money.event.isin(keep)].key.iloc[0])
        for e in keep:
            k = money[(money.event == e)].iloc[0]
            st.decide(
                "conversion",
                e,
                "yes",
                f"no revenue column; {_pct(k.present)} of its events carry a number in "
                f"properties.{k.key} (up to {k['max']:,.2f})",
                0.85 if W.conversion_words(e) > 0 else 0.6,
            )
        for e in dropped:
            st.decide(
                "conversion",
                e,
                "no",
                "carries an amount, but its name says a step on the way to " + " / ".join(keep),
                0.6,
            )
        st.decide(
            "revenue",
            "",
            f"properties.{key}",
            f"no event carries the revenue column; properties.{key} holds an amount on "
            + ", ".join(keep),
            0.8,
        )
        return keep, f"properties.{key}"
    named = [
        e
        for e in ev.index
        if W.conversion_words(e) >= 1.0 and ev.loc[e].people >= 0.005 * st.people
    ]
    if named:
        for e in named:
            r = ev.loc[e]
            st.decide(
                "conversion",
                e,
                "yes",
                f"no event carries money; the name says a completed purchase or sign-up "
                f"({int(r.people):,} people, {_pct(r.people / st.people)} of all)",
                0.6,
            )
        st.undecided.append(
            "the value of a conversion: no revenue column and no amount property; "
            "set conversions.revenue when the data has one"
        )
        return named, None
    things = [e for e in ev.index if W.conversion_words(e) > 0]
    plain = [
        e for e in ev.index if not set(W.words(e)) & (W.ERROR | W.MESSAGE | W.FEEDBACK | W.CONTACT)
    ]
    pool = ev.loc[things] if things else ev.loc[plain]
    pool = pool[(pool.people < 0.8 * st.people) & (pool.people >= 0.02 * st.people)]
    if pool.empty:
        st.undecided.append(
            "the conversion: no event carries money or says it completes a purchase"
        )
        return [], None
    pick = str(pool.sort_values(["position", "people"], ascending=[False, False]).index[0])
    st.decide(
        "conversion",
        pick,
        "yes",
        "a guess: no event carries money or says it completes a purchase; this one comes "
        f"late in journeys (position {ev.loc[pick].position:.2f}) and is done by "
        f"{_pct(ev.loc[pick].people / st.people)} of people",
        0.2,
    )
    st.undecided.append("the conversion event: check it and set conversions.events")
    st.undecided.append("the value of a conversion: no revenue column and no amount property")
    return [pick], None


# --- kinds --------------------------------------------------------------------------------


def _kind(st: _State, event: str, surveys: set[str]) -> str:
    w = set(W.words(event))
    main = st.row(event).channel or ""
    if w & W.ERROR:
        return "error"
    if event in surveys or w & W.FEEDBACK - {"answered"} or main in W.FEEDBACK_CHANNELS:
        return "feedback"
    if w & W.MESSAGE and (main in W.MESSAGE_CHANNELS or w & W.MESSAGE_CHANNELS or not main):
        return "message"
    if (w & W.CONTACT or main in W.CONTACT_CHANNELS) and not w & W.MESSAGE:
        return "contact"
    return "action"


# --- surveys ------------------------------------------------------------------------------


def _surveys(st: _State) -> list[dict[str, Any]]:
    out = []
    for event in st.ev.index:
        w = set(W.words(event))
        main = st.row(event).channel or ""
        named = bool(w & W.FEEDBACK) or main in W.FEEDBACK_CHANNELS
        keys = st.keys(event)
        if keys.empty:
            continue
        scores = keys[
            (keys.present >= 0.6)
            & (keys.numeric >= 0.95)
            & (keys.whole >= 0.95)
            & (keys["min"] >= 0)
            & (keys["max"] <= 10)
            & (keys["distinct"] >= 2)
        ].copy()
        scores["rank"] = scores.key.map(lambda k: W.key_rank(str(k), W.SCORE_KEYS))
        texts = keys[(keys.numeric < 0.5) & (keys.words >= 1.5) & (keys["distinct"] >= 2)].copy()
        texts["rank"] = texts.key.map(lambda k: W.key_rank(str(k), W.COMMENT_KEYS))
        named_score = scores[scores["rank"].notna()]
        if not (named and len(scores)) and not (len(named_score) and len(texts)):
            continue
        score = (named_score if len(named_score) else scores).sort_values("rank").iloc[0]
        entry: dict[str, Any] = {"event": event, "score": f"properties.{score.key}"}
        why = [
            f"properties.{score.key} is a whole number from {score['min']:.0f} to "
            f"{score['max']:.0f} on {_pct(score.present)} of its events"
        ]
        if len(texts):
            text = texts.sort_values(["rank", "words"], ascending=[True, False]).iloc[0]
            entry["comment"] = f"properties.{text.key}"
            why.append(f"properties.{text.key} is free text ({text.words:.1f} words on average)")
        metric_key = keys[keys.top.astype(str).str.lower().isin(("nps", "csat", "ces"))]
        if len(metric_key):
            entry["metric_field"] = f"properties.{metric_key.key.iloc[0]}"
            why.append(f"properties.{metric_key.key.iloc[0]} names the survey (nps, csat, ces)")
        elif score["max"] <= 5 and score["min"] >= 1:
            entry["metric"] = (
                "review"
                if w & {"review", "rating", "rated", "stars"} or "star" in str(score.key)
                else "csat"
            )
        elif score["max"] <= 7 and score["min"] >= 1:
            entry["metric"] = "ces"
        else:
            entry["metric"] = "nps"
        if "metric" in entry:
            why.append(f"a {score['min']:.0f}-{score['max']:.0f} scale reads as {entry['metric']}")
        conf = 0.85 if named and "comment" in entry else 0.6
        st.decide(
            "survey",
            event,
            entry["score"] + (f" + {entry['comment']}" if "comment" in entry else ""),
            "; ".join(why),
            conf,
        )
        out.append(entry)
    if not out:
        st.undecided.append("surveys: no event carries a 0-10 score with a survey-like name")
    return out


# --- stages -------------------------------------------------------------------------------


def _stages(
    st: _State, conversions: list[str], kinds: dict[str, str], cp: pd.DataFrame | None
) -> dict[str, str]:
    ev = st.ev
    stage: dict[str, str] = {}
    if cp is None or not conversions:
        labels = cut_positions(ev.position.sort_values().to_numpy(), min(5, len(ev)))
        order = list(ev.position.sort_values().index)
        for e, c in zip(order, labels, strict=True):
            stage[e] = FIVE[int(c)]
            st.decide(
                "stage",
                e,
                stage[e],
                f"no conversion to measure against: cut by median position in journeys "
                f"({ev.loc[e].position:.2f})",
                0.3,
            )
        return stage
    cpi = cp.set_index("event")
    base = st.converters / st.people if st.people else 0.0
    errors = []
    for e in ev.index:
        r, c = ev.loc[e], cpi.loc[e]
        if e in conversions:
            stage[e] = PURCHASE
            st.decide("stage", e, PURCHASE, "a conversion event", 0.95)
            continue
        if kinds[e] == "error":
            errors.append(e)
            continue
        lift = float(c.convert_share) / base if base else 1.0
        if r.first_share >= 0.3 and r.entry_share >= 0.8 and lift < 1.5:
            stage[e] = AWARENESS
            st.decide(
                "stage",
                e,
                AWARENESS,
                f"first event of {_pct(r.first_share)} of its people, opens a session "
                f"{_pct(r.entry_share)} of the time, and its people convert at "
                f"{_pct(c.convert_share)} (all: {_pct(base)})",
                0.8 if r.first_share >= 0.6 else 0.6,
            )
            continue
        before = c.before_share
        if c.converters < 5 or before != before:  # too few converters to say: by position
            stage[e] = CONSIDERATION if r.position < 0.5 else RETENTION
            st.decide(
                "stage",
                e,
                stage[e],
                f"only {int(c.converters)} of its people convert: by median position "
                f"{r.position:.2f}",
                0.3,
            )
            continue
        if before >= 0.5:
            if c.next_share >= 0.4:
                stage[e] = PURCHASE
                why = f"a conversion comes right after {_pct(c.next_share)} of them"
            else:
                stage[e] = CONSIDERATION
                why = f"a conversion comes right after only {_pct(c.next_share)} of them"
            st.decide(
                "stage",
                e,
                stage[e],
                f"{_pct(before)} of converters do it before their first conversion; " + why,
                0.5 + 0.4 * abs(before - 0.5) * 2 * (0.5 + 0.5 * abs(c.next_share - 0.4) / 0.6),
            )
            continue
        if c.convert_share < max(0.6, 1.2 * base):
            stage[e] = CONSIDERATION
            st.decide(
                "stage",
                e,
                CONSIDERATION,
                f"converters do it after converting, but only {_pct(c.convert_share)} of its "
                f"people ever convert (all: {_pct(base)}): mostly done by people who do not buy",
                0.5,
            )
            continue
        w = set(W.words(e))
        if kinds[e] == "feedback" or w & W.ADVOCACY:
            stage[e] = ADVOCACY
            why = "and it is feedback, a review or a referral"
        else:
            stage[e] = RETENTION
            why = "and it is not feedback, a review or a referral"
        st.decide(
            "stage",
            e,
            stage[e],
            f"{_pct(1 - before)} of converters do it only after their first conversion, " + why,
            0.5 + 0.4 * (1 - before),
        )
    for e in errors:
        prev = cpi.loc[e].prev
        if isinstance(prev, str) and prev in stage:
            stage[e] = stage[prev]
            st.decide(
                "stage",
                e,
                stage[e],
                f"an error: it follows {prev} {_pct(cpi.loc[e].prev_share)} of the time, "
                f"which is in {stage[prev]}",
                0.7,
            )
        else:
            stage[e] = PURCHASE
            st.decide("stage", e, PURCHASE, "an error with no clear step before it", 0.3)
    return stage


# --- touches ------------------------------------------------------------------------------


def _touches(st: _State, stage: dict[str, str], kinds: dict[str, str]) -> tuple[list[str], str]:
    ev = st.ev
    touches = []
    for e in ev.index:
        w = set(W.words(e))
        chans = set(ev.loc[e].channels)
        if stage.get(e) == AWARENESS and kinds[e] == "action":
            touches.append(e)
            st.decide("touches", e, "yes", "an awareness event: how people arrive", 0.7)
        elif w & W.CLICK and (chans & W.TOUCH_CHANNELS or w & W.TOUCH_CHANNELS):
            touches.append(e)
            st.decide("touches", e, "yes", "a click on a marketing channel", 0.6)
    if not touches:
        st.undecided.append("marketing touches: no awareness event or marketing click found")
        return [], "channel"
    sub = ev.loc[touches]
    channels = {c for cs in sub.channels for c in cs}
    filled = float(sub.channel_share.mean()) if len(sub) else 0.0
    if len(channels) >= 2 and sub.channel.notna().all():
        st.decide(
            "touch channel",
            "",
            "channel",
            f"the channel column varies over the touches ({', '.join(sorted(channels)[:6])})",
            0.8,
        )
        return touches, "channel"
    keys = st.props[st.props.event.isin(touches)].copy()
    keys["rank"] = keys.key.map(lambda k: W.key_rank(str(k), W.TOUCH_KEYS))
    keys = keys[keys["rank"].notna() & (keys.present >= 0.8) & keys["distinct"].between(2, 50)]
    if len(keys):
        best = keys.sort_values(["rank", "present"], ascending=[True, False]).iloc[0]
        st.decide(
            "touch channel",
            "",
            f"properties.{best.key}",
            f"the channel column {'is empty' if not channels else 'says only ' + ', '.join(sorted(channels))} "
            f"on the touches; properties.{best.key} has {int(best['distinct'])} values "
            f"on {_pct(best.present)} of them",
            0.75,
        )
        return touches, f"properties.{best.key}"
    st.undecided.append(
        "the channel of a touch: the channel column does not vary over the touches "
        f"({filled:.0%} filled) and no utm_medium / source property was found"
    )
    return touches, "channel"


# --- currency -----------------------------------------------------------------------------


def _currency(st: _State, conversions: list[str]) -> str | None:
    p = st.props
    if p.empty:
        st.undecided.append("the currency: no field holds a currency code")
        return None
    cur = p[p.key.map(lambda k: W.key_rank(str(k), W.CURRENCY_KEYS) is not None)]
    cur = cur[cur.top.astype(str).str.fullmatch(r"[A-Za-z]{3}")]
    if cur.empty:
        st.undecided.append("the currency: no field holds a currency code; set currency by hand")
        return None
    on_conv = cur[cur.event.isin(conversions)]
    pick = (on_conv if len(on_conv) else cur).sort_values("present", ascending=False).iloc[0]
    code = str(pick.top).upper()
    st.decide(
        "currency",
        "",
        code,
        f"properties.{pick.key} on {pick.event} says {code} "
        f"({int(pick['distinct'])} distinct value{'s' if pick['distinct'] != 1 else ''})",
        0.9 if pick["distinct"] == 1 else 0.6,
    )
    return code


# --- the whole ----------------------------------------------------------------------------


def infer_spec(ws: Workspace, *, stages: int = 5, name: str = "My journey") -> Inference:
    """Propose a journey spec for a workspace's data, explaining each decision.

    Args:
        ws: the workspace.
        stages: how many stages; 5 (the default) names them awareness, consideration,
            purchase, retention, advocacy and places events by their place relative to the
            conversion; another number cuts events by position into "stage 1", "stage 2", ...
        name: the journey's name.

    Raises:
        InputError: the workspace holds no events.

    >>> import journeykit, tempfile
    >>> from journeykit.ingest import load
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> _ = load(ws, [{"ts": f"2026-01-0{d}T10:0{i}:00", "event": e, "user_id": f"u{d}",
    ...     "revenue": 20.0 if e == "purchase" else None}
    ...     for d in range(1, 5) for i, e in enumerate(["ad_click", "view_item", "purchase"])])
    >>> result = infer_spec(ws)
    >>> result.spec.conversion_events, result.decision("stage", "ad_click").choice
    (('purchase',), 'awareness')
    """
    ev = event_profile(ws)
    if ev.empty:
        raise InputError("the workspace holds no events to infer a journey from", field="events")
    people = int(ws.store.scalar("SELECT count(DISTINCT person_id) FROM events") or 0)
    st = _State(ev=ev.set_index("event", drop=False), props=property_profile(ws), people=people)
    gap_label, gap_seconds = _session_gap(st, ws)
    if gap_seconds != 1800.0:
        st.ev = event_profile(ws, session_gap_seconds=gap_seconds).set_index("event", drop=False)
    conversions, revenue = _conversions(st)
    surveys = _surveys(st)
    kinds = {e: _kind(st, e, {s["event"] for s in surveys}) for e in st.ev.index}
    for e, k in kinds.items():
        if k != "action":
            st.decide("kind", e, k, _kind_why(st, e, k), 0.7)
    cp = conversion_profile(ws, conversions) if conversions else None
    st.converters = int(
        ws.store.scalar(
            "SELECT count(DISTINCT person_id) FROM events WHERE list_contains($c, event)",
            {"c": conversions},
        )
        or 0
    )
    if stages == 5:
        stage = _stages(st, conversions, kinds, cp)
        names = list(FIVE)
    else:
        n_cuts = max(1, min(stages, len(st.ev)))
        order = list(st.ev.position.sort_values().index)
        labels = cut_positions(st.ev.loc[order].position.to_numpy(), n_cuts)
        names = [f"stage {i + 1}" for i in range(n_cuts)]
        stage = {e: names[int(c)] for e, c in zip(order, labels, strict=True)}
        for e in order:
            st.decide(
                "stage",
                e,
                stage[e],
                f"median position in journeys {st.ev.loc[e].position:.2f}",
                0.3,
            )
    touches, touch_channel = _touches(st, stage, kinds)
    contacts = [
        e for e in st.ev.index if kinds[e] == "contact" and not set(W.words(e)) & W.CONTACT_END
    ]
    for e in contacts:
        st.decide("contacts", e, "yes", _kind_why(st, e, "contact"), 0.7)
    if not contacts:
        st.undecided.append("contacts: no chat, call or ticket events found")
    messages = [e for e in st.ev.index if kinds[e] == "message"]
    currency = _currency(st, conversions)
    goal = None
    if conversions:
        goal = max(
            conversions, key=lambda e: (float(st.ev.loc[e].revenue), int(st.ev.loc[e].people))
        )
        others = [e for e in st.ev.index if W.conversion_words(e) >= 1.0 and e not in conversions]
        st.decide(
            "goal",
            "",
            goal,
            f"the conversion with the most {'revenue' if st.ev.loc[goal].revenue > 0 else 'people'}"
            f" ({int(st.ev.loc[goal].people):,} people)"
            + (f"; also named like one: {', '.join(others)}" if others else ""),
            0.9 if len(conversions) == 1 else 0.7,
        )
    else:
        goal = str(st.ev.sort_values("people").index[len(st.ev) // 2])
        st.undecided.append(
            "the goal: no conversion found; a middle event is written as a placeholder"
        )
    proposal = Proposal(
        name=name,
        stage_names=tuple(names),
        stage=stage,
        kinds=kinds,
        goal=goal,
        conversions=tuple(conversions),
        revenue=revenue,
        touches=tuple(touches),
        touch_channel=touch_channel,
        contacts=tuple(contacts),
        messages=tuple(messages),
        surveys=tuple(surveys),
        currency=currency,
        session_gap=gap_label,
    )
    text = write_yaml(proposal, st.ev, st.people, st.decisions)
    from journeykit.journey.spec import JourneySpec

    spec = JourneySpec.from_yaml(text)  # what we write must read back
    return Inference(
        spec=spec, yaml=text, decisions=tuple(st.decisions), undecided=tuple(st.undecided)
    )


def _kind_why(st: _State, e: str, kind: str) -> str:
    main = st.row(e).channel or "no channel"
    return {
        "error": "its name says something failed",
        "feedback": "it carries a score (and text): a survey or review",
        "message": f"its name says the business sent it (channel {main})",
        "contact": f"a conversation with the business (name or channel: {main})",
    }.get(kind, "")


def init_spec(ws: Workspace, *, stages: int = 5, name: str = "My journey") -> str:
    """A starter journey spec (YAML text with comments) inferred from a workspace's events.

    The same as ``infer_spec(ws, ...).yaml``.

    Raises:
        InputError: the workspace holds no events.
    """
    return infer_spec(ws, stages=stages, name=name).yaml


def cut_positions(values: np.ndarray, k: int) -> np.ndarray:
    """Optimal 1-D k-means of sorted ``values``: the cluster (0..k-1) of each value.

    >>> cut_positions(np.array([0.0, 0.1, 0.5, 0.55, 0.9]), 3).tolist()
    [0, 0, 1, 1, 2]
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    k = max(1, min(k, n))
    if n == 0:
        return np.zeros(0, dtype=int)
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])

    def cost(i: int, j: int) -> float:  # values i..j-1
        m = j - i
        mean = (s1[j] - s1[i]) / m
        return float((s2[j] - s2[i]) - m * mean * mean)

    inf = float("inf")
    best = np.full((k + 1, n + 1), inf)
    back = np.zeros((k + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            for i in range(c - 1, j):
                v = best[c - 1, i] + cost(i, j)
                if v < best[c, j]:
                    best[c, j], back[c, j] = v, i
    labels = np.zeros(n, dtype=int)
    j = n
    for c in range(k, 0, -1):
        i = back[c, j]
        labels[i:j] = c - 1
        j = i
    return labels
