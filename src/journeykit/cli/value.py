"""Commands for customer value and cause: clv, attribution, drivers, churn, personas."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from journeykit.cli.main import (
    CsvOpt,
    JsonOpt,
    WorkspaceOpt,
    app,
    console,
    err,
    open_ws,
    show_frame,
)

if TYPE_CHECKING:
    from journeykit.cli.output import Kind


@app.command()
def clv(
    workspace: WorkspaceOpt = None,
    horizon: Annotated[float, typer.Option(help="Days ahead.")] = 365.0,
    by: Annotated[
        str | None,
        typer.Option(
            help="Segment by a driver feature, e.g. first_touch_search or tp_<touchpoint>."
        ),
    ] = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Predicted CLV per person (BG/NBD + Gamma-Gamma), overall or by segment."""
    from journeykit.analytics.value import (
        clv_by_segment,
        driver_features_from_workspace,
        predict_clv,
        predict_clv_by_segment,
        rfm_summary_from_workspace,
    )
    from journeykit.errors import InputError

    ws = open_ws(workspace)
    summary = rfm_summary_from_workspace(ws)
    if by:
        flags = driver_features_from_workspace(ws)
        if by not in flags.columns:
            raise InputError(
                f"unknown segment {by!r}; try one of {', '.join(flags.attrs['features'])}",
                field="by",
            )
        segments = flags[by].map(lambda v: f"{by}={int(v)}" if v == v else f"{by}=?")
        table = clv_by_segment(predict_clv_by_segment(summary, segments, horizon=horizon), segments)
    else:
        table = predict_clv(summary, horizon=horizon).sort_values("clv", ascending=False)
    show_frame(table.reset_index(), f"CLV over {horizon:g} days")


def _names(text: str | None) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]`` (``None`` stays ``None``)."""
    if text is None:
        return None
    return [n.strip() for n in text.split(",") if n.strip()]


@app.command()
def attribution(
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Workspace folder (default: $JOURNEYKIT_WORKSPACE or ./journeykit-data); "
            "it must exist unless --paths is given.",
            envvar="JOURNEYKIT_WORKSPACE",
            show_envvar=False,
        ),
    ] = None,
    lookback: Annotated[float, typer.Option(help="Lookback window in days.")] = 30.0,
    level: Annotated[str, typer.Option(help="channel or touchpoint.")] = "channel",
    metric: Annotated[str, typer.Option(help="conversions or revenue.")] = "conversions",
    touch_events: Annotated[
        str | None,
        typer.Option(help="Comma-separated touch events (default: the spec's marketing touches)."),
    ] = None,
    channel_field: Annotated[
        str | None,
        typer.Option(help="Where a touch's channel is: channel or properties.<key>."),
    ] = None,
    conversion_events: Annotated[
        str | None,
        typer.Option(help="Comma-separated conversion events (default: the spec's)."),
    ] = None,
    paths: Annotated[
        Path | None,
        typer.Option(
            "--paths",
            help='A CSV of aggregated paths ("search > email", conversions, value, nulls) '
            "instead of the workspace.",
        ),
    ] = None,
    path_column: Annotated[str, typer.Option(help="Path column of --paths.")] = "path",
    conversions_column: Annotated[
        str, typer.Option(help="Conversion-count column of --paths.")
    ] = "conversions",
    value_column: Annotated[
        str | None, typer.Option(help="Conversion-value column of --paths.")
    ] = None,
    nulls_column: Annotated[
        str | None, typer.Option(help="Non-converting count column of --paths.")
    ] = None,
    separator: Annotated[str, typer.Option(help="Channel separator in --paths.")] = ">",
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Every attribution model side by side (first, last, linear, decay, position, Markov, Shapley).

    Reads the workspace's touches and conversions (named by its journey spec, or by
    --touch-events, --channel-field and --conversion-events), or a table of paths (--paths).
    """
    import pandas as pd

    from journeykit.analytics.value import compare_models, paths_from_table, paths_from_workspace
    from journeykit.errors import InputError

    if paths is not None:
        try:
            table = pd.read_csv(paths)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {paths}: {exc}", field="paths") from exc
        built = paths_from_table(
            table,
            path_column=path_column,
            conversions_column=conversions_column,
            value_column=value_column,
            nulls_column=nulls_column,
            separator=separator,
        )
        title = f"attribution of {metric}, {paths.name}"
    else:
        built = paths_from_workspace(
            open_ws(workspace),
            lookback_days=lookback,
            touch_events=_names(touch_events),
            conversion_event=_names(conversion_events),
            channel_field=channel_field,
        )
        title = f"attribution of {metric}, {lookback:g}-day lookback"
    table = compare_models(built, level=level, metric=metric)  # type: ignore[arg-type]
    table = table.round(1)
    # the columns are models (``shapley_rate`` is one), each holding credited conversions or value
    credit: Kind = "money" if metric == "revenue" else "count"
    show_frame(table.reset_index(), title, kinds=dict.fromkeys(map(str, table.columns), credit))
    if built.unattributed:
        err.print(f"{built.unattributed:,g} conversions had no touch to credit")


