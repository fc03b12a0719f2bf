"""``journeykit automations preview | test-send | suppress``: the messages, before and after."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from journeykit.cli.main import console, given_workspace, open_ws
from journeykit.cli.orchestrate import DEFAULT_STATE, StateOpt, auto_app, require_state

if TYPE_CHECKING:
    from journeykit.orchestrate.preview import Rendered
    from journeykit.orchestrate.spec import Automation

FileOpt = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="Read the automation from this YAML (default: the state)."),
]
StepOpt = Annotated[str | None, typer.Option("--step", help="Only this step.")]
#: optional here: the person comes from the state unless a workspace is named
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Read the person from this workspace instead.",
        callback=given_workspace,
    ),
]


def _automation(automation_id: str, file: Path | None, state: str) -> Automation:
    from journeykit.errors import NotFound

    if file is not None:
        from journeykit.orchestrate import validate_file

        found = {a.id: a for a in validate_file(file)}
        if automation_id not in found:
            raise NotFound("automation", automation_id, sorted(found))
        return found[automation_id]
    from journeykit.orchestrate.measure import load_automation

    require_state(state)
    return load_automation(state, automation_id)


def _person(
    automation: Automation, person: str | None, state: str, workspace: Path | None
) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None, str]:
    """The person id, profile, trigger event and where they came from."""
    from journeykit.errors import NotFound
    from journeykit.orchestrate.preview import stored_person

    if person is None:
        return "test-person", None, None, "no person given: an empty profile"
    profile = trigger = None
    if workspace is None and state:
        require_state(state)
    if state and workspace is None:
        profile, trigger = stored_person(state, automation.id, person)
        if profile is None:
            raise NotFound("person in the orchestration state", person, [])
        return person, profile, trigger, f"profile from {state}"
    ws = open_ws(workspace)
    from journeykit.ingest.identity import resolve

    pid = resolve(ws.store, person)
    rows = ws.store.fetchall("SELECT traits FROM people WHERE person_id = ?", [pid])
    traits = json.loads(rows[0][0]) if rows and rows[0][0] else {}
    counts = dict(
        ws.store.fetchall(
            "SELECT event, count(*) FROM events WHERE person_id = ? GROUP BY 1", [pid]
        )
    )
    names = list(automation.trigger.event_names)
    if names:
        marks = ", ".join("?" for _ in names)
        last = ws.store.fetchall(
            "SELECT event, channel, ts, properties, revenue, event_id FROM events "
            f"WHERE person_id = ? AND event IN ({marks}) ORDER BY ts DESC LIMIT 1",
            [pid, *names],
        )
        if last:
            event, channel, ts, props, revenue, event_id = last[0]
            trigger = {
                "event": event,
                "channel": channel,
                "ts": ts,
                "properties": json.loads(props or "{}"),
                "revenue": revenue,
                "event_id": event_id,
            }
    profile = {"traits": traits, "counts": counts}
    return pid, profile, trigger, "profile from the workspace"


def _show(m: Rendered) -> None:
    console.print(f"[bold]{escape(m.step_id)}[/bold] ({m.kind}, channel {escape(m.channel)})")
    if m.error:
        console.print(f"  [red]{escape(m.error)}[/red]")
    if m.payload is None:
        return
    p = m.payload
    if m.kind == "email":
        for key in ("to", "from", "subject"):
            if p.get(key):
                console.print(f"  {key.title()}: {escape(str(p[key]))}")
        for key in ("text", "html"):
            if p.get(key):
                console.print(f"  --- {key} ---")
                console.print(escape(p[key]).rstrip(), soft_wrap=True)
    elif m.kind == "emit":
        console.print(f"  event {escape(p['event'])}: {escape(json.dumps(p['properties']))}")
    else:
        console.print(f"  {p.get('method', 'POST')} {escape(p['url'])}")
        console.print(escape(json.dumps(p.get("json"), indent=2, default=str)), soft_wrap=True)


@auto_app.command("preview")
def preview_(
    automation: Annotated[str, typer.Argument(help="Automation id.")],
    person: Annotated[str, typer.Option("--person", "-p", help="The person (id or identifier).")],
    state: StateOpt = DEFAULT_STATE,
    workspace: WorkspaceOpt = None,
    file: FileOpt = None,
    step: StepOpt = None,
) -> None:
    """Every message of an automation, rendered for one person; nothing is sent or stored."""
    from journeykit.orchestrate.preview import preview

    state = state or DEFAULT_STATE
    a = _automation(automation, file, state)
    pid, profile, trigger, source = _person(a, person, state, workspace)
    what = f"trigger {trigger['event']!r}" if trigger else "no trigger event"
    console.print(f"[dim]{escape(pid)}: {escape(source)}, {escape(what)}[/dim]")
    messages = preview(a, pid, profile=profile, trigger=trigger, step=step)
    if not messages:
        console.print("this automation sends no messages")
    for m in messages:
        _show(m)


@auto_app.command("test-send")
def test_send_(
    automation: Annotated[str, typer.Argument(help="Automation id.")],
    to: Annotated[str, typer.Option("--to", help="Send the e-mails here.")],
    person: Annotated[
        str | None, typer.Option("--person", "-p", help="Render for this person.")
    ] = None,
    webhook_url: Annotated[
        str | None, typer.Option("--webhook-url", help="Send webhooks and CRM tasks here.")
    ] = None,
    state: StateOpt = DEFAULT_STATE,
    workspace: WorkspaceOpt = None,
    file: FileOpt = None,
    step: StepOpt = None,
) -> None:
    """Send an automation's messages to a test address (SMTP from JOURNEYKIT_ORCHESTRATE_*)."""
    from journeykit.errors import InputError
    from journeykit.orchestrate.preview import preview, send_test
    from journeykit.orchestrate.worker import OrchestrateSettings, default_transports

    if "@" not in to:
        raise InputError(f"not an e-mail address: {to!r}", field="to")
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise InputError(f"not an http(s) URL: {webhook_url!r}", field="webhook-url")
    state = state or DEFAULT_STATE
    a = _automation(automation, file, state)
    pid, profile, trigger, _ = _person(a, person, state, workspace)
    messages = preview(a, pid, profile=profile, trigger=trigger, step=step)
    transports = default_transports(OrchestrateSettings.from_env())
    try:
        outcomes = send_test(
            messages,
            to=to,
            email=transports["email"],
            webhook_url=webhook_url,
            webhook=transports["webhook"],
            automation_id=a.id,
            person_id=pid,
        )
    finally:
        for t in {id(t): t for t in transports.values()}.values():
            close = getattr(t, "close", None)
            if close is not None:
                close()
    for step_id, outcome in outcomes:
        console.print(f"{escape(step_id)}: {escape(outcome)}")
    if any(o.startswith(("failed", "not sent")) for _, o in outcomes):
        raise typer.Exit(1)


