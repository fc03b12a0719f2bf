"""Pain points measured in emotion: negative touchpoints, and weeks when answers turn sour.

See :mod:`journeykit.journey.pains` for the kinds and the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from journeykit.journey.pains import PainKind, PainPoint, _day, _Finder, _pct
from journeykit.journey.stats import welch, z_two

if TYPE_CHECKING:
    import pandas as pd


# --- emotion --------------------------------------------------------------------------------


class Resampler:
    """A bootstrap over the people who answered: each replicate draws them with replacement.

    ``mean(values, mask)`` gives the mean of ``values`` over the answers in ``mask`` and its
    replicates, computed from per-person sums, so each question costs a matrix product.
    """

    def __init__(self, answers: pd.DataFrame, draws: int = 200, seed: int = 0) -> None:
        import pandas as pd

        codes, uniques = pd.factorize(answers.person_id)
        self.codes = np.asarray(codes)
        self.people = len(uniques)
        rng = np.random.default_rng(seed)
        # each replicate draws the people with replacement: weight = times drawn
        draws_of = rng.integers(0, max(self.people, 1), size=(draws, self.people))
        self.weights = np.stack(
            [np.bincount(row, minlength=self.people) for row in draws_of]
        ).astype(np.float32)

    def mean(self, values: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
        """Point mean and its bootstrap replicates (NaN where a replicate is empty)."""
        codes = self.codes[mask]
        sums = np.bincount(codes, weights=values[mask], minlength=self.people)
        counts = np.bincount(codes, minlength=self.people).astype(float)
        num = (self.weights @ sums.astype(np.float32)).astype(float)
        den = (self.weights @ counts.astype(np.float32)).astype(float)
        point = float(sums.sum() / counts.sum()) if counts.sum() else float("nan")
        with np.errstate(invalid="ignore", divide="ignore"):
            return point, num / den


def negative_gap(
    answers: pd.DataFrame, draws: int = 200, seed: int = 0, resampler: Resampler | None = None
) -> tuple[float, np.ndarray]:
    """Later conversion of people with other answers minus those with negative ones (>= 0)."""
    ok = answers.emotion.notna().to_numpy() & answers.mature.astype(bool).to_numpy()
    neg = answers.negative.to_numpy(bool)
    if not ok.any() or (ok & neg).sum() == 0 or (ok & ~neg).sum() == 0:
        return 0.0, np.zeros(draws)
    r = resampler or Resampler(answers, draws, seed)
    conv = answers.converted_after.to_numpy(float)
    good, boot_good = r.mean(conv, ok & ~neg)
    bad, boot_bad = r.mean(conv, ok & neg)
    boot = np.nan_to_num(boot_good - boot_bad, nan=0.0)
    return max(good - bad, 0.0), np.clip(boot, 0.0, None)


def emotion_pain(
    f: _Finder,
    kind: PainKind,
    i: int,
    title: str,
    inside: pd.Series,
    against: pd.Series,
    evidence: list[str],
    weeks: tuple[str, ...] = (),
) -> PainPoint | None:
    """A pain measured as excess negative answers ``inside`` against ``against`` (masks)."""
    a = f.answers
    neg = a.negative.to_numpy(float)
    m_in, m_out = inside.to_numpy(bool), against.to_numpy(bool)
    people_in = a.person_id[m_in].nunique()
    rate, boot_rate = f.resampler.mean(neg, m_in)
    base, boot_base = f.resampler.mean(neg, m_out)
    lost = people_in * (rate - base) * f.gap
    boot = np.nan_to_num(people_in * (boot_rate - boot_base) * f.gap_draws, nan=0.0)
    low, high = (float(x) for x in np.quantile(boot, [0.025, 0.975]))
    excess = (rate - base) * f.gap
    se = float(np.std(boot)) / max(people_in, 1)
    evidence = [
        *evidence,
        f"people with a negative answer go on to {f.goal} {_pct(f.gap)} less often than others "
        "(all answers); that sets the people lost",
    ]
    return PainPoint(
        id="",
        kind=kind,
        title=title,
        stage=f.stage(i),
        touchpoint=f.tp(i).name,
        segment=(),
        weeks=weeks,
        people=int(people_in),
        rate=float(rate),
        baseline=float(base),
        people_lost=float(lost),
        people_lost_low=low,
        people_lost_high=high,
        impact=float(lost) * f.value,
        impact_low=low * f.value,
        impact_high=high * f.value,
        interval="95% bootstrap over people",
        evidence=tuple(evidence),
        excess=float(excess),
        excess_se=se,
        share=min(1.0, people_in / max(float(f.cells.loc[i].people), 1.0))
        if i in f.cells.index
        else 1.0,
    )


def emotions(f: _Finder) -> list[PainPoint]:
    a = f.answers
    if a.empty:
        return []
    out = []
    scored = a.emotion.notna()
    for tp, group in a[scored & (a.tp >= 0)].groupby("tp"):
        i = int(tp)  # type: ignore[call-overload]
        if len(group) < f.min_n:
            continue
        inside = scored & (a.tp == i)
        other = scored & (a.tp != i)
        e1, e0 = a.emotion[inside], a.emotion[other]
        t = welch(e1.mean(), e1.var(), len(e1), e0.mean(), e0.var(), len(e0))
        name = f.tp(i).name
        if t <= -f.z and e1.mean() - e0.mean() <= -0.15:
            words = keywords_of(f, inside & a.negative, other)
            evidence = [
                f"emotion {e1.mean():+.2f} from {len(e1):,} answers, against {e0.mean():+.2f} "
                f"for all other touchpoints (t = {t:.1f}); {_pct(a.negative[inside].mean())} "
                "of answers negative"
            ]
            if words:
                evidence.append("negative comments mention: " + ", ".join(words))
            p = emotion_pain(
                f, "negative_emotion", i, f"{name}: negative emotion ({e1.mean():+.2f})",
                inside, other, evidence,
            )  # fmt: skip
            if p is not None:
                out.append(p)
        dip = _emotion_dip(f, i, group)
        if dip is not None:
            out.append(dip)
        burst = _burst(f, i)
        if burst is not None:
            out.append(burst)
    return out


def _emotion_dip(f: _Finder, i: int, group: pd.DataFrame) -> PainPoint | None:
    """The worst week, or two consecutive weeks, of negative answers about a touchpoint."""
    weeks = sorted(group.week.unique())
    counts = group.groupby("week").negative.agg(["sum", "count"])
    k_all, n_all = float(counts["sum"].sum()), float(counts["count"].sum())
    best: tuple[float, list[Any]] | None = None
    for j, wk in enumerate(weeks):
        for span in (1, 2):
            window = weeks[j : j + span]
            if len(window) < span:
                continue
            k1, n1 = (
                float(counts.loc[window, "sum"].sum()),
                float(counts.loc[window, "count"].sum()),
            )
            k0, n0 = k_all - k1, n_all - n1
            if n1 < 10 or n0 < f.min_n:
                continue
            zz = z_two(k1, n1, k0, n0)
            if zz >= f.z and k1 / n1 - k0 / n0 >= 0.1 and (best is None or zz > best[0]):
                best = (zz, list(window))
        del wk
    if best is None:
        return None
    zz, window = best
    a = f.answers
    scored = a.emotion.notna() & (a.tp == i)
    inside = scored & a.week.isin(window)
    other = scored & ~a.week.isin(window)
    names = tuple(_day(x) for x in window)
    words = keywords_of(f, inside & a.negative, other)
    evidence = [
        f"in the week(s) of {', '.join(names)}, {_pct(a.negative[inside].mean())} of "
        f"{int(inside.sum())} answers about it were negative, against "
        f"{_pct(a.negative[other].mean())} in other weeks (z = {zz:.1f})"
    ]
    if words:
        evidence.append("their negative comments mention: " + ", ".join(words))
    quotes = a.comment[inside & a.negative].dropna().head(2).tolist()
    evidence += [f"“{q}”" for q in quotes]
    title = f"{f.tp(i).name}: answers turn negative in {len(names)} week(s)"
    return emotion_pain(f, "emotion_dip", i, title, inside, other, evidence, weeks=names)


def keywords_of(f: _Finder, inside: pd.Series, against: pd.Series, cap: int = 5000) -> list[str]:
    """Keywords of the comments selected by ``inside`` against those by ``against``.

    Each side is a random sample of at most ``cap`` comments (seeded): word shares are
    estimated as well from five thousand comments as from all of them.
    """
    from journeykit.journey.emotion import keywords_in

    bags = f.bags()
    rng = np.random.default_rng(0)

    def pick(mask: pd.Series) -> list[frozenset[str]]:
        idx = np.flatnonzero(mask.to_numpy(bool))
        if len(idx) > cap:
            idx = np.sort(rng.choice(idx, cap, replace=False))
        return [bags[i] for i in idx]

    return keywords_in(pick(inside), pick(against))


def _windows(weeks: list[Any]) -> list[list[Any]]:
    """Every week, and every two consecutive weeks."""
    return [weeks[j : j + span] for span in (1, 2) for j in range(len(weeks) - span + 1)]


def _burst(f: _Finder, i: int) -> PainPoint | None:
    """A word that suddenly fills the comments about a touchpoint for a week or two.

    The best (word, window) by z of its share of comments in the window against the other
    weeks, at ``z + 1.5`` (many words and windows are tried), in at least 10% of the window's
    comments and three times as often as elsewhere; kept only when those answers are more
    negative than the touchpoint's others.
    """
    import pandas as pd

    from journeykit.journey.emotion import STOPWORDS

    a = f.answers
    here = (a.tp == i) & (a.comment.fillna("").str.strip() != "")
    c = a[here]
    if len(c) < f.min_n:
        return None
    bags = [b for b, keep in zip(f.bags(), here.to_numpy(), strict=True) if keep]
    pairs = pd.DataFrame(
        [(wk, w) for wk, bag in zip(c.week, bags, strict=True) for w in bag - STOPWORDS],
        columns=["week", "word"],
    )
    if pairs.empty:
        return None
    per_week = pairs.value_counts()
    per_word = per_week.groupby(level="word").sum()
    n_week = c.week.value_counts()
    n_all = float(len(c))
    best: tuple[float, list[Any], str] | None = None
    for window in _windows(sorted(c.week.unique())):
        n1 = float(n_week.reindex(window).fillna(0).sum())
        n0 = n_all - n1
        if n1 < 10 or n0 < f.min_n:
            continue
        inside = per_week[per_week.index.get_level_values("week").isin(window)]
        for word, k1 in inside.groupby(level="word").sum().items():
            k1 = float(k1)
            k0 = float(per_word[word]) - k1
            if k1 < 3 or k1 / n1 < 0.1 or k1 / n1 < 3 * k0 / n0:
                continue
            zz = z_two(k1, n1, k0, n0)
            if zz >= f.z + 1.5 and (best is None or zz > best[0]):
                best = (zz, window, str(word))
    if best is None:
        return None
    zz, window, word = best
    in_window = here & a.week.isin(window)
    has_word = pd.Series([word in bag for bag in f.bags()], index=a.index)
    inside = in_window & has_word & a.emotion.notna()
    other = (a.tp == i) & a.emotion.notna() & ~inside
    if inside.sum() < 3 or a.emotion[inside].mean() >= a.emotion[other].mean():
        return None
    share_in = float((in_window & has_word).sum()) / float(in_window.sum())
    share_out = float((here & ~a.week.isin(window) & has_word).sum()) / max(
        float((here & ~a.week.isin(window)).sum()), 1.0
    )
    names = tuple(_day(x) for x in window)
    companions = keywords_of(f, in_window & a.negative, here & ~a.week.isin(window))
    companions = [w for w in companions if w != word][:4]
    name = f.tp(i).name
    evidence = [
        f"in the week(s) of {', '.join(names)}, {_pct(share_in)} of the comments about {name} "
        f"say '{word}', against {_pct(share_out)} in other weeks (z = {zz:.1f})",
        f"those answers average {a.emotion[inside].mean():+.2f}, against "
        f"{a.emotion[other].mean():+.2f} for the other answers about it",
    ]
    if companions:
        evidence.append("negative comments of those weeks also mention: " + ", ".join(companions))
    quotes = a.comment[inside & a.negative].dropna().head(2).tolist()
    evidence += [f"“{q}”" for q in quotes]
    title = f"{name}: comments about '{word}' surge in {len(names)} week(s)"
    return emotion_pain(f, "comment_burst", i, title, inside, other, evidence, weeks=names)
