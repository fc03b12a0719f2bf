"""Measuring the planted effects on the generated events, block by block, for ground_truth.json.

Every number here is counted on the events as written (after churn, censoring at the end of
the window and every random draw), never taken from the simulation's parameters. Blocks hold
whole people, so per-person measures are summed block by block: memory stays flat however
many people there are. The definitions are spelled out in ``DEFINITIONS`` and docs/demo.md;
the tests recompute each one from the Parquet files with DuckDB.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from journeykit.demo import service
from journeykit.demo.comments import SETS, THEME_NAMES, theme_of
from journeykit.demo.frame import Parts
from journeykit.demo.simulate import BlockResult
from journeykit.demo.vocab import CAMPAIGNS, CH, EMAIL_CAMPAIGNS, EV, EVENTS, IOS, SURVEYS
from journeykit.demo.world import DAY, World

CHURN_QUIET_DAYS = 30  # churned: no event but "Email Sent" in the window's last 30 days
CHURN_COHORT_DAYS = 45  # cohort: first chat at least 45 days before the end
PAYMENT_GROUPS = ("ios_in_weeks", "ios_other_weeks", "others_in_weeks", "others_other_weeks")


class Tally:
    """Running sums of every measure, in block order (so float sums are reproducible)."""

    def __init__(
        self, world: World, *, events: int = len(EVENTS), campaigns: int = len(CAMPAIGNS)
    ) -> None:
        self.world = world
        self.sums: dict[str, float] = {}
        self.spend_clicks = np.zeros((world.days, campaigns), dtype=np.int64)
        self.events = np.zeros(events, dtype=np.int64)

    def add(self, key: str, value: float | np.integer | np.floating) -> None:
        """Add ``value`` to the sum named ``key``."""
        self.sums[key] = self.sums.get(key, 0) + (
            float(value) if isinstance(value, float | np.floating) else int(value)
        )

    def get(self, key: str) -> float:
        """A sum (0 if nothing was added)."""
        return self.sums.get(key, 0)


def _cat(parts: Parts, event: str, key: str | None = None) -> np.ndarray:
    items = parts.of(event)
    if key is None:
        return np.concatenate([p.ts for p in items] or [np.array([], np.int64)])
    if key in ("person", "channel"):
        return np.concatenate([getattr(p, key) for p in items] or [np.array([], np.int64)])
    return parts.meta(event, key)


def _texts(parts: Parts, event: str) -> pa.Array:
    items = parts.of(event)
    return (
        pa.concat_arrays([p.meta["comment"] for p in items]) if items else pa.array([], pa.string())
    )


def _find(keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each query value stands in ``keys`` (unique values), and whether it is there."""
    if len(keys) == 0:
        return np.zeros(len(query), np.int64), np.zeros(len(query), bool)
    order = np.argsort(keys)
    idx = order[np.searchsorted(keys, query, sorter=order).clip(0, len(keys) - 1)]
    return idx, keys[idx] == query


