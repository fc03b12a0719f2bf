"""The map's tables, shaped from the measures: touchpoints, stages, KPIs, actions, breakdowns.

Column meanings are in :mod:`journeykit.journey.model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from journeykit.journey.measure import ALL, ALL_PERIODS, Measures

if TYPE_CHECKING:
    import pandas as pd


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b > 0)).astype(float)


def touchpoint_table(m: Measures, emotions: pd.DataFrame) -> pd.DataFrame:
    """One row per persona, period and touchpoint."""
    plan = m.plan
    c = m.cells.copy()
    c["touchpoint"] = [plan.touchpoints[i].name for i in c.tp]
    c["kind"] = [plan.touchpoints[i].kind for i in c.tp]
    c["stage_index"] = [plan.tp_stage[i] for i in c.tp]
    c["stage"] = [plan.stages[s] for s in c.stage_index]
    c["conversion"] = _ratio(c.converted, c.people)
    c["drop_off"] = 1 - c["conversion"]
    c["next_stage"] = _ratio(c.to_next, c.people)
    last = len(plan.stages) - 1
    c.loc[c.stage_index == last, "next_stage"] = np.nan  # no stage after the last
    c["repeat_rate"] = _ratio(c.repeat, c.people)
    c["long_wait"] = _ratio(c.long_wait, c.waited)
    e = emotions.rename(columns={"negative": "negative_share"})
    keep = ["persona", "period", "tp", "answers", "emotion", "score_emotion", "comment_emotion",
            "negative_share", "ces"]  # fmt: skip
    c = c.merge(e[keep], on=["persona", "period", "tp"], how="left") if len(e) else c
    for col in ("answers", "emotion", "score_emotion", "comment_emotion", "negative_share", "ces"):
        if col not in c:
            c[col] = np.nan
    c["answers"] = c["answers"].fillna(0).astype("int64")
    waits = m.waits.set_index("tp")
    c["median_wait"] = c.tp.map(waits["median_wait"]) if len(waits) else np.nan
    mix = _channel_mix(m)
    c["channel"] = c.tp.map(lambda i: mix.get(i, ("", ""))[0])
    c["channel_mix"] = c.tp.map(lambda i: mix.get(i, ("", ""))[1])
    cols = ["persona", "period", "stage", "stage_index", "touchpoint", "kind", "people", "events",
            "conversion", "drop_off", "next_stage", "hours_next", "emotion", "answers",
            "negative_share", "score_emotion", "comment_emotion", "ces", "repeat_rate",
            "long_wait", "median_wait", "channel", "channel_mix", "tp"]  # fmt: skip
    order = {tp.name: i for i, tp in enumerate(plan.touchpoints)}
    out = c[cols].rename(columns={"negative_share": "negative"})
    out = out.assign(_o=out.touchpoint.map(order)).sort_values(["persona", "period", "_o"])
    return out.drop(columns=["_o", "tp"]).reset_index(drop=True)


def _channel_mix(m: Measures) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    ch = m.channels[m.channels.events > 0]
    for tp, group in ch.groupby("tp"):
        g = group.sort_values("events", ascending=False)
        total = float(g.events.sum())
        parts = [f"{c if isinstance(c, str) else '(none)'} {100 * e / total:.0f}%"
                 for c, e in zip(g.channel, g.events, strict=True)]  # fmt: skip
        top = g.channel.iloc[0]
        out[int(tp)] = (top if isinstance(top, str) else "", ", ".join(parts[:4]))  # type: ignore[call-overload]
    return out


def stage_table(m: Measures, emotions: pd.DataFrame) -> pd.DataFrame:
    """One row per persona, period and stage."""
    plan = m.plan
    s = m.stages.copy()
    s["stage"] = [plan.stages[int(k)] for k in s.stage_index]
    s["conversion"] = _ratio(s.converted, s.people)
    s["next_stage"] = _ratio(s.to_next, s.people)
    s.loc[s.stage_index == len(plan.stages) - 1, "next_stage"] = np.nan
    if len(emotions):
        e = emotions.copy()
        e["stage_index"] = [plan.tp_stage[int(i)] for i in e.tp]
        e["_w"] = e.emotion * e.answers
        agg = e.groupby(["persona", "period", "stage_index"], as_index=False).agg(
            answers=("answers", "sum"), _w=("_w", "sum")
        )
        agg["emotion"] = agg._w / agg.answers.where(agg.answers > 0)
        s = s.merge(agg.drop(columns="_w"), on=["persona", "period", "stage_index"], how="left")
    else:
        s["answers"], s["emotion"] = 0, np.nan
    s["answers"] = s["answers"].fillna(0).astype("int64")
    cols = ["persona", "period", "stage", "stage_index", "people", "converted", "conversion",
            "next_stage", "emotion", "answers"]  # fmt: skip
    return s[cols].sort_values(["persona", "period", "stage_index"]).reset_index(drop=True)


def actions_table(m: Measures, top: int = 3) -> pd.DataFrame:
    """The commonest moves between touchpoints of the same stage (and into the next stage)."""
    import pandas as pd

    plan = m.plan
    stage_of = {tp.name: plan.stages[plan.tp_stage[i]] for i, tp in enumerate(plan.touchpoints)}
    mv = m.moves.groupby(["src", "dst"], as_index=False).n.sum()
    mv = mv[mv.src.isin(stage_of) & mv.dst.isin(stage_of) & (mv.src != mv.dst)]
    out_of = m.moves[m.moves.src.isin(stage_of)].groupby("src").n.sum()
    rows = []
    for stage in plan.stages:
        here = mv[mv.src.map(stage_of) == stage].sort_values(["n", "src"], ascending=[False, True])
        for r in here.head(top).itertuples(index=False):
            rows.append(
                {
                    "stage": stage,
                    "src": r.src,
                    "dst": r.dst,
                    "moves": int(r.n),
                    "share": float(r.n) / float(out_of.get(r.src, r.n)),
                }
            )
    return pd.DataFrame(rows, columns=["stage", "src", "dst", "moves", "share"])


def breakdown_table(m: Measures) -> pd.DataFrame:
    """Per touchpoint, breakdown key and value: people and conversion (mature touches)."""
    b = m.breakdowns.copy()
    b["touchpoint"] = [m.plan.touchpoints[int(i)].name for i in b.tp]
    b["conversion"] = _ratio(b.converted, b.people)
    b["value_per_person"] = _ratio(b.value_sum, b.people)
    cols = ["touchpoint", "key", "value", "people", "conversion", "value_per_person"]
    return b[cols].sort_values(["touchpoint", "key", "people"], ascending=[True, True, False])


def kpi_table(
    m: Measures,
    touchpoints: pd.DataFrame,
    stages: pd.DataFrame,
    answers: pd.DataFrame,
    time_in_stage: pd.DataFrame,
) -> pd.DataFrame:
    """The spec's KPIs, measured on everyone over the whole range."""
    import pandas as pd

    plan = m.plan
    tps = touchpoints[(touchpoints.persona == ALL) & (touchpoints.period == ALL_PERIODS)]
    tps = tps.set_index("touchpoint")
    st = stages[(stages.persona == ALL) & (stages.period == ALL_PERIODS)].set_index("stage")
    tis = time_in_stage.set_index("stage")
    rows = []
    for stage in plan.spec.normalised().stages:
        for k in stage.kpis:
            value = _kpi_value(m, k.metric, stage.name, k.touchpoint, tps, st, answers, tis)
            met = None
            if value is not None and k.target is not None:
                met = value >= k.target if k.higher_is_better else value <= k.target
            rows.append(
                {
                    "stage": stage.name,
                    "kpi": k.name,
                    "metric": k.metric,
                    "touchpoint": k.touchpoint,
                    "value": value,
                    "target": k.target,
                    "met": met,
                }
            )
    return pd.DataFrame(
        rows, columns=["stage", "kpi", "metric", "touchpoint", "value", "target", "met"]
    )


