"""Loans and credit cards: applications, decisions, contracts and new card accounts.

A loan application (online, or at a branch desk) is decided a few hours later by e-mail or a
few days later by letter, as the applicant asked; many who wait for a letter have signed with
someone else by the time it comes. The decision gives the applicant a customer number (CRM
id). New-to-bank card applicants go through the same photo ID check and get their account
within a day or two. Existing customers' card applications come from the cross-sell
(:mod:`journeykit.demo.bank.service`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.demo import frame as fr
from journeykit.demo.bank.apply import BRANCH, Applications, id_check, verify_and_submit
from journeykit.demo.bank.arrival import Arrival, web_channel
from journeykit.demo.bank.people import CARD, LOAN, Block, branch_hours
from journeykit.demo.bank.vocab import (
    ACQUISITION,
    BAD_BRANCH,
    BRANCHES,
    CARD_FEES,
    CARD_PRODUCTS,
    CH,
    LOAN_PURPOSES,
)
from journeykit.demo.identity import SERIAL_STRIDE
from journeykit.demo.people import exp_us
from journeykit.demo.world import DAY, HOUR, MINUTE, SECOND

START_ONLINE = 0.78  # online loan seekers who start an application ...
START_COMPARISON = 0.60  # ... when they came from a comparison site (they shop around)
START_BRANCH = 0.95
START_BRANCH_BAD = 0.80
UPLOAD_ONLINE = 0.93  # applicants asked for photo ID who try to upload it
UPLOAD_BRANCH = 0.98  # ... who have it with them at the desk
SUBMIT_ONLINE = 0.90
SUBMIT_COMPARISON = 0.72
SUBMIT_BRANCH = 0.93
SUBMIT_BRANCH_BAD = 0.60
APPROVED = 0.80
SIGN_EMAIL = 0.82  # approved applicants who sign, told by e-mail ...
SIGN_LETTER = 0.48  # ... or by letter, days later
SIGN_COMPARISON = 0.80  # times this for comparison-site applicants
CARD_START = 0.72
CARD_UPLOAD = 0.92
CARD_SUBMIT = 0.85
CARD_APPROVED_NEW = 0.75
CARD_SHARES = (0.55, 0.35, 0.10)  # classic, gold, platinum
#: Serial numbers of a block: loan applications, then new and existing card applications.
LOAN_SERIALS, NEW_CARD_SERIALS, EXISTING_CARD_SERIALS = 0, 3_000_000, 6_000_000


@dataclass(frozen=True)
class Loans:
    """Loan applications, their decisions and contracts."""

    apps: Applications
    decided: np.ndarray
    decision_ts: np.ndarray
    by_letter: np.ndarray
    approved: np.ndarray
    signed: np.ndarray
    sign_ts: np.ndarray
    revenue: np.ndarray
    comparison: np.ndarray  # the applicant came from a comparison site
    branch: np.ndarray  # the branch of a branch application, -1 online
    amount: np.ndarray  # EUR asked for


@dataclass(frozen=True)
class Cards:
    """Card applications and the accounts opened."""

    apps: Applications
    product: np.ndarray
    opened: np.ndarray
    open_ts: np.ndarray


def loan_applications(b: Block, arrival: Arrival) -> Loans:
    """Online and branch loan applications, decided and (some) signed."""
    rng, end = b.rng, b.world.end_us
    comparison_code = ACQUISITION.index("comparison")
    online = np.flatnonzero((b.intent == LOAN) & ~b.walk_in & ~arrival.appointment)
    from_comparison = b.acquisition[online] == comparison_code
    go = rng.random(len(online)) < np.where(from_comparison, START_COMPARISON, START_ONLINE)
    online = online[go]
    on_start = b.t0[online] + 3 * MINUTE + exp_us(rng, 8 * MINUTE, len(online))
    on_start -= on_start % 1000
    v = arrival.visits
    bad = v.branch == BAD_BRANCH
    go = rng.random(len(v.person)) < np.where(bad, START_BRANCH_BAD, START_BRANCH)
    at_branch = v.person[go]
    br_start = v.ts[go] + (v.wait[go] + 5) * MINUTE + exp_us(rng, 5 * MINUTE, int(go.sum()))
    br_start -= br_start % MINUTE
    person = np.concatenate([online, at_branch])
    start = np.concatenate([on_start, br_start])
    branch = np.concatenate([np.full(len(online), -1), v.branch[go]])
    keep = start < end
    person, start, branch = person[keep], start[keep], branch[keep]
    n = len(person)
    in_branch = branch >= 0
    platform = np.where(in_branch, BRANCH, b.platform[person])
    serial = b.index * SERIAL_STRIDE + LOAN_SERIALS + np.arange(n, dtype=np.int64)
    apps = Applications(
        kind="loan",
        person=person,
        start=start,
        platform=platform,
        serial=serial,
        id_required=np.ones(n, dtype=bool),
        anon=np.where(in_branch, -1, 0).astype(np.int8),
        uid=np.zeros(n, dtype=bool),
        crm=np.zeros(n, dtype=bool),
        phone=np.where(in_branch, rng.integers(1, 5, n), 0).astype(np.int8),
        props=[
            ("product", '"personal_loan"'),
            ("amount", fr.number(arrival.amount[person])),
            ("term_months", fr.number(arrival.term[person])),
            ("purpose", fr.pick(LOAN_PURPOSES, arrival.purpose[person])),
            ("currency", '"EUR"'),
            ("branch_id", fr.pick([s for s, _t in BRANCHES], branch)),
        ],
    )
    comparison = b.acquisition[person] == comparison_code
    verify_and_submit(
        b,
        apps,
        p_upload=np.where(in_branch, UPLOAD_BRANCH, UPLOAD_ONLINE),
        p_submit=np.where(
            in_branch,
            np.where(branch == BAD_BRANCH, SUBMIT_BRANCH_BAD, SUBMIT_BRANCH),
            np.where(comparison, SUBMIT_COMPARISON, SUBMIT_ONLINE),
        ),
    )
    # the decision: hours later by e-mail, days later by letter (delivered in the morning)
    by_letter = b.letters[person]
    email_ts = apps.submit_ts + 2 * HOUR + exp_us(rng, 6 * HOUR, n)
    post_day = apps.submit_ts + 2 * DAY + rng.integers(0, 4, n) * DAY
    letter_ts = post_day - post_day % DAY + 10 * HOUR + rng.integers(0, 120, n) * MINUTE
    decision_ts = np.where(by_letter, letter_ts, email_ts)
    decision_ts -= decision_ts % SECOND
    decided = apps.submitted & (decision_ts < end)
    approved = decided & (rng.random(n) < APPROVED)
    np.minimum.at(b.crm_at, person[decided], decision_ts[decided])
    # signing: online in the app or on the web, or back at the branch desk
    p_sign = np.where(by_letter, SIGN_LETTER, SIGN_EMAIL) * np.where(comparison, SIGN_COMPARISON, 1)
    later = decision_ts + np.where(
        by_letter, 12 * HOUR + exp_us(rng, 3 * DAY, n), HOUR + exp_us(rng, 1.5 * DAY, n)
    )
    sign_ts = np.where(in_branch, branch_hours(rng, later + DAY), later - later % 1000)
    signed = approved & (rng.random(n) < p_sign) & (sign_ts < end)
    amount = arrival.amount[person]
    revenue = np.round(np.maximum(60.0, 0.01 * amount) + 0.035 * amount, 2)
    return Loans(
        apps=apps,
        decided=decided,
        decision_ts=decision_ts,
        by_letter=by_letter,
        approved=approved,
        signed=signed,
        sign_ts=sign_ts,
        revenue=revenue,
        comparison=comparison,
        branch=branch,
        amount=amount,
    )


def emit_loans(parts: fr.Parts, b: Block, loans: Loans, refs: pa.Array) -> None:
    """Decisions and contracts (the applications themselves: ``apply.emit``)."""
    apps = loans.apps
    apr = np.round(6.9 + (apps.serial % 11) * 0.5, 1)
    d = np.flatnonzero(loans.decided)
    approved = loans.approved[d]
    parts.add(
        "loan_decision_sent",
        apps.person[d],
        loans.decision_ts[d],
        fr.obj(
            len(d),
            [
                ("application_id", fr.text(refs.take(pa.array(d)))),
                ("decision", fr.pick(("declined", "approved"), approved.astype(np.int64))),
                ("amount", fr.number(loans.amount[d])),
                ("apr", pc.if_else(pa.array(approved), fr.number(apr[d]), "null")),
                ("currency", '"EUR"'),
            ],
        ),
        channel=np.where(loans.by_letter[d], CH["letter"], CH["email"]),
        crm=True,
        email=1,
        meta={"serial": apps.serial[d]},
    )
    s = np.flatnonzero(loans.signed)
    in_branch = apps.platform[s] == BRANCH
    parts.add(
        "loan_contract_signed",
        apps.person[s],
        loans.sign_ts[s],
        fr.obj(
            len(s),
            [
                ("application_id", fr.text(refs.take(pa.array(s)))),
                ("amount", fr.number(loans.amount[s])),
                ("apr", fr.number(apr[s])),
                ("revenue", fr.number(loans.revenue[s])),
                ("currency", '"EUR"'),
            ],
        ),
        channel=np.where(in_branch, CH["branch"], web_channel(apps.platform[s])),
        anon=np.where(in_branch, -1, 0),
        crm=True,
        phone=np.where(in_branch, b.rng.integers(1, 5, len(s)), 0),
        revenue=loans.revenue[s],
        meta={"serial": apps.serial[s]},
    )


def card_props(product: np.ndarray, existing: np.ndarray, required: np.ndarray) -> list:
    """Properties of every row of a card application."""
    return [
        ("product", fr.pick(CARD_PRODUCTS, product)),
        ("customer_type", fr.pick(("new", "existing"), existing.astype(np.int64))),
        ("id_check", id_check(required)),
        ("annual_fee", fr.number(np.array(CARD_FEES)[product])),
        ("currency", '"EUR"'),
    ]


def new_card_applications(b: Block) -> Cards:
    """Card applications of people new to the bank."""
    rng, end = b.rng, b.world.end_us
    person = np.flatnonzero(b.intent == CARD)
    person = person[rng.random(len(person)) < CARD_START]
    start = b.t0[person] + 2 * MINUTE + exp_us(rng, 6 * MINUTE, len(person))
    start -= start % 1000
    keep = start < end
    person, start = person[keep], start[keep]
    n = len(person)
    product = rng.choice(3, size=n, p=CARD_SHARES)
    required = np.ones(n, dtype=bool)
    apps = Applications(
        kind="card",
        person=person,
        start=start,
        platform=b.platform[person],
        serial=b.index * SERIAL_STRIDE + NEW_CARD_SERIALS + np.arange(n, dtype=np.int64),
        id_required=required,
        anon=np.zeros(n, dtype=np.int8),
        uid=np.zeros(n, dtype=bool),
        crm=np.zeros(n, dtype=bool),
        phone=np.zeros(n, dtype=np.int8),
        props=card_props(product, np.zeros(n, dtype=bool), required),
    )
    verify_and_submit(b, apps, p_upload=np.full(n, CARD_UPLOAD), p_submit=np.full(n, CARD_SUBMIT))
    return open_cards(b, apps, product, CARD_APPROVED_NEW)


def open_cards(b: Block, apps: Applications, product: np.ndarray, approval: float) -> Cards:
    """Approve submitted card applications and open the accounts a day or so later."""
    rng, n = b.rng, len(apps.person)
    open_ts = apps.submit_ts + HOUR + exp_us(rng, 20 * HOUR, n)
    open_ts -= open_ts % 1000
    opened = apps.submitted & (rng.random(n) < approval) & (open_ts < b.world.end_us)
    np.minimum.at(b.crm_at, apps.person[opened], open_ts[opened])
    return Cards(apps=apps, product=product, opened=opened, open_ts=open_ts)


def emit_cards(parts: fr.Parts, b: Block, cards: Cards, refs: pa.Array) -> None:
    """``card_account_opened`` rows; the annual fee is their revenue."""
    apps = cards.apps
    k = np.flatnonzero(cards.opened)
    fee = np.array(CARD_FEES)[cards.product[k]]
    channel = apps.channel[k]
    parts.add(
        "card_account_opened",
        apps.person[k],
        cards.open_ts[k],
        fr.obj(
            len(k),
            [
                ("application_id", fr.text(refs.take(pa.array(k)))),
                ("product", fr.pick(CARD_PRODUCTS, cards.product[k])),
                ("revenue", fr.number(fee)),
                ("currency", '"EUR"'),
            ],
        ),
        channel=channel,
        anon=np.where(channel == CH["branch"], -1, 0),
        uid=apps.uid[k],
        crm=True,
        email=1,
        revenue=fee,
        meta={"serial": apps.serial[k]},
    )
