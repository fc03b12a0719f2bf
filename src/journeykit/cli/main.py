"""The ``journeykit`` command line.

Errors raised on purpose (:class:`journeykit.errors.JourneykitError`) are printed as
``Error: …`` and exit with status 1; ``--debug`` shows the traceback instead.
Heavy modules are imported inside the commands so ``journeykit --help`` stays instant.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console

from journeykit.errors import WorkspaceError

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress, TaskID

    from journeykit.cli.output import Kind
    from journeykit.ingest.load import LoadReport
    from journeykit.store import Workspace

app = typer.Typer(
    name="journeykit",
    help="Customer journeys end to end: collect, stitch, map, measure and act.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)
_state: dict[str, Any] = {"debug": False, "json": False, "csv": None, "tables": 0}


def require_workspace(value: Path | str | None) -> Path:
    """The workspace folder (the configured default when None); an error when it does not
    exist, since only ingest and demo make one."""
    from journeykit.config import load_settings
    from journeykit.errors import WorkspaceError

    target = str(value if value is not None else load_settings().store.workspace)
    if "://" not in target and not Path(target).is_dir():
        raise WorkspaceError(
            f"no workspace at {target}: give an existing workspace folder with --workspace, "
            f"or make one with `journeykit ingest FILE --workspace {target}` or "
            f"`journeykit demo --workspace {target}`"
        )
    return Path(target)


def given_workspace(value: Path | None) -> Path | None:
    """Refuse a ``--workspace`` folder that is named and does not exist. The default is
    checked when the command opens it, so usage errors are reported first."""
    if value is not None:
        require_workspace(value)
    return value


WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder (default: $JOURNEYKIT_WORKSPACE or ./journeykit-data); "
        "it must exist.",
        envvar="JOURNEYKIT_WORKSPACE",
        show_envvar=False,
        callback=given_workspace,
    ),
]
#: The workspace of a command that makes it when missing (ingest, demo).
NewWorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder, made when missing "
        "(default: $JOURNEYKIT_WORKSPACE or ./journeykit-data).",
        envvar="JOURNEYKIT_WORKSPACE",
        show_envvar=False,
    ),
]


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    # one invocation's output choices; runs before the command's own options are read
    _state.update(debug=debug, json=False, csv=None, tables=0, ws=None, currency=None)
    console.file = None  # type: ignore[assignment]  # back to stdout


def _want_json(value: bool) -> bool:
    if value:
        _state["json"] = True
        console.file = sys.stderr  # messages to stderr: stdout holds only the JSON
    return value


def _want_csv(value: Path | None) -> Path | None:
    _state["csv"] = value
    return value


#: ``--json``: tables as JSON on stdout, one line per table (``{"table": ..., "rows": [...]}``).
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print each table as one line of JSON ({table, rows}); messages go to stderr.",
        callback=_want_json,
    ),
]
#: ``--csv FILE``: every row of the table (more tables: FILE-<title>.csv beside it).
CsvOpt = Annotated[
    Path | None,
    typer.Option(
        "--csv",
        help="Write every row of the table to this CSV file (further tables beside it).",
        callback=_want_csv,
    ),
]


def _folder_of(path: Path | None) -> Path:
    """The workspace folder a command names (or the configured one)."""
    from journeykit.config import load_settings

    return Path(path or load_settings().store.workspace)


def open_ws(path: Path | None, *, create: bool = False) -> Workspace:
    """Open the workspace named on the command line; unless ``create``, it must exist."""
    import journeykit

    if not create:
        require_workspace(path)
    ws = journeykit.open(path)
    _state["ws"] = ws
    return ws


def _currency() -> str:
    """The currency symbol of the workspace's journey spec (none without a spec)."""
    if _state.get("currency") is None:
        symbol = ""
        ws = _state.get("ws")
        if ws is not None:
            try:
                from journeykit.journey.workspace_spec import find_spec

                spec = find_spec(ws)
                symbol = spec.currency_symbol if spec is not None else ""
            except Exception:  # a spec that cannot be read must not stop a table
                symbol = ""
        _state["currency"] = symbol
    return str(_state["currency"])


def warn_names(unknown: list[Any]) -> None:
    """Print one warning per name that matches no event (with the closest names)."""
    for item in unknown:
        err.print(f"[yellow]Warning:[/yellow] {item.message}", soft_wrap=True)


