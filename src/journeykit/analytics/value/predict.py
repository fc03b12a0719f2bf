"""Churn and conversion propensity from journey features, with reasons and next best actions.

Training is time-based: features are computed from everything up to a cutoff, the label from
the window after it. :func:`propensity_from_workspace` trains at one cutoff, evaluates on the
next window (features at the later cutoff, labels after it), and scores everyone as of the
last event. The model is a scikit-learn logistic regression on standardized features, so each
score splits into per-feature contributions (coefficient times the standardized value, in
log-odds); the largest ones are the person's top reasons.

Feature frame columns (from :func:`journey_features`, indexed by ``person_id``), each built
from what the journey spec says the events mean:
``recency_days``, ``tenure_days``, ``silence_ratio`` (recency over the person's usual gap
between interactions), ``frequency`` (conversions), ``monetary`` (their value),
``active_events``, ``share_<channel>`` (the share of active events on each of the most used
channels), ``last_stage`` (the spec's stage of the last active event), ``feedback_score``
(the last NPS score, else the mean survey score; NaN without one), ``has_feedback``,
``contacts``, ``long_wait``, ``errors`` (events of error touchpoints), ``messages``
(received); and the labels ``purchased_next`` and ``active_next`` when a window is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from journeykit.analytics.value._common import data_end, to_datetime
from journeykit.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from journeykit.analytics.vocabulary import Names
    from journeykit.store import Workspace

Target = Literal["churn", "conversion"]

#: The numeric features the model uses by default, with the ``share_<channel>`` columns of the
#: :data:`DEFAULT_SHARES` most used channels. The frame holds more (the other channel shares,
#: errors, messages); on the demo data they added noise rather than signal, so they are
#: opt-in through ``numeric=``.
DEFAULT_SHARES = 3
NUMERIC_FEATURES: tuple[str, ...] = (
    "recency_days",
    "silence_ratio",
    "tenure_days",
    "active_events",
    "frequency",
    "monetary",
    "feedback_score",
    "has_feedback",
    "contacts",
    "long_wait",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("last_stage",)
#: Skewed features that enter the model as ``log1p`` (reasons still quote the raw value).
LOG_FEATURES: frozenset[str] = frozenset(
    {
        "recency_days",
        "tenure_days",
        "silence_ratio",
        "frequency",
        "monetary",
        "active_events",
        "contacts",
        "errors",
        "messages",
    }
)

#: How a reason reads, per feature; ``{v}`` is the person's value. A ``share_<channel>``
#: reads "40% of activity on <channel>".
REASON_TEXT: dict[str, str] = {
    "recency_days": "last active {v:.0f} days ago",
    "tenure_days": "known for {v:.0f} days",
    "silence_ratio": "quiet {v:.1f}x longer than usual",
    "frequency": "{v:.0f} conversions",
    "monetary": "worth {v:,.0f} so far",
    "active_events": "{v:.0f} interactions",
    "feedback_score": "last survey score {v:.0f}",
    "has_feedback": "answered a survey",
    "contacts": "{v:.0f} contacts with support",
    "long_wait": "had a long support wait",
    "errors": "{v:.0f} errors on the way (failed steps)",
    "messages": "{v:.0f} messages received",
    "last_stage": "last seen at the {v} stage",
}

#: Next best action per (target, reason feature): the first of a person's reasons (in order of
#: weight) that has a rule picks the action. People scored below the training rate get the
#: default action of the target.
NEXT_BEST_ACTIONS: dict[tuple[str, str], str] = {
    ("churn", "long_wait"): "service recovery: a call from a senior agent",
    ("churn", "contacts"): "service recovery: a call from a senior agent",
    ("churn", "feedback_score"): "close the loop on the survey answer",
    ("churn", "has_feedback"): "close the loop on the survey answer",
    ("churn", "errors"): "help with what went wrong, and a fresh way to finish",
    ("churn", "recency_days"): "win-back message with a personal offer",
    ("churn", "silence_ratio"): "win-back message with a personal offer",
    ("churn", "frequency"): "nudge towards the next conversion, based on the last one",
    ("churn", "active_events"): "nudge towards the next conversion, based on the last one",
    ("conversion", "errors"): "help with what went wrong, and a fresh way to finish",
    ("conversion", "recency_days"): "reminder while the interest is fresh",
    ("conversion", "active_events"): "reminder of what they looked at",
    ("conversion", "frequency"): "recommendations from past conversions",
    ("conversion", "monetary"): "early access to what is new",
    ("conversion", "long_wait"): "service recovery: a call from a senior agent",
}
DEFAULT_ACTION = {
    "churn": "no action: keep in the regular programme",
    "conversion": "no action: keep in the regular programme",
}


def journey_features(
    ws: Workspace,
    *,
    cutoff: datetime | str,
    window_days: float | None = None,
    long_wait_seconds: float | None = None,
    names: Names | None = None,
    channels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Features of everyone seen up to ``cutoff``, and labels for the window after it.

    Args:
        ws: the workspace.
        cutoff: features use events up to this moment.
        window_days: when given, adds ``purchased_next`` and ``active_next`` (0/1): a
            conversion, or any activity, in ``(cutoff, cutoff + window_days]``.
        long_wait_seconds: a contact wait at least this long sets ``long_wait`` (default: the
            spec's ``settings.long_wait_seconds``).
        names: what the events mean (default: the workspace's journey spec).
        channels: the channels given a ``share_`` column (default: the most used ones).

    Returns:
        The frame described in the module docstring, indexed by ``person_id``.

    Raises:
        NoSpec: ``names`` is not given and the workspace has no journey spec.
    """
    import pandas as pd

    from journeykit.analytics import vocabulary as vocab
    from journeykit.analytics.value.features import activity_between, person_features, top_channels

    names = names if names is not None else vocab.resolve(ws)
    chans = list(channels) if channels is not None else top_channels(ws, names)
    cut = to_datetime(cutoff)
    f = person_features(ws, end=cut, names=names, channels=chans)
    f = f[f["last_active"].notna()]
    wait = long_wait_seconds if long_wait_seconds is not None else names.long_wait_seconds
    active = f["active_events"].clip(lower=1).astype(float)
    cut_ts = pd.Timestamp(cut)
    feedback = f["nps_last"].astype(float).fillna(f["score_mean"].astype(float))
    out = pd.DataFrame(
        {
            "recency_days": (cut_ts - f["last_active"]).dt.total_seconds() / 86_400.0,
            "tenure_days": (cut_ts - f["first_seen"]).dt.total_seconds() / 86_400.0,
            "silence_ratio": 0.0,  # set below
            "frequency": f["conversions"].astype(float),
            "monetary": f["revenue"].astype(float),
            "active_events": f["active_events"].astype(float),
            **{f"share_{col.removeprefix('ch_')}": f[col] / active for col in f.attrs["channels"]},
            "last_stage": f["last_stage"].fillna("other").astype(str),
            "feedback_score": feedback,
            "has_feedback": feedback.notna().astype(float),
            "contacts": f["contacts"].astype(float),
            "long_wait": (f["max_wait_seconds"].fillna(0.0) >= wait).astype(float),
            "errors": f["errors"].astype(float),
            "messages": f["messages"].astype(float),
        },
        index=f.index,
    )
    usual_gap = out["tenure_days"] / (out["active_events"] - 1).clip(lower=1)
    out["silence_ratio"] = out["recency_days"] / usual_gap.clip(lower=0.01)
    if window_days is not None:
        after = activity_between(ws, cut, cut + timedelta(days=float(window_days)), names=names)
        after = after.reindex(out.index)
        out["purchased_next"] = (after["conversions"].fillna(0) > 0).astype(int)
        out["active_next"] = after["active"].fillna(False).astype(bool).astype(int)
    return out