@auto_app.command("suppress")
def suppress_(
    person: Annotated[str | None, typer.Option("--person", "-p", help="Person id.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="E-mail address.")] = None,
    channel: Annotated[str, typer.Option(help="Channel closed to them (* = all).")] = "*",
    reason: Annotated[str, typer.Option(help="Why (kept with the entry).")] = "unsubscribed",
    remove: Annotated[bool, typer.Option("--remove", help="Take them off the list.")] = False,
    state: StateOpt = DEFAULT_STATE,
) -> None:
    """Put a person or an address on the global suppression list (or take them off)."""
    from journeykit.errors import InputError
    from journeykit.orchestrate.suppression import suppress, unsuppress

    state = state or DEFAULT_STATE
    if not person and not address:
        raise InputError("give --person or --address", field="person")
    if remove:
        require_state(state)
        n = unsuppress(state, person_id=person, address=address, channel=channel)
        console.print(f"removed {n} entr{'y' if n == 1 else 'ies'}")
        return
    cancelled = suppress(state, person_id=person, address=address, channel=channel, reason=reason)
    console.print(f"suppressed on {channel}; {cancelled} unsent message(s) cancelled")


@auto_app.command("erase")
def erase_(
    person: Annotated[str, typer.Argument(help="Person id.")],
    state: StateOpt = DEFAULT_STATE,
) -> None:
    """Erase a person from the orchestration state; they are never messaged again."""
    from journeykit.orchestrate.suppression import erase

    state = state or DEFAULT_STATE
    require_state(state)
    done = erase(state, person)
    console.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in done.items()))


def erase_from_state(
    state: str | None, workspace: Path | None, person_id: str, identifiers: list[str]
) -> str:
    """After a workspace erasure: erase the person from the orchestration state too, and put
    their e-mail addresses on the suppression list (as hashes). Says what was done."""
    import os

    from journeykit.cli.orchestrate import STATE_ENV, state_url
    from journeykit.orchestrate.state import normalise_url
    from journeykit.orchestrate.suppression import erase, suppress

    state = state or os.environ.get(STATE_ENV) or None
    url = normalise_url(state_url(state, workspace))
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return f"no orchestration state at {url.removeprefix('sqlite:///')}: nothing to erase there"
    done = erase(url, person_id)
    addresses = [i.split(":", 1)[1] for i in identifiers if i.startswith("email:")]
    for address in addresses:
        suppress(url, address=address, reason="erased")
    return (
        f"orchestration state: {done['messages_stopped']} unsent message(s) stopped, "
        f"{done['journeys_ended']} journey(s) ended, profile cleared, "
        f"suppressed with {len(addresses)} address(es)"
    )