def show_frame(
    frame: pd.DataFrame,
    title: str | None = None,
    limit: int = 50,
    *,
    csv_frame: pd.DataFrame | None = None,
    kinds: Mapping[str, Kind] | None = None,
) -> None:
    """Show a table: readable units fitted to the terminal, or JSON with ``--json``.

    ``--csv`` gets every row (``csv_frame`` when the file should hold another shape of the same
    result); the terminal shows the first ``limit``. ``kinds`` says what a column's numbers
    are where its name does not (see :mod:`journeykit.cli.output`).
    """
    from journeykit.cli.output import frame_json, print_table

    index = int(_state.get("tables") or 0)
    _state["tables"] = index + 1
    target = _state.get("csv")
    if target is not None:
        path = Path(target)
        if index:
            slug = "-".join(re.findall(r"[a-z0-9]+", (title or str(index)).lower())) or str(index)
            path = path.with_name(f"{path.stem}-{slug}{path.suffix or '.csv'}")
        (csv_frame if csv_frame is not None else frame).to_csv(path, index=False)
        err.print(f"wrote {path}", highlight=False)
    if _state.get("json"):
        sys.stdout.write(frame_json(frame, title) + "\n")
        sys.stdout.flush()
        return
    print_table(console, frame, title, limit=limit, currency=_currency(), kinds=kinds)


def _advance(bar: Progress, task: TaskID, stage: str, fraction: float) -> None:
    """Move one file's progress bar (a load reports its stage and the fraction done)."""
    bar.update(task, completed=fraction, stage=stage)


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="CSV, TSV, Parquet or JSON Lines files.")],
    workspace: NewWorkspaceOpt = None,
    map_: Annotated[
        str | None,
        typer.Option("--map", help="Column mapping, e.g. ts=timestamp,person=customer_no"),
    ] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone of naive timestamps.")] = None,
    ts_format: Annotated[
        str | None,
        typer.Option(
            "--ts-format", help="Layout of the timestamps (strptime), e.g. '%d/%m/%Y %H:%M'."
        ),
    ] = None,
    dedupe_rows: Annotated[
        bool,
        typer.Option(
            "--dedupe-rows", help="Store identical rows once (default: every row is an event)."
        ),
    ] = False,
    fmt: Annotated[
        Literal["csv", "parquet", "jsonl"] | None,
        typer.Option("--format", help="csv, parquet or jsonl (default: from the file name)."),
    ] = None,
    spend: Annotated[
        bool, typer.Option(help="The files are ad spend (date, channel, campaign, amount).")
    ] = False,
) -> None:
    """Load events from files; bad rows are reported and every good row is kept.

    Exits 1 when a file cannot be read or every row of a file is refused.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from journeykit.errors import InputError
    from journeykit.ingest import load, load_spend
    from journeykit.ingest.stage import parse_mapping

    ws = open_ws(workspace, create=True)
    mapping = parse_mapping(map_)
    failed = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        for path in files:
            task = bar.add_task(path.name, total=1.0, stage="")
            try:
                if spend:
                    n = load_spend(ws, path)
                    console.print(f"[green]{path}[/green]: {n} spend rows")
                    continue
                report = load(
                    ws,
                    path,
                    mapping=mapping,
                    tz=tz,
                    fmt=fmt,
                    ts_format=ts_format,
                    dedupe_rows=dedupe_rows,
                    progress=functools.partial(_advance, bar, task),
                )
            except InputError as exc:
                failed += 1
                err.print(f"[red]Error:[/red] {path}: {exc}", soft_wrap=True, highlight=False)
                continue
            finally:
                bar.remove_task(task)
            failed += int(report.failed)
            show_load_report(path, report)
    if failed:
        raise typer.Exit(1)


def show_load_report(path: Path | str, report: LoadReport) -> None:
    """Print what one load did: counts, where repeats were stored before, rejects by reason."""
    colour = "red" if report.failed else "yellow" if report.rejected else "green"
    console.print(
        f"[{colour}]{path}[/{colour}]: {report.rows:,} rows, {report.loaded:,} loaded, "
        f"{report.already_stored:,} already stored, {report.rejected:,} rejected"
        + (f", {report.repeated:,} repeated in the file" if report.repeated else "")
        + (f", {report.merges:,} people merged" if report.merges else ""),
        highlight=False,
    )
    for earlier in report.earlier_loads:
        when = f"{earlier.finished_at:%Y-%m-%d %H:%M}" if earlier.finished_at else "?"
        by = (
            f"load {earlier.load_id} of {earlier.source} at {when}"
            if earlier.load_id
            else "a load made before loads were numbered"
        )
        console.print(f"  {earlier.rows:,} stored before by {by}", highlight=False)
    for notice in report.notices:
        console.print(f"  [dim]{notice}[/dim]", highlight=False)
    for group in report.reject_groups[:10]:
        rows = ", ".join(str(r) for r in group.rows)
        more = ", …" if group.count > len(group.rows) else ""
        console.print(
            f"  [yellow]{group.count:,} rejected[/yellow] {group.field or ''}: {group.reason} "
            f"(row{'s' if group.count > 1 else ''} {rows}{more})",
            highlight=False,
        )
    if len(report.reject_groups) > 10:
        console.print(f"  … {len(report.reject_groups) - 10} more reasons")
    if any(g.reason == "cannot parse timestamp" for g in report.reject_groups):
        console.print(
            "  give the timestamps' layout with --ts-format, e.g. --ts-format '%d/%m/%y %H:%M'",
            highlight=False,
            markup=False,
        )
    if report.failed:
        console.print(f"  [red]every row of {path} was refused[/red]", highlight=False)
    if report.rejects_file:
        console.print(f"  rejects written to {report.rejects_file}", highlight=False)


@app.command()
def summary(workspace: WorkspaceOpt = None, json_: JsonOpt = False, csv: CsvOpt = None) -> None:
    """What the workspace holds: people, events by channel and day, merges, rejects."""
    import pandas as pd

    try:
        s = open_ws(workspace).summary()
    except WorkspaceError as held:  # journeykit serve holds it: ask the server
        from journeykit.cli import remote

        with remote.server_client(_folder_of(workspace), held) as client:
            s = remote.summary(client)
    facts = pd.DataFrame(
        [
            ("people", s.people),
            ("events", s.events),
            ("identifiers", s.identities),
            ("merges", s.merges),
            ("first_event", s.first_event),
            ("last_event", s.last_event),
            ("rejected_rows", s.rejects),
            ("loads", s.loads),
            ("spend", s.spend),
        ],
        columns=["metric", "value"],
    )
    show_frame(facts, "workspace")
    if len(s.by_channel):
        show_frame(s.by_channel, "events by channel")
    if len(s.by_day):
        days = s.by_day
        if _state.get("json") or _state.get("csv"):
            show_frame(days, "events by day")
        else:
            console.print(
                f"events per day: min {days['events'].min():,}, "
                f"median {int(days['events'].median()):,}, max {days['events'].max():,} "
                f"over {len(days)} days"
            )


@app.command()
def person(
    identifier: Annotated[str, typer.Argument(help="Any identifier: e-mail, phone, user id, …")],
    workspace: WorkspaceOpt = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 200,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """One person's unified timeline across channels."""
    from journeykit.ingest import timeline
    from journeykit.ingest.identity import resolve

    try:
        ws = open_ws(workspace)
    except WorkspaceError as held:  # journeykit serve holds it: ask the server
        from journeykit.cli import remote

        with remote.server_client(_folder_of(workspace), held) as client:
            pid, idents, frame = remote.person(client, identifier)
    else:
        pid = resolve(ws.store, identifier)
        idents = [
            r[0]
            for r in ws.store.fetchall(
                "SELECT identifier FROM identities WHERE person_id = ? ORDER BY 1", [pid]
            )
        ]
        frame = timeline(ws, identifier)
    console.print(f"[bold]{pid}[/bold]  " + ", ".join(idents))
    show_frame(frame[["ts", "channel", "event", "revenue", "properties"]], limit=limit)


