"""Referrals and e-mail: who referred whom, and the welcome, newsletter and winback e-mails.

A referred person's "Referral Link Clicked" names a referrer who bought online before they
arrived and whose "Referral Sent" comes between that first order and the click. E-mails go to
everyone with a known address (an account, or an e-mail given at the till); "Email Sent" rows
continue after a person has gone quiet, opens and clicks do not.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from journeykit.demo import frame as fr
from journeykit.demo.online import Online, Orders
from journeykit.demo.people import Block, exp_us, uniform_between
from journeykit.demo.vocab import ACQUISITION, CH, EMAIL_CAMPAIGNS, EV, PLATFORMS, WEB
from journeykit.demo.world import DAY, HOUR, MINUTE, NEVER, SECOND, from_us

EXTRA_REFERRAL_SENT = 0.08  # customers who share a link nobody uses
WINBACK_AFTER_DAYS = 45
OPENS = {"welcome": 0.60, "newsletter": 0.22, "winback": 0.20}
CLICKS = {"welcome": 0.40, "newsletter": 0.25, "winback": 0.30}
LINKS = {"welcome": "/new-in", "newsletter": "/sale", "winback": "/we-miss-you"}
MIXED_CASE = 0.20  # rows from the e-mail platform with the address as first typed


def first_online_order(b: Block, orders: Orders) -> np.ndarray:
    """Each person's first online order time (NEVER if none)."""
    first = np.full(b.n, NEVER, dtype=np.int64)
    online = orders.channel != CH["store"]
    np.minimum.at(first, orders.person[online], orders.ts[online])
    return first


def match_referrals(b: Block, on: Online, orders: Orders) -> tuple[np.ndarray, np.ndarray]:
    """Give each referred person a referrer; returns (referrer, time) of "Referral Sent"."""
    rng = b.rng
    first = first_online_order(b, orders)
    customers = np.flatnonzero(first < NEVER)
    customers = customers[np.argsort(first[customers], kind="stable")]
    bought = first[customers]
    referred = np.flatnonzero(b.referred)
    k = np.searchsorted(bought, b.t0[referred] - HOUR)
    pick = np.floor(rng.random(len(referred)) * k).astype(np.int64)
    matched = k > 0
    referrer = customers[pick[matched]]
    b.referrer[referred[matched]] = referrer
    # nobody had bought yet to refer them: they found the shop through a search instead
    lost = referred[~matched]
    b.acquisition[lost] = ACQUISITION.index("search")
    fix = np.isin(on.person, lost) & (on.touch == EV["Referral Link Clicked"])
    on.touch[fix] = EV["Search Result Clicked"]
    on.campaign[fix] = -1
    high = np.minimum(b.t0[referred[matched]], b.limit[referrer]) - MINUTE
    sent = uniform_between(rng, first[referrer] + MINUTE, high)
    extra = customers[rng.random(len(customers)) < EXTRA_REFERRAL_SENT]
    extra_ts = first[extra] + DAY + exp_us(rng, 10 * DAY, len(extra))
    keep = (extra_ts < b.limit[extra]) & (extra_ts < b.world.end_us)
    person = np.concatenate([referrer, extra[keep]])
    ts = np.concatenate([sent, extra_ts[keep]])
    return person, ts - ts % 1000


def emit_referrals(parts: fr.Parts, b: Block, sent: tuple[np.ndarray, np.ndarray]) -> None:
    """Write the "Referral Sent" rows, from the referrers' main device."""
    person, ts = sent
    platform = b.platform[person]
    props = fr.obj(
        len(person),
        [
            ("referral_code", fr.text(b.referral_code(person))),
            ("platform", fr.pick(PLATFORMS, platform)),
        ],
    )
    parts.add(
        "Referral Sent",
        person,
        ts,
        props,
        channel=np.where(platform == WEB, CH["web"], CH["app"]),
        anon=0,
        uid=True,
    )


def emit_emails(parts: fr.Parts, b: Block, orders: Orders) -> None:
    """Welcome, newsletter and winback e-mails, with their opens and clicks."""
    rng, w = b.rng, b.world
    signed = b.signup < NEVER
    # welcome: a random share of sign-ups, minutes after signing up
    who = np.flatnonzero(signed & b.welcome)
    ts = b.signup[who] + MINUTE + exp_us(rng, 3 * MINUTE, len(who))
    _campaign(parts, b, "welcome", who, ts - ts % SECOND, ["welcome-1"], np.zeros(len(who), int))
    # newsletter: every Thursday at 09:00 to subscribers, from when they subscribed
    since = np.where(signed, b.signup, np.where(b.store_email, b.t0, NEVER))
    since = np.where(b.opt_in, since, NEVER)
    sends = np.array(w.newsletters, dtype=np.int64)
    who, issue = np.nonzero(since[:, None] < sends[None, :])
    names = [f"newsletter-{from_us(t).date().isoformat()}" for t in w.newsletters]
    _campaign(parts, b, "newsletter", who, sends[issue], names, issue)
    # winback: 45 days after the last order, at 10:00, if no order came since
    last = np.full(b.n, -1, dtype=np.int64)
    np.maximum.at(last, orders.person, orders.ts)
    due = last + WINBACK_AFTER_DAYS * DAY
    due = due - due % DAY + 10 * HOUR
    who = np.flatnonzero((last >= 0) & (signed | b.store_email) & (due < w.end_us))
    _campaign(parts, b, "winback", who, due[who], ["winback-45d"], np.zeros(len(who), int))


def _campaign(
    parts: fr.Parts,
    b: Block,
    campaign: str,
    person: np.ndarray,
    sent: np.ndarray,
    email_ids: list[str],
    which: np.ndarray,
) -> None:
    rng, end = b.rng, b.world.end_us
    keep = sent < end
    person, sent, which = person[keep], sent[keep], which[keep]
    n = len(person)
    code = EMAIL_CAMPAIGNS.index(campaign)
    email_id = fr.pick(email_ids, which)

    def add(event: str, mask: np.ndarray, ts: np.ndarray, extra: list) -> None:
        k = np.flatnonzero(mask)
        fields = [("campaign", json.dumps(campaign)), ("email_id", email_id.take(pa.array(k)))]
        fields += extra
        mixed = rng.random(len(k)) < MIXED_CASE
        parts.add(
            event,
            person[k],
            ts[k],
            fr.obj(len(k), fields),
            channel="email",
            email=np.where(mixed, 2, 1),
            meta={"campaign": np.full(len(k), code)},
        )

    add("Email Sent", np.ones(n, bool), sent, [])
    opened_ts = sent + 5 * MINUTE + exp_us(rng, 8 * HOUR, n)
    opened_ts -= opened_ts % SECOND
    opened = (rng.random(n) < OPENS[campaign]) & (opened_ts < b.limit[person]) & (opened_ts < end)
    add("Email Opened", opened, opened_ts, [])
    clicked_ts = opened_ts + 5 * SECOND + exp_us(rng, 60 * SECOND, n)
    clicked_ts -= clicked_ts % SECOND
    clicked = opened & (rng.random(n) < CLICKS[campaign]) & (clicked_ts < end)
    add("Email Clicked", clicked, clicked_ts, [("link", json.dumps(LINKS[campaign]))])
