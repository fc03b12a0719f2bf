"""Sentiment of feedback text, offline.

Two methods, both with no download at run time:

* ``vader``: the VADER lexicon and rules (the ``vaderSentiment`` package). The label comes from
  the compound score with VADER's own thresholds (>= 0.05 positive, <= -0.05 negative).
* ``model`` (the default): a logistic regression over TF-IDF word 1-2-grams, TF-IDF character
  2-5-grams and VADER's four scores, trained at first use, deterministically, on the labelled
  comments shipped in ``journeykit/voc/data/feedback_labelled.csv`` (450 retail, banking and
  telecom comments; see docs/voc.md for how they were written and labelled). Training takes
  well under a second and the model is kept for the life of the process.

:func:`evaluate_sentiment` measures both methods by stratified k-fold cross-validation on the
shipped set (the model is refitted in each fold, so no comment is scored by a model that saw it).

Every result is a DataFrame aligned with the input: ``label`` (``positive``, ``neutral``,
``negative``; NA for missing text) and ``score`` in [-1, 1] (VADER's compound, or the model's
P(positive) - P(negative)).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from journeykit.errors import InputError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

SentimentMethod = Literal["model", "vader"]
LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
_DATA_FILE = "feedback_labelled.csv"
_CHUNK = 50_000


def labelled_feedback() -> pd.DataFrame:
    """The shipped labelled comments.

    Columns: ``text``, ``label``, ``touchpoint``, ``industry``, ``phenomenon``.

    ``phenomenon`` marks the hard cases: ``sarcasm``, ``negation``, ``mixed`` (else empty).

    >>> data = labelled_feedback()
    >>> len(data) >= 300, sorted(data["label"].unique())
    (True, ['negative', 'neutral', 'positive'])
    """
    path = resources.files("journeykit.voc").joinpath("data", _DATA_FILE)
    with path.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
    return frame


@functools.cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_lexicon() -> dict[str, float]:
    """VADER's word -> valence lexicon (-4 .. +4), as shipped in ``vaderSentiment``."""
    return dict(_vader().lexicon)


def _vader_scores(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound, pos, neg and neu for each text, as an (n, 4) array."""
    analyzer = _vader()
    out = np.empty((len(texts), 4), dtype=float)
    for i, text in enumerate(texts):
        s = analyzer.polarity_scores(text)
        out[i] = (s["compound"], s["pos"], s["neg"], s["neu"])
    return out


def _vader_features(texts: Iterable[str]) -> np.ndarray:
    return _vader_scores(list(texts))


def _compound_label(compound: np.ndarray) -> np.ndarray:
    return np.where(
        compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral")
    )


def build_model(seed: int = 0) -> Pipeline:
    """The untrained ``model`` pipeline (TF-IDF words + characters + VADER -> logistic regression).

    >>> build_model().steps[-1][0]
    'logisticregression'
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        FunctionTransformer(_vader_features),
    )
    classifier = LogisticRegression(
        C=10.0, solver="newton-cg", max_iter=1000, class_weight="balanced", random_state=seed
    )
    return make_pipeline(features, classifier)


def train_model(data: pd.DataFrame | None = None, *, seed: int = 0) -> Pipeline:
    """Fit the ``model`` pipeline on labelled comments (the shipped set by default).

    Args:
        data: a frame with ``text`` and ``label`` columns.
        seed: the classifier's seed (the fit is deterministic for a given seed).

    Returns:
        The fitted scikit-learn pipeline; its ``predict_proba`` columns follow ``classes_``.

    Raises:
        InputError: missing columns or labels outside positive/neutral/negative.
    """
    data = labelled_feedback() if data is None else data
    for column in ("text", "label"):
        if column not in data.columns:
            raise InputError(f"labelled data needs a {column!r} column", field=column)
    labels = data["label"].astype(str)
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise InputError(f"unknown labels {unknown}; use {', '.join(LABELS)}", field="label")
    model = build_model(seed)
    model.fit(data["text"].astype(str).to_numpy(dtype=object), labels.to_numpy(dtype=object))
    return model


@functools.cache
def default_model() -> Pipeline:
    """The ``model`` trained on the shipped labelled set, built once per process."""
    return train_model()