@app.command()
def forget(
    identifier: Annotated[str, typer.Argument(help="Any identifier of the person.")],
    workspace: WorkspaceOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="Orchestration state to erase them from too, and never message them again "
            "(default: $JOURNEYKIT_ORCHESTRATE_STATE_URL, else orchestrate.sqlite in the "
            "workspace).",
        ),
    ] = None,
) -> None:
    """Erase a person from every table (and say what was removed)."""
    from journeykit.ingest import forget as erase
    from journeykit.ingest.identity import resolve
    from journeykit.ingest.person import ForgetReport

    try:
        ws = open_ws(workspace)
    except WorkspaceError as held:  # journeykit serve holds it: the server erases
        from journeykit.cli import remote

        if not yes and not typer.confirm(f"Erase {identifier} and everything about them?"):
            raise typer.Exit(1) from None
        with remote.server_client(_folder_of(workspace), held) as client:
            done = remote.answer(
                client.post("/v1/admin/people/forget", json={"identifier": identifier})
            )
        report = ForgetReport(**done)
    else:
        pid = resolve(ws.store, identifier)
        if not yes and not typer.confirm(f"Erase {pid} and everything about them?"):
            raise typer.Exit(1)
        report = erase(ws, identifier)
    console.print(f"erased {report.person_id} ({len(report.identifiers)} identifiers)")
    for table, n in report.removed.items():
        console.print(f"  {table}: {n} rows removed")
    for path in report.files_rewritten:
        console.print(f"  rewrote {path}")
    from journeykit.cli.messages import erase_from_state

    console.print(erase_from_state(state, workspace, report.person_id, list(report.identifiers)))


