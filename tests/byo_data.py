"""Bring-your-own data sets with names from neither demo, and what is known about them.

Two small, deterministic data sets a new user might bring:

* **travel**: a hotel-booking site exported as a flat CSV (``occurred_at, customer_id,
  event_name, channel`` and one column per property). snake_case event names, the booking's
  price in ``total_price`` (no revenue column), the currency in a ``currency`` column, the
  marketing channel of a campaign click in ``utm_medium`` (the ``channel`` column only says
  ``web``), a 1-5 ``rating`` with a ``review_text`` on the trip review. 300 people; every
  number of :data:`TRAVEL_REF` is worked out by hand from the design below.
* **lessons**: a language-learning subscription app: bare snake_case names, no revenue field,
  no channel column at all, no currency. Used by the inference benchmark.

Each comes with the spec a person who knows the business would write (:data:`TRAVEL_TRUTH`,
:data:`LESSONS_TRUTH`): what ``spec infer`` should find.

The travel design, for person ``k`` in 0..299 (id ``T{k:03d}``), ``g = k % 10``:

* day ``k % 56`` after Monday 2 February 2026, 10:00: ``campaign_click`` (utm_medium
  ``("cpc", "social", "newsletter")[k % 3]``), then ``site_visit`` (+1 min), ``hotel_search``
  (+2), ``hotel_view`` (+4); activity is on channel ``app`` when ``k`` is odd, else ``web``.
* ``g`` in 0-3: ``booking_started`` (+10), ``booking_confirmed`` (+12).
* ``g`` = 5: ``booking_started`` (+10), ``payment_failed`` (+11), ``booking_confirmed`` (+13).
* ``g`` = 4: ``booking_started`` (+10), ``payment_failed`` (+11), and no booking.
* ``g`` in 6-7: ``support_chat`` on channel ``chat`` (+20), and no booking. ``g`` in 8-9: nothing.
* every booker (``g`` in 0-3 or 5, 150 people) pays ``total_price = 120 + 40 * (k % 4)`` CHF
  and gets ``reminder_email_sent`` (channel ``email``) 3 days later; a booker with ``g`` = 0
  also opens a ``support_chat`` 30 minutes after booking.
* bookers with ``k % 20`` in (0, 12) (30 people) come back 35 days after the first event:
  ``site_visit``, ``hotel_view``, ``booking_started``, ``booking_confirmed`` at
  ``90 + 10 * (k % 3)`` CHF (+0, +3, +8, +9 min).
* bookers with ``k % 3 == 0`` (50 people) answer ``trip_review`` (channel ``email``) 10 days
  after the first event: rating 5 (``g`` 0-1), 4 (``g`` 2-3) or 2 (``g`` = 5) with a text.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TRAVEL_PEOPLE = 300
TRAVEL_START = datetime(2026, 2, 2, 10, 0)
MEDIUMS = ("cpc", "social", "newsletter")
REVIEW_TEXT = {
    5: "lovely hotel and the booking took two minutes",
    4: "good stay, room a bit small",
    2: "the payment kept failing, stressful booking",
}
TRAVEL_COLUMNS = (
    "occurred_at",
    "customer_id",
    "event_name",
    "channel",
    "utm_medium",
    "destination",
    "hotel_id",
    "total_price",
    "currency",
    "rating",
    "review_text",
)
DESTINATIONS = ("lisbon", "vienna", "oslo", "rome")


def booker(k: int) -> bool:
    """Whether traveller ``k`` books (at least once)."""
    return k % 10 in (0, 1, 2, 3, 5)


def first_price(k: int) -> float:
    """The price of traveller ``k``'s first booking."""
    return 120.0 + 40.0 * (k % 4)


def repeat_booker(k: int) -> bool:
    """Whether traveller ``k`` books a second time."""
    return booker(k) and k % 20 in (0, 12)


