"""Pain points measured as drop-off: touchpoints, errors, segments and weeks, waits and repeats.

See :mod:`journeykit.journey.pains` for the kinds and the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from journeykit.journey.pains import PainKind, PainPoint, _day, _Finder, _pct
from journeykit.journey.stats import welch, z_two

if TYPE_CHECKING:
    import pandas as pd


# --- drop-off at a touchpoint ---------------------------------------------------------------


def drop_offs(f: _Finder) -> list[PainPoint]:
    out = []
    for i, row in f.cells.iterrows():
        i = int(i)  # type: ignore[call-overload]
        if not f.eligible(i) or row.m_people < f.min_n:
            continue
        s = f.plan.tp_stage[i]
        if s not in f.base.index:
            continue
        n1, k1 = float(row.m_people), float(row.m_people - row.m_converted)
        b = f.base.loc[s]
        n0, k0 = float(b.people), float(b.people - b.converted)
        excess, zz = k1 / n1 - k0 / n0, z_two(k1, n1, k0, n0)
        error = f.tp(i).kind == "error"
        if zz < f.z or excess < (0.05 if error else 0.10):
            continue
        name, stage = f.tp(i).name, f.stage(i)
        evidence = [
            f"{_pct(k1 / n1)} of the {int(n1):,} people who reached it never go on to "
            f"{f.goal}, against {_pct(k0 / n0)} across the {stage} stage (z = {zz:.1f})",
        ]
        segment: tuple[tuple[str, str], ...] = ()
        weeks: tuple[str, ...] = ()
        if error:
            where, weeks, lines = _error_concentration(f, i)
            segment = where
            evidence += lines
            title = f"{name}: {int(n1):,} people hit it, {_pct(k1 / n1)} never reach {f.goal}"
        else:
            title = f"{name}: {_pct(k1 / n1)} drop off (stage: {_pct(k0 / n0)})"
        out.append(
            f.drop_pain(
                "error" if error else "drop_off",
                i,
                title,
                k1,
                n1,
                k0,
                n0,
                evidence,
                segment=segment,
                weeks=weeks,
            )
        )
    return out


def _reference_tp(f: _Finder, i: int) -> int | None:
    """The busiest non-goal, non-error touchpoint of ``i``'s stage (what errors are counted against)."""
    s = f.plan.tp_stage[i]
    best, people = None, -1.0
    for j, row in f.cells.iterrows():
        j = int(j)  # type: ignore[call-overload]
        if f.plan.tp_stage[j] != s or j == i or not f.eligible(j) or f.tp(j).kind == "error":
            continue
        if row.people > people:
            best, people = j, float(row.people)
    return best


def _error_concentration(
    f: _Finder, i: int
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], list[str]]:
    """Where an error touchpoint's people concentrate, against its stage's busiest touchpoint."""
    ref = _reference_tp(f, i)
    if ref is None:
        return (), (), []
    b = f.m.breakdowns
    lines: list[str] = []
    segment: tuple[tuple[str, str], ...] = ()
    best_z = f.z
    for key in [k for k in b.key.unique() if k not in ("wait", "contacts")]:
        err = b[(b.tp == i) & (b.key == key)].set_index("value").people
        base = b[(b.tp == ref) & (b.key == key)].set_index("value").people
        if err.sum() < f.min_n or base.sum() == 0:
            continue
        for value in err.index:
            k1, n1 = float(err[value]), float(err.sum())
            k0, n0 = float(base.get(value, 0)), float(base.sum())
            zz = z_two(k1, n1, k0, n0)
            if zz >= best_z and k1 / n1 - k0 / n0 >= 0.1:
                best_z, segment = zz, ((str(key), str(value)),)
                lines = [
                    f"{int(k1):,} of {int(n1):,} ({_pct(k1 / n1)}) are on {key} {value}, "
                    f"against {_pct(k0 / n0)} of the people at {f.tp(ref).name} (z = {zz:.1f})"
                ]
    weeks, week_lines = _error_weeks(f, i, ref, segment)
    return segment, weeks, lines + week_lines


