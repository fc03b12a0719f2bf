"""``journeykit automations`` and ``journeykit orchestrate``: journeys that act."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from journeykit.cli.main import (
    CsvOpt,
    JsonOpt,
    WorkspaceOpt,
    app,
    console,
    given_workspace,
    open_ws,
    show_frame,
)

if TYPE_CHECKING:
    from journeykit.orchestrate.backtest import BacktestReport
    from journeykit.orchestrate.state import StateStore
    from journeykit.store import Store

auto_app = typer.Typer(
    help="Journey automations: validate, list, stats, backtest.", no_args_is_help=True
)
app.add_typer(auto_app, name="automations")

#: The variable naming the state; the same one ``OrchestrateSettings.from_env`` reads.
STATE_ENV = "JOURNEYKIT_ORCHESTRATE_STATE_URL"
StateOpt = Annotated[
    str | None,
    typer.Option(
        "--state",
        help="State database URL or SQLite file (default: orchestrate.sqlite in the workspace).",
        envvar=STATE_ENV,
    ),
]

#: The workspace whose state a read-only command reads (not required to exist with --state).
StateWorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace whose orchestrate.sqlite is read when --state is not given.",
        envvar="JOURNEYKIT_WORKSPACE",
        show_envvar=False,
    ),
]
#: The state of the default workspace (commands that take no workspace).
DEFAULT_STATE = "sqlite:///journeykit-data/orchestrate.sqlite"


def _folder(workspace: Path | None) -> Path:
    from journeykit.config import load_settings

    return Path(workspace or load_settings().store.workspace)


def state_url(state: str | None, workspace: Path | None) -> str:
    """The state named by --state or the environment, else orchestrate.sqlite in the workspace."""
    if state:
        return state
    return f"sqlite:///{_folder(workspace) / 'orchestrate.sqlite'}"


def existing_state(state: str | None, workspace: Path | None) -> StateStore:
    """The state for a command that only reads: never created when missing."""
    import sqlalchemy as sa

    from journeykit.errors import WorkspaceError
    from journeykit.orchestrate.state import StateStore, normalise_url

    if not state and not _folder(workspace).is_dir():
        raise WorkspaceError(
            f"no workspace at {_folder(workspace)} to find the orchestration state in: "
            f"give the workspace with --workspace, or the state with --state or {STATE_ENV}"
        )
    url = state_url(state, workspace)
    parsed = sa.engine.make_url(normalise_url(url))
    file = parsed.database
    if (
        parsed.get_backend_name() == "sqlite"
        and file
        and file != ":memory:"
        and not Path(file).is_file()
    ):
        raise WorkspaceError(
            f"No orchestration state at {file}: run `journeykit orchestrate` first, "
            f"or name the state with --state or {STATE_ENV}"
        )
    return StateStore(url, create=False)


def require_state(state: str) -> None:
    """Refuse a state that does not exist (a read must not create an empty one)."""
    existing_state(state, None).dispose()


@auto_app.command("validate")
def validate(
    path: Annotated[Path, typer.Argument(help="A YAML file or a folder of them.")],
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Also check event names, properties and traits against this workspace.",
            callback=given_workspace,
        ),
    ] = None,
) -> None:
    """Check automation files; errors name the line and the field. With --workspace, event
    names are checked against the data ("did you mean ...?")."""
    from journeykit.orchestrate.loader import read_file

    spec = read_file(path)
    automations = spec.automations
    findings = [] if workspace is None else _check_workspace(automations, workspace)
    for f in findings:
        colour = "red" if f.level == "error" else "yellow"
        console.print(f"[{colour}]{f.level}:[/{colour}] {escape(str(f).split(': ', 1)[1])}")
    errors = sum(f.level == "error" for f in findings)
    if errors:
        from journeykit.errors import InvalidSpec

        raise InvalidSpec(f"{errors} name(s) in {path} match nothing in the workspace (above)")
    for a in automations:
        console.print(f"[green]ok[/green] {a.id}: {len(a.steps)} steps")
    for cap in spec.caps:
        console.print(f"global cap: {cap.max} per {cap.per} on {cap.channel}")
    for channel, rate in spec.send_rates.items():
        console.print(f"send rate: {rate:g}/s on {channel}")
    for event, channel in spec.suppress_on.items():
        console.print(f"suppress on {event!r}: no more messages on {channel}")


def _check_workspace(automations: list[Any], workspace: Path) -> list[Any]:
    """Event names, properties and traits of ``automations`` against a workspace."""
    from journeykit.journey.spec_check import closest_names, event_names
    from journeykit.orchestrate.checks import check, mentions

    ws = open_ws(workspace)
    listened = sorted({n for a in automations for n in mentions(a).listened})
    properties: dict[str, set[str]] = {}
    if listened:
        marks = ", ".join("?" for _ in listened)
        for event, key in ws.store.fetchall(
            "SELECT DISTINCT event, k FROM (SELECT event, unnest(json_keys(properties)) AS k "
            f"FROM events WHERE event IN ({marks}) AND json_valid(properties))",
            listened,
        ):
            properties.setdefault(event, set()).add(key)
    traits = {
        r[0]
        for r in ws.store.fetchall(
            "SELECT DISTINCT k FROM (SELECT unnest(json_keys(traits)) AS k FROM people "
            "WHERE traits IS NOT NULL AND json_valid(traits))"
        )
    }
    return check(
        automations,
        events=event_names(ws),
        closest=lambda name, known: closest_names(name, known),
        properties=properties,
        traits=traits,
    )


@auto_app.command("list")
def list_(
    state: StateOpt = None,
    workspace: StateWorkspaceOpt = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Automations with people entered, waiting, completed, converted."""
    from journeykit.orchestrate import list_automations

    show_frame(list_automations(existing_state(state, workspace)), "automations")


