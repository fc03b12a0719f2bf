"""The ground_truth.json document: every planted effect, where it is and how big it measured.

Each effect has a ``name``, a ``description``, ``where`` (stage, events, touchpoint, channel,
platform, weeks), ``planted`` (the simulation's parameters, for reference) and ``measured``
(counted on the generated events; see ``truth.measure``), with the ``definition`` used.
"""

from __future__ import annotations

from typing import Any

from journeykit.demo import followups, online, people, service
from journeykit.demo.comments import THEME_DESCRIPTIONS, THEMES
from journeykit.demo.truth import CHURN_COHORT_DAYS, CHURN_QUIET_DAYS, PAYMENT_GROUPS, Tally
from journeykit.demo.vocab import EVENTS
from journeykit.demo.world import DAY, World, from_us

#: Where each theme was planted (beside the usual comments of each touchpoint).
THEME_SOURCES: dict[str, str] = {
    "payment": "NPS after online orders whose payment failed first (iOS incident weeks above "
    "all) and CSAT after chats about a failed payment",
    "wait_times": "CSAT after chats with a long wait; CSAT and CES after calls with a long hold",
    "delivery_delay": "NPS and reviews after late online orders (the carrier weeks above all); "
    "CSAT and CES after calls about a late parcel",
    "product_quality": "NPS and reviews, praise and complaints",
    "friendly_staff": "NPS after store orders; CSAT and CES after chats and calls",
    "easy_checkout": "NPS after online orders that went well",
    "returns": "NPS after returned orders; CSAT and CES after refund calls",
    "price": "NPS and reviews of every kind",
}


