"""One block of the bank's people, from the first touch to the last survey.

The steps run in a fixed order on the block's own random stream, so a block's events depend
only on (seed, block number, world). Customers' calls come before the card cross-sell: a
customer who asked to close their account gets no offer and logs in no more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.demo import frame as fr
from journeykit.demo.bank import apply, arrival, products, service
from journeykit.demo.bank.arrival import Visits
from journeykit.demo.bank.people import Block, draw_people
from journeykit.demo.bank.products import Cards, Loans
from journeykit.demo.bank.surveys import ISSUE, NO_ISSUE, add_surveys
from journeykit.demo.bank.vocab import BAD_BRANCH, SURVEYS, VOCAB
from journeykit.demo.identity import reference
from journeykit.demo.people import exp_us
from journeykit.demo.world import BLOCK_PEOPLE, DAY, HOUR, MINUTE, SECOND, World

REFER_AFTER_PROMOTING = 0.35  # promoters (NPS 9-10) with online banking who refer a friend
CSAT_AFTER_CALL = 0.40
CSAT_AFTER_VISIT = 0.35
CES_AFTER_APPLICATION = 0.30
NPS_AFTER_LOAN = 0.30


@dataclass(frozen=True)
class BlockResult:
    """The events of one block, and what measuring them needs."""

    block: Block
    table: pa.Table
    rows: fr.Rows
    parts: fr.Parts
    loans: Loans
    new_cards: Cards
    existing_cards: Cards
    calls: service.Calls
    visits: Visits
    campaign: np.ndarray


def _concat_visits(a: Visits, b: Visits) -> Visits:
    return Visits(
        **{
            name: np.concatenate([getattr(a, name), getattr(b, name)])
            for name in Visits.__dataclass_fields__
        }
    )


def simulate_block(world: World, index: int, first_event: int) -> BlockResult:
    """Simulate block ``index`` and number its events from ``first_event``."""
    first = index * BLOCK_PEOPLE
    b = draw_people(world, index, first, min(BLOCK_PEOPLE, world.people - first))
    parts = fr.Parts(VOCAB)
    came = arrival.schedule(b)
    arrival.emit(parts, b, came)
    loans = products.loan_applications(b, came)
    loan_refs = apply.emit(parts, b, loans.apps)
    products.emit_loans(parts, b, loans, loan_refs)
    new = products.new_card_applications(b)
    new_refs = apply.emit(parts, b, new.apps)
    products.emit_cards(parts, b, new, new_refs)
    since = service.customers_since(b, loans, new)
    service.enrol(parts, b, since)
    calls = service.calls(parts, b, since)
    service.welcome(parts, b, loans)
    existing = service.cross_sell(parts, b, loans)
    existing_refs = apply.emit(parts, b, existing.apps)
    products.emit_cards(parts, b, existing, existing_refs)
    later = service.service_visits(b, since, len(came.visits.person))
    arrival.emit_visits(parts, b, later)
    visits = _concat_visits(came.visits, later)
    service.logins(parts, b)
    _call_surveys(parts, b, calls)
    _visit_surveys(parts, b, visits)
    for apps, refs in (
        (loans.apps, loan_refs),
        (new.apps, new_refs),
        (existing.apps, existing_refs),
    ):
        _application_surveys(parts, b, apps, refs)
    _loan_surveys(parts, b, loans, loan_refs)
    _referrals(parts, b)
    table, rows = fr.assemble(parts, b.ids, seed=world.seed, first_event=first_event)
    return BlockResult(
        block=b,
        table=table,
        rows=rows,
        parts=parts,
        loans=loans,
        new_cards=new,
        existing_cards=existing,
        calls=calls,
        visits=visits,
        campaign=came.campaign,
    )


def _call_surveys(parts: fr.Parts, b: Block, calls: service.Calls) -> None:
    rng, n = b.rng, len(calls.person)
    a = np.flatnonzero(rng.random(n) < CSAT_AFTER_CALL)
    ts = calls.ts + (calls.wait + calls.duration) * SECOND + 10 * MINUTE
    ts = ts + exp_us(rng, 30 * MINUTE, n)
    long = calls.wait >= service.LONG_WAIT_SECONDS
    add_surveys(
        parts,
        b,
        survey="csat",
        touchpoint="call_centre_contacted",
        context="call",
        person=calls.person[a],
        ts=(ts - ts % SECOND)[a],
        p_good=np.where(long, 0.08, 0.62)[a],
        p_bad=np.where(long, 0.70, 0.10)[a],
        issue=np.where(long, ISSUE["wait"], NO_ISSUE)[a],
        ref_key="call_id",
        ref=reference("CL", calls.serial[a], b.world.seed, 7),
        serial=calls.serial[a],
        ident={"crm": True},
    )


def _visit_surveys(parts: fr.Parts, b: Block, v: Visits) -> None:
    rng, n = b.rng, len(v.person)
    a = np.flatnonzero(rng.random(n) < CSAT_AFTER_VISIT)
    ts = v.ts + v.wait * MINUTE + 30 * MINUTE + exp_us(rng, 2 * HOUR, n)
    bad = v.branch == BAD_BRANCH
    issue = np.where(rng.random(n) < 0.6, ISSUE["wait"], ISSUE["staff"])
    add_surveys(
        parts,
        b,
        survey="csat",
        touchpoint="branch_visited",
        context="branch",
        person=v.person[a],
        ts=(ts - ts % SECOND)[a],
        p_good=np.where(bad, 0.12, 0.65)[a],
        p_bad=np.where(bad, 0.62, 0.08)[a],
        issue=np.where(bad, issue, NO_ISSUE)[a],
        ref_key="visit_id",
        ref=reference("BV", v.serial[a], b.world.seed, 6),
        serial=v.serial[a],
        ident={"phone": np.ones(len(a), dtype=np.int8)},
    )


def _application_surveys(
    parts: fr.Parts, b: Block, apps: apply.Applications, refs: pa.Array
) -> None:
    """CES after applications that were submitted, and after existing customers' attempts."""
    rng, n = b.rng, len(apps.person)
    asked = apps.submitted | apps.crm
    a = np.flatnonzero(asked & (rng.random(n) < CES_AFTER_APPLICATION))
    ts = np.where(apps.submitted, apps.submit_ts, apps.start) + HOUR + exp_us(rng, DAY, n)
    again = apps.crm & apps.id_required
    broken = apps.failed & b.broken(apps.platform, apps.fail_ts)
    add_surveys(
        parts,
        b,
        survey="ces",
        touchpoint=f"{apps.kind}_application_started",
        context="application",
        person=apps.person[a],
        ts=(ts - ts % SECOND)[a],
        p_good=np.where(broken, 0.05, np.where(again, 0.10, 0.60))[a],
        p_bad=np.where(broken, 0.80, np.where(again, 0.72, 0.10))[a],
        issue=np.where(broken, ISSUE["app"], np.where(again, ISSUE["id"], NO_ISSUE))[a],
        ref_key="application_id",
        ref=refs.take(pa.array(a)),
        serial=apps.serial[a],
        ident={"email": np.ones(len(a), dtype=np.int8)},
    )


