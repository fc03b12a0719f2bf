"""``journeykit serve`` and ``journeykit keys``: the collector, the API and the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from journeykit.cli.main import (
    CsvOpt,
    JsonOpt,
    WorkspaceOpt,
    app,
    console,
    require_workspace,
    show_frame,
)

keys_app = typer.Typer(help="API keys: write (collect), read (query), admin.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _folder(workspace):  # type: ignore[no-untyped-def]
    return require_workspace(workspace)


@app.command()
def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    dashboard_key: Annotated[
        bool,
        typer.Option(help="Make a read key for this session and print the dashboard URL with it."),
    ] = True,
    automations: Annotated[
        Path | None,
        typer.Option(help="Run these automations on the collected events (the live path)."),
    ] = None,
    replay: Annotated[
        bool, typer.Option(help="With --automations: act on old waiting events, in event time.")
    ] = False,
    from_now: Annotated[
        bool, typer.Option(help="With --automations: only add old waiting events to profiles.")
    ] = False,
) -> None:
    """Serve the Segment-compatible collector, the query API and the dashboard.

    The dashboard's read key lives as long as this session: it is revoked when the server
    stops, and any left by a session that did not stop cleanly are revoked when the next
    one starts (one process serves a workspace at a time).
    """
    from journeykit.server import serve as run
    from journeykit.server.keys import create_key
    from journeykit.server.settings import load_server_settings

    overrides: dict[str, Any] = {}
    if automations is not None:
        overrides = {
            "automations": str(automations),
            "orchestrate_replay": replay,
            "orchestrate_from_now": from_now,
        }
    settings = load_server_settings(**overrides)

    folder = _folder(workspace)
    url = f"http://{host}:{port}/"
    if dashboard_key:
        _revoke_session_keys(folder)
        key = create_key(folder, "read", SESSION_KEY)
        url += f"?key={key}"
    console.print(
        f"journeykit is serving {folder}\n  dashboard: [bold]{url}[/bold]\n"
        f"  API:       http://{host}:{port}/openapi.json",
        soft_wrap=True,
    )
    if not dashboard_key:
        run(folder, host=host, port=port, settings=settings)
        return
    import signal

    def on_term(signum: int, _frame: object) -> None:
        # uvicorn stops gracefully, then raises the signal again for the conventional exit
        # status: it lands here, after the server stopped
        signal.signal(signum, signal.SIG_DFL)
        _revoke_session_keys(folder)
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        run(folder, host=host, port=port, settings=settings)
    finally:
        _revoke_session_keys(folder)


#: The name of the read key ``serve`` makes for the dashboard link it prints.
SESSION_KEY = "dashboard (journeykit serve)"


def _revoke_session_keys(folder) -> None:  # type: ignore[no-untyped-def]
    from journeykit.server.keys import list_keys, revoke_key

    for key in list_keys(folder, include_revoked=False):
        if key.kind == "read" and key.name == SESSION_KEY:
            revoke_key(folder, key.key_id)


@keys_app.command("create")
def keys_create(
    kind: Annotated[str, typer.Argument(help="write, read or admin.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Make a key; it is shown once (only its hash is kept)."""
    from journeykit.server.keys import create_key

    console.print(create_key(_folder(workspace), kind, name or kind))


@keys_app.command("list")
def keys_list(workspace: WorkspaceOpt = None, json_: JsonOpt = False, csv: CsvOpt = None) -> None:
    """Keys with their kind, name and whether they are revoked."""
    import dataclasses

    import pandas as pd

    from journeykit.server.keys import list_keys

    rows = [dataclasses.asdict(k) for k in list_keys(_folder(workspace))]
    show_frame(pd.DataFrame(rows), "keys")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (see `journeykit keys list`).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Revoke a key at once."""
    from journeykit.server.keys import revoke_key

    key = revoke_key(_folder(workspace), key_id)
    console.print(f"revoked {key.key_id} ({key.kind}, {key.name})")