def rate(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def week_ranges(mondays: tuple[int, ...]) -> list[dict[str, str]]:
    return [
        {
            "start": from_us(m).date().isoformat(),
            "end": from_us(m + 6 * DAY).date().isoformat(),
        }
        for m in mondays
    ]


def document(world: World, tally: Tally, files: dict[str, Any]) -> dict[str, Any]:
    """The ground truth of one generated data set."""
    t = tally.get
    total_events = int(tally.events.sum())
    return {
        "generator": {
            "name": "journeykit.demo",
            "seed": world.seed,
            "people": world.people,
            "days": world.days,
            "start": from_us(world.start_us).date().isoformat(),
            "end": world.end.isoformat(),
            "events": total_events,
            "people_with_events": int(t("people_with_events")),
            "orders": int(t("orders")),
            "revenue": round(t("revenue"), 2),
        },
        "files": files,
        "effects": [
            _payment(world, t),
            _chats(t),
            _welcome(t),
            _referral(t),
            _omni(t),
            _delivery(world, t),
        ],
        "themes": _themes(t),
        "event_counts": {name: int(c) for name, c in zip(EVENTS, tally.events, strict=True)},
    }


def _payment(world: World, t: Any) -> dict[str, Any]:
    groups = {}
    for g in PAYMENT_GROUPS:
        ck, orders, failed = t(f"pay.{g}.checkouts"), t(f"pay.{g}.orders"), t(f"pay.{g}.failed")
        groups[g] = {
            "checkouts": int(ck),
            "orders": int(orders),
            "conversion": rate(orders, ck),
            "payment_failed": int(failed),
            "payment_failed_rate": rate(failed, ck),
        }
    nps = {}
    for g in ("failed", "ok"):
        nps[g] = {
            "answers": int(t(f"nps_pay.{g}.n")),
            "mean_score": rate(t(f"nps_pay.{g}.score"), t(f"nps_pay.{g}.n")),
            "comments": int(t(f"nps_pay.{g}.comments")),
            "payment_comments": int(t(f"nps_pay.{g}.payment_theme")),
            "payment_comment_share": rate(
                t(f"nps_pay.{g}.payment_theme"), t(f"nps_pay.{g}.comments")
            ),
        }
    ios, rest = groups["ios_in_weeks"]["conversion"], groups["ios_other_weeks"]["conversion"]
    return {
        "name": "ios_payment_failure",
        "description": "Card payments failed on the iOS app in the weeks below: many iOS "
        "checkouts show 'Payment Failed' and most of those orders are never completed. "
        "Angry comments about the payment follow in NPS (after the orders that went through "
        "in the end) and in CSAT after chats about the failure.",
        "where": {
            "stage": "purchase",
            "events": ["Checkout Started", "Payment Failed", "Order Completed"],
            "touchpoint": "Checkout Started",
            "channel": "app",
            "platform": "ios",
            "weeks": week_ranges(world.ios_weeks),
        },
        "planted": {
            "failure_rate_ios_in_weeks": online.FAIL_IOS,
            "retry_success_ios_in_weeks": online.RETRY_IOS,
            "failure_rate_otherwise": online.FAIL_BASE,
            "retry_success_otherwise": online.RETRY_BASE,
        },
        "measured": {
            **groups,
            "conversion_drop_ios": None if ios is None or rest is None else round(rest - ios, 6),
            "nps_after_failed_payment": nps["failed"],
            "nps_other_online_orders": nps["ok"],
        },
        "definition": "Per 'Checkout Started' event: its platform and week (properties.platform, "
        "ts in an affected week); converted if an 'Order Completed' has the same "
        "properties.order_id; failed if a 'Payment Failed' has it. NPS: 'Survey Answered' with "
        "survey 'nps' and touchpoint 'Order Completed' about web/app orders (by order_id), split "
        "by whether that order had a 'Payment Failed'; comment themes by THEMES patterns.",
    }


def _chats(t: Any) -> dict[str, Any]:
    def csat(g: str) -> dict[str, Any]:
        n = t(f"csat.{g}.n")
        return {"answers": int(n), "mean_score": rate(t(f"csat.{g}.score"), n)}

    def churn(g: str) -> dict[str, Any]:
        n, c = t(f"churn.{g}.people"), t(f"churn.{g}.churned")
        return {"people": int(n), "churned": int(c), "churn_rate": rate(c, n)}

    return {
        "name": "long_chat_waits",
        "description": "A share of chats wait long for an agent (wait_seconds of "
        f"{service.LONG_WAIT_SECONDS} or more). CSAT after those chats is much lower, and "
        "many people whose chat waited long stop coming back.",
        "where": {
            "stage": "consideration",
            "events": ["Chat Started", "Chat Ended", "Survey Answered"],
            "touchpoint": "Chat Ended",
            "channel": "chat",
            "long_wait_seconds": service.LONG_WAIT_SECONDS,
        },
        "planted": {
            "long_wait_share": service.LONG_WAIT,
            "churn_chance_after_long_wait": service.CHURN_AFTER_LONG_WAIT,
            "churn_within_days": service.CHURN_DAYS,
        },
        "measured": {
            "csat_long_wait": csat("long"),
            "csat_short_wait": csat("short"),
            "churn_long_first_wait": churn("long"),
            "churn_short_first_wait": churn("short"),
        },
        "definition": "CSAT: 'Survey Answered' with survey 'csat' and touchpoint 'Chat Ended', "
        "joined to its 'Chat Started' by properties.chat_id; long if wait_seconds >= "
        f"{service.LONG_WAIT_SECONDS}. Churn: people (true persons) whose first 'Chat Started' "
        f"is more than {CHURN_COHORT_DAYS} days before the end of the window, split by that "
        f"chat's wait; churned if they have no event other than 'Email Sent' in the last "
        f"{CHURN_QUIET_DAYS} days of the window.",
    }


def _welcome(t: Any) -> dict[str, Any]:
    def group(g: str) -> dict[str, Any]:
        n, r = t(f"welcome.{g}.customers"), t(f"welcome.{g}.repeat")
        return {
            "customers": int(n),
            "repeat_customers": int(r),
            "second_purchase_rate": rate(r, n),
        }

    yes, no = group("welcome"), group("no_welcome")
    lift = (
        None
        if yes["second_purchase_rate"] is None or no["second_purchase_rate"] is None
        else round(yes["second_purchase_rate"] - no["second_purchase_rate"], 6)
    )
    return {
        "name": "welcome_email",
        "description": "A random share of sign-ups get a welcome e-mail right after signing "
        "up; customers who got it come back for a second purchase more often.",
        "where": {
            "stage": "retention",
            "events": ["Signed Up", "Email Sent", "Order Completed"],
            "touchpoint": "Email Sent",
            "channel": "email",
            "campaign": "welcome",
        },
        "planted": {
            "share_of_signups_sent": people.WELCOME,
            "second_order_chance": online.REPEAT,
            "second_order_lift": online.REPEAT_WELCOME,
        },
        "measured": {"welcome": yes, "no_welcome": no, "lift": lift},
        "definition": "People (true persons) with a 'Signed Up' and at least one 'Order "
        "Completed' (any channel), split by having an 'Email Sent' with properties.campaign "
        "'welcome'; second purchase rate = share with two or more 'Order Completed'.",
    }


def _referral(t: Any) -> dict[str, Any]:
    def group(g: str) -> dict[str, Any]:
        n, o, r = (t(f"referral.{g}.{k}") for k in ("customers", "orders", "revenue"))
        return {
            "customers": int(n),
            "orders": int(o),
            "revenue": round(r, 2),
            "aov": rate(r, o),
            "revenue_per_customer": rate(r, n),
            "orders_per_customer": rate(o, n),
        }

    yes, no = group("referred"), group("not_referred")
    return {
        "name": "referred_customers_value",
        "description": "Customers who arrived through a friend's referral link buy bigger "
        "baskets (higher order value) and come back more often (higher value per customer).",
        "where": {
            "stage": "advocacy",
            "events": ["Referral Sent", "Referral Link Clicked", "Order Completed"],
            "touchpoint": "Referral Link Clicked",
            "channel": "referral",
        },
        "planted": {
            "extra_items_per_order": online.ITEMS,
            "extra_items_per_order_referred": online.ITEMS_REFERRED,
            "second_order_lift_referred": online.REPEAT_REFERRED,
        },
        "measured": {
            "referred": yes,
            "not_referred": no,
            "aov_ratio": rate(yes["aov"] or 0, no["aov"] or 0),
            "revenue_per_customer_ratio": rate(
                yes["revenue_per_customer"] or 0, no["revenue_per_customer"] or 0
            ),
        },
        "definition": "People (true persons) with at least one 'Order Completed', split by "
        "having a 'Referral Link Clicked'; aov = revenue / orders, revenue per customer = "
        "revenue / customers (revenue is the revenue column of 'Order Completed').",
    }


def _omni(t: Any) -> dict[str, Any]:
    measured = {}
    for g in ("store_and_online", "online_only", "store_only"):
        n, c, r = (t(f"omni.{g}.{k}") for k in ("people", "customers", "repeat"))
        measured[g] = {
            "people": int(n),
            "customers": int(c),
            "conversion": rate(c, n),
            "repeat_customers": int(r),
            "repeat_rate": rate(r, c),
        }
    return {
        "name": "store_plus_online",
        "description": "People who both visit a store and use the web shop or app buy more "
        "often and come back more than people who use one channel.",
        "where": {
            "stage": "purchase",
            "events": ["Store Visited", "Session Started", "Order Completed"],
            "channel": ["store", "web", "app"],
        },
        "planted": {
            "buy_chance_online": people.BUY,
            "buy_chance_online_if_also_store": people.BUY + people.BUY_OMNI,
            "second_order_lift": online.REPEAT_OMNI,
        },
        "measured": measured,
        "definition": "People (true persons) split by having a 'Store Visited' and/or a "
        "'Session Started'; conversion = share with an 'Order Completed' (any channel); "
        "repeat rate = share of those customers with two or more.",
    }


def _delivery(world: World, t: Any) -> dict[str, Any]:
    measured: dict[str, Any] = {}
    for g in ("in_weeks", "other_weeks"):
        n, k = t(f"delivery.{g}.comments"), t(f"delivery.{g}.theme")
        measured[f"nps_comments_orders_{g}"] = {
            "comments": int(n),
            "delivery_comments": int(k),
            "delivery_share": rate(k, n),
        }
    for g in ("theme", "other"):
        n = t(f"delivery.score_{g}.n")
        label = "with_delivery_comment" if g == "theme" else "with_other_comment"
        measured[f"nps_{label}"] = {
            "answers": int(n),
            "mean_score": rate(t(f"delivery.score_{g}.sum"), n),
        }
    return {
        "name": "delivery_delays",
        "description": "A carrier had trouble in the weeks below: many online orders placed "
        "then arrived late. NPS comments after those orders talk about late delivery, with low "
        "scores.",
        "where": {
            "stage": "retention",
            "events": ["Order Completed", "Survey Answered"],
            "touchpoint": "Order Completed",
            "channel": ["web", "app"],
            "theme": "delivery_delay",
            "weeks": week_ranges(world.carrier_weeks),
        },
        "planted": {
            "late_share_in_weeks": followups.DELAY_CARRIER,
            "late_share_otherwise": followups.DELAY_BASE,
        },
        "measured": measured,
        "definition": "'Survey Answered' with survey 'nps', touchpoint 'Order Completed' and a "
        "comment, about web/app orders (by order_id), split by the order's week; a delivery "
        "comment matches THEMES['delivery_delay'] on the lower-cased text.",
    }


def _themes(t: Any) -> dict[str, Any]:
    touchpoints = ["Order Completed", "Chat Ended", "Support Called", "Review Posted"]
    totals = {tp: int(t(f"comments.{tp}")) for tp in touchpoints}
    everything = sum(totals.values())
    out = []
    for name, pattern in THEMES.items():
        counts = {tp: int(t(f"theme.{name}.{tp}")) for tp in touchpoints}
        per = {tp: {"comments": k, "share": rate(k, totals[tp])} for tp, k in counts.items()}
        n = sum(counts.values())
        out.append(
            {
                "theme": name,
                "description": THEME_DESCRIPTIONS[name],
                "pattern": pattern,
                "planted_in": THEME_SOURCES[name],
                "comments": n,
                "share": rate(n, everything),
                "touchpoints": per,
            }
        )
    return {
        "comments": everything,
        "comments_by_touchpoint": totals,
        "mismatched": int(t("themes.mismatch")),
        "definition": "Texts: properties.comment of 'Survey Answered' (by properties.touchpoint) "
        "and properties.text of 'Review Posted'. A text has a theme when the theme's pattern "
        "(RE2) matches the lower-cased text; planted texts match exactly one pattern or none.",
        "themes": out,
    }