def sentiment(
    texts: Iterable[str | None] | pd.Series,
    *,
    method: SentimentMethod = "model",
    model: Pipeline | None = None,
) -> pd.DataFrame:
    """Label each comment positive, neutral or negative, with a score in [-1, 1].

    Args:
        texts: comments; ``None``/NaN/blank give an NA label and a NaN score.
        method: ``model`` (default; see the module docstring) or ``vader``.
        model: a pipeline from :func:`train_model` to use instead of the default one.

    Returns:
        A frame aligned with ``texts`` (same index for a Series) with ``label`` and ``score``.

    >>> sentiment(["The agent was brilliant", "Payment failed again"])["label"].tolist()
    ['positive', 'negative']
    """
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    present = series.notna() & (series.astype("string").str.strip().fillna("") != "")
    values = series[present].astype(str).to_numpy(dtype=object)
    labels = np.empty(len(values), dtype=object)
    scores = np.empty(len(values), dtype=float)
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        if method == "vader":
            compound = _vader_scores(list(chunk))[:, 0]
            labels[start : start + len(chunk)] = _compound_label(compound)
            scores[start : start + len(chunk)] = compound
        elif method == "model":
            fitted = model if model is not None else default_model()
            proba = fitted.predict_proba(chunk)
            classes = list(fitted.classes_)
            labels[start : start + len(chunk)] = np.asarray(classes, dtype=object)[
                proba.argmax(axis=1)
            ]
            scores[start : start + len(chunk)] = (
                proba[:, classes.index("positive")] - proba[:, classes.index("negative")]
            )
        else:
            raise InputError(f"method must be 'model' or 'vader', not {method!r}", field="method")
    out = pd.DataFrame(
        {
            "label": pd.Series(pd.NA, index=series.index, dtype="string"),
            "score": pd.Series(np.nan, index=series.index, dtype="float64"),
        }
    )
    out.loc[present, "label"] = labels
    out.loc[present, "score"] = scores
    return out


@dataclass(frozen=True)
class MethodScore:
    """Cross-validated quality of one method."""

    method: str
    accuracy: float
    macro_f1: float
    #: accuracy on the hard cases, by phenomenon (sarcasm, negation, mixed)
    by_phenomenon: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SentimentEvaluation:
    """The result of :func:`evaluate_sentiment`."""

    n: int
    folds: int
    repeats: int
    seed: int
    scores: tuple[MethodScore, ...]

    def frame(self) -> pd.DataFrame:
        """One row per method: ``method``, ``accuracy``, ``macro_f1``, one column per phenomenon."""
        rows = [
            {"method": s.method, "accuracy": s.accuracy, "macro_f1": s.macro_f1, **s.by_phenomenon}
            for s in self.scores
        ]
        return pd.DataFrame(rows)

    def score(self, method: str) -> MethodScore:
        """The scores of one method by name."""
        for s in self.scores:
            if s.method == method:
                return s
        raise InputError(f"no method {method!r} in this evaluation", field="method")