@app.command("export-person")
def export_person(
    identifier: Annotated[str, typer.Argument(help="Any identifier of the person.")],
    workspace: WorkspaceOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File (default stdout).")] = None,
) -> None:
    """Write everything kept about a person as JSON."""
    from journeykit.ingest import export_person_json

    # stored JSON is written as stored: properties of any depth export
    try:
        ws = open_ws(workspace)
    except WorkspaceError as held:  # journeykit serve holds it: ask the server
        from journeykit.cli import remote

        with remote.server_client(_folder_of(workspace), held) as client:
            text = remote.export_text(client, identifier)
    else:
        text = export_person_json(ws, identifier, indent=2)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def merges(
    workspace: WorkspaceOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Include undone merges.")] = False,
    json_: JsonOpt = False,
    csv: CsvOpt = None,
) -> None:
    """The identity merge audit trail."""
    from journeykit.ingest import merges as audit

    frame = audit(open_ws(workspace), include_undone=all_)
    cols = ["merge_id", "merged_at", "a", "b", "merged_into"] + (["undone_at"] if all_ else [])
    show_frame(frame[cols], "merges (undo one with `journeykit unmerge MERGE_ID`)")


@app.command()
def unmerge(
    merge_id: Annotated[
        str, typer.Argument(help="A merge id (see `journeykit merges`) or link id.")
    ],
    workspace: WorkspaceOpt = None,
) -> None:
    """Undo a merge without losing events."""
    from journeykit.ingest import unmerge as undo

    people = undo(open_ws(workspace), merge_id)
    console.print(f"undone; the identifiers now belong to {', '.join(people)}")


@app.command()
def demo(
    workspace: NewWorkspaceOpt = None,
    people: Annotated[int | None, typer.Option(help="People to simulate.")] = None,
    events: Annotated[
        int | None, typer.Option(help="About this many events (sets people).")
    ] = None,
    days: Annotated[int, typer.Option(help="Days of history.")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    out: Annotated[
        Path | None, typer.Option(help="Where the generated files go (default WORKSPACE/demo).")
    ] = None,
    scenario: Annotated[
        str,
        typer.Option(help="retail (the omnichannel retailer) or bank (loans and credit cards)."),
    ] = "retail",
) -> None:
    """Generate a demo world (with planted truth) and load it into the workspace."""
    from journeykit.cli.demo import run_demo

    run_demo(
        open_ws(workspace, create=True),
        scenario=scenario,  # type: ignore[arg-type]  # checked by the generator
        people=people,
        events=events,
        days=days,
        seed=seed,
        out=out,
        console=console,
        err=err,
    )


def _click_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """Usage-error and abort classes of the click that typer uses, and of click itself.

    Typer (0.29 on) raises its own bundled copy of click's exceptions, which are not click's:
    catching only ``click.ClickException`` lets usage errors escape as tracebacks.
    """
    bundled = typer.BadParameter.__mro__
    usage = [c for c in bundled if c.__name__ == "ClickException"]
    aborts: list[type[BaseException]] = [typer.Abort]
    module = sys.modules.get(typer.BadParameter.__module__)
    if module is not None and hasattr(module, "Abort"):
        aborts.append(module.Abort)
    try:
        import click

        usage.append(click.ClickException)
        aborts.append(click.Abort)
    except ImportError:  # pragma: no cover - typer no longer needs click installed
        pass
    return tuple(usage), tuple(aborts)


def _one_line(exc: BaseException) -> str:
    """A usage error as one line: the reason, and where to read how the command is used."""
    message = " ".join(str(getattr(exc, "format_message", lambda: str(exc))()).split())
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return message
    names = []
    while getattr(ctx, "parent", None) is not None:  # the root's name is how it was started
        names.append(ctx.info_name)
        ctx = ctx.parent
    return f"{message} (see `{' '.join(['journeykit', *reversed(names)])} --help`)"


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning every error a user can cause into one line.

    Errors are printed as ``Error: ...`` on stderr, never as a traceback (``--debug`` shows
    it): usage errors (unknown option, bad value, missing argument) exit 2, journeykit errors
    and unexpected ones 1.
    """
    from journeykit.errors import JourneykitError

    usage, aborts = _click_errors()
    try:
        code = app(args=argv, standalone_mode=False)
    except JourneykitError as exc:
        if _state["debug"]:
            raise
        err.print(f"[red]Error:[/red] {exc}", soft_wrap=True, markup=True, highlight=False)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except aborts:
        err.print("Aborted.")
        sys.exit(1)
    except usage as exc:
        err.print(f"Error: {_one_line(exc)}", soft_wrap=True, markup=False, highlight=False)
        sys.exit(int(getattr(exc, "exit_code", 2)) or 2)
    except Exception as exc:  # a bug: say so in one line; --debug shows where
        if _state["debug"]:
            raise
        reason = " ".join(str(exc).split()) or "no message"
        err.print(
            f"Error: unexpected {type(exc).__name__}: {reason} (a journeykit bug; run with "
            "--debug for the traceback)",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


# the commands of the layers above ingest register themselves on ``app``
from journeykit.cli import commands  # noqa: E402, F401