def _labelled(features: pd.DataFrame, target: Target) -> tuple[pd.DataFrame, np.ndarray]:
    """The population and 0/1 label of a target: churn among buyers, conversion among all."""
    if target == "churn":
        need = "active_next"
        frame = features[features["frequency"] > 0]
        if need not in frame.columns:
            raise InputError("the features carry no labels; give window_days", field=need)
        return frame, 1 - frame[need].to_numpy(int)
    if target == "conversion":
        need = "purchased_next"
        if need not in features.columns:
            raise InputError("the features carry no labels; give window_days", field=need)
        return features, features[need].to_numpy(int)
    raise InputError(f"target must be 'churn' or 'conversion', not {target!r}", field="target")


@dataclass(frozen=True)
class PropensityModel:
    """A fitted propensity model.

    Attributes:
        target: ``"churn"`` or ``"conversion"``.
        numeric, categorical: the feature columns used.
        pipeline: the scikit-learn pipeline (imputer, scaler, one-hot, logistic regression).
        n_train: training rows; positive_rate: the training label mean.
        train_mean: the mean of each transformed column on the training rows (contributions
            are measured from it).
    """

    target: Target
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    pipeline: Any
    n_train: int
    positive_rate: float
    train_mean: np.ndarray

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """The probability of the target for each row."""
        cols = [*self.numeric, *self.categorical]
        return self.pipeline.predict_proba(features[cols])[:, 1]

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each feature's contribution to each row's log-odds (relative to the training mean)."""
        import pandas as pd

        prep = self.pipeline.named_steps["prep"]
        clf = self.pipeline.named_steps["model"]
        z = prep.transform(features[[*self.numeric, *self.categorical]])
        z = np.asarray(z.todense() if hasattr(z, "todense") else z, float)
        centred = (z - self.train_mean) * clf.coef_[0]
        names = prep.get_feature_names_out()
        owner = [n.split("__", 1)[1] for n in names]
        owner = [next((c for c in self.categorical if o.startswith(c + "_")), o) for o in owner]
        per_column = pd.DataFrame(centred, columns=owner, index=features.index)
        return per_column.T.groupby(level=0, sort=False).sum().T


def fit_propensity(
    features: pd.DataFrame,
    target: Target,
    *,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] = CATEGORICAL_FEATURES,
    c: float = 1.0,
) -> PropensityModel:
    """Fit a logistic propensity model on labelled features (see :func:`journey_features`).

    Args:
        features: labelled features at a cutoff.
        target: ``"churn"`` (buyers who do nothing in the window) or ``"conversion"`` (anyone
            who buys in the window).
        numeric, categorical: the feature columns to use (default numeric:
            :data:`NUMERIC_FEATURES` and the shares of the :data:`DEFAULT_SHARES` most used
            channels).
        c: the inverse L2 regularisation strength.

    Returns:
        :class:`PropensityModel`.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    frame, y = _labelled(features, target)
    if len(np.unique(y)) < 2:
        raise InputError(f"every row has the same {target} label; widen the window", field=target)
    if numeric is None:
        shares = [c_ for c_ in frame.columns if str(c_).startswith("share_")]
        numeric = [*NUMERIC_FEATURES, *shares[:DEFAULT_SHARES]]
    numeric = [c_ for c_ in numeric if c_ in frame.columns]
    categorical = [c_ for c_ in categorical if c_ in frame.columns]
    logged = [c_ for c_ in numeric if c_ in LOG_FEATURES]
    plain = [c_ for c_ in numeric if c_ not in LOG_FEATURES]
    prep = ColumnTransformer(
        [
            (
                "log",
                make_pipeline(
                    SimpleImputer(strategy="median"),
                    FunctionTransformer(_log1p, feature_names_out="one-to-one"),
                    StandardScaler(),
                ),
                logged,
            ),
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), plain),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        ]
    )
    pipeline = Pipeline([("prep", prep), ("model", LogisticRegression(C=c, max_iter=2000))])
    numeric = [*logged, *plain]
    pipeline.fit(frame[[*numeric, *categorical]], y)
    z = pipeline.named_steps["prep"].transform(frame[[*numeric, *categorical]])
    return PropensityModel(
        target=target,
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        pipeline=pipeline,
        n_train=len(y),
        positive_rate=float(y.mean()),
        train_mean=np.asarray(z, float).mean(axis=0),
    )


