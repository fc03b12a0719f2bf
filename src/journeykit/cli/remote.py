"""Reading a workspace through its running server, when ``journeykit serve`` holds it.

DuckDB lets one process open a database file for writing, and no other process read it
meanwhile. While ``journeykit serve`` runs, read commands ask the server instead: it says
where it listens in ``<workspace>/server.json``; the command makes itself an admin key for
the one call (in ``keys.sqlite``, which both may use at once: whoever can open the workspace
folder may manage its keys) and revokes it when done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeykit.errors import WorkspaceError

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from journeykit.store import Summary

#: The file ``journeykit serve`` writes into the workspace while it runs.
SERVER_FILE = "server.json"
KEY_NAME = "cli (while journeykit serve runs)"


def running_server(folder: Path) -> str | None:
    """The URL of the server holding the workspace at ``folder``, if one runs."""
    try:
        info = json.loads((Path(folder) / SERVER_FILE).read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)  # raises when that process is gone
        return str(info["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def server_client(folder: Path, held: WorkspaceError) -> Iterator[httpx.Client]:
    """A client of the server holding the workspace, with a key for this call only.

    Raises:
        WorkspaceError: ``held`` (why the workspace could not be opened) when no server of
            journeykit holds it.
    """
    import httpx

    from journeykit.server.keys import create_key, revoke_key

    url = running_server(folder)
    if url is None:
        raise held
    key = create_key(folder, "admin", KEY_NAME)
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300.0
        ) as client:
            yield client
    except httpx.HTTPError as exc:
        raise WorkspaceError(f"the server holding the workspace ({url}) failed: {exc}") from exc
    finally:
        revoke_key(folder, key.split("_", 2)[1])


def answer(response: httpx.Response) -> Any:
    """The JSON of a server's answer; its error, said as the CLI says errors, otherwise."""
    if response.status_code >= 400:
        from journeykit.errors import InputError

        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text
        raise InputError(str(message))
    return response.json()


def summary(client: httpx.Client) -> Summary:
    """The workspace summary, from the server."""
    import pandas as pd

    from journeykit.store import Summary

    data = answer(client.get("/v1/summary"))

    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value).replace(tzinfo=None) if value else None

    by_day = pd.DataFrame(data["by_day"], columns=["day", "events", "people"])
    by_day["day"] = pd.to_datetime(by_day["day"]).dt.date
    return Summary(
        people=data["people"],
        events=data["events"],
        identities=data["identities"],
        merges=data["merges"],
        first_event=when(data["first_event"]),
        last_event=when(data["last_event"]),
        rejects=data["rejects"],
        loads=data["loads"],
        by_channel=pd.DataFrame(data["by_channel"], columns=["channel", "events", "people"]),
        by_day=by_day,
        spend=data["spend"],
    )


def person(client: httpx.Client, identifier: str) -> tuple[str, list[str], pd.DataFrame]:
    """A person's id, identifiers and timeline (the columns of :func:`ingest.timeline`)."""
    import pandas as pd

    from journeykit.ingest.person import TIMELINE_COLUMNS

    export = answer(client.get("/v1/admin/people/export", params={"identifier": identifier}))
    frame = pd.DataFrame(export["events"])
    for col in TIMELINE_COLUMNS:
        if col not in frame:
            frame[col] = None
    frame = frame[TIMELINE_COLUMNS]
    frame["ts"] = pd.to_datetime(frame["ts"])
    frame["properties"] = [json.dumps(p) for p in frame["properties"]]
    return export["person_id"], [i["identifier"] for i in export["identities"]], frame


def export_text(client: httpx.Client, identifier: str) -> str:
    """A person's export as the server writes it (stored JSON as stored)."""
    response = client.get("/v1/admin/people/export", params={"identifier": identifier})
    if response.status_code >= 400:
        answer(response)
    return response.text
