"""Writing the online events: sessions, awareness touches, the funnel and sign-ups.

Web and app rows carry the anonymous_id of the device (and its device_id on an app), plus the
user_id from the moment the person signed up. Each session may open with an awareness touch
(an ad, a social post, a search result, a blog post, a referral link) at the very same instant
as its "Session Started": the touch comes first in journey order.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa

from journeykit.demo import frame as fr
from journeykit.demo.online import Online
from journeykit.demo.people import Block
from journeykit.demo.vocab import (
    ACQUISITION,
    ACQUISITION_EVENT,
    BLOG_POSTS,
    CAMPAIGN_NAMES,
    CAMPAIGN_NETWORK,
    CATEGORIES,
    CH,
    CITIES,
    EV,
    FAILURE_REASONS,
    N_PRODUCTS,
    PLATFORMS,
    SEARCH_ENGINES,
    SEARCH_QUERIES,
    SOCIAL_NETWORKS,
    WEB,
    catalogue,
)

_SOCIAL_OF_CAMPAIGN = np.array(
    [SOCIAL_NETWORKS.index(n) if n in SOCIAL_NETWORKS else 0 for n in CAMPAIGN_NETWORK]
)


@cache
def product_literals() -> tuple[pa.Array, pa.Array, pa.Array]:
    """JSON literals of each product's id, category and price."""
    category, price, _w = catalogue()
    ids = pa.array([f'"P{k + 1:04d}"' for k in range(N_PRODUCTS)])
    cats = fr.pick(CATEGORIES, category)
    return ids, cats, fr.number(price)


@cache
def product_props(added: bool) -> pa.Array:
    """The properties of "Product Viewed" (or "Product Added") per product and platform."""
    ids, cats, prices = (a.to_pylist() for a in product_literals())
    quantity = ',"quantity":1' if added else ""
    return pa.array(
        [
            f'{{"product_id":{i},"category":{c},"price":{p}{quantity},"platform":"{platform}"}}'
            for i, c, p in zip(ids, cats, prices, strict=True)
            for platform in PLATFORMS
        ]
    )


def web_identity(
    b: Block, person: np.ndarray, ts: np.ndarray, device: np.ndarray, platform: np.ndarray
) -> dict:
    """Identifier flags of web/app rows: the device, and user_id once signed up."""
    return {
        "channel": np.where(platform == WEB, CH["web"], CH["app"]),
        "anon": device,
        "uid": ts >= b.signup[person],
    }


def emit(parts: fr.Parts, b: Block, on: Online, refs: pa.Array) -> None:
    """Write the online events kept after churn; ``refs`` are the checkouts' order ids."""
    assert on.kept is not None, "finalise first"
    kept, end = on.kept, b.world.end_us

    def where(session: np.ndarray, ts: np.ndarray) -> np.ndarray:
        return kept[session] & (ts < end)

    def add(event: str, session: np.ndarray, ts: np.ndarray, props: pa.Array, **kw) -> None:
        p = on.person[session]
        ident = web_identity(b, p, ts, on.device[session], on.platform[session])
        parts.add(event, p, ts, props, **ident, **kw)

    s = np.flatnonzero(where(np.arange(len(on.start)), on.start))
    props = pa.array([f'{{"platform":"{p}"}}' for p in PLATFORMS]).take(pa.array(on.platform[s]))
    add("Session Started", s, on.start[s], props)
    _emit_touches(parts, b, on, s)

    for event, (session, ts, product) in (("Product Viewed", on.views), ("Product Added", on.adds)):
        k = where(session, ts)
        session, ts, product = session[k], ts[k], product[k]
        which = product * len(PLATFORMS) + on.platform[session]
        props = product_props(event == "Product Added").take(pa.array(which))
        add(event, session, ts, props)

    su_session, su_ts = on.signups
    k = where(su_session, su_ts)
    session, ts = su_session[k], su_ts[k]
    add_signup(parts, b, on.person[session], ts, on.device[session], on.platform[session])

    k = where(on.ck_session, on.ck_ts)
    session = on.ck_session[k]
    ref = fr.text(refs.filter(pa.array(k)))
    plat = fr.pick(PLATFORMS, on.platform[session])
    props = fr.obj(
        len(session),
        [
            ("order_id", ref),
            ("value", fr.number(on.ck_value[k])),
            ("items", fr.number(on.ck_items[k])),
            ("currency", '"GBP"'),
            ("platform", plat),
        ],
    )
    add(
        "Checkout Started",
        session,
        on.ck_ts[k],
        props,
        meta={"serial": on.ck_serial[k], "platform": on.platform[session]},
    )

    f = on.failed & where(on.ck_session, on.fail_ts)
    session = on.ck_session[f]
    props = fr.obj(
        len(session),
        [
            ("order_id", fr.text(refs.filter(pa.array(f)))),
            ("reason", fr.pick(FAILURE_REASONS, on.reason[f])),
            ("platform", fr.pick(PLATFORMS, on.platform[session])),
        ],
    )
    add("Payment Failed", session, on.fail_ts[f], props, meta={"serial": on.ck_serial[f]})

    d = on.completed & where(on.ck_session, on.order_ts)
    session = on.ck_session[d]
    revenue = on.ck_value[d]
    props = fr.obj(
        len(session),
        [
            ("order_id", fr.text(refs.filter(pa.array(d)))),
            ("revenue", fr.number(revenue)),
            ("currency", '"GBP"'),
            ("items", fr.number(on.ck_items[d])),
            ("platform", fr.pick(PLATFORMS, on.platform[session])),
        ],
    )
    add(
        "Order Completed",
        session,
        on.order_ts[d],
        props,
        revenue=revenue,
        meta={"serial": on.ck_serial[d]},
    )


