"""How people find the bank: a marketing touch and a first session, or a walk into a branch.

Online people arrive through an ad, a search result, a social ad or a comparison site; the
touch and the session it opens share one instant (the touch first). Loan seekers try the
loan calculator; some book a branch appointment instead of applying online. Branch visits
record the wait at the desk: branch B05 keeps people waiting far longer than the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from journeykit.demo import frame as fr
from journeykit.demo.bank.people import BROWSE, LOAN, Block, branch_hours
from journeykit.demo.bank.vocab import (
    ACQUISITION,
    ACQUISITION_EVENT,
    ANDROID_VERSIONS,
    BAD_BRANCH,
    BRANCHES,
    CAMPAIGN_NAMES,
    CAMPAIGN_NETWORK,
    CH,
    LOAN_PURPOSES,
    PLATFORMS,
    VISIT_PURPOSES,
    WEB,
)
from journeykit.demo.identity import SERIAL_STRIDE, reference
from journeykit.demo.people import exp_us, repeat_index, uniform_between
from journeykit.demo.world import DAY, MINUTE, SECOND

CALCULATOR = 0.80  # online loan seekers who try the loan calculator
APPOINTMENT = 0.12  # online loan seekers who book a branch appointment instead
BROWSE_SESSIONS = 0.8  # extra sessions of people who only look around (Poisson mean)
WAIT_MEDIAN = 6.0  # minutes at the desk ...
WAIT_MEDIAN_BAD = 30.0  # ... at the bad branch
SEARCH_ENGINES: tuple[str, ...] = ("google", "bing")
SEARCH_QUERIES: tuple[str, ...] = (
    "personal loan ireland",
    "car loan rates",
    "best credit card ireland",
    "loan calculator",
    "credit card no fee",
    "debt consolidation loan",
)

_C = {name: i for i, name in enumerate(CAMPAIGN_NAMES)}


@dataclass(frozen=True)
class Visits:
    """Branch visits: the visit ids' serials, times, branches and waits."""

    person: np.ndarray
    ts: np.ndarray
    branch: np.ndarray
    wait: np.ndarray  # minutes
    purpose: np.ndarray
    serial: np.ndarray


@dataclass(frozen=True)
class Arrival:
    """What arrival decided: loan wishes, appointments and the branch visits so far."""

    amount: np.ndarray  # the loan each person has in mind (EUR)
    term: np.ndarray  # months
    purpose: np.ndarray
    appointment: np.ndarray  # booked a branch appointment
    visits: Visits
    campaign: np.ndarray  # the paid campaign each person arrived through (-1: organic, walk-in)


def _campaigns(b: Block, online: np.ndarray) -> np.ndarray:
    """The paid campaign behind each online arrival (-1: organic)."""
    rng, n = b.rng, b.n
    acq, intent = b.acquisition, b.intent
    coin = rng.random(n)
    campaign = np.full(n, -1, dtype=np.int64)
    ads = acq == ACQUISITION.index("ads")
    loan_ad = (intent == LOAN) | ((intent == BROWSE) & (coin < 0.5))
    campaign[ads] = np.where(loan_ad[ads], _C["loan_display"], _C["card_launch"])
    search = acq == ACQUISITION.index("search")
    brand = search & (coin < 0.35)
    generic = search & ~brand & (intent == LOAN) & (coin < 0.70)
    campaign[brand] = _C["brand_search"]
    campaign[generic] = _C["personal_loan_generic"]
    social = (acq == ACQUISITION.index("social")) & (coin < 0.6)
    campaign[social] = _C["card_launch_social"]
    campaign[acq == ACQUISITION.index("comparison")] = _C["loan_compare"]
    return np.where(online, campaign, -1)


def visits_of(
    b: Block,
    person: np.ndarray,
    ts: np.ndarray,
    branch: np.ndarray,
    purpose: np.ndarray,
    first: int,
) -> Visits:
    """Branch visits with their desk waits (minutes); ``first`` numbers their serials."""
    rng, n = b.rng, len(person)
    bad = branch == BAD_BRANCH
    wait = np.where(
        bad,
        np.clip(rng.lognormal(np.log(WAIT_MEDIAN_BAD), 0.35, n), 8, 90),
        np.clip(rng.lognormal(np.log(WAIT_MEDIAN), 0.6, n), 0, 40),
    ).round()
    serial = b.index * SERIAL_STRIDE + first + np.arange(n, dtype=np.int64)
    return Visits(person, ts, branch, wait.astype(np.int64), purpose, serial)


def schedule(b: Block) -> Arrival:
    """Decide loan wishes, appointments and first branch visits."""
    rng, n = b.rng, b.n
    amount = np.clip(np.round(rng.lognormal(np.log(12_000), 0.6, n) / 500) * 500, 2000, 50_000)
    term = rng.choice(np.array([12, 24, 36, 48, 60, 84]), size=n)
    purpose = rng.integers(0, len(LOAN_PURPOSES), n)
    online_loan = (b.intent == LOAN) & ~b.walk_in
    appointment = online_loan & (rng.random(n) < APPOINTMENT)
    walk = np.flatnonzero(b.walk_in)
    booked = np.flatnonzero(appointment)
    visit_day = b.t0[booked] + 2 * DAY + (rng.random(len(booked)) * 4 * DAY).astype(np.int64)
    person = np.concatenate([walk, booked])
    ts = np.concatenate([b.t0[walk], branch_hours(rng, visit_day)])
    keep = ts < b.world.end_us
    person, ts = person[keep], ts[keep]
    to_apply = np.full(len(person), VISIT_PURPOSES.index("loan_application"))
    visits = visits_of(b, person, ts, b.home_branch[person], to_apply, 0)
    return Arrival(
        amount=amount,
        term=term,
        purpose=purpose,
        appointment=appointment,
        visits=visits,
        campaign=_campaigns(b, ~b.walk_in),
    )


