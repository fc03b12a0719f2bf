"""Measuring the bank's planted effects on the generated events, block by block.

Every number is counted on the rows as written (after the end of the window, closures and
every random draw), from the arrays the rows were written from. Blocks hold whole people, so
per-person measures add up block by block. ``groundtruth`` turns the sums into the document.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from journeykit.demo.bank import service
from journeykit.demo.bank.apply import BRANCH, Applications
from journeykit.demo.bank.comments import BOOK, THEME_NAMES
from journeykit.demo.bank.people import bug_weeks
from journeykit.demo.bank.simulate import BlockResult
from journeykit.demo.bank.vocab import (
    ACQUISITION,
    ANDROID,
    BRANCHES,
    CAMPAIGNS,
    EV,
    EVENTS,
    SURVEYS,
)
from journeykit.demo.truth import Tally
from journeykit.demo.world import DAY, NEVER, World

UPLOAD_GROUPS = ("android_in_weeks", "android_other_weeks", "others_in_weeks", "others_other_weeks")
#: Where the bank's comments are about (survey touchpoints).
TOUCHPOINTS = (
    "call_centre_contacted",
    "branch_visited",
    "loan_application_started",
    "card_application_started",
    "loan_contract_signed",
)


def new_tally(world: World) -> Tally:
    """Running sums for the bank."""
    return Tally(world, events=len(EVENTS), campaigns=len(CAMPAIGNS))


def _survey(res: BlockResult, touchpoint: str, survey: str) -> tuple[np.ndarray, ...]:
    """(serial, score, has a comment, comment theme) of one survey about one touchpoint."""
    parts = res.parts
    items = parts.of("survey_completed")
    if not items:
        empty = np.array([], np.int64)
        return empty, empty, empty.astype(bool), empty
    kind, touch = (
        parts.meta("survey_completed", "survey"),
        parts.meta("survey_completed", "touchpoint"),
    )
    keep = (kind == SURVEYS.index(survey)) & (touch == EV[touchpoint])
    comments = pa.concat_arrays([p.meta["comment"] for p in items]).filter(pa.array(keep))
    has = np.asarray(comments.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return (
        parts.meta("survey_completed", "serial")[keep],
        parts.meta("survey_completed", "score")[keep],
        has,
        BOOK.theme_of(comments),
    )


def _split(tally: Tally, key: str, mask: np.ndarray, score: np.ndarray) -> None:
    tally.add(f"{key}.n", mask.sum())
    tally.add(f"{key}.score", score[mask].sum())


def measure(res: BlockResult, tally: Tally) -> None:
    """Add one block's measures to ``tally``."""
    w, b = tally.world, res.block
    rows = res.rows
    tally.events += np.bincount(rows.event, minlength=len(EVENTS))
    tally.add("people_with_events", int((np.bincount(rows.person, minlength=b.n) > 0).sum()))

    # paid clicks for the spend table: the arrival touches of paid campaigns
    paid = np.flatnonzero(res.campaign >= 0)
    day = (b.t0[paid] - w.start_us) // DAY
    np.add.at(tally.spend_clicks, (day, res.campaign[paid]), 1)

    # 1. existing customers asked for their photo ID again
    ex, new = res.existing_cards, res.new_cards
    for name, cards, mask in (
        ("on_file", ex, ~ex.apps.id_required),
        ("upload_required", ex, ex.apps.id_required),
        ("new_customer", new, np.ones(len(new.apps.person), dtype=bool)),
    ):
        tally.add(f"reverify.{name}.started", mask.sum())
        tally.add(f"reverify.{name}.submitted", (mask & cards.apps.submitted).sum())
        tally.add(f"reverify.{name}.opened", (mask & cards.opened).sum())
    serial, score, has, theme = _survey(res, "card_application_started", "ces")
    required = dict(zip(ex.apps.serial.tolist(), ex.apps.id_required.tolist(), strict=True))
    group = np.array([required.get(s, -1) for s in serial.tolist()], dtype=np.int64)
    for name, code in (("on_file", 0), ("upload_required", 1), ("new_customer", -1)):
        m = group == code
        _split(tally, f"reverify_ces.{name}", m, score)
        tally.add(f"reverify_ces.{name}.comments", (m & has).sum())
        tally.add(
            f"reverify_ces.{name}.id_comments",
            (m & has & (theme == THEME_NAMES.index("id_documents"))).sum(),
        )

    # 2. photo uploads in the Android app in the broken weeks
    for apps in (res.loans.apps, new.apps, ex.apps):
        _uploads(tally, w, apps)

    # 3. call centre waits: CSAT, and closures
    calls = res.calls
    long = calls.wait >= service.LONG_WAIT_SECONDS
    tally.add("calls.long", long.sum())
    tally.add("calls.short", (~long).sum())
    serial, score, has, theme = _survey(res, "call_centre_contacted", "csat")
    at = np.searchsorted(calls.serial, serial)
    long_answer = long[at] if len(calls.serial) else np.zeros(0, bool)
    _split(tally, "calls_csat.long", long_answer, score)
    _split(tally, "calls_csat.short", ~long_answer, score)
    called = np.bincount(calls.person, minlength=b.n) > 0
    had_long = np.bincount(calls.person[long], minlength=b.n) > 0
    closed = b.limit < NEVER
    for name, m in (("long_wait", called & had_long), ("no_long_wait", called & ~had_long)):
        tally.add(f"closure.{name}.people", m.sum())
        tally.add(f"closure.{name}.closed", (m & closed).sum())

    # 4. branches: waits, CSAT, loan applications at the desk
    v = res.visits
    serial, score, has, theme = _survey(res, "branch_visited", "csat")
    order = np.argsort(v.serial)
    branch_of = v.branch[order][np.searchsorted(v.serial[order], serial)]
    loans = res.loans
    for code in range(len(BRANCHES)):
        here = v.branch == code
        tally.add(f"branch.{code}.visits", here.sum())
        tally.add(f"branch.{code}.wait", v.wait[here].sum())
        _split(tally, f"branch.{code}.csat", branch_of == code, score)
        started = loans.branch == code
        tally.add(f"branch.{code}.started", started.sum())
        tally.add(f"branch.{code}.submitted", (started & loans.apps.submitted).sum())

    # 5. new loan customers by the channel they arrived through (for CAC)
    signed = np.zeros(b.n, dtype=bool)
    signed[loans.apps.person[loans.signed]] = True
    for code, channel in enumerate(ACQUISITION):
        tally.add(f"cac.{channel}.customers", (signed & (b.acquisition == code)).sum())
    tally.add("cac.(none).customers", (signed & (b.acquisition < 0)).sum())

    # 6. decisions by letter or e-mail, and signing
    for name, m in (("letter", loans.by_letter), ("email", ~loans.by_letter)):
        m = m & loans.approved
        tally.add(f"letters.{name}.approved", m.sum())
        tally.add(f"letters.{name}.signed", (m & loans.signed).sum())
        gap = (loans.sign_ts - loans.decision_ts)[m & loans.signed] / DAY
        tally.add(f"letters.{name}.days", float(gap.sum()))
        wait = (loans.decision_ts - loans.apps.submit_ts)[m] / DAY
        tally.add(f"letters.{name}.decision_days", float(wait.sum()))
    serial, score, has, theme = _survey(res, "loan_contract_signed", "nps")
    order = np.argsort(loans.apps.serial)
    by_letter = loans.by_letter[order][np.searchsorted(loans.apps.serial[order], serial)]
    for name, m in (("letter", by_letter), ("email", ~by_letter)):
        _split(tally, f"letters_nps.{name}", m, score)
        tally.add(f"letters_nps.{name}.comments", (m & has).sum())
        tally.add(
            f"letters_nps.{name}.letter_comments",
            (m & has & (theme == THEME_NAMES.index("letters"))).sum(),
        )

    # comment themes, per touchpoint
    for tp in TOUCHPOINTS:
        for survey in SURVEYS:
            _s, _score, has, theme = _survey(res, tp, survey)
            tally.add(f"comments.{tp}", has.sum())
            for code, name in enumerate(THEME_NAMES):
                k = (has & (theme == code)).sum()
                if k:
                    tally.add(f"theme.{name}.{tp}", k)

    tally.add("loans_signed", loans.signed.sum())
    tally.add("cards_opened", new.opened.sum() + ex.opened.sum())
    tally.add("revenue", float(rows_revenue(res)))


def rows_revenue(res: BlockResult) -> float:
    """The revenue column's sum over the block."""
    revenue = res.table.column("revenue")
    return float(np.nansum(revenue.to_numpy(zero_copy_only=False).astype(float)))


def _uploads(tally: Tally, w: World, apps: Applications) -> None:
    online = apps.requested & (apps.platform != BRANCH)
    android = apps.platform == ANDROID
    weeks = w.in_weeks(apps.request_ts, bug_weeks(w))
    groups = (android & weeks, android & ~weeks, ~android & weeks, ~android & ~weeks)
    for name, m in zip(UPLOAD_GROUPS, groups, strict=True):
        m = m & online
        tally.add(f"upload.{name}.requests", m.sum())
        tally.add(f"upload.{name}.failed", (m & apps.failed).sum())
        tally.add(f"upload.{name}.uploaded", (m & apps.uploaded).sum())
        tally.add(f"upload.{name}.submitted", (m & apps.submitted).sum())