@auto_app.command("stats")
def stats(
    automation: Annotated[str, typer.Argument(help="Automation id.")],
    state: StateOpt = None,
    workspace: StateWorkspaceOpt = None,
    confidence: Annotated[
        float, typer.Option(min=0.5, max=0.999, help="Level of the intervals.")
    ] = 0.95,
    method: Annotated[
        str, typer.Option(help="Uplift interval: newcombe, wald, agresti-caffo or score.")
    ] = "newcombe",
    since: Annotated[
        datetime | None, typer.Option(help="Count people whose first journey starts here.")
    ] = None,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """People per arm against the holdout: conversion, uplift with its interval, the funnel."""
    from journeykit.errors import InputError
    from journeykit.orchestrate.measure import METHODS, report

    if method not in METHODS:
        raise InputError(f"unknown method {method!r} (use {', '.join(METHODS)})", field="method")
    result = report(
        existing_state(state, workspace),
        automation,
        confidence=confidence,
        method=method,  # type: ignore[arg-type]
        since=since,
    )
    level = f"{confidence:.0%}"
    groups = result.groups.reset_index(drop=True)
    cols = ["arm", "entered", "converted", "conversion_rate", "rate_low", "rate_high"]
    cols += ["in_window", "journeys", "uplift", "uplift_low", "uplift_high"]
    shown = groups[cols].rename(
        columns={
            "entered": "people",
            "rate_low": f"rate {level} low",
            "rate_high": f"rate {level} high",
            "uplift_low": f"uplift {level} low",
            "uplift_high": f"uplift {level} high",
        }
    )
    show_frame(shown, f"{automation}: people by arm (each counted once, at first entry)")
    u = result.uplift
    if u is not None:
        console.print(
            f"uplift (treatment − holdout): {u.uplift * 100:+.1f} pts, {level} interval "
            f"[{u.low * 100:+.1f}, {u.high * 100:+.1f}] — {u.method_label} interval "
            f"(statsmodels), {u.treatment_people:,} treated vs {u.holdout_people:,} held-out people"
        )
    else:
        console.print(f"interval method: {result.method_label} at {level}")
    for warning in result.warnings:
        console.print(f"[yellow]Warning:[/yellow] {warning}")
    if len(result.funnel):
        show_frame(result.funnel, "per step (treated people reaching each step)")


def _when(text: str) -> datetime:
    from journeykit.errors import InputError
    from journeykit.orchestrate.clock import SystemClock, to_utc_naive

    if text.strip().lower() == "now":
        return SystemClock().now()
    try:
        return to_utc_naive(text)
    except ValueError:
        raise InputError(
            f"not a time: {text!r} (use 2026-09-01, 2026-09-01T10:00:00Z or now)", field="since"
        ) from None


@auto_app.command("backtest")
def backtest_(
    path: Annotated[Path, typer.Argument(help="Automation YAML file or folder.")],
    as_of: Annotated[str, typer.Option("--as-of", help="End of the replay (a date or time).")],
    workspace: WorkspaceOpt = None,
    lookback_days: Annotated[
        float, typer.Option(help="Days replayed before --as-of; earlier events build profiles.")
    ] = 28,
    people: Annotated[int, typer.Option(help="People listed per automation.")] = 20,
    json_: JsonOpt = False,
    csv_: CsvOpt = None,
) -> None:
    """Replay stored events: per step who would enter, what would be sent, conversions."""
    from journeykit.orchestrate.backtest import backtest
    from journeykit.orchestrate.engine import EngineSettings
    from journeykit.orchestrate.loader import read_file
    from journeykit.server.feed import backtest_events

    spec = read_file(path)
    end = _when(as_of)
    lookback = timedelta(days=lookback_days)
    ws = open_ws(workspace)
    try:
        events = backtest_events(ws.store, end - lookback, end)
    finally:
        ws.close()
    reports = backtest(
        spec.automations,
        events,
        as_of=end,
        lookback=lookback,
        settings=EngineSettings(global_caps=spec.caps, suppress_events=spec.suppress_on),
    )
    for r in reports:
        _show_backtest(r, people)


def _show_backtest(r: BacktestReport, people: int) -> None:
    import json

    import pandas as pd

    channels = ", ".join(f"{ch} {n}" for ch, n in r.by_channel) or "none"
    console.print(
        f"[bold]{r.automation_id}[/bold]: {r.start:%Y-%m-%d %H:%M} to {r.end:%Y-%m-%d %H:%M}\n"
        f"  entered {r.entered} ({r.treatment} treatment, {r.holdout} holdout), "
        f"{r.people} people treated\n"
        f"  messages {r.messages} ({channels}), capped {r.capped}, "
        f"{r.messages_per_person_per_week:.2f} per person per week\n"
        f"  goal reached by {r.converted} of {r.mature} entries whose window closed "
        f"({_pct(r.expected_conversion)}); expected conversions among entrants "
        f"{_num(r.expected_conversions)}",
        soft_wrap=True,
    )
    if r.steps:
        frame = pd.DataFrame([vars(s) for s in r.steps])
        show_frame(frame, f"{r.automation_id}: per step")
    if r.person_ids:
        shown = ", ".join(r.person_ids[:people])
        more = len(r.person_ids) - people
        console.print(f"  people: {shown}" + (f" … and {more} more" if more > 0 else ""))
    for sample in r.samples:
        body = sample.payload
        console.print(
            f"  [bold]sample {sample.step_id}[/bold] ({sample.channel}, {sample.person_id})"
        )
        if "subject" in body:
            console.print(f"    To: {body.get('to')}\n    Subject: {body.get('subject')}")
            if body.get("text"):
                console.print("    " + str(body["text"]).replace("\n", "\n    "), markup=False)
        else:
            console.print(f"    {body.get('method', 'POST')} {body.get('url')}", markup=False)
            console.print("    " + json.dumps(body.get("json"), default=str), markup=False)


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{x:.1%}"


def _num(x: float) -> str:
    return "n/a" if x != x else f"{x:.1f}"


def _parse_caps(values: list[str]) -> list[Any]:
    from journeykit.errors import InputError
    from journeykit.orchestrate.spec import Cap

    caps = []
    for text in values:
        channel, _, rest = text.partition(":")
        count, _, per = rest.partition("/")
        try:
            caps.append(
                Cap.model_validate(
                    {"channel": channel.strip() or "*", "max": int(count), "per": per.strip()}
                )
            )
        except ValueError:
            raise InputError(
                f"not a cap: {text!r} (use CHANNEL:MAX/PER, for example email:3/1d)", field="cap"
            ) from None
    return caps


def _parse_rates(values: list[str]) -> dict[str, float]:
    from journeykit.errors import InputError
    from journeykit.orchestrate.loader import parse_rate

    rates = {}
    for text in values:
        channel, _, rate = text.partition("=")
        try:
            rates[channel.strip() or "*"] = parse_rate(rate)
        except ValueError as exc:
            raise InputError(f"{exc} in {text!r} (use CHANNEL=RATE)", field="rate") from None
    return rates


@contextmanager
def _reading(folder: Path) -> Iterator[Store]:
    """The workspace's store, open only while it is read (loads may run in between)."""
    import journeykit

    ws = journeykit.open(folder)
    try:
        yield ws.store
    finally:
        ws.close()


@app.command()
def orchestrate(
    path: Annotated[Path, typer.Argument(help="Automation YAML file or folder.")],
    workspace: WorkspaceOpt = None,
    state: StateOpt = None,
    since: Annotated[
        str | None,
        typer.Option(help="Act on events from this time on (a date, a time or 'now')."),
    ] = None,
    follow: Annotated[bool, typer.Option(help="Keep running and act on new events.")] = False,
    replay: Annotated[
        bool, typer.Option(help="Act on waiting events older than --max-age, in event time.")
    ] = False,
    from_now: Annotated[
        bool, typer.Option(help="Only add waiting events to profiles; act on new ones.")
    ] = False,
    max_age: Annotated[
        str, typer.Option(help="Events older than this are not acted on without --replay.")
    ] = "1h",
    cap: Annotated[
        list[str] | None,
        typer.Option(help="Global frequency cap CHANNEL:MAX/PER (email:3/1d); repeatable."),
    ] = None,
    rate: Annotated[
        list[str] | None,
        typer.Option(help="Send rate CHANNEL=RATE (email=10/s); repeatable."),
    ] = None,
) -> None:
    """Act on new events of the workspace (and keep doing so with --follow).

    The first run builds profiles from the stored history and acts only on what arrives
    after it; later runs go on from where the last one stopped. Events older than --max-age
    are acted on only with --replay.
    """
    import signal

    from journeykit.errors import InputError
    from journeykit.orchestrate.clock import SystemClock
    from journeykit.orchestrate.engine import EngineSettings
    from journeykit.orchestrate.loader import read_file
    from journeykit.orchestrate.state import StateStore
    from journeykit.orchestrate.timeutil import parse_duration
    from journeykit.orchestrate.worker import OrchestrateSettings, run_worker
    from journeykit.server import feed

    if replay and from_now:
        raise InputError("choose one of --replay and --from-now", field="replay")
    spec = read_file(path)
    try:
        window = parse_duration(max_age)
    except ValueError as exc:
        raise InputError(str(exc), field="max-age") from None
    caps = (*spec.caps, *_parse_caps(cap or []))
    rates = {**spec.send_rates, **_parse_rates(rate or [])}
    settings = OrchestrateSettings.from_env()
    engine_settings = EngineSettings(
        global_caps=caps, batch_size=settings.batch_size, suppress_events=spec.suppress_on
    )
    folder = _folder(workspace)
    name = str(folder.resolve())
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        store = StateStore(state_url(state, workspace))
        with _reading(folder) as ws_store:
            plan = feed.start(
                ws_store,
                store,
                spec.automations,
                name,
                since=_when(since) if since else None,
                max_age=window,
                replay=replay,
                from_now=from_now,
                settings=engine_settings,
                now=SystemClock().now(),
                stop=stop,
            )
        if plan.stored is None:
            console.print("profiles built from the stored history; acting on new events")
        if plan.events:
            how = "added to profiles" if from_now else "replayed" if replay else "handled"
            console.print(f"{plan.events} waiting events of {plan.people} people {how}")
        source = feed.WorkspaceFeed(
            lambda: _reading(folder),
            store,
            name,
            plan.end or feed.ORIGIN,
            max_age=window,
            follow=follow,
        )
        result = run_worker(
            store,
            spec.automations,
            source,
            stop,
            settings=settings,
            engine_settings=engine_settings,
            stop_when_idle=not follow,
            rates=rates,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print(result)
    if source.too_old:
        console.print(f"{source.too_old} events older than {max_age} only updated profiles")


@app.command()
def alerts(
    workspace: WorkspaceOpt = None,
    event: Annotated[
        str | None,
        typer.Option(
            help="Event whose daily count is watched (default: each error event of the spec)."
        ),
    ] = None,
    days: Annotated[int, typer.Option(help="Days to scan.")] = 60,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """Scan a daily metric for values outside their expected range."""
    import dataclasses

    import pandas as pd

    from journeykit.errors import InputError
    from journeykit.monitor import Watch, scan

    ws = open_ws(workspace)
    if event is not None:
        events = [event]
    else:
        from journeykit.journey import current_spec

        spec = current_spec(ws)
        events = [e for tp in spec.all_touchpoints() if tp.kind == "error" for e in tp.events]
        if not events:
            raise InputError(
                "the journey spec has no touchpoint of kind error to watch; name one with --event",
                field="event",
            )
    frames = []
    for name in dict.fromkeys(events):
        daily = ws.store.df(
            "SELECT CAST(ts AS DATE) AS day, count(*) AS n FROM events WHERE event = ? "
            "GROUP BY 1 ORDER BY 1",
            [name],
        )
        series = pd.Series(daily["n"].to_numpy(), index=pd.to_datetime(daily["day"]))
        found = scan(series, Watch(metric=f"daily {name}", direction="high"))
        cutoff = series.index.max() - pd.Timedelta(days=days) if len(series) else None
        part = pd.DataFrame([dataclasses.asdict(a) for a in found])
        if not part.empty and cutoff is not None:
            part = part[pd.to_datetime(part["date"]) > cutoff]
        frames.append(part)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    event = ", ".join(dict.fromkeys(events))
    if frame.empty:
        console.print("no alerts")
    else:
        show_frame(frame, f"alerts on daily {event}")
