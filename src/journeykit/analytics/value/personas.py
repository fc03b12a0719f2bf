"""Personas from behaviour: k-means on scaled per-person features, described in words.

The number of personas is chosen by the silhouette score over a small range of k (computed
on a fixed-seed sample of at most ``sample_size`` people); k-means runs with a fixed seed, so
the same data gives the same personas. Each persona is described by what its people do (their
channels), what they are worth and how far along the journey they are; the person-to-persona
table can be used as a segment (for example in :func:`journeykit.analytics.value.clv.clv_by_segment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from journeykit.analytics.value._common import data_end, to_datetime
from journeykit.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd

    from journeykit.analytics.vocabulary import Names
    from journeykit.store import Workspace

#: Features clustered by default, with every ``share_<channel>`` column (counts and money
#: are log-scaled before standardizing).
PERSONA_FEATURES: tuple[str, ...] = (
    "active_events",
    "conversions",
    "revenue",
    "recency_days",
    "stage_reached",
)
_LOG_FEATURES = ("active_events", "conversions", "revenue")
#: A persona is named after two channels when the second holds at least this share of its
#: activity and the first less than :data:`_ONE_CHANNEL`.
_SECOND_SHARE = 0.25
_ONE_CHANNEL = 0.6


@dataclass(frozen=True)
class Personas:
    """Personas found in the data.

    Attributes:
        k: the number of personas chosen.
        silhouette: the silhouette score of each k tried (indexed by k).
        profiles: indexed by ``persona`` (0..k-1): ``name``, ``people``, ``share``,
            ``description``, then the mean of every clustered feature; sorted by size.
        assignments: indexed by ``person_id``: ``persona`` and ``persona_name``.
    """

    k: int
    silhouette: pd.Series
    profiles: pd.DataFrame
    assignments: pd.DataFrame

    def segment(self) -> pd.Series:
        """The persona name of each person, ready to use as a segment."""
        return self.assignments["persona_name"]


def persona_features_from_workspace(
    ws: Workspace,
    *,
    end: datetime | str | None = None,
    names: Names | None = None,
) -> pd.DataFrame:
    """Per-person behaviour for clustering, aggregated in the engine.

    Returns:
        Indexed by ``person_id``: the columns of :data:`PERSONA_FEATURES` and
        ``share_<channel>`` (the share of active events on each of the most used channels).
        ``attrs["channels"]`` maps each share column to its channel, ``attrs["stages"]`` lists
        the spec's stages (``stage_reached`` indexes them).

    Raises:
        NoSpec: ``names`` is not given and the workspace has no journey spec.
    """
    import pandas as pd

    from journeykit.analytics import vocabulary as vocab
    from journeykit.analytics.value.features import person_features

    names = names if names is not None else vocab.resolve(ws)
    end_dt = to_datetime(end) if end is not None else data_end(ws)
    f = person_features(ws, end=end_dt, names=names)
    channels = f.attrs["channels"]
    f = f[f["active_events"] > 0]
    active = f["active_events"].astype(float)
    shares = {f"share_{col.removeprefix('ch_')}": f[col] / active for col in channels}
    out = pd.DataFrame(
        {
            "active_events": active,
            "conversions": f["conversions"].astype(float),
            "revenue": f["revenue"].astype(float),
            "recency_days": (pd.Timestamp(end_dt) - f["last_active"]).dt.total_seconds() / 86_400.0,
            **shares,
            "stage_reached": f["stage_reached"].fillna(0).astype(float),
        },
        index=f.index,
    )
    out.attrs.update(
        channels={f"share_{c.removeprefix('ch_')}": ch for c, ch in channels.items()},
        stages=list(names.stages),
    )
    return out


def find_personas(
    features: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    k_range: Sequence[int] = (3, 4, 5, 6),
    seed: int = 7,
    sample_size: int = 3000,
    fit_size: int = 20_000,
) -> Personas:
    """Cluster people into personas.

    Args:
        features: one row per person (see :func:`persona_features_from_workspace`).
        columns: the columns to cluster on (default: :data:`PERSONA_FEATURES` and every
            ``share_<channel>`` column).
        k_range: the numbers of personas to try; the best silhouette wins.
        seed: the seed of k-means and of the silhouette sample.
        sample_size: people sampled to compute the silhouette.
        fit_size: k-means is fitted on at most this many people (a seeded sample); everyone
            is then assigned to the nearest centre.

    Returns:
        :class:`Personas`.
    """
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    if columns is None:
        shares = [c for c in features.columns if str(c).startswith("share_")]
        columns = [*PERSONA_FEATURES, *shares]
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise InputError(f"the features lack {', '.join(missing)}", field=missing[0])
    data = features[list(columns)].astype(float).fillna(0.0)
    ks = sorted({int(k) for k in k_range if 2 <= k < len(data)})
    if not ks:
        raise InputError("too few people for the k range asked", field="k_range")
    x = data.copy()
    for col in _LOG_FEATURES:
        if col in x.columns:
            x[col] = np.log1p(x[col].clip(lower=0))
    z = StandardScaler().fit_transform(x)
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(len(z), size=min(fit_size, len(z)), replace=False))
    scores: dict[int, float] = {}
    fits = {}
    for k in ks:
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(z[fit_rows])
        labels = km.predict(z)
        if len(np.unique(labels)) < 2:
            continue
        scores[k] = float(
            silhouette_score(z, labels, sample_size=min(sample_size, len(z)), random_state=seed)
        )
        fits[k] = labels
    if not scores:
        raise InputError("the people do not separate into groups", field="columns")
    best = max(scores, key=lambda k: (scores[k], -k))
    # number personas by size, largest first
    raw = fits[best]
    sizes = np.bincount(raw)
    rank = np.empty_like(sizes)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
    labels = rank[raw]
    means = data.groupby(labels).mean()
    means.index.name = "persona"
    names, descriptions = _describe(
        means,
        data,
        channels=features.attrs.get("channels", {}),
        stages=features.attrs.get("stages", []),
    )
    people = pd.Series(np.bincount(labels), index=means.index)
    profiles = pd.DataFrame(
        {
            "name": names,
            "people": people,
            "share": people / people.sum(),
            "description": [
                f"{people[i]:,} people ({people[i] / people.sum():.0%}). {d}"
                for i, d in zip(means.index, descriptions, strict=True)
            ],
        },
        index=means.index,
    ).join(means)
    assignments = pd.DataFrame(
        {"persona": labels, "persona_name": np.asarray(names, dtype=object)[labels]},
        index=data.index,
    )
    return Personas(
        k=best,
        silhouette=pd.Series(scores, name="silhouette").rename_axis("k"),
        profiles=profiles,
        assignments=assignments,
    )


def _describe(
    means: pd.DataFrame,
    data: pd.DataFrame,
    *,
    channels: Mapping[str, str],
    stages: Sequence[str],
) -> tuple[list[str], list[str]]:
    """A short name and a sentence per persona, from its means against everyone's."""
    overall = data.mean()
    names: list[str] = []
    texts: list[str] = []
    for _, row in means.iterrows():
        value = _value_word(row, overall)
        main = _main_channels(row, channels)
        lapsed = "recency_days" in row and row["recency_days"] > 1.5 * max(
            overall["recency_days"], 1
        )
        noun = "browsers" if value == "browsing" else "customers"
        words = [
            "lapsed" if lapsed else "",
            "" if value == "browsing" else value,
            "-and-".join(main),
            noun,
        ]
        name = " ".join(w for w in words if w)
        names.append(name[0].upper() + name[1:])
        parts = []
        if main:
            parts.append(f"Mostly active through {' and '.join(main)}.")
        if "conversions" in row and "revenue" in row:
            ratio = row["revenue"] / overall["revenue"] if overall["revenue"] > 0 else 0.0
            parts.append(
                f"{row['conversions']:.1f} conversions and {row['revenue']:,.0f} in value on "
                f"average ({ratio:.1f}x the average person)."
            )
        if "recency_days" in row:
            parts.append(f"Last active {row['recency_days']:.0f} days ago on average.")
        if "stage_reached" in row and stages:
            stage = stages[int(np.clip(round(row["stage_reached"]), 0, len(stages) - 1))]
            parts.append(f"Typically reached the {stage} stage.")
        texts.append(" ".join(parts))
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[i] = f"{n} {seen[n]}"
    return names, texts


def _value_word(row: pd.Series, overall: pd.Series) -> str:
    if "conversions" not in row or "revenue" not in row:
        return ""
    if row["conversions"] < 0.3:
        return "browsing"
    if overall["revenue"] > 0 and row["revenue"] >= 1.5 * overall["revenue"]:
        return "high-value"
    return "occasional"


def _main_channels(row: pd.Series, channels: Mapping[str, str]) -> list[str]:
    """The channel the persona mostly uses, or the two it splits its activity between."""
    shares = {
        channels.get(c, c.removeprefix("share_")): float(row[c])
        for c in row.index
        if str(c).startswith("share_")
    }
    if not shares:
        return []
    ranked = sorted(shares, key=lambda w: (-shares[w], w))
    top = ranked[:2]
    if len(top) == 2 and shares[top[1]] >= _SECOND_SHARE and shares[top[0]] < _ONE_CHANNEL:
        return top
    return top[:1]