def _error_weeks(
    f: _Finder, i: int, ref: int, segment: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, ...], list[str]]:
    w = f.m.weekly
    key, value = segment[0] if segment else ("", "")
    err = w[(w.tp == i) & (w.key == key) & (w["value"] == value)].set_index("week").people
    base = w[(w.tp == ref) & (w.key == key) & (w["value"] == value)].set_index("week").people
    base = base.reindex(base.index.union(err.index)).fillna(0)
    err = err.reindex(base.index).fillna(0)
    flagged = []
    for week in base.index:
        n1 = float(base[week])
        k1 = min(float(err[week]), n1)
        k0, n0 = float(err.sum() - k1), float(base.sum() - n1)
        if n1 >= 10 and n0 > 0 and z_two(k1, n1, k0, n0) >= 2.5 and k1 / n1 - k0 / n0 >= 0.1:
            flagged.append(week)
    if not flagged:
        return (), []
    n1 = float(base[flagged].sum())
    k1 = min(float(err[flagged].sum()), n1)
    k0, n0 = float(err.sum() - k1), float(base.sum() - n1)
    if n0 <= 0 or z_two(k1, n1, k0, n0) < f.z + 0.5:
        return (), []
    names = tuple(_day(wk) for wk in sorted(flagged))
    where = f" on {key} {value}" if key else ""
    line = (
        f"in the weeks of {', '.join(names)}, {_pct(k1 / n1)} of the people at "
        f"{f.tp(ref).name}{where} hit it, against {_pct(k0 / n0)} in other weeks"
    )
    return names, [line]


# --- one segment of a touchpoint ------------------------------------------------------------


def segments(f: _Finder) -> list[PainPoint]:
    out: list[PainPoint] = []
    b, w = f.m.breakdowns, f.m.weekly
    for (tp, key), group in b.groupby(["tp", "key"]):
        i = int(tp)
        if key in ("wait", "contacts") or not f.eligible(i) or f.tp(i).kind == "error":
            continue
        total_n, total_conv = float(group.people.sum()), float(group.converted.sum())
        for row in group.itertuples(index=False):
            n1, k1 = float(row.people), float(row.people - row.converted)
            n0, k0 = total_n - n1, (total_n - total_conv) - k1
            if n1 < f.min_n or n0 < f.min_n:
                continue
            weekly = w[(w.tp == i) & (w.key == key) & (w["value"] == row.value)]
            p = _segment_pain(f, i, str(key), str(row.value), k1, n1, k0, n0, weekly)
            if p is not None:
                out.append(p)
    # whole touchpoints concentrated in weeks, unless a segment of theirs already is
    taken = {p.touchpoint for p in out if p.weeks}
    for tp, weekly in w[w.key == ""].groupby("tp"):
        i = int(tp)  # type: ignore[call-overload]
        if not f.eligible(i) or f.tp(i).kind == "error" or f.tp(i).name in taken:
            continue
        n, k = float(weekly.people.sum()), float((weekly.people - weekly.converted).sum())
        if n < f.min_n:
            continue
        p = _week_pain(f, i, "", "", weekly, k, n)
        if p is not None:
            out.append(p)
    return out


def _flag_weeks(weekly: pd.DataFrame) -> tuple[list[Any], float, float, float, float]:
    """Weeks whose drop-off is well above the other weeks'; pooled counts in and out of them."""
    drops = weekly.people - weekly.converted
    n_all, k_all = float(weekly.people.sum()), float(drops.sum())
    flagged = []
    for row, k in zip(weekly.itertuples(index=False), drops, strict=True):
        n1, k1 = float(row.people), float(k)
        n0, k0 = n_all - n1, k_all - k1
        if n1 >= 10 and n0 > 0 and z_two(k1, n1, k0, n0) >= 2.5 and k1 / n1 - k0 / n0 >= 0.1:
            flagged.append(row.week)
    inside = weekly.week.isin(flagged)
    nf, kf = float(weekly.people[inside].sum()), float(drops[inside].sum())
    return flagged, kf, nf, k_all - kf, n_all - nf


def _week_pain(
    f: _Finder, i: int, key: str, value: str, weekly: pd.DataFrame, k: float, n: float
) -> PainPoint | None:
    flagged, kf, nf, ku, nu = _flag_weeks(weekly)
    if not flagged or nu < f.min_n or z_two(kf, nf, ku, nu) < f.z + 1:
        return None
    if kf / nf - ku / nu < 0.1:
        return None
    weeks = tuple(_day(x) for x in sorted(flagged))
    name = f.tp(i).name
    where = f" on {key} {value}" if key else ""
    segment = ((key, value),) if key else ()
    evidence = [
        f"in the weeks of {', '.join(weeks)}, {_pct(kf / nf)} of {int(nf):,} people{where} "
        f"never went on to {f.goal}, against {_pct(ku / nu)} in the other weeks "
        f"(z = {z_two(kf, nf, ku, nu):.1f})",
    ]
    title = (
        f"{name}{where}: drop-off {_pct(kf / nf)} in {len(weeks)} week(s) (else {_pct(ku / nu)})"
    )
    share = nf / float(f.cells.loc[i].people) if i in f.cells.index else 1.0
    return f.drop_pain(
        "segment", i, title, kf, nf, ku, nu, evidence, segment=segment, weeks=weeks, share=share
    )


