"""What follows an order: late deliveries, returns, NPS surveys and product reviews.

Online orders placed in the carrier weeks often arrive late; late parcels bring bad NPS answers
that talk about the delivery, and calls to ask where the parcel is. Orders whose payment failed
before it went through bring NPS comments about the payment.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from journeykit.demo import frame as fr
from journeykit.demo.clickstream import product_literals
from journeykit.demo.feedback import ISSUE, NO_ISSUE, add_reviews, add_surveys, moods
from journeykit.demo.online import Orders
from journeykit.demo.people import Block, exp_us
from journeykit.demo.service import CALL_DELAYED, CALL_RETURNED
from journeykit.demo.vocab import CH, PLATFORMS, RETURN_REASONS
from journeykit.demo.world import DAY, SECOND

DELAY_BASE = 0.06  # online orders that arrive late ...
DELAY_CARRIER = 0.45  # ... in the carrier weeks
RETURN_ONLINE = 0.09
RETURN_STORE = 0.06
NPS_AFTER_ORDER = 0.28
REVIEW_AFTER_ORDER = 0.06


def emit(
    parts: fr.Parts, b: Block, orders: Orders, refs: pa.Array
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Returns, NPS answers and reviews of ``orders``; gives the support calls they cause."""
    rng, w = b.rng, b.world
    end = w.end_us
    n = len(orders.person)
    person = orders.person
    online = orders.channel != CH["store"]
    delayed = online & (
        rng.random(n) < np.where(w.in_weeks(orders.ts, w.carrier_weeks), DELAY_CARRIER, DELAY_BASE)
    )
    returned = rng.random(n) < np.where(online, RETURN_ONLINE, RETURN_STORE)
    ret_ts = orders.ts + 4 * DAY + exp_us(rng, 8 * DAY, n)
    ret_ts -= ret_ts % SECOND
    returned &= (ret_ts < b.limit[person]) & (ret_ts < end)
    r = np.flatnonzero(returned)
    reason = rng.choice(len(RETURN_REASONS), size=len(r), p=(0.45, 0.2, 0.25, 0.1))
    props = fr.obj(
        len(r),
        [
            ("order_id", fr.text(refs.take(pa.array(r)))),
            ("reason", fr.pick(RETURN_REASONS, reason)),
            ("amount", fr.number(orders.revenue[r])),
            ("platform", fr.pick(PLATFORMS, orders.platform[r])),
        ],
    )
    parts.add(
        "Order Returned",
        person[r],
        ret_ts[r],
        props,
        channel=orders.channel[r],
        uid=online[r],
        phone=np.where(online[r], 0, rng.integers(1, 5, len(r))),
        meta={"serial": orders.serial[r]},
    )

    email_known = (b.omni | b.store_email)[person]
    p_good = np.where(online, 0.62, 0.70)
    p_bad = np.where(online, 0.13, 0.08)
    p_good = np.where(returned, 0.2, p_good)
    p_bad = np.where(returned, 0.45, p_bad)
    p_good = np.where(delayed, 0.08, p_good)
    p_bad = np.where(delayed, 0.70, p_bad)
    p_good = np.where(orders.failed, 0.05, p_good)
    p_bad = np.where(orders.failed, 0.80, p_bad)
    issue = np.where(
        orders.failed,
        ISSUE["payment"],
        np.where(delayed, ISSUE["delay"], np.where(returned, ISSUE["returned"], NO_ISSUE)),
    )
    nps_ts = orders.ts + 6 * DAY + exp_us(rng, 2 * DAY, n)
    nps_ts -= nps_ts % SECOND
    answer = (rng.random(n) < NPS_AFTER_ORDER) & (nps_ts < b.limit[person]) & (nps_ts < end)
    mood = moods(rng, p_good, p_bad)
    for where, context in ((online, "online"), (~online, "store")):
        a = np.flatnonzero(answer & where)
        ident = (
            {"uid": True}
            if context == "online"
            else {
                "email": email_known[a].astype(np.int8),
                "phone": (~email_known[a]).astype(np.int8),
            }
        )
        add_surveys(
            parts,
            b,
            survey="nps",
            touchpoint="Order Completed",
            context=context,
            person=person[a],
            ts=nps_ts[a],
            mood=mood[a],
            issue=issue[a],
            ref_key="order_id",
            ref=refs.take(pa.array(a)),
            serial=orders.serial[a],
            ident=ident,
        )

    review_ts = orders.ts + 8 * DAY + exp_us(rng, 5 * DAY, n)
    review_ts -= review_ts % SECOND
    review = (
        (rng.random(n) < REVIEW_AFTER_ORDER)
        & (online | email_known)
        & (review_ts < b.limit[person])
        & (review_ts < end)
    )
    a = np.flatnonzero(review)
    product_ids, _c, _p = product_literals()
    add_reviews(
        parts,
        b,
        person=person[a],
        ts=review_ts[a],
        mood=moods(rng, p_good[a], p_bad[a]),
        issue=np.where(issue[a] == ISSUE["payment"], NO_ISSUE, issue[a]),
        product=product_ids.take(pa.array(orders.product[a])),
        ref=refs.take(pa.array(a)),
        serial=orders.serial[a],
        ident={"uid": online[a], "email": (~online[a]).astype(np.int8)},
    )

    late = delayed & (rng.random(n) < CALL_DELAYED)
    refund = returned & (rng.random(n) < CALL_RETURNED)
    return [
        (person[late], orders.ts[late] + 5 * DAY + exp_us(rng, 2 * DAY, int(late.sum())), 0),
        (person[refund], ret_ts[refund] + DAY + exp_us(rng, 2 * DAY, int(refund.sum())), 1),
    ]
