"""Surveys and reviews: a mood per answer, a score from the mood, a comment from the context.

Each answer first gets a mood (good, neutral, bad) whose odds depend on what happened (a
failed payment, a long wait, a late parcel, ...). The score follows the mood on the survey's
scale. The comment, when there is one, talks about what went wrong when something did (more
often the worse the mood), and otherwise about a theme typical of the touchpoint and mood.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.demo import frame as fr
from journeykit.demo.comments import RETAIL, SET, CommentBook, make_texts
from journeykit.demo.people import Block
from journeykit.demo.vocab import SURVEYS

GOOD, NEUTRAL, BAD = 0, 1, 2
COMMENT_SHARE = 0.62  # answers that come with a comment
FORCE = np.array([0.15, 0.60, 0.85])  # by mood: chance the comment is about the issue

#: The negative template set each issue is talked about with.
ISSUE = {
    "payment": SET[("payment", "negative")],
    "wait": SET[("wait_times", "negative")],
    "delay": SET[("delivery_delay", "negative")],
    "returned": SET[("returns", "negative")],
}
NO_ISSUE = -1

#: Score distributions by scale and mood: (values, probabilities).
_SCORES: dict[str, tuple[tuple[tuple[int, ...], tuple[float, ...]], ...]] = {
    "nps": (
        ((9, 10, 8), (0.45, 0.45, 0.10)),
        ((7, 8, 6), (0.5, 0.3, 0.2)),
        ((0, 1, 2, 3, 4, 5, 6), (0.08, 0.07, 0.12, 0.18, 0.18, 0.19, 0.18)),
    ),
    "csat": (
        ((5, 4), (0.6, 0.4)),
        ((3, 4, 2), (0.7, 0.15, 0.15)),
        ((1, 2), (0.55, 0.45)),
    ),
    "ces": (
        ((7, 6), (0.5, 0.5)),
        ((4, 5), (0.5, 0.5)),
        ((1, 2, 3), (0.4, 0.35, 0.25)),
    ),
}
_SCORES["rating"] = _SCORES["csat"]

#: Usual comment themes by context and mood: (template set, weight).
#: Per mood (good, neutral, bad): the usual template sets, (theme, sentiment), with weights.
Usual = tuple[tuple[tuple[tuple[str, str], float], ...], ...]
_USUAL: dict[str, Usual] = {
    "online": (
        (
            (("easy_checkout", "positive"), 0.3),
            (("product_quality", "positive"), 0.3),
            (("general", "positive"), 0.25),
            (("price", "positive"), 0.15),
        ),
        ((("price", "neutral"), 0.4), (("general", "neutral"), 0.6)),
        (
            (("product_quality", "negative"), 0.45),
            (("general", "negative"), 0.4),
            (("price", "neutral"), 0.15),
        ),
    ),
    "store": (
        (
            (("friendly_staff", "positive"), 0.4),
            (("product_quality", "positive"), 0.3),
            (("general", "positive"), 0.3),
        ),
        ((("price", "neutral"), 0.4), (("general", "neutral"), 0.6)),
        ((("product_quality", "negative"), 0.45), (("general", "negative"), 0.55)),
    ),
    "service": (
        ((("friendly_staff", "positive"), 0.6), (("general", "positive"), 0.4)),
        ((("general", "neutral"), 1.0),),
        ((("general", "negative"), 0.6), (("returns", "negative"), 0.4)),
    ),
    "review": (
        (
            (("product_quality", "positive"), 0.6),
            (("general", "positive"), 0.25),
            (("price", "positive"), 0.15),
        ),
        ((("general", "neutral"), 0.5), (("price", "neutral"), 0.5)),
        ((("product_quality", "negative"), 0.6), (("general", "negative"), 0.4)),
    ),
}


def moods(rng: np.random.Generator, p_good: np.ndarray, p_bad: np.ndarray) -> np.ndarray:
    """A mood per answer: good with ``p_good``, bad with ``p_bad``, else neutral."""
    u = rng.random(len(p_good))
    return np.where(u < p_good, GOOD, np.where(u < p_good + p_bad, BAD, NEUTRAL))


def scores(rng: np.random.Generator, scale: str, mood: np.ndarray) -> np.ndarray:
    """Scores on ``scale`` (nps, csat, ces, rating) following each mood."""
    out = np.zeros(len(mood), dtype=np.int64)
    for m, (values, probs) in enumerate(_SCORES[scale]):
        idx = np.flatnonzero(mood == m)
        out[idx] = rng.choice(np.array(values), size=len(idx), p=np.array(probs))
    return out


@dataclass(frozen=True)
class Voice:
    """How a scenario's customers write: its comment book and usual themes per context.

    ``usual[context]`` holds, per mood (good, neutral, bad), the template sets a comment
    without an issue is drawn from, with weights.
    """

    book: CommentBook
    usual: Mapping[str, Usual]


#: The retailer's customers.
RETAIL_VOICE = Voice(book=RETAIL, usual=_USUAL)


def comment_sets(
    rng: np.random.Generator,
    context: str,
    mood: np.ndarray,
    issue: np.ndarray,
    voice: Voice = RETAIL_VOICE,
) -> np.ndarray:
    """The template set of each comment: the issue's, or a usual one for context and mood."""
    n = len(mood)
    out = np.zeros(n, dtype=np.int64)
    pick = rng.random(n)
    for m, choices in enumerate(voice.usual[context]):
        idx = np.flatnonzero(mood == m)
        weights = np.cumsum([w for _s, w in choices])
        which = np.minimum(np.searchsorted(weights, pick[idx] * weights[-1]), len(choices) - 1)
        out[idx] = np.array([voice.book.set[s] for s, _w in choices])[which]
    forced = (issue >= 0) & (rng.random(n) < FORCE[mood])
    return np.where(forced, issue, out)