def _segment_pain(
    f: _Finder,
    i: int,
    key: str,
    value: str,
    k1: float,
    n1: float,
    k0: float,
    n0: float,
    weekly: pd.DataFrame,
) -> PainPoint | None:
    zz, excess = z_two(k1, n1, k0, n0), k1 / n1 - k0 / n0
    if zz < f.z - 1 or excess <= 0:
        return None
    in_weeks = _week_pain(f, i, key, value, weekly, k1, n1)
    if in_weeks is not None:
        line = (
            f"over all weeks, {_pct(k1 / n1)} of {int(n1):,} people on {key} {value} never went "
            f"on to {f.goal}, against {_pct(k0 / n0)} on other values (z = {zz:.1f})"
        )
        from dataclasses import replace

        return replace(in_weeks, evidence=(*in_weeks.evidence, line))
    if zz < f.z or excess < 0.15:
        return None
    name = f.tp(i).name
    evidence = [
        f"{_pct(k1 / n1)} of {int(n1):,} people on {key} {value} never went on to {f.goal}, "
        f"against {_pct(k0 / n0)} of {int(n0):,} on other values (z = {zz:.1f})"
    ]
    title = f"{name} on {key} {value}: {_pct(k1 / n1)} drop off (others {_pct(k0 / n0)})"
    share = n1 / (n1 + n0)
    return f.drop_pain("segment", i, title, k1, n1, k0, n0, evidence, ((key, value),), (), share)


# --- contacts: waits and repeats ------------------------------------------------------------


def contacts(f: _Finder) -> list[PainPoint]:
    out = []
    b = f.m.breakdowns
    for key, bad, good, kind in (
        ("wait", "long", "short", "long_waits"),
        ("contacts", "repeat", "once", "repeat_contacts"),
    ):
        for tp, group in b[b.key == key].groupby("tp"):
            i = int(tp)  # type: ignore[call-overload]
            g = group.set_index("value")
            if bad not in g.index or good not in g.index:
                continue
            n1, c1 = float(g.loc[bad].people), float(g.loc[bad].converted)
            n0, c0 = float(g.loc[good].people), float(g.loc[good].converted)
            if n1 < 10 or n0 < 10:
                continue
            p = _contact_pain(f, i, kind, key, bad, n1, n1 - c1, n0, n0 - c0)  # type: ignore[arg-type]
            if p is not None:
                out.append(p)
    return out


def _contact_pain(
    f: _Finder,
    i: int,
    kind: PainKind,
    key: str,
    bad: str,
    n1: float,
    k1: float,
    n0: float,
    k0: float,
) -> PainPoint | None:
    name = f.tp(i).name
    zz = z_two(k1, n1, k0, n0)
    thr = f.plan.spec.settings.long_wait_seconds
    what = f"waited {thr:g} s or more" if kind == "long_waits" else "got in touch twice or more"
    lines = [
        f"{int(n1):,} of {int(n1 + n0):,} people ({_pct(n1 / (n1 + n0))}) {what}; "
        f"{_pct(k1 / n1)} of them never went on to {f.goal}, against {_pct(k0 / n0)} "
        f"of the others (z = {zz:.1f})"
    ]
    from journeykit.journey.pain_feelings import emotion_pain, keywords_of

    a = f.answers
    if kind == "long_waits" and "long_wait" in a:
        here = a.emotion.notna() & (a.tp == i) & a.long_wait.notna()
        long, short = here & (a.long_wait == 1), here & (a.long_wait == 0)
        if long.sum() >= 5 and short.sum() >= 5:
            e1, e0 = a.emotion[long], a.emotion[short]
            t = welch(e1.mean(), e1.var(), len(e1), e0.mean(), e0.var(), len(e0))
            lines.append(
                f"emotion after a long wait {e1.mean():+.2f} ({len(e1)} answers), after a "
                f"short one {e0.mean():+.2f} ({len(e0)}) (t = {t:.1f})"
            )
            words = keywords_of(f, long & a.negative, short)
            if words:
                lines.append("comments after long waits mention: " + ", ".join(words))
            if zz < f.z and t <= -f.z:
                share = n1 / (n1 + n0)
                title = f"{name}: long waits ({_pct(share)} of people) sour the mood"
                if zz >= 1.96 and k1 / n1 > k0 / n0:
                    # the conversion gap is real enough to count the people lost directly
                    return f.drop_pain(
                        kind, i, title, k1, n1, k0, n0, lines, ((key, bad),), (), share
                    )
                return emotion_pain(f, kind, i, title, long, short, lines)
    if zz < f.z or k1 / n1 - k0 / n0 < 0.1:
        return None
    title = (
        f"{name}: long waits ({_pct(n1 / (n1 + n0))} of people) cut conversion"
        if kind == "long_waits"
        else f"{name}: repeat contacts ({_pct(n1 / (n1 + n0))} of people)"
    )
    share = n1 / (n1 + n0)
    return f.drop_pain(kind, i, title, k1, n1, k0, n0, lines, ((key, bad),), (), share)