def measure(res: BlockResult, tally: Tally) -> None:
    """Add one block's measures to ``tally``."""
    w = tally.world
    parts, rows, n = res.parts, res.rows, res.block.n
    ev = rows.event

    def per_person(mask: np.ndarray) -> np.ndarray:
        return np.bincount(rows.person[mask], minlength=n)

    def count(name: str) -> np.ndarray:
        return per_person(ev == EV[name])

    tally.events += np.bincount(ev, minlength=len(EVENTS))
    tally.add("people_with_events", int((np.bincount(rows.person, minlength=n) > 0).sum()))

    # orders, by serial
    oc_serial = _cat(parts, "Order Completed", "serial")
    oc_channel = _cat(parts, "Order Completed", "channel")
    oc_ts = _cat(parts, "Order Completed")
    oc_person = _cat(parts, "Order Completed", "person")
    oc_revenue = np.concatenate([p.revenue for p in parts.of("Order Completed")] or [np.array([])])
    failed_serial = _cat(parts, "Payment Failed", "serial")

    # 1. payment failures: checkout -> order by platform and week
    ck_serial = _cat(parts, "Checkout Started", "serial")
    ck_platform = _cat(parts, "Checkout Started", "platform")
    ck_ts = _cat(parts, "Checkout Started")
    converted = np.isin(ck_serial, oc_serial)
    failed = np.isin(ck_serial, failed_serial)
    ios = ck_platform == IOS
    in_weeks = w.in_weeks(ck_ts, w.ios_weeks)
    groups = (ios & in_weeks, ios & ~in_weeks, ~ios & in_weeks, ~ios & ~in_weeks)
    for name, m in zip(PAYMENT_GROUPS, groups, strict=True):
        tally.add(f"pay.{name}.checkouts", m.sum())
        tally.add(f"pay.{name}.orders", (m & converted).sum())
        tally.add(f"pay.{name}.failed", (m & failed).sum())

    # surveys
    s_kind = _cat(parts, "Survey Answered", "survey")
    s_touch = _cat(parts, "Survey Answered", "touchpoint")
    s_score = _cat(parts, "Survey Answered", "score")
    s_serial = _cat(parts, "Survey Answered", "serial")
    s_text = _texts(parts, "Survey Answered")
    s_has = np.asarray(s_text.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    s_theme = theme_of(s_text)

    # NPS about online orders: after a failed payment or not; late-delivery comments
    nps = (s_kind == SURVEYS.index("nps")) & (s_touch == EV["Order Completed"])
    at, found = _find(oc_serial, s_serial)
    web = nps & found & (oc_channel[at] != CH["store"]) if len(oc_serial) else found
    after_failure = np.isin(s_serial, failed_serial)
    payment_theme = s_theme == THEME_NAMES.index("payment")
    for name, m in (("failed", web & after_failure), ("ok", web & ~after_failure)):
        tally.add(f"nps_pay.{name}.n", m.sum())
        tally.add(f"nps_pay.{name}.score", s_score[m].sum())
        tally.add(f"nps_pay.{name}.comments", (m & s_has).sum())
        tally.add(f"nps_pay.{name}.payment_theme", (m & s_has & payment_theme).sum())
    delivery = s_theme == THEME_NAMES.index("delivery_delay")
    carrier = w.in_weeks(oc_ts[at], w.carrier_weeks) if len(oc_serial) else found
    for name, m in (("in_weeks", web & s_has & carrier), ("other_weeks", web & s_has & ~carrier)):
        tally.add(f"delivery.{name}.comments", m.sum())
        tally.add(f"delivery.{name}.theme", (m & delivery).sum())
    for name, m in (("theme", web & s_has & delivery), ("other", web & s_has & ~delivery)):
        tally.add(f"delivery.score_{name}.n", m.sum())
        tally.add(f"delivery.score_{name}.sum", s_score[m].sum())

    # 2. chat waits: CSAT after chats, churn after the first chat
    c_serial = _cat(parts, "Chat Started", "serial")
    c_wait = _cat(parts, "Chat Started", "wait")
    c_person = _cat(parts, "Chat Started", "person")
    c_ts = _cat(parts, "Chat Started")
    csat = (s_kind == SURVEYS.index("csat")) & (s_touch == EV["Chat Ended"])
    at, _found = _find(c_serial, s_serial[csat])
    long = c_wait[at] >= service.LONG_WAIT_SECONDS
    for name, m in (("long", long), ("short", ~long)):
        tally.add(f"csat.{name}.n", m.sum())
        tally.add(f"csat.{name}.score", s_score[csat][m].sum())
    first = np.lexsort((c_ts, c_person))
    c_person, c_ts, c_wait = c_person[first], c_ts[first], c_wait[first]
    head = np.ones(len(c_person), dtype=bool)
    head[1:] = c_person[1:] != c_person[:-1]
    cohort = head & (c_ts < w.end_us - CHURN_COHORT_DAYS * DAY)
    recent = per_person((ev != EV["Email Sent"]) & (rows.ts >= w.end_us - CHURN_QUIET_DAYS * DAY))
    quiet = recent[c_person] == 0
    long_first = c_wait >= service.LONG_WAIT_SECONDS
    for name, m in (("long", cohort & long_first), ("short", cohort & ~long_first)):
        tally.add(f"churn.{name}.people", m.sum())
        tally.add(f"churn.{name}.churned", (m & quiet).sum())

    # 3. welcome e-mail and the second purchase
    orders = count("Order Completed")
    welcomed = np.zeros(n, dtype=bool)
    sent = parts.meta("Email Sent", "campaign") == EMAIL_CAMPAIGNS.index("welcome")
    welcomed[_cat(parts, "Email Sent", "person")[sent]] = True
    cohort = (count("Signed Up") > 0) & (orders >= 1)
    for name, m in (("welcome", cohort & welcomed), ("no_welcome", cohort & ~welcomed)):
        tally.add(f"welcome.{name}.customers", m.sum())
        tally.add(f"welcome.{name}.repeat", (m & (orders >= 2)).sum())

    # 4. referred customers
    referred = count("Referral Link Clicked") > 0
    revenue = np.bincount(oc_person, weights=oc_revenue, minlength=n)
    for name, m in (("referred", referred), ("not_referred", ~referred)):
        m = m & (orders >= 1)
        tally.add(f"referral.{name}.customers", m.sum())
        tally.add(f"referral.{name}.orders", orders[m].sum())
        tally.add(f"referral.{name}.revenue", float(revenue[m].sum()))

    # 5. store and online
    store, web_people = count("Store Visited") > 0, count("Session Started") > 0
    for name, m in (
        ("store_and_online", store & web_people),
        ("online_only", web_people & ~store),
        ("store_only", store & ~web_people),
    ):
        tally.add(f"omni.{name}.people", m.sum())
        tally.add(f"omni.{name}.customers", (m & (orders >= 1)).sum())
        tally.add(f"omni.{name}.repeat", (m & (orders >= 2)).sum())

    # 6. themes in every comment (survey comments and review texts)
    r_text = _texts(parts, "Review Posted")
    texts = [
        (s_text, s_touch, _cat(parts, "Survey Answered", "set")),
        (r_text, np.full(len(r_text), EV["Review Posted"]), _cat(parts, "Review Posted", "set")),
    ]
    none = THEME_NAMES.index("none")
    planted_theme = np.array([THEME_NAMES.index(t) if t in THEME_NAMES else none for t, _ in SETS])
    for text, touch, planted in texts:
        has = np.asarray(text.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        theme = theme_of(text)
        # the generator knows each comment's theme: the text must say the same
        tally.add("themes.mismatch", (has & (planted_theme[np.maximum(planted, 0)] != theme)).sum())
        for tp in np.unique(touch[has]):
            m = has & (touch == tp)
            tally.add(f"comments.{EVENTS[tp]}", m.sum())
            for code, name in enumerate(THEME_NAMES):
                k = (m & (theme == code)).sum()
                if k:
                    tally.add(f"theme.{name}.{EVENTS[tp]}", k)

    # paid clicks per day and campaign, for the spend table
    for event in ("Ad Clicked", "Social Post Viewed", "Search Result Clicked"):
        campaign = parts.meta(event, "campaign")
        ts = _cat(parts, event)
        paid = campaign >= 0
        day = (ts[paid] - w.start_us) // DAY
        np.add.at(tally.spend_clicks, (day, campaign[paid]), 1)

    tally.add("orders", len(oc_serial))
    tally.add("revenue", float(oc_revenue.sum()))