def add_signup(
    parts: fr.Parts,
    b: Block,
    person: np.ndarray,
    ts: np.ndarray,
    device: np.ndarray,
    platform: np.ndarray,
) -> None:
    """The identify call of a sign-up: anonymous_id, user_id and e-mail on one row."""
    n = len(person)
    mixed = b.rng.random(n) < 0.1
    city = (person * 7 + b.first) % len(CITIES)
    traits = [
        ("first_name", fr.text(b.ids.first_name.take(pa.array(person)))),
        ("last_name", fr.text(b.ids.last_name.take(pa.array(person)))),
        ("email", fr.text(b.ids.email.take(pa.array(person * 2)))),
        ("city", fr.pick(CITIES, city)),
        ("marketing_opt_in", fr.boolean(b.opt_in[person])),
        ("platform", fr.pick(PLATFORMS, platform)),
    ]
    parts.add(
        "Signed Up",
        person,
        ts,
        fr.obj(n, traits),
        channel=np.where(platform == WEB, CH["web"], CH["app"]),
        anon=device,
        uid=True,
        email=np.where(mixed, 2, 1),
    )


def _emit_touches(parts: fr.Parts, b: Block, on: Online, kept: np.ndarray) -> None:
    """Awareness events opening sessions, at the same instant as Session Started."""
    for event in ACQUISITION_EVENT:
        s = kept[on.touch[kept] == EV[event]]
        if len(s) == 0:
            continue
        n = len(s)
        v = on.variant[s]
        campaign = on.campaign[s]
        paid = campaign >= 0
        if event == "Ad Clicked":
            fields = [
                ("campaign", fr.pick(CAMPAIGN_NAMES, campaign)),
                ("network", fr.pick(CAMPAIGN_NETWORK, campaign)),
            ]
        elif event == "Social Post Viewed":
            network = np.where(paid, _SOCIAL_OF_CAMPAIGN[campaign], v % 3)
            fields = [
                ("network", fr.pick(SOCIAL_NETWORKS, network)),
                ("paid", fr.boolean(paid)),
                ("campaign", fr.pick(CAMPAIGN_NAMES, campaign)),
                ("post_id", fr.number(1000 + v % 240)),
            ]
        elif event == "Search Result Clicked":
            engine = np.where(paid, 0, v % 2)
            fields = [
                ("engine", fr.pick(SEARCH_ENGINES, engine)),
                ("query", fr.pick(SEARCH_QUERIES, v % len(SEARCH_QUERIES))),
                ("paid", fr.boolean(paid)),
                ("campaign", fr.pick(CAMPAIGN_NAMES, campaign)),
            ]
        elif event == "Blog Post Viewed":
            fields = [("post", fr.pick(BLOG_POSTS, v % len(BLOG_POSTS)))]
        else:
            referrer = b.referrer[on.person[s]]
            fields = [
                ("referrer", fr.text(b.ids.user_id.take(pa.array(referrer)))),
                ("referral_code", fr.text(b.referral_code(referrer))),
            ]
        p = on.person[s]
        parts.add(
            event,
            p,
            on.start[s],
            fr.obj(n, fields),
            channel=ACQUISITION[ACQUISITION_EVENT.index(event)],
            anon=on.device[s],
            uid=on.start[s] >= b.signup[p],
            meta={"campaign": campaign},
        )
