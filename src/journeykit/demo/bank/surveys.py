"""The bank's surveys: CSAT after calls and branch visits, CES after applications, NPS after loans.

As for the retailer (:mod:`journeykit.demo.feedback`), each answer gets a mood from what
happened (a long wait, the bad branch, a second photo ID request, a broken upload, a decision
by letter), a score from the mood, and sometimes a comment about what went wrong.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from journeykit.demo import feedback
from journeykit.demo import frame as fr
from journeykit.demo.bank.comments import BOOK, SET
from journeykit.demo.bank.people import Block
from journeykit.demo.feedback import Usual, Voice, moods

NO_ISSUE = -1
ISSUE = {
    "wait": SET[("wait_times", "negative")],
    "staff": SET[("branch_staff", "negative")],
    "id": SET[("id_documents", "negative")],
    "app": SET[("app_problems", "negative")],
    "letter": SET[("letters", "negative")],
}

#: Usual comment sets by context and mood (good, neutral, bad): (set, weight).
_USUAL: dict[str, Usual] = {
    "call": (
        ((("general", "positive"), 0.7), (("rates_fees", "positive"), 0.3)),
        ((("general", "neutral"), 1.0),),
        ((("general", "negative"), 0.7), (("rates_fees", "neutral"), 0.3)),
    ),
    "branch": (
        ((("branch_staff", "positive"), 0.6), (("general", "positive"), 0.4)),
        ((("general", "neutral"), 1.0),),
        ((("general", "negative"), 0.6), (("branch_staff", "negative"), 0.4)),
    ),
    "application": (
        ((("easy_process", "positive"), 0.6), (("general", "positive"), 0.4)),
        ((("general", "neutral"), 0.7), (("rates_fees", "neutral"), 0.3)),
        ((("general", "negative"), 1.0),),
    ),
    "loan": (
        (
            (("rates_fees", "positive"), 0.4),
            (("easy_process", "positive"), 0.3),
            (("general", "positive"), 0.3),
        ),
        ((("rates_fees", "neutral"), 0.5), (("general", "neutral"), 0.5)),
        ((("general", "negative"), 0.6), (("rates_fees", "neutral"), 0.4)),
    ),
}


VOICE = Voice(book=BOOK, usual=_USUAL)


def add_surveys(
    parts: fr.Parts,
    b: Block,
    *,
    survey: str,
    touchpoint: str,
    context: str,
    person: np.ndarray,
    ts: np.ndarray,
    p_good: np.ndarray,
    p_bad: np.ndarray,
    issue: np.ndarray,
    ref_key: str,
    ref: pa.Array,
    serial: np.ndarray,
    ident: dict,
) -> None:
    """``survey_completed`` answers about one touchpoint (``ref`` names the application,
    call or visit), moods drawn from ``p_good`` / ``p_bad``; only those before the end of the
    window are kept."""
    keep = np.flatnonzero(ts < b.world.end_us)
    person, ts, p_good, p_bad, issue, serial = (
        a[keep] for a in (person, ts, p_good, p_bad, issue, serial)
    )
    ref = ref.take(pa.array(keep))
    ident = {k: v[keep] if isinstance(v, np.ndarray) else v for k, v in ident.items()}
    feedback.add_surveys(
        parts,
        b,
        survey=survey,
        touchpoint=touchpoint,
        context=context,
        person=person,
        ts=ts,
        mood=moods(b.rng, p_good, p_bad),
        issue=issue,
        ref_key=ref_key,
        ref=ref,
        serial=serial,
        ident=ident,
        event="survey_completed",
        voice=VOICE,
    )