def web_channel(platform: np.ndarray) -> np.ndarray:
    """The channel code of web/app rows."""
    return np.where(platform == WEB, CH["web"], CH["app"])


def app_fields(b: Block, platform: np.ndarray, ts: np.ndarray) -> list:
    """The ``platform`` and ``app_version`` properties of web/app rows."""
    return [
        ("platform", fr.pick(PLATFORMS, platform)),
        ("app_version", fr.pick(ANDROID_VERSIONS, b.version(platform, ts))),
    ]


def emit(parts: fr.Parts, b: Block, arrival: Arrival) -> None:
    """Touches, sessions, calculators, appointments and first branch visits."""
    rng, end = b.rng, b.world.end_us
    online = np.flatnonzero(~b.walk_in)
    v = rng.integers(0, 1 << 30, b.n)
    for code, event in enumerate(ACQUISITION_EVENT):
        p = online[b.acquisition[online] == code]
        c = arrival.campaign[p]
        fields: list = [("campaign", fr.pick(CAMPAIGN_NAMES, c)), ("paid", fr.boolean(c >= 0))]
        if event == "search_result_clicked":
            fields += [
                ("engine", fr.pick(SEARCH_ENGINES, np.where(c >= 0, 0, v[p] % 2))),
                ("query", fr.pick(SEARCH_QUERIES, v[p] % len(SEARCH_QUERIES))),
            ]
        else:
            fields.append(("network", fr.pick(CAMPAIGN_NETWORK, c)))
        parts.add(
            event,
            p,
            b.t0[p],
            fr.obj(len(p), fields),
            channel=ACQUISITION[code],
            anon=0,
            meta={"campaign": c},
        )
    # first sessions, and more for people who only look around
    extra = rng.poisson(BROWSE_SESSIONS, b.n) * (b.intent == BROWSE)
    owner, _ = repeat_index(extra)
    later = uniform_between(rng, b.t0[owner] + 30 * MINUTE, b.t0[owner] + 30 * DAY)
    later -= later % 1000
    person = np.concatenate([online, owner])
    ts = np.concatenate([b.t0[online], later])
    keep = ts < end
    person, ts = person[keep], ts[keep]
    platform = b.platform[person]
    parts.add(
        "session_started",
        person,
        ts,
        fr.obj(len(person), app_fields(b, platform, ts)),
        channel=web_channel(platform),
        anon=0,
    )
    calc = online[(b.intent[online] == LOAN) & (rng.random(len(online)) < CALCULATOR)]
    calc_ts = b.t0[calc] + 20 * SECOND + exp_us(rng, 90 * SECOND, len(calc))
    calc_ts -= calc_ts % 1000
    calc = calc[calc_ts < end]
    calc_ts = calc_ts[calc_ts < end]
    parts.add(
        "loan_calculator_used",
        calc,
        calc_ts,
        fr.obj(
            len(calc),
            [
                ("amount", fr.number(arrival.amount[calc])),
                ("term_months", fr.number(arrival.term[calc])),
                ("purpose", fr.pick(LOAN_PURPOSES, arrival.purpose[calc])),
                ("currency", '"EUR"'),
                *app_fields(b, b.platform[calc], calc_ts),
            ],
        ),
        channel=web_channel(b.platform[calc]),
        anon=0,
    )
    booked = np.flatnonzero(arrival.appointment)
    book_ts = b.t0[booked] + 4 * MINUTE + exp_us(rng, 3 * MINUTE, len(booked))
    book_ts -= book_ts % 1000
    ok = book_ts < end
    booked, book_ts = booked[ok], book_ts[ok]
    parts.add(
        "branch_appointment_booked",
        booked,
        book_ts,
        fr.obj(
            len(booked),
            [
                ("branch_id", fr.pick([s for s, _t in BRANCHES], b.home_branch[booked])),
                ("topic", '"loan"'),
                *app_fields(b, b.platform[booked], book_ts),
            ],
        ),
        channel=web_channel(b.platform[booked]),
        anon=0,
        email=1,
        phone=1,
    )
    emit_visits(parts, b, arrival.visits)


def emit_visits(parts: fr.Parts, b: Block, visits: Visits) -> pa.Array:
    """``branch_visited`` rows (the visitor's phone, as the reception wrote it)."""
    ref = reference("BV", visits.serial, b.world.seed, 6)
    n = len(visits.person)
    parts.add(
        "branch_visited",
        visits.person,
        visits.ts,
        fr.obj(
            n,
            [
                ("visit_id", fr.text(ref)),
                ("branch_id", fr.pick([s for s, _t in BRANCHES], visits.branch)),
                ("town", fr.pick([t for _s, t in BRANCHES], visits.branch)),
                ("purpose", fr.pick(VISIT_PURPOSES, visits.purpose)),
                ("wait_seconds", fr.number(visits.wait * 60)),
            ],
        ),
        channel="branch",
        phone=b.rng.integers(1, 5, n),
        crm=visits.ts >= b.crm_at[visits.person],
        meta={"serial": visits.serial, "branch": visits.branch, "wait": visits.wait},
    )
    return ref
