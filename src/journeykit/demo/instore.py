"""Store visits and store orders, known to the till by phone number (and sometimes e-mail).

Store-only people shop nowhere else. Omnichannel people have an online account too; their first
visit is recorded with their e-mail (they scan the loyalty code of their account), which is
what lets identity stitching tie their store visits to their online journey. Store-only people
who gave an e-mail at the till show it on their first visit and on some later ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from journeykit.demo import frame as fr
from journeykit.demo.online import Orders
from journeykit.demo.people import Block, exp_us, repeat_index, store_hours, uniform_between
from journeykit.demo.vocab import CH, CITIES, N_PRODUCTS, STORES, catalogue
from journeykit.demo.world import DAY, MINUTE

VISITS_STORE_ONLY = 0.05  # extra visits per active day
VISITS_OMNI = 0.035
BUY_STORE_ONLY = 0.55
BUY_OMNI = 0.65
ITEMS = 0.8
ITEMS_REFERRED = 1.4
HOME_STORE = 0.85
EMAIL_AGAIN = 0.30  # later rows that carry the e-mail too
MIXED_CASE = 0.30  # e-mails typed at the till, as typed
SAME_MINUTE = 0.15  # quick purchases: the order shares the visit's minute


@dataclass(frozen=True)
class Visits:
    """Store visits kept in the data, and whether each one ended in an order."""

    person: np.ndarray
    ts: np.ndarray
    store: np.ndarray
    first: np.ndarray
    bought: np.ndarray
    order_ts: np.ndarray
    items: np.ndarray
    revenue: np.ndarray
    serial: np.ndarray
    product: np.ndarray  # one product of the basket (for reviews)


def schedule(b: Block, first_serial: int) -> Visits:
    """Visits of store-only and omnichannel people, before their end of activity."""
    rng, end = b.rng, b.world.end_us
    lim0 = np.minimum(b.life_end, end)
    visitor = b.store_only | b.omni
    rate = np.where(b.store_only, VISITS_STORE_ONLY, VISITS_OMNI)
    count = (1 + rng.poisson(rate * np.maximum(lim0 - b.t0, 0) / DAY)) * visitor
    person, pos = repeat_index(count)
    first = pos == 0
    ts = store_hours(rng, uniform_between(rng, b.t0[person], lim0[person]))
    ts = np.where(ts < b.t0[person], ts + DAY, ts)
    # store-only people arrive by walking in: their first visit is their arrival
    ts = np.where(first & b.store_only[person], b.t0[person], ts)
    kept = (ts < b.limit[person]) & (ts < end)
    # the earliest kept visit of each person is the one recorded with the e-mail
    order = np.lexsort((ts, person))
    person, ts, kept = person[order], ts[order], kept[order]
    person, ts = person[kept], ts[kept]
    n = len(person)
    first = np.ones(n, dtype=bool)
    first[1:] = person[1:] != person[:-1]
    store = np.where(
        rng.random(n) < HOME_STORE, b.home_store[person], rng.integers(0, len(STORES), n)
    )
    bought = rng.random(n) < np.where(b.store_only[person], BUY_STORE_ONLY, BUY_OMNI)
    wait = np.where(rng.random(n) < SAME_MINUTE, 0, 5 * MINUTE + exp_us(rng, 12 * MINUTE, n))
    order_ts = ts + wait - (ts + wait) % MINUTE
    bought &= order_ts < end
    items = 1 + rng.poisson(np.where(b.referred[person], ITEMS_REFERRED, ITEMS))
    _cat, price, weight = catalogue()
    owner, _ = repeat_index(items)
    product = rng.choice(N_PRODUCTS, size=len(owner), p=weight)
    revenue = np.round(np.bincount(owner, weights=price[product], minlength=n), 2)
    serial = first_serial + np.cumsum(bought) - 1  # global: the caller adds the block offset
    return Visits(
        person=person,
        ts=ts,
        store=store,
        first=first,
        bought=bought,
        order_ts=order_ts,
        items=items,
        revenue=revenue,
        serial=np.where(bought, serial, -1),
        product=product[np.cumsum(items) - items],
    )


def orders(v: Visits) -> Orders:
    """The store orders, in the shape of the online ones."""
    k = v.bought
    return Orders(
        person=v.person[k],
        ts=v.order_ts[k],
        serial=v.serial[k],
        channel=np.full(int(k.sum()), CH["store"]),
        platform=np.full(int(k.sum()), -1),
        revenue=v.revenue[k],
        items=v.items[k],
        failed=np.zeros(int(k.sum()), dtype=bool),
        product=v.product[k],
    )


def emit(parts: fr.Parts, b: Block, v: Visits, refs: pa.Array) -> None:
    """Store Visited and store Order Completed rows (``refs`` are the order ids)."""
    rng = b.rng
    n = len(v.person)
    with_email = (b.omni | b.store_email)[v.person] & (v.first | (rng.random(n) < EMAIL_AGAIN))
    email = np.where(with_email, np.where(rng.random(n) < MIXED_CASE, 2, 1), 0)
    store_id = fr.pick([s for s, _c in STORES], v.store)
    city = fr.pick([CITIES[c] for _s, c in STORES], v.store)
    parts.add(
        "Store Visited",
        v.person,
        v.ts,
        fr.obj(n, [("store_id", store_id), ("city", city)]),
        channel="store",
        phone=rng.integers(1, 5, n),
        email=email,
    )
    k = np.flatnonzero(v.bought)
    props = fr.obj(
        len(k),
        [
            ("order_id", fr.text(refs)),
            ("revenue", fr.number(v.revenue[k])),
            ("currency", '"GBP"'),
            ("items", fr.number(v.items[k])),
            ("platform", "null"),
            ("store_id", store_id.take(pa.array(k))),
        ],
    )
    parts.add(
        "Order Completed",
        v.person[k],
        v.order_ts[k],
        props,
        channel="store",
        phone=rng.integers(1, 5, len(k)),
        email=email[k],
        revenue=v.revenue[k],
        meta={"serial": v.serial[k]},
    )