@app.command()
def drivers(
    goal: Annotated[
        str,
        typer.Argument(help="converted, repeat_purchase, retained, promoter, nps, csat, revenue …"),
    ] = "repeat_purchase",
    workspace: WorkspaceOpt = None,
    flag: Annotated[
        list[str] | None,
        typer.Option(
            help="An extra 0/1 feature NAME=FILTER, e.g. "
            '\'welcome=event == "newsletter_sent" and properties.campaign == "welcome"\'.',
        ),
    ] = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Key driver analysis: which touchpoints, channels and experiences drive a goal.

    The features come from the workspace's journey spec: each touchpoint, the channels used,
    the first marketing touch's channel, support contacts and waits, messages received.
    """
    from journeykit.analytics.value import driver_features_from_workspace, key_drivers
    from journeykit.analytics.value.drivers import GOALS
    from journeykit.errors import InputError

    flags = {}
    for item in flag or []:
        if "=" not in item:
            raise InputError(f"expected NAME=FILTER, got {item!r}", field="flag")
        name, text = item.split("=", 1)
        flags[name.strip()] = text.strip()
    data = driver_features_from_workspace(open_ws(workspace), flags=flags)
    if goal not in GOALS:
        raise InputError(f"unknown goal {goal!r}; try one of {', '.join(GOALS)}", field="goal")
    features = list(data.attrs["features"])
    if goal in ("repeat_purchase", "retained"):
        data = data[data["converted"] == 1]  # among those who converted
    if goal == "converted":
        # what follows a conversion (a return, a review) cannot explain reaching it
        features = [f for f in features if f not in data.attrs["late"]]
    result = key_drivers(data.dropna(subset=[goal]), goal, features=features)
    cols = [
        c
        for c in ("label", "odds_ratio", "ci_low", "ci_high", "p_value", "importance", "direction")
        if c in result.drivers.columns
    ]
    show_frame(
        result.drivers[cols or list(result.drivers.columns)].reset_index(drop=True),
        f"drivers of {goal} ({result.kind}, n={result.n:,})",
        csv_frame=result.drivers.reset_index(),
    )
    console.print(result.summary)


@app.command()
def predict(
    target: Annotated[
        Literal["churn", "conversion"], typer.Argument(help="churn or conversion.")
    ] = "churn",
    workspace: WorkspaceOpt = None,
    window: Annotated[float, typer.Option(help="Days after the cutoff the label looks at.")] = 30.0,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Churn or conversion propensity per person, with AUC against a recency baseline."""
    from journeykit.analytics.value import propensity_from_workspace

    report = propensity_from_workspace(open_ws(workspace), target, window_days=window)  # type: ignore[arg-type]
    ev = report.evaluation
    console.print(
        f"{target}: AUC {ev.auc:.3f} (recency only {ev.baseline_auc:.3f}), "
        f"Brier {ev.brier:.3f} (recency only {ev.baseline_brier:.3f}), n={ev.n:,}"
    )
    show_frame(report.scores.reset_index(), f"{target} scores", limit=20)


@app.command()
def personas(workspace: WorkspaceOpt = None, json_: JsonOpt = False, csv: CsvOpt = None) -> None:
    """Behavioural personas from the data, with readable descriptions."""
    from journeykit.analytics.value import find_personas, persona_features_from_workspace

    result = find_personas(persona_features_from_workspace(open_ws(workspace)))
    for row in result.profiles.itertuples():
        console.print(f"[bold]{row.name}[/bold] — {row.description}")
    if json_ or csv is not None:  # the table of who is which persona
        show_frame(result.assignments.reset_index(), "persona of each person")