def _log1p(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(x, 0.0, None))


@dataclass(frozen=True)
class Evaluation:
    """How a model did on a later window.

    Attributes:
        n: rows scored; positive_rate: the observed rate.
        auc: ROC AUC of the model; baseline_auc: ROC AUC of a recency-only logistic model
            fitted on the same training data.
        brier: Brier score (lower is better); baseline_brier: the same for the baseline.
        reliability: ``bin``, ``n``, ``mean_predicted``, ``observed_rate`` per decile of score.
    """

    n: int
    positive_rate: float
    auc: float
    baseline_auc: float
    brier: float
    baseline_brier: float
    reliability: pd.DataFrame


def evaluate(model: PropensityModel, train: pd.DataFrame, test: pd.DataFrame) -> Evaluation:
    """Evaluate on ``test`` (a later cutoff) against a recency-only model fitted on ``train``."""
    import pandas as pd
    from sklearn.metrics import brier_score_loss, roc_auc_score

    frame, y = _labelled(test, model.target)
    if len(np.unique(y)) < 2:
        raise InputError("the test window has a single label; widen it", field=model.target)
    p = model.predict(frame)
    baseline = fit_propensity(train, model.target, numeric=("recency_days",), categorical=())
    pb = baseline.predict(frame)
    bins = pd.qcut(pd.Series(p).rank(method="first"), 10, labels=False)
    reliability = (
        pd.DataFrame({"bin": bins, "p": p, "y": y})
        .groupby("bin")
        .agg(n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
        .reset_index()
    )
    return Evaluation(
        n=len(y),
        positive_rate=float(y.mean()),
        auc=float(roc_auc_score(y, p)),
        baseline_auc=float(roc_auc_score(y, pb)),
        brier=float(brier_score_loss(y, p)),
        baseline_brier=float(brier_score_loss(y, pb)),
        reliability=reliability,
    )


def score(model: PropensityModel, features: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """Score people, with their top reasons and a next best action.

    Args:
        model: a fitted model.
        features: features (labels not needed); for churn only buyers are scored.
        top: how many reasons to keep.

    Returns:
        Indexed by ``person_id``: ``score`` (probability), ``reason_1`` .. ``reason_{top}``
        (readable; the features pushing the score up most), ``top_feature`` (the feature
        behind ``reason_1``) and ``next_best_action`` (from :data:`NEXT_BEST_ACTIONS` over
        the person's reasons; the target's default below the training rate); sorted by
        score, highest first.
    """
    import pandas as pd

    frame = features[features["frequency"] > 0] if model.target == "churn" else features
    p = model.predict(frame)
    contrib = model.contributions(frame)
    order = np.argsort(-contrib.to_numpy(), axis=1)[:, :top]
    cols = np.asarray(contrib.columns)
    values = contrib.to_numpy()
    out = pd.DataFrame({"score": p}, index=frame.index)
    top_feature = []
    for k in range(top):
        feats = cols[order[:, k]]
        pushes = values[np.arange(len(frame)), order[:, k]] > 0
        texts = [
            _reason(f, frame.iloc[i][f]) if push else ""
            for i, (f, push) in enumerate(zip(feats, pushes, strict=True))
        ]
        out[f"reason_{k + 1}"] = texts
        if k == 0:
            top_feature = [f if push else "" for f, push in zip(feats, pushes, strict=True)]
    out["top_feature"] = top_feature
    out["next_best_action"] = [
        _action(model.target, [cols[j] for j in row if values[i, j] > 0])
        if p[i] >= model.positive_rate
        else DEFAULT_ACTION[model.target]
        for i, row in enumerate(np.argsort(-values, axis=1))
    ]
    return out.sort_values("score", ascending=False)


def _reason(feature: str, value: Any) -> str:
    default = (
        f"{{v:.0%}} of activity on {feature.removeprefix('share_')}"
        if feature.startswith("share_")
        else feature.replace("_", " ") + " {v}"
    )
    template = REASON_TEXT.get(feature, default)
    try:
        return template.format(v=value)
    except (TypeError, ValueError):
        return f"{feature.replace('_', ' ')}: {value}"


def _action(target: str, reasons: list[str]) -> str:
    for feature in reasons:
        action = NEXT_BEST_ACTIONS.get((target, feature))
        if action:
            return action
    return DEFAULT_ACTION[target]


@dataclass(frozen=True)
class PropensityReport:
    """A model trained, evaluated on the following window, and everyone scored.

    Attributes:
        model: the fitted model; evaluation: its results on the later window.
        train_cutoffs: the training snapshots; test_cutoff: the evaluation cutoff;
        score_time: the moment everyone is scored at.
        scores: :func:`score` output as of ``score_time``.
    """

    model: PropensityModel
    evaluation: Evaluation
    train_cutoffs: tuple[datetime, ...]
    test_cutoff: datetime
    score_time: datetime
    scores: pd.DataFrame


def propensity_from_workspace(
    ws: Workspace,
    target: Target,
    *,
    window_days: float = 30.0,
    as_of: datetime | str | None = None,
    snapshots: int = 4,
    snapshot_step_days: float = 7.0,
    names: Names | None = None,
) -> PropensityReport:
    """Train on snapshots whose windows end by ``as_of - window``, test on the next window.

    The test cutoff is ``as_of - window_days`` (labels from the last window). The training
    snapshots are cut at ``as_of - 2 windows``, then every ``snapshot_step_days`` earlier, so
    every training label is known before the test window opens; stacking a few snapshots gives
    the model more people and more moments of their journeys. Everyone is then scored as of
    ``as_of``.

    Args:
        ws: the workspace.
        target: ``"churn"`` or ``"conversion"``.
        window_days: the label window after each cutoff.
        as_of: the scoring moment (default: the last event).
        snapshots: how many training snapshots to stack (at least 1).
        snapshot_step_days: the spacing of the training snapshots.
        names: what the events mean (default: the workspace's journey spec).

    Returns:
        :class:`PropensityReport`.
    """
    import pandas as pd

    if snapshots < 1:
        raise InputError("snapshots must be at least 1", field="snapshots")
    end = to_datetime(as_of) if as_of is not None else data_end(ws)
    window = timedelta(days=float(window_days))
    step = timedelta(days=float(snapshot_step_days))
    test_cut = end - window
    cuts = tuple(end - 2 * window - k * step for k in range(snapshots))
    from journeykit.analytics import vocabulary as vocab
    from journeykit.analytics.value.features import top_channels

    names = names if names is not None else vocab.resolve(ws)
    kw: dict[str, Any] = {"names": names, "channels": top_channels(ws, names)}
    frames = [journey_features(ws, cutoff=c, window_days=window_days, **kw) for c in cuts]
    train = pd.concat([f for f in frames if len(f)])
    test = journey_features(ws, cutoff=test_cut, window_days=window_days, **kw)
    model = fit_propensity(train, target)
    evaluation = evaluate(model, train, test)
    now = journey_features(ws, cutoff=end, **kw)
    return PropensityReport(
        model=model,
        evaluation=evaluation,
        train_cutoffs=cuts,
        test_cutoff=test_cut,
        score_time=end,
        scores=score(model, now),
    )