def _loan_surveys(parts: fr.Parts, b: Block, loans: Loans, refs: pa.Array) -> None:
    """NPS a week or so after signing; decisions by letter leave a mark."""
    rng, n = b.rng, len(loans.apps.person)
    a = np.flatnonzero(loans.signed & (rng.random(n) < NPS_AFTER_LOAN))
    ts = loans.sign_ts + 7 * DAY + exp_us(rng, 3 * DAY, n)
    letter = loans.by_letter
    add_surveys(
        parts,
        b,
        survey="nps",
        touchpoint="loan_contract_signed",
        context="loan",
        person=loans.apps.person[a],
        ts=(ts - ts % SECOND)[a],
        p_good=np.where(letter, 0.35, 0.58)[a],
        p_bad=np.where(letter, 0.35, 0.10)[a],
        issue=np.where(letter, ISSUE["letter"], NO_ISSUE)[a],
        ref_key="application_id",
        ref=refs.take(pa.array(a)),
        serial=loans.apps.serial[a],
        ident={"email": np.ones(len(a), dtype=np.int8)},
    )


def _referrals(parts: fr.Parts, b: Block) -> None:
    """Promoters share a referral link from the app or online banking a day or so later."""
    items = parts.of("survey_completed")
    if not items:
        return
    rng, end = b.rng, b.world.end_us
    person = np.concatenate([p.person for p in items])
    ts = np.concatenate([p.ts for p in items])
    survey = parts.meta("survey_completed", "survey")
    score = parts.meta("survey_completed", "score")
    promoter = (survey == SURVEYS.index("nps")) & (score >= 9)
    share_ts = ts + HOUR + exp_us(rng, DAY, len(ts))
    share_ts -= share_ts % 1000
    until = np.minimum(b.limit[person], end)
    go = (
        promoter
        & (rng.random(len(ts)) < REFER_AFTER_PROMOTING)
        & (b.uid_at[person] <= share_ts)
        & (share_ts < until)
    )
    person, share_ts = person[go], share_ts[go]
    code = pc.binary_join_element_wise(
        "REF-", pc.utf8_upper(b.ids.user_id.take(pa.array(person))), ""
    )
    parts.add(
        "referral_link_shared",
        person,
        share_ts,
        fr.obj(
            len(person),
            [
                ("referral_code", fr.text(code)),
                *arrival.app_fields(b, b.platform[person], share_ts),
            ],
        ),
        channel=arrival.web_channel(b.platform[person]),
        anon=0,
        uid=True,
    )
