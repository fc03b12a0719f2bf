"""Being a customer: online banking, calls, closures, the card cross-sell, logins, messages.

Customers (a signed loan or an opened card) enrol in online banking, log in to the app, call
the call centre and visit branches. A share of calls wait ten minutes or more; many of those
callers ask to close their account soon after. Loan customers are offered a credit card by
e-mail or letter a few weeks after signing; when they apply, the bank knows them by their
customer number (the application carries it) and skips the photo ID check, unless the ID on
file cannot be used: then they are asked to upload it again, and many give up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from journeykit.demo import frame as fr
from journeykit.demo.bank.apply import BRANCH, Applications, verify_and_submit
from journeykit.demo.bank.arrival import Visits, app_fields, visits_of, web_channel
from journeykit.demo.bank.people import Block, branch_hours
from journeykit.demo.bank.products import (
    CARD_SHARES,
    EXISTING_CARD_SERIALS,
    Cards,
    Loans,
    card_props,
    open_cards,
)
from journeykit.demo.bank.vocab import CALL_REASONS, CH, VISIT_PURPOSES
from journeykit.demo.identity import SERIAL_STRIDE, reference
from journeykit.demo.people import daytime, exp_us, repeat_index, uniform_between
from journeykit.demo.world import DAY, HOUR, MINUTE, NEVER, SECOND

ENROL_ONLINE = 0.85  # customers who enrol in online banking (online applicants) ...
ENROL_BRANCH = 0.45  # ... and branch applicants
CALLS_PER_DAY = 0.02
LONG_WAIT = 0.20  # calls waiting LONG_WAIT_SECONDS or more for an agent
LONG_WAIT_SECONDS = 600
CLOSE_AFTER_LONG_WAIT = 0.35  # chance a long wait makes the customer ask to close ...
CLOSE_OTHERWISE = 0.03  # ... against any other call
SERVICE_VISITS_PER_DAY = 0.02  # branch customers' later visits
CROSS_SELL_DAYS = (14, 35)  # the card offer comes this many days after signing the loan
APPLY_AFTER_OFFER = 0.18  # loan customers applying for the card after the offer ...
APPLY_AFTER_CLICK = 0.45  # ... more when they clicked it
APPLY_AFTER_LETTER = 0.20
REVERIFY = 0.42  # existing customers whose ID on file cannot be used: asked to upload again
REVERIFY_UPLOAD = 0.45  # of those, who upload it again online
REVERIFY_UPLOAD_BRANCH = 0.70
EXISTING_SUBMIT = 0.90
CARD_APPROVED_EXISTING = 0.92
LOGINS_PER_DAY = 0.30
OPENS = {"loan_welcome": 0.60, "card_cross_sell": 0.45}
CLICKS = {"loan_welcome": 0.20, "card_cross_sell": 0.35}
LINKS = {"loan_welcome": "/app/get-started", "card_cross_sell": "/cards/apply"}
ADVICE, ACCOUNT_SERVICE = VISIT_PURPOSES.index("advice"), VISIT_PURPOSES.index("account_service")
MIXED_CASE = 0.15


@dataclass(frozen=True)
class Calls:
    """Calls to the call centre that are in the data."""

    person: np.ndarray
    ts: np.ndarray
    wait: np.ndarray  # seconds
    duration: np.ndarray
    serial: np.ndarray


def customers_since(b: Block, loans: Loans, cards: Cards) -> np.ndarray:
    """When each person became a customer (signed a loan, or got a card), NEVER if not."""
    since = np.full(b.n, NEVER, dtype=np.int64)
    np.minimum.at(since, loans.apps.person[loans.signed], loans.sign_ts[loans.signed])
    np.minimum.at(since, cards.apps.person[cards.opened], cards.open_ts[cards.opened])
    return since


def enrol(parts: fr.Parts, b: Block, since: np.ndarray) -> None:
    """Online banking enrolment: the identify call that gives the person a user id."""
    rng, end = b.rng, b.world.end_us
    who = np.flatnonzero(since < NEVER)
    go = rng.random(len(who)) < np.where(b.walk_in[who], ENROL_BRANCH, ENROL_ONLINE)
    who = who[go]
    ts = since[who] + 10 * MINUTE + exp_us(rng, DAY, len(who))
    ts -= ts % 1000
    who, ts = who[ts < end], ts[ts < end]
    b.uid_at[who] = ts
    take = pa.array(who)
    parts.add(
        "online_banking_enrolled",
        who,
        ts,
        fr.obj(
            len(who),
            [
                ("first_name", fr.text(b.ids.first_name.take(take))),
                ("last_name", fr.text(b.ids.last_name.take(take))),
                ("email", fr.text(b.ids.email.take(pa.array(who * 2)))),
                *app_fields(b, b.platform[who], ts),
            ],
        ),
        channel=web_channel(b.platform[who]),
        anon=0,
        uid=True,
        crm=True,
        email=1,
    )


def calls(parts: fr.Parts, b: Block, since: np.ndarray) -> Calls:
    """Calls of customers, the closures long waits cause (sets ``b.limit``), their rows."""
    rng, end = b.rng, b.world.end_us
    days = np.where(since < end, (end - since) / DAY, 0)
    count = rng.poisson(CALLS_PER_DAY * days)
    person, _ = repeat_index(count)
    ts = uniform_between(rng, since[person] + HOUR, np.full(len(person), end))
    ts = ts - ts % DAY + 8 * HOUR + (rng.random(len(ts)) * 12 * HOUR).astype(np.int64)
    ts -= ts % SECOND
    keep = (ts > since[person]) & (ts < end)
    person, ts = person[keep], ts[keep]
    n = len(person)
    long = rng.random(n) < LONG_WAIT
    wait = np.where(
        long,
        np.clip(rng.lognormal(np.log(1100), 0.35, n), LONG_WAIT_SECONDS, 3600),
        np.clip(rng.lognormal(np.log(110), 0.7, n), 5, LONG_WAIT_SECONDS - 1),
    ).astype(np.int64)
    duration = np.clip(rng.lognormal(np.log(360), 0.5, n), 60, 3600).astype(np.int64)
    close = rng.random(n) < np.where(long, CLOSE_AFTER_LONG_WAIT, CLOSE_OTHERWISE)
    close_ts = ts + (wait + duration) * SECOND + DAY + exp_us(rng, 5 * DAY, n)
    close_ts -= close_ts % SECOND
    close &= close_ts < end
    np.minimum.at(b.limit, person[close], close_ts[close])
    kept = ts < b.limit[person]
    person, ts, wait, duration = person[kept], ts[kept], wait[kept], duration[kept]
    n = len(person)
    serial = b.index * SERIAL_STRIDE + np.arange(n, dtype=np.int64)
    ref = reference("CL", serial, b.world.seed, 7)
    reason = rng.integers(0, len(CALL_REASONS), n)
    parts.add(
        "call_centre_contacted",
        person,
        ts,
        fr.obj(
            n,
            [
                ("call_id", fr.text(ref)),
                ("reason", fr.pick(CALL_REASONS, reason)),
                ("wait_seconds", fr.number(wait)),
                ("duration_seconds", fr.number(duration)),
            ],
        ),
        channel="phone",
        crm=True,
        phone=np.where(rng.random(n) < 0.7, 1, 2),
        email=(rng.random(n) < 0.5).astype(np.int8),
        meta={"serial": serial, "wait": wait},
    )
    closed = np.flatnonzero(b.limit < NEVER)
    by_phone = rng.random(len(closed)) < 0.6
    parts.add(
        "account_closure_requested",
        closed,
        b.limit[closed],
        fr.obj(
            len(closed),
            [("reason", fr.pick(("unhappy_with_service", "moving_bank"), closed % 2))],
        ),
        channel=np.where(by_phone, CH["phone"], CH["letter"]),
        crm=True,
        phone=by_phone.astype(np.int8),
    )
    return Calls(person, ts, wait, duration, serial)


def service_visits(b: Block, since: np.ndarray, first: int) -> Visits:
    """Later branch visits of customers who came in through a branch."""
    rng, end = b.rng, b.world.end_us
    until = np.minimum(b.limit, end)
    days = np.where(b.walk_in & (since < until), (until - since) / DAY, 0)
    person, _ = repeat_index(rng.poisson(SERVICE_VISITS_PER_DAY * days))
    ts = branch_hours(rng, uniform_between(rng, since[person] + DAY, until[person]))
    keep = (ts > since[person]) & (ts < until[person])
    person, ts = person[keep], ts[keep]
    purpose = np.where(rng.random(len(person)) < 0.5, ADVICE, ACCOUNT_SERVICE)
    return visits_of(b, person, ts, b.home_branch[person], purpose, first)


def cross_sell(parts: fr.Parts, b: Block, loans: Loans) -> Cards:
    """Card offers to loan customers, and the card applications that follow."""
    rng, end = b.rng, b.world.end_us
    signed = np.flatnonzero(loans.signed)
    person = loans.apps.person[signed]
    # one offer per customer, for their first loan
    person, first = np.unique(person, return_index=True)
    sign_ts = loans.sign_ts[signed][first]
    lo, hi = CROSS_SELL_DAYS
    day = sign_ts + rng.integers(lo, hi + 1, len(person)) * DAY
    offer = day - day % DAY + 10 * HOUR
    keep = (offer < end) & (offer < b.limit[person])
    person, offer = person[keep], offer[keep]
    by_letter = b.letters[person]
    clicked, click_ts = message(parts, b, "card_cross_sell", person, offer, by_letter)
    n = len(person)
    later = daytime(rng, offer + DAY + exp_us(rng, 5 * DAY, n), offer + DAY)
    start = np.where(
        clicked,
        click_ts + MINUTE + exp_us(rng, 8 * MINUTE, n),
        np.where(by_letter, later + DAY, later),
    )
    p_apply = np.where(
        by_letter, APPLY_AFTER_LETTER, np.where(clicked, APPLY_AFTER_CLICK, APPLY_AFTER_OFFER)
    )
    go = (rng.random(n) < p_apply) & (start < end) & (start < b.limit[person])
    person, start = person[go], start[go]
    n = len(person)
    online = b.uid_at[person] <= start
    in_branch = ~online & b.walk_in[person]
    start = np.where(in_branch, branch_hours(rng, start + DAY), start - start % 1000)
    keep = (start < end) & (start < b.limit[person])
    person, start, online, in_branch = person[keep], start[keep], online[keep], in_branch[keep]
    n = len(person)
    required = rng.random(n) < REVERIFY
    product = rng.choice(3, size=n, p=CARD_SHARES)
    apps = Applications(
        kind="card",
        person=person,
        start=start,
        platform=np.where(in_branch, BRANCH, b.platform[person]),
        serial=b.index * SERIAL_STRIDE + EXISTING_CARD_SERIALS + np.arange(n, dtype=np.int64),
        id_required=required,
        anon=np.where(in_branch, -1, 0).astype(np.int8),
        uid=online,
        crm=np.ones(n, dtype=bool),
        phone=np.where(in_branch, rng.integers(1, 5, n), 0).astype(np.int8),
        props=card_props(product, np.ones(n, dtype=bool), required),
    )
    verify_and_submit(
        b,
        apps,
        p_upload=np.where(in_branch, REVERIFY_UPLOAD_BRANCH, REVERIFY_UPLOAD),
        p_submit=np.full(n, EXISTING_SUBMIT),
    )
    return open_cards(b, apps, product, CARD_APPROVED_EXISTING)


def message(
    parts: fr.Parts,
    b: Block,
    campaign: str,
    person: np.ndarray,
    ts: np.ndarray,
    by_letter: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """An e-mail (with opens and clicks) or a letter to each person; gives (clicked, when)."""
    rng, end = b.rng, b.world.end_us
    n = len(person)
    letter = np.flatnonzero(by_letter)
    parts.add(
        "letter_sent",
        person[letter],
        ts[letter],
        fr.obj(len(letter), [("campaign", json.dumps(campaign))]),
        channel="letter",
        crm=True,
    )
    mail = np.flatnonzero(~by_letter)
    email_id = json.dumps(f"{campaign}-1")
    sent = ts[mail]

    def add(event: str, k: np.ndarray, when: np.ndarray, extra: list) -> None:
        mixed = rng.random(len(k)) < MIXED_CASE
        parts.add(
            event,
            person[mail[k]],
            when[k],
            fr.obj(len(k), [("campaign", json.dumps(campaign)), ("email_id", email_id), *extra]),
            channel="email",
            email=np.where(mixed, 2, 1),
        )

    m = len(mail)
    add("email_sent", np.arange(m), sent, [])
    open_ts = sent + 5 * MINUTE + exp_us(rng, 6 * HOUR, m)
    open_ts -= open_ts % SECOND
    limit = np.minimum(b.limit[person[mail]], end)
    opened = (rng.random(m) < OPENS[campaign]) & (open_ts < limit)
    add("email_opened", np.flatnonzero(opened), open_ts, [])
    click_ts = open_ts + 5 * SECOND + exp_us(rng, 60 * SECOND, m)
    click_ts -= click_ts % SECOND
    click = opened & (rng.random(m) < CLICKS[campaign]) & (click_ts < limit)
    add("email_clicked", np.flatnonzero(click), click_ts, [("link", json.dumps(LINKS[campaign]))])
    clicked = np.zeros(n, dtype=bool)
    when = np.full(n, NEVER, dtype=np.int64)
    clicked[mail] = click
    when[mail] = click_ts
    return clicked, when


def welcome(parts: fr.Parts, b: Block, loans: Loans) -> None:
    """The welcome message after a signed loan, by e-mail or letter."""
    rng, end = b.rng, b.world.end_us
    s = np.flatnonzero(loans.signed)
    person = loans.apps.person[s]
    by_letter = b.letters[person]
    mail_ts = loans.sign_ts[s] + 5 * MINUTE + exp_us(rng, 20 * MINUTE, len(s))
    post = loans.sign_ts[s] + 2 * DAY
    ts = np.where(by_letter, post - post % DAY + 10 * HOUR, mail_ts - mail_ts % SECOND)
    keep = ts < end
    message(parts, b, "loan_welcome", person[keep], ts[keep], by_letter[keep])


def logins(parts: fr.Parts, b: Block) -> None:
    """App and online banking logins of enrolled customers, until they ask to close."""
    rng, end = b.rng, b.world.end_us
    until = np.minimum(b.limit, end)
    days = np.where(b.uid_at < until, (until - b.uid_at) / DAY, 0)
    person, _ = repeat_index(rng.poisson(LOGINS_PER_DAY * days))
    ts = uniform_between(rng, b.uid_at[person] + HOUR, until[person])
    ts = daytime(rng, ts, b.uid_at[person] + HOUR)
    ts -= ts % 1000
    keep = (ts < until[person]) & (ts > b.uid_at[person])
    person, ts = person[keep], ts[keep]
    platform = b.platform[person]
    parts.add(
        "app_login",
        person,
        ts,
        fr.obj(len(person), app_fields(b, platform, ts)),
        channel=web_channel(platform),
        anon=0,
        uid=True,
    )
