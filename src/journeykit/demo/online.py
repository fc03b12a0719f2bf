"""Online shopping: sessions on the web shop and the apps, the funnel, sign-ups and orders.

Buyers get a chain of planned orders (the first a few days after arriving, each further one
with a probability that the welcome e-mail, a referral and shopping in store raise). Every
planned order is a converting session (views, one add per item, checkout, order); around them
people browse in sessions that may end in an abandoned checkout. Checkouts on iOS during the
incident weeks fail often and most of those orders are lost.

``schedule`` plans everything before churn is known; ``finalise`` drops what falls after a
person's end of activity; ``clickstream.emit`` writes the events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journeykit.demo.identity import SERIAL_STRIDE
from journeykit.demo.people import Block, daytime, exp_us, repeat_index, uniform_between
from journeykit.demo.vocab import (
    ACQUISITION_EVENT,
    CAMPAIGN_NAMES,
    CH,
    EV,
    FAILURE_REASONS,
    IOS,
    N_PRODUCTS,
    WEB,
    catalogue,
)
from journeykit.demo.world import DAY, MINUTE, NEVER, SECOND

# Orders: a chain of up to MAX_ORDERS per buyer.
MAX_ORDERS = 10
FIRST_ORDER_DAYS = 4.0  # mean delay after arrival (plus two hours)
ORDER_GAP_DAYS = 18.0
REPEAT = 0.30  # chance of a second order ...
REPEAT_WELCOME = 0.25  # ... raised by the welcome e-mail,
REPEAT_REFERRED = 0.12  # by arriving through a referral,
REPEAT_OMNI = 0.20  # and by shopping in store too
LATER = 0.45  # chance of each further order
LATER_OMNI = 0.15
LATER_REFERRED = 0.10
ITEMS = 0.6  # extra items per order (Poisson mean) ...
ITEMS_REFERRED = 1.2  # ... for referred people: bigger baskets
# Browsing.
BROWSE_BUYER = 0.26  # sessions per active day
BROWSE_OTHER = 0.30
VIEWS_BROWSE = 2.2  # extra product views per browsing session
VIEWS_CONVERTING = 1.5
VIEW_GAP = 40 * SECOND
ADD_BROWSE = 0.35
CHECKOUT_BROWSE = 0.08  # of browsing sessions with an add: abandoned checkouts
SECOND_DEVICE_SESSION = 0.35
RETURN_TOUCH = 0.30  # return visits that start from an ad, a social post or a search
# Payments.
FAIL_BASE = 0.02
RETRY_BASE = 0.70
FAIL_IOS = 0.60  # iOS checkouts in the incident weeks
RETRY_IOS = 0.25
PAYMENT_CHAT = 0.35  # failed and gave up: asks the chat what happened

_C = {name: i for i, name in enumerate(CAMPAIGN_NAMES)}


@dataclass
class Online:
    """The planned online activity of a block (see the module docstring)."""

    # sessions
    person: np.ndarray
    start: np.ndarray
    platform: np.ndarray
    device: np.ndarray
    touch: np.ndarray  # event code of the awareness touch opening the session, -1 none
    campaign: np.ndarray
    variant: np.ndarray
    # product views and adds: session, time, product
    views: tuple[np.ndarray, np.ndarray, np.ndarray]
    adds: tuple[np.ndarray, np.ndarray, np.ndarray]
    # sign-ups: session, time
    signups: tuple[np.ndarray, np.ndarray]
    # checkouts
    ck_session: np.ndarray
    ck_ts: np.ndarray
    ck_serial: np.ndarray
    ck_value: np.ndarray
    ck_items: np.ndarray
    ck_product: np.ndarray
    failed: np.ndarray
    fail_ts: np.ndarray
    reason: np.ndarray
    completed: np.ndarray
    order_ts: np.ndarray
    # who asked the chat after a failed payment, and when
    payment_chats: tuple[np.ndarray, np.ndarray]
    kept: np.ndarray | None = None  # sessions kept after churn (set by finalise)


def _within(gaps: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sums of ``gaps`` restarting for each owner (owners hold ``counts`` items)."""
    cs = np.cumsum(gaps)
    starts = np.cumsum(counts) - counts
    nonempty = counts > 0
    base = np.zeros(len(counts), dtype=np.int64)
    base[nonempty] = cs[starts[nonempty]] - gaps[starts[nonempty]]
    return cs - np.repeat(base, counts)