def repeat_price(k: int) -> float:
    """The price of traveller ``k``'s second booking: 90, 100 or 110."""
    return 90.0 + 10.0 * (k % 3)


def reviewer(k: int) -> bool:
    """Whether traveller ``k`` answers the trip review."""
    return booker(k) and k % 3 == 0


def rating(k: int) -> int:
    """Traveller ``k``'s review rating."""
    return 5 if k % 10 in (0, 1) else 4 if k % 10 in (2, 3) else 2


def travel_rows() -> list[dict[str, Any]]:
    """The travel site's export, one dict per row (the CSV columns), in time order per person."""
    rows: list[dict[str, Any]] = []
    for k in range(TRAVEL_PEOPLE):
        g = k % 10
        who = f"T{k:03d}"
        t0 = TRAVEL_START + timedelta(days=k % 56)
        site = "app" if k % 2 else "web"

        def add(
            minutes: float,
            event: str,
            channel: str = site,
            *,
            t0: datetime = t0,
            who: str = who,
            **props: Any,
        ) -> None:
            row = dict.fromkeys(TRAVEL_COLUMNS, "")
            row.update(
                occurred_at=(t0 + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S"),
                customer_id=who,
                event_name=event,
                channel=channel,
                **props,
            )
            rows.append(row)

        add(0, "campaign_click", "web", utm_medium=MEDIUMS[k % 3])
        add(1, "site_visit")
        add(2, "hotel_search", destination=DESTINATIONS[k % 4])
        add(4, "hotel_view", hotel_id=f"H{k % 12:02d}")
        if g in (0, 1, 2, 3, 4, 5):
            add(10, "booking_started")
        if g in (4, 5):
            add(11, "payment_failed")
        if booker(k):
            add(
                12 if g != 5 else 13,
                "booking_confirmed",
                total_price=first_price(k),
                currency="CHF",
            )
            if g == 0:
                add(12 + 30, "support_chat", "chat")
            add(3 * 24 * 60, "reminder_email_sent", "email")
        if g in (6, 7):
            add(20, "support_chat", "chat")
        if reviewer(k):
            add(
                10 * 24 * 60,
                "trip_review",
                "email",
                rating=rating(k),
                review_text=REVIEW_TEXT[rating(k)],
            )
        if repeat_booker(k):
            back = 35 * 24 * 60
            add(back, "site_visit")
            add(back + 3, "hotel_view", hotel_id=f"H{k % 12:02d}")
            add(back + 8, "booking_started")
            add(back + 9, "booking_confirmed", total_price=repeat_price(k), currency="CHF")
    rows.sort(key=lambda r: (r["customer_id"], r["occurred_at"]))
    return rows


def write_travel_csv(path: Path) -> Path:
    """Write the travel export as a CSV file (what a user would ``journeykit ingest``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(TRAVEL_COLUMNS))
        writer.writeheader()
        writer.writerows(travel_rows())
    return path


#: Numbers worked out by hand from the design in the module docstring.
#: 300 people; g = k % 10 splits them into ten groups of 30.
TRAVEL_REF: dict[str, Any] = {
    "people": 300,
    # 300 x 4 browsing events + 180 booking_started + 60 payment_failed + 150 bookings
    # + 150 reminders + 30 + 60 chats + 50 reviews + 30 x 4 repeat events
    "events": 1200 + 180 + 60 + 150 + 150 + 90 + 50 + 120,
    "bookers": 150,  # g in 0-3 or 5: 5 of every 10
    "bookings": 180,  # 150 first + 30 repeat
    "repeat_bookers": 30,  # k % 20 in (0, 12): 2 of every 20
    # k % 4 cycles 0..3 evenly over every 20 people, and bookers take 10 of every 20 with
    # k % 4 = 0,1,2,3 taken (g=0: k%4 in {0,2}; g=1: {1,3}; g=2: {2,0}; g=3: {3,1}; g=5: {1,3})
    # per 20 people: k%4 of bookers = 0,1,2,3,1,0,3,1,2,3 -> sum of prices 10*120 + 40*16
    "first_revenue": 15 * (10 * 120 + 40 * 16),  # 27,600
    # the 30 repeat bookers (k % 60 in 0, 12, 20, 32, 40, 52: k % 3 = 0, 0, 2, 2, 1, 1) pay
    # 90, 100 and 110 ten times each
    "repeat_revenue": 10 * (90 + 100 + 110.0),
    "revenue": 15 * (10 * 120 + 40 * 16) + 3000.0,  # 30,600
    "currency": "CHF",
    # funnel hotel_search -> booking_started -> booking_confirmed (per person, ordered)
    "funnel": (300, 180, 150),
    "payment_failed_people": 60,
    "chat_people": 90,  # g in 6-7 (60) and booking g = 0 (30)
    "reviews": 50,
    # ratings: per 30 people the reviewers are g = 0,3,2,5,1 -> ratings 5,4,4,2,5
    "mean_rating": (5 + 4 + 4 + 2 + 5) / 5,  # 4.0
    "touches_by_medium": {"cpc": 100, "social": 100, "newsletter": 100},
    # bookers by medium: k % 3 and k % 10 are independent over 30 people: 50 each
    "bookers_by_medium": {"cpc": 50, "social": 50, "newsletter": 50},
    # app users are odd k: bookers among odd g (1, 3, 5) -> 3 of 5 = 90; web: g 0, 2 -> 60
    "bookers_by_site": {"app": 90, "web": 60},
}

#: What a person who knows the travel site would put in its spec.
TRAVEL_TRUTH: dict[str, Any] = {
    "conversions": ["booking_confirmed"],
    "revenue": "properties.total_price",
    "goal": "booking_confirmed",
    "currency": "CHF",
    "stages": {
        "campaign_click": "awareness",
        "site_visit": "consideration",
        "hotel_search": "consideration",
        "hotel_view": "consideration",
        "booking_started": "purchase",
        "payment_failed": "purchase",
        "booking_confirmed": "purchase",
        "support_chat": "consideration",
        "reminder_email_sent": "retention",
        "trip_review": "advocacy",
    },
    "touches": ["campaign_click"],
    "touch_channel": "properties.utm_medium",
    "contacts": ["support_chat"],
    "messages": ["reminder_email_sent"],
    "errors": ["payment_failed"],
    "surveys": [
        {
            "event": "trip_review",
            "score": "properties.rating",
            "comment": "properties.review_text",
        }
    ],
}


# --- lessons: a subscription app with bare names and no revenue ------------------------------

LESSONS_PEOPLE = 400
LESSONS_START = datetime(2026, 3, 2, 8, 0)
SOURCES = ("facebook", "google", "partner_blog")


def lessons_rows(people: int = LESSONS_PEOPLE, seed: int = 3) -> list[dict[str, Any]]:
    """The lessons app's events as loader rows (``ts, user_id, event, properties``)."""
    import random

    rnd = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for k in range(people):
        who = f"learner{k}"
        t = LESSONS_START + timedelta(days=rnd.randrange(60), minutes=rnd.randrange(600))

        def add(event: str, minutes: float, *, who: str = who, **props: Any) -> None:
            nonlocal t
            t += timedelta(minutes=minutes)
            row: dict[str, Any] = {"ts": t.isoformat(), "user_id": who, "event": event}
            if props:
                row["properties"] = json.dumps(props)
            rows.append(row)

        if rnd.random() < 0.7:
            add("promo_link_opened", 0, source=rnd.choice(SOURCES), campaign=f"c{k % 5}")
        add("app_opened", 1)
        if rnd.random() < 0.8:
            add("onboarding_completed", 3, level=rnd.choice(("a1", "a2", "b1")))
        for _ in range(rnd.randrange(1, 4)):
            add("app_opened", rnd.randrange(60, 3000))
            add("lesson_completed", 5, lesson=rnd.randrange(1, 20))
        subscribes = rnd.random() < 0.45
        if rnd.random() < 0.15:
            add("help_ticket_created", 30, topic="billing")
        if subscribes or rnd.random() < 0.4:
            add("plan_viewed", 10, plan=rnd.choice(("monthly", "yearly")))
            if rnd.random() < 0.2:
                add("checkout_error", 1, code="card_declined")
        if not subscribes:
            continue
        add("subscription_started", 2, plan=rnd.choice(("monthly", "yearly")))
        for month in range(rnd.randrange(0, 4)):
            for _ in range(rnd.randrange(2, 6)):
                add("push_sent", rnd.randrange(300, 2000), kind="streak")
                if rnd.random() < 0.6:
                    add("app_opened", 20)
                    add("lesson_completed", 7, lesson=rnd.randrange(1, 60))
            if month >= 0 and rnd.random() < 0.7:
                add("subscription_renewed", 60 * 24, plan="monthly")
        if rnd.random() < 0.1:
            add("help_ticket_created", 200, topic="lesson")
        if rnd.random() < 0.5:
            add(
                "rating_prompt_answered",
                600,
                stars=rnd.choice((3, 4, 5, 5)),
                feedback=rnd.choice(("fun lessons", "too many pushes", "great app")),
            )
        if rnd.random() < 0.25:
            add("friend_invited", 300)
    return rows


LESSONS_TRUTH: dict[str, Any] = {
    "conversions": ["subscription_started"],
    "revenue": None,
    "goal": "subscription_started",
    "currency": None,
    "stages": {
        "promo_link_opened": "awareness",
        "app_opened": "consideration",
        "onboarding_completed": "consideration",
        "lesson_completed": "consideration",
        "plan_viewed": "purchase",
        "checkout_error": "purchase",
        "help_ticket_created": "consideration",
        "subscription_started": "purchase",
        "push_sent": "retention",
        "subscription_renewed": "retention",
        "rating_prompt_answered": "advocacy",
        "friend_invited": "advocacy",
    },
    "touches": ["promo_link_opened"],
    "touch_channel": "properties.source",
    "contacts": ["help_ticket_created"],
    "messages": ["push_sent"],
    "errors": ["checkout_error"],
    "surveys": [
        {
            "event": "rating_prompt_answered",
            "score": "properties.stars",
            "comment": "properties.feedback",
        }
    ],
}


# --- scoring an inferred spec against what is known -----------------------------------------

#: The decisions scored, in the order the accuracy table shows them.
DECISIONS = (
    "conversion",
    "revenue",
    "goal",
    "stage",
    "touches",
    "touch channel",
    "contacts",
    "messages",
    "surveys",
    "currency",
)


def truth_of_spec(spec: Any, stage_names: dict[str, str] | None = None) -> dict[str, Any]:
    """What a hand-written spec says, in the shape of :data:`TRAVEL_TRUTH`.

    ``stage_names`` maps the spec's stage names onto the five that inference proposes
    (awareness, consideration, purchase, retention, advocacy) when they differ.
    """
    rename = stage_names or {}
    return {
        "conversions": list(spec.conversion_events),
        "revenue": spec.revenue_field,
        "goal": spec.goal_events[0],
        "currency": spec.currency_code,
        "stages": {e: rename.get(s, s) for e, s in spec.stage_of_event.items()},
        "touches": list(spec.touch_events),
        "touch_channel": spec.touch_channel_field,
        "contacts": list(spec.contact_events),
        "messages": list(spec.message_events),
        "surveys": [
            {"event": s.event, "score": s.score, "comment": s.comment} for s in spec.surveys
        ],
    }


def _jaccard(a: Any, b: Any) -> float:
    x, y = set(a or ()), set(b or ())
    return 1.0 if not x and not y else len(x & y) / len(x | y)


def score_inference(result: Any, truth: dict[str, Any]) -> dict[str, float]:
    """Accuracy of an inference (``journeykit.journey.infer_spec``) per decision, 0 to 1.

    Sets (conversions, touches, contacts, messages) score their Jaccard overlap; stages the
    share of known events put in the right stage; surveys 1 per survey found with the right
    score and comment fields, 0.5 with a wrong field, over every survey either side names;
    the rest 1 when right, 0 when wrong.
    """
    spec = result.spec
    decided = {(d.topic, d.subject): d.choice for d in result.decisions}
    revenue = decided.get(("revenue", ""))
    conversions = list(spec.conversion_events) if ("goal", "") in decided else []
    stage_of = {subject: choice for (topic, subject), choice in decided.items() if topic == "stage"}
    known = truth["stages"]
    stages = sum(stage_of.get(e) == s for e, s in known.items()) / len(known) if known else 1.0
    found = {s.event: (s.score, s.comment) for s in spec.surveys}
    want = {s["event"]: (s["score"], s.get("comment")) for s in truth["surveys"]}
    every = set(found) | set(want)
    surveys = (
        sum(
            1.0 if found.get(e) == want.get(e) else 0.5 if e in found and e in want else 0.0
            for e in every
        )
        / len(every)
        if every
        else 1.0
    )
    return {
        "conversion": _jaccard(conversions, truth["conversions"]),
        "revenue": float(revenue == truth["revenue"]),
        "goal": float(bool(conversions) and spec.goal_events[0] == truth["goal"]),
        "stage": stages,
        "touches": _jaccard(spec.touch_events, truth["touches"]),
        "touch channel": float(spec.touch_channel_field == truth["touch_channel"]),
        "contacts": _jaccard(spec.contact_events, truth["contacts"]),
        "messages": _jaccard(spec.message_events, truth["messages"]),
        "surveys": surveys,
        "currency": float(spec.currency_code == truth["currency"]),
    }


# --- the data sets of the inference benchmark ----------------------------------------------

#: The bank spec's six stages, read as the five that inference proposes.
BANK_STAGES = {
    "discover": "awareness",
    "apply": "consideration",
    "verify": "purchase",
    "onboard": "purchase",
    "use": "retention",
    "advocate": "advocacy",
}
#: How each benchmark data set is shaped.
INFER_DATASETS = {
    "retail": "demo retailer: Title Case names, revenue column, channel column, GBP in a property",
    "bank": "demo bank: snake_case names, two conversions, six stages of its own, EUR",
    "lessons": "subscription app: bare snake_case names, no revenue, no channel column, "
    "no currency",
    "travel": "travel export (CSV): snake_case, price in a property, channel in utm_medium, CHF",
}


def shipped_spec(name: str) -> Path:
    """A spec shipped with journeykit (``demo`` or ``bank``)."""
    import journeykit.journey.spec as spec_module

    return Path(spec_module.__file__).parent / "specs" / f"{name}.yaml"


def build_infer_dataset(name: str, folder: Path, *, people: int = 3000) -> tuple[Any, Any]:
    """Load one benchmark data set into a workspace under ``folder``; (workspace, truth)."""
    import journeykit
    from journeykit.ingest import load
    from journeykit.journey.spec import load_spec

    ws = journeykit.open(folder / name)
    if name in ("retail", "bank"):
        from journeykit.demo import generate

        files = generate(folder / f"{name}-data", people=people, seed=7, scenario=name)
        for path in files.events:
            load(ws, path)
        spec = load_spec(shipped_spec("demo" if name == "retail" else "bank"))
        return ws, truth_of_spec(spec, BANK_STAGES if name == "bank" else None)
    if name == "lessons":
        load(ws, lessons_rows())
        return ws, LESSONS_TRUTH
    if name == "travel":
        load(ws, write_travel_csv(folder / "travel.csv"))
        return ws, TRAVEL_TRUTH
    raise ValueError(f"unknown data set {name!r}")