def evaluate_sentiment(
    data: pd.DataFrame | None = None, *, folds: int = 5, repeats: int = 1, seed: int = 0
) -> SentimentEvaluation:
    """Accuracy and macro-F1 of ``vader`` and ``model`` by stratified k-fold cross-validation.

    VADER has nothing to train, so it is scored on every row; the model is refitted on the
    other folds before scoring each fold, so no row is scored by a model trained on it.

    Args:
        data: labelled comments (``text``, ``label``, optional ``phenomenon``); the shipped set
            by default.
        folds: the number of folds.
        repeats: how many times to repeat the k-fold split (seeds ``seed``, ``seed + 1``, ...);
            the scores are the means over the repeats.
        seed: the first fold shuffle's and the classifier's seed.

    Returns:
        A :class:`SentimentEvaluation`.
    """
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    data = labelled_feedback() if data is None else data.reset_index(drop=True)
    texts = data["text"].astype(str).to_numpy(dtype=object)
    truth = data["label"].astype(str).to_numpy(dtype=object)
    phenomenon = (
        data["phenomenon"].fillna("").astype(str).to_numpy(dtype=object)
        if "phenomenon" in data.columns
        else np.full(len(data), "", dtype=object)
    )
    vader = _compound_label(_vader_scores(list(texts))[:, 0]).astype(object)
    runs: dict[str, list[np.ndarray]] = {"vader": [vader], "model": []}
    for repeat in range(repeats):
        predicted = np.empty(len(texts), dtype=object)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        for train, test in splitter.split(texts, truth):
            fitted = train_model(data.iloc[train], seed=seed)
            predicted[test] = fitted.predict(texts[test])
        runs["model"].append(predicted)
    hard = sorted(set(phenomenon) - {""})
    scores = []
    for method, predictions in runs.items():
        by_phenomenon = {
            name: float(
                np.mean(
                    [
                        accuracy_score(truth[phenomenon == name], p[phenomenon == name])
                        for p in predictions
                    ]
                )
            )
            for name in hard
        }
        scores.append(
            MethodScore(
                method=method,
                accuracy=float(np.mean([accuracy_score(truth, p) for p in predictions])),
                macro_f1=float(
                    np.mean(
                        [
                            f1_score(truth, p, average="macro", labels=list(LABELS))
                            for p in predictions
                        ]
                    )
                ),
                by_phenomenon=by_phenomenon,
            )
        )
    return SentimentEvaluation(
        n=len(data), folds=folds, repeats=repeats, seed=seed, scores=tuple(scores)
    )


def sentiment_by(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    *,
    score: str = "sentiment",
    label: str = "sentiment_label",
    min_n: int = 30,
    order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Mean sentiment per group (the data of an emotion curve).

    Args:
        frame: one row per comment with a sentiment score column and a label column (as added
            by :func:`journeykit.voc.responses.feedback`).
        by: group column(s), e.g. ``"stage"`` or ``"touchpoint"``.
        score: the score column (-1..1).
        label: the label column.
        min_n: groups with fewer comments get ``low_sample = True``.
        order: the order of the first group column's values (e.g. the journey's stages);
            values not listed follow in name order.

    Returns:
        One row per group: ``n``, ``mean_sentiment``, ``se``, ``low``, ``high`` (95%),
        ``pct_positive``, ``pct_negative`` (0-100), ``low_sample``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    for column in (*keys, score, label):
        if column not in frame.columns:
            raise InputError(f"no column {column!r} to group sentiment by", field=column)
    rows = frame[frame[score].notna()]
    columns = ["n", "mean_sentiment", "se", "low", "high", "pct_positive", "pct_negative"]
    if rows.empty:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in [*keys, *columns]})
        return empty.assign(n=empty["n"].astype("int64"), low_sample=pd.Series(dtype="bool"))
    work = rows[keys].copy()
    work["_s"] = rows[score].astype(float)
    work["_p"] = (rows[label] == "positive").astype(float)
    work["_n"] = (rows[label] == "negative").astype(float)
    out = (
        work.groupby(keys, dropna=False, observed=True)
        .agg(
            n=("_s", "size"),
            mean_sentiment=("_s", "mean"),
            _sd=("_s", "std"),
            pct_positive=("_p", "mean"),
            pct_negative=("_n", "mean"),
        )
        .reset_index()
    )
    out["se"] = np.nan_to_num(out["_sd"].to_numpy(dtype=float), nan=0.0) / np.sqrt(out["n"])
    out["low"] = (out["mean_sentiment"] - 1.96 * out["se"]).clip(-1.0, 1.0)
    out["high"] = (out["mean_sentiment"] + 1.96 * out["se"]).clip(-1.0, 1.0)
    out["pct_positive"] *= 100.0
    out["pct_negative"] *= 100.0
    out["low_sample"] = out["n"] < min_n
    if order is not None:
        rank = {value: i for i, value in enumerate(order)}
        first = out[keys[0]].map(lambda v: rank.get(v, len(rank)))
        out = (
            out.assign(_rank=first)
            .sort_values(["_rank", *keys], kind="stable")
            .drop(columns="_rank")
            .reset_index(drop=True)
        )
    return out[[*keys, *columns, "low_sample"]]