def _plan_orders(b: Block, lim0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng, n = b.rng, b.n
    gaps = rng.exponential(ORDER_GAP_DAYS * DAY, size=(n, MAX_ORDERS))
    gaps[:, 0] = 2 * 3600 * SECOND + rng.exponential(FIRST_ORDER_DAYS * DAY, size=n)
    times = b.t0[:, None] + np.cumsum(gaps, axis=1).astype(np.int64)
    earliest = np.concatenate([b.t0[:, None] + 2 * 3600 * SECOND, times[:, :-1]], axis=1)
    times = daytime(rng, times.ravel(), earliest.ravel()).reshape(times.shape)
    go = np.empty((n, MAX_ORDERS))
    go[:, 0] = b.buyer
    go[:, 1] = (
        REPEAT + REPEAT_WELCOME * b.welcome + REPEAT_REFERRED * b.referred + REPEAT_OMNI * b.omni
    )
    go[:, 2:] = (LATER + LATER_OMNI * b.omni + LATER_REFERRED * b.referred)[:, None]
    chain = np.cumprod(rng.random((n, MAX_ORDERS)) < go, axis=1).astype(bool)
    person, j = np.nonzero(chain & (times < lim0[:, None]))
    return person, j, times[person, j]


def _touches(b: Block, kind: np.ndarray, person: np.ndarray) -> tuple[np.ndarray, ...]:
    """The awareness touch opening each session: event code, campaign, variant."""
    rng = b.rng
    ns = len(kind)
    touch = np.full(ns, -1, dtype=np.int64)
    campaign = np.full(ns, -1, dtype=np.int64)
    arrival = kind == 0
    touch[arrival] = np.array([EV[e] for e in ACQUISITION_EVENT])[b.acquisition[person[arrival]]]
    u = rng.random(ns)
    back = (kind == 1) & (u < RETURN_TOUCH)
    pick = rng.random(ns)
    touch[back] = np.select(
        [pick[back] < 0.45, pick[back] < 0.65],
        [EV["Ad Clicked"], EV["Social Post Viewed"]],
        EV["Search Result Clicked"],
    )
    touch[(kind == 2) & (u < 0.15)] = EV["Search Result Clicked"]
    coin, which = rng.random(ns), rng.random(ns) < 0.5
    ad = touch == EV["Ad Clicked"]
    campaign[ad] = np.where(
        kind[ad] == 0,
        np.where(which[ad], _C["summer_sale"], _C["new_season"]),
        _C["retargeting"],
    )
    social = (touch == EV["Social Post Viewed"]) & (coin < 0.6)
    campaign[social] = np.where(which[social], _C["spring_drop"], _C["creator_collab"])
    search = (touch == EV["Search Result Clicked"]) & (coin < 0.5)
    brand = which | (kind != 0)
    campaign[search] = np.where(brand[search], _C["brand_search"], _C["generic_search"])
    return touch, campaign, rng.integers(0, 1 << 30, size=ns)


def schedule(b: Block) -> Online:
    """Plan every online session, the funnel inside it and its outcome."""
    rng, w = b.rng, b.world
    lim0 = np.minimum(b.life_end, w.end_us)
    op, oj, ot = _plan_orders(b, lim0)
    first_conv = np.full(b.n, NEVER, dtype=np.int64)
    first_conv[op[oj == 0]] = ot[oj == 0]
    signup_session = np.where(b.early_signup, b.t0, first_conv)

    days_active = np.maximum(lim0 - b.t0, 0) / DAY
    extra = rng.poisson(np.where(b.buyer, BROWSE_BUYER, BROWSE_OTHER) * days_active) * b.online
    eo, _ = repeat_index(extra)
    arrivals = np.flatnonzero(b.online)
    person = np.concatenate([arrivals, eo, op])
    earliest = b.t0[eo] + 30 * MINUTE
    browse = daytime(rng, uniform_between(rng, earliest, lim0[eo]), earliest)
    start = np.concatenate([b.t0[arrivals], browse, ot])
    start -= start % 1000  # web and app clocks tick in milliseconds
    kind = np.concatenate(
        [np.zeros(len(arrivals), np.int8), np.ones(len(eo), np.int8), np.full(len(op), 2, np.int8)]
    )
    first_order = np.concatenate([np.zeros(len(arrivals) + len(eo), bool), oj == 0])
    ns = len(person)
    conv = kind == 2
    second = (
        (b.platform2[person] >= 0)
        & (start > signup_session[person])
        & (rng.random(ns) < SECOND_DEVICE_SESSION)
    )
    platform = np.where(second, b.platform2[person], b.platform[person])
    touch, campaign, variant = _touches(b, kind, person)

    # product views
    _cat, price, weight = catalogue()
    items = np.where(conv, 1 + rng.poisson(np.where(b.referred[person], ITEMS_REFERRED, ITEMS)), 0)
    nv = np.where(
        conv, items + rng.poisson(VIEWS_CONVERTING, ns), 1 + rng.poisson(VIEWS_BROWSE, ns)
    )
    vs, _ = repeat_index(nv)
    vts = start[vs] + _within(exp_us(rng, VIEW_GAP, len(vs)), nv)
    vts -= vts % 1000
    vproduct = rng.choice(N_PRODUCTS, size=len(vs), p=weight)
    vend = np.cumsum(nv) - 1
    last_view = vts[vend]

    # adds: one in some browsing sessions, one per item in converting ones
    browse_add = np.flatnonzero(~conv & (rng.random(ns) < ADD_BROWSE))
    tie = rng.random(len(browse_add)) < 0.1  # "add to basket" in the same millisecond
    b_ts = last_view[browse_add] + np.where(
        tie, 0, SECOND + exp_us(rng, 20 * SECOND, len(browse_add))
    )
    b_ts -= b_ts % 1000
    as_, apos = repeat_index(items)
    a_product = vproduct[vend[as_] - items[as_] + 1 + apos]
    a_ts = last_view[as_] + _within(SECOND + exp_us(rng, 15 * SECOND, len(as_)), items)
    a_ts -= a_ts % 1000
    conv_s = np.flatnonzero(conv)
    last_add = np.zeros(ns, dtype=np.int64)
    last_add[conv_s] = a_ts[np.cumsum(items)[conv_s] - 1]
    value = np.round(np.bincount(as_, weights=price[a_product], minlength=ns), 2)

    # sign-ups: in the arrival session (early), else in the first converting session
    sign_session = np.full(b.n, -1, dtype=np.int64)
    arrival_session = np.arange(len(arrivals))
    sign_session[arrivals] = np.where(b.early_signup[arrivals], arrival_session, -1)
    late = first_order & ~b.early_signup[person]
    sign_session[person[late]] = np.flatnonzero(late)
    su_session = sign_session[sign_session >= 0]
    su_ts = np.where(
        conv[su_session],
        last_add[su_session] + 20 * SECOND + exp_us(rng, 40 * SECOND, len(su_session)),
        start[su_session] + 20 * SECOND + exp_us(rng, 60 * SECOND, len(su_session)),
    )
    su_ts -= su_ts % 1000
    b.signup[person[su_session]] = su_ts
    signup_ts = np.full(ns, 0, dtype=np.int64)
    signup_ts[su_session] = su_ts

    # checkouts: every converting session, some browsing sessions with an add
    ab = browse_add[rng.random(len(browse_add)) < CHECKOUT_BROWSE]
    ab_ts = b_ts[np.searchsorted(browse_add, ab)]
    ck_session = np.concatenate([conv_s, ab])
    ck_ts = (
        np.concatenate([np.maximum(last_add[conv_s], signup_ts[conv_s]), ab_ts])
        + 10 * SECOND
        + exp_us(rng, 35 * SECOND, len(ck_session))
    )
    ck_ts -= ck_ts % 1000
    ab_product = vproduct[vend[ab]]
    ck_value = np.concatenate([value[conv_s], price[ab_product]])
    ck_items = np.concatenate([items[conv_s], np.ones(len(ab), np.int64)])
    nck = len(ck_session)
    incident = (platform[ck_session] == IOS) & w.in_weeks(ck_ts, w.ios_weeks)
    failed = rng.random(nck) < np.where(incident, FAIL_IOS, FAIL_BASE)
    retried = rng.random(nck) < np.where(incident, RETRY_IOS, RETRY_BASE)
    r = rng.random(nck)
    reason = np.where(
        incident,
        np.where(r < 0.85, FAILURE_REASONS.index("processor_error"), 0),
        np.where(r < 0.7, 0, FAILURE_REASONS.index("3ds_timeout")),
    )
    fail_ts = ck_ts + 15 * SECOND + exp_us(rng, 30 * SECOND, nck)
    fail_ts -= fail_ts % 1000
    is_conv = np.arange(nck) < len(conv_s)
    completed = is_conv & (~failed | retried)
    order_ts = np.where(failed, fail_ts, ck_ts) + 20 * SECOND + exp_us(rng, 60 * SECOND, nck)
    order_ts -= order_ts % 1000
    gave_up = failed & ~completed & (rng.random(nck) < PAYMENT_CHAT)
    chat_ts = fail_ts[gave_up] + 2 * MINUTE + exp_us(rng, 5 * MINUTE, int(gave_up.sum()))
    return Online(
        person=person,
        start=start,
        platform=platform,
        device=second.astype(np.int8),
        touch=touch,
        campaign=campaign,
        variant=variant,
        views=(vs, vts, vproduct),
        adds=(
            np.concatenate([browse_add, as_]),
            np.concatenate([b_ts, a_ts]),
            np.concatenate([vproduct[vend[browse_add]], a_product]),
        ),
        signups=(su_session, su_ts),
        ck_session=ck_session,
        ck_ts=ck_ts,
        ck_serial=b.index * SERIAL_STRIDE + np.arange(nck, dtype=np.int64),
        ck_value=ck_value,
        ck_items=ck_items,
        ck_product=np.concatenate(
            [a_product[np.cumsum(items)[conv_s] - items[conv_s]], ab_product]
        ),
        failed=failed,
        fail_ts=fail_ts,
        reason=reason,
        completed=completed,
        order_ts=order_ts,
        payment_chats=(person[ck_session[gave_up]], chat_ts),
    )


@dataclass(frozen=True)
class Orders:
    """Completed orders (online and store) kept in the data."""

    person: np.ndarray
    ts: np.ndarray
    serial: np.ndarray  # global serial (the block's offset plus a running number)
    channel: np.ndarray  # channel code: web, app or store
    platform: np.ndarray  # web, ios, android; -1 in store
    revenue: np.ndarray
    items: np.ndarray
    failed: np.ndarray  # a payment failed before it went through
    product: np.ndarray  # the first product of the basket (reviews name it)


def finalise(b: Block, on: Online) -> Orders:
    """Drop sessions after each person's end of activity; fix sign-ups; list the orders."""
    end = b.world.end_us
    on.kept = on.start < b.limit[on.person]
    su_session, su_ts = on.signups
    lost = ~on.kept[su_session] | (su_ts >= end)
    b.signup[on.person[su_session[lost]]] = NEVER
    done = on.completed & on.kept[on.ck_session] & (on.order_ts < end)
    s = on.ck_session[done]
    platform = on.platform[s]
    return Orders(
        person=on.person[s],
        ts=on.order_ts[done],
        serial=on.ck_serial[done],
        channel=np.where(platform == WEB, CH["web"], CH["app"]),
        platform=platform,
        revenue=on.ck_value[done],
        items=on.ck_items[done],
        failed=on.failed[done],
        product=on.ck_product[done],
    )