class _Drawing(Protocol):
    """Anything holding the random stream of a block (a retail or a bank block)."""

    rng: np.random.Generator


def add_surveys(
    parts: fr.Parts,
    b: _Drawing,
    *,
    survey: str,
    touchpoint: str,
    context: str,
    person: np.ndarray,
    ts: np.ndarray,
    mood: np.ndarray,
    issue: np.ndarray,
    ref_key: str,
    ref: pa.Array,
    serial: np.ndarray,
    ident: dict,
    event: str = "Survey Answered",
    voice: Voice = RETAIL_VOICE,
) -> None:
    """Answers (``event``) to one survey about one touchpoint (``ref`` names the order, chat,
    call, visit or application)."""
    rng, n = b.rng, len(person)
    if n == 0:
        return
    score = scores(rng, survey, mood)
    sets = comment_sets(rng, context, mood, issue, voice)
    has = rng.random(n) < COMMENT_SHARE
    texts = voice.book.make_texts(rng, sets)
    comment = pc.if_else(pa.array(has), texts, pa.scalar(None, pa.string()))
    props = fr.obj(
        n,
        [
            ("survey", json.dumps(survey)),
            ("score", fr.number(score)),
            ("comment", fr.text(comment)),
            ("touchpoint", json.dumps(touchpoint)),
            (ref_key, fr.text(ref)),
        ],
    )
    parts.add(
        event,
        person,
        ts,
        props,
        channel="survey",
        meta={
            "survey": np.full(n, SURVEYS.index(survey)),
            "touchpoint": np.full(n, parts.vocab.codes[touchpoint]),
            "score": score,
            "serial": serial,
            "comment": comment,
            "set": np.where(has, sets, -1),
        },
        **ident,
    )


def add_reviews(
    parts: fr.Parts,
    b: Block,
    *,
    person: np.ndarray,
    ts: np.ndarray,
    mood: np.ndarray,
    issue: np.ndarray,
    product: pa.Array,
    ref: pa.Array,
    serial: np.ndarray,
    ident: dict,
) -> None:
    """Product reviews: a 1-5 rating and a text."""
    rng, n = b.rng, len(person)
    if n == 0:
        return
    rating = scores(rng, "rating", mood)
    sets = comment_sets(rng, "review", mood, issue)
    body = make_texts(rng, sets)
    props = fr.obj(
        n,
        [
            ("rating", fr.number(rating)),
            ("text", fr.text(body)),
            ("product_id", product),
            ("order_id", fr.text(ref)),
        ],
    )
    parts.add(
        "Review Posted",
        person,
        ts,
        props,
        channel="review",
        meta={"score": rating, "serial": serial, "comment": body, "set": sets},
        **ident,
    )