def _kpi_value(
    m: Measures,
    metric: str,
    stage: str,
    touchpoint: str | None,
    tps: pd.DataFrame,
    st: pd.DataFrame,
    answers: pd.DataFrame,
    tis: pd.DataFrame,
) -> float | None:
    plan = m.plan
    in_stage = [
        tp.name for i, tp in enumerate(plan.touchpoints) if plan.stages[plan.tp_stage[i]] == stage
    ]
    names = [touchpoint] if touchpoint else in_stage
    rows = tps.loc[[n for n in names if n in tps.index]]
    if metric in ("nps", "csat", "ces"):
        idx = [i for i, tp in enumerate(plan.touchpoints) if tp.name in names]
        a = answers[(answers.tp.isin(idx)) & (answers.survey == metric)]
        if a.empty and touchpoint is None:
            # a stage without answers about it: the survey over the whole journey
            a = answers[answers.survey == metric]
        scores = a.score.dropna()
        if scores.empty:
            return None
        if metric == "nps":
            return float(100 * ((scores >= 9).mean() - (scores <= 6).mean()))
        if metric == "csat":
            return float((scores >= 4).mean())
        return float(scores.mean())
    if (
        touchpoint is None
        and metric in ("people", "conversion", "next_stage", "drop_off")
        and stage in st.index
    ):
        r = st.loc[stage]
        return {
            "people": float(r.people),
            "conversion": _f(r.conversion),
            "next_stage": _f(r.next_stage),
            "drop_off": None if _f(r.conversion) is None else 1 - float(r.conversion),
        }[metric]
    if touchpoint is None and metric == "median_hours":
        return _f(tis.loc[stage].median_hours) if stage in tis.index else None
    if rows.empty:
        return None
    r = rows.iloc[0]
    simple = {
        "people": "people", "events": "events", "conversion": "conversion",
        "next_stage": "next_stage", "drop_off": "drop_off", "median_hours": "hours_next",
        "emotion": "emotion", "repeat_rate": "repeat_rate", "wait_seconds": "median_wait",
        "long_wait_share": "long_wait",
    }  # fmt: skip
    if metric in simple:
        return _f(r[simple[metric]])
    if metric == "revenue":
        c = m.cells[(m.cells.persona == ALL) & (m.cells.period == ALL_PERIODS)]
        idx = [i for i, tp in enumerate(plan.touchpoints) if tp.name in names]
        return float(c[c.tp.isin(idx)].value_sum.sum())
    return None


def _f(value: object) -> float | None:
    import math

    if value is None:
        return None
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f
