"""The bank's surveys: CSAT after calls and branch visits, CES after applications, NPS after loans.

As for the retailer (:mod:`journeykit.demo.feedback`), each answer gets a mood from what
happened (a long wait, the bad branch, a second photo ID request, a broken upload, a decision
by letter), a score from the mood, and sometimes a comment about what went wrong.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.demo import frame as fr
from journeykit.demo.bank.comments import BOOK, SET
from journeykit.demo.bank.people import Block
from journeykit.demo.bank.vocab import EV, SURVEYS
from journeykit.demo.feedback import COMMENT_SHARE, FORCE, GOOD, moods, scores

NO_ISSUE = -1
ISSUE = {
    "wait": SET[("wait_times", "negative")],
    "staff": SET[("branch_staff", "negative")],
    "id": SET[("id_documents", "negative")],
    "app": SET[("app_problems", "negative")],
    "letter": SET[("letters", "negative")],
}

#: Usual comment sets by context and mood (good, neutral, bad): (set, weight).
_USUAL: dict[str, tuple[tuple[tuple[tuple[str, str], float], ...], ...]] = {
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


def comment_sets(
    rng: np.random.Generator, context: str, mood: np.ndarray, issue: np.ndarray
) -> np.ndarray:
    """The template set of each comment: the issue's, or a usual one for context and mood."""
    n = len(mood)
    out = np.zeros(n, dtype=np.int64)
    pick = rng.random(n)
    for m, choices in enumerate(_USUAL[context]):
        idx = np.flatnonzero(mood == m)
        weights = np.cumsum([w for _s, w in choices])
        which = np.minimum(np.searchsorted(weights, pick[idx] * weights[-1]), len(choices) - 1)
        out[idx] = np.array([SET[s] for s, _w in choices])[which]
    forced = (issue >= 0) & (rng.random(n) < FORCE[mood])
    return np.where(forced, issue, out)


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
    call or visit); only those before the end of the window are kept."""
    rng, n = b.rng, len(person)
    keep = np.flatnonzero(ts < b.world.end_us)
    person, ts, p_good, p_bad, issue, serial = (
        a[keep] for a in (person, ts, p_good, p_bad, issue, serial)
    )
    ref = ref.take(pa.array(keep))
    ident = {k: v[keep] if isinstance(v, np.ndarray) else v for k, v in ident.items()}
    n = len(person)
    if n == 0:
        return
    mood = moods(rng, p_good, p_bad)
    score = scores(rng, survey, mood)
    sets = comment_sets(rng, context, mood, issue)
    has = rng.random(n) < COMMENT_SHARE
    comment = pc.if_else(pa.array(has), BOOK.make_texts(rng, sets), pa.scalar(None, pa.string()))
    parts.add(
        "survey_completed",
        person,
        ts,
        fr.obj(
            n,
            [
                ("survey", json.dumps(survey)),
                ("score", fr.number(score)),
                ("comment", fr.text(comment)),
                ("touchpoint", json.dumps(touchpoint)),
                (ref_key, fr.text(ref)),
            ],
        ),
        channel="survey",
        meta={
            "survey": np.full(n, SURVEYS.index(survey)),
            "touchpoint": np.full(n, EV[touchpoint]),
            "score": score,
            "serial": serial,
            "comment": comment,
            "good": mood == GOOD,
        },
        **ident,
    )
