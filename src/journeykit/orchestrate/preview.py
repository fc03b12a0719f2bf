"""Previews and test sends: every message of an automation, rendered for one person.

A preview renders each message step (e-mail, webhook, CRM task, emitted event) with the names
the engine would give it: the person's profile and the event that started their journey. It
runs no journey and writes nothing; a test send delivers the rendered e-mails to an address of
your choosing (``[test]`` in the subject) and webhooks to a URL of your choosing, with a fresh
idempotency key, outside the outbox.

>>> from journeykit.orchestrate.spec import Automation, Trigger
>>> a = Automation(id="cart", trigger=Trigger(event="Basket Saved"), steps=[
...     {"wait": "1h"},
...     {"action": "email", "subject": "{{ properties.total | currency('EUR') }} waiting",
...      "text": "Hi {{ traits.name }}"}])
>>> [m] = preview(a, "p1", profile={"traits": {"name": "Ann", "email": "a@x.org"}},
...               trigger={"event": "Basket Saved", "properties": {"total": 9.5}})
>>> m.payload["subject"], m.payload["text"]
('€9.50 waiting', 'Hi Ann')
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from journeykit.errors import InputError, NotFound, TerminalFailure, TransientFailure

from .batch import scope_of, trigger_context
from .clock import SystemClock, to_utc_naive
from .payloads import build_payload
from .runtime import Compiled, Journey, Profile, idempotency_key, is_message, journey_id
from .spec import Automation, EmailAction, EmitAction
from .state import StateStore, journeys_t, profiles_t
from .transports import OutboxMessage, Transport


@dataclass(frozen=True)
class Rendered:
    """One message step rendered for one person.

    Attributes:
        step_id: the step.
        kind: ``email``, ``webhook``, ``crm_task`` or ``emit``.
        channel: the step's channel.
        payload: what would be sent (None when it cannot be rendered; an e-mail without an
            address still shows its content, with ``to`` None).
        error: why it cannot be sent as is (the message would be dead-lettered).
    """

    step_id: str
    kind: str
    channel: str
    payload: dict[str, Any] | None
    error: str | None = None


def message_steps(automation: Automation) -> list[tuple[str, Any]]:
    """The steps of an automation that send something, in journey order."""
    return [
        (sid, step)
        for sid, step in automation.walk()
        if is_message(step) or isinstance(step, EmitAction)
    ]


def preview(
    automation: Automation,
    person_id: str,
    *,
    profile: Mapping[str, Any] | None = None,
    trigger: Mapping[str, Any] | None = None,
    step: str | None = None,
    now: datetime | None = None,
) -> list[Rendered]:
    """Render the messages of ``automation`` for one person.

    Args:
        automation: the automation.
        person_id: the person.
        profile: what is known of them: ``traits``, ``tags``, ``counts`` (events by name),
            ``stage`` (as :meth:`.Engine.profile` returns it).
        trigger: the event that started the journey (canonical layout).
        step: only this step.
        now: the time templates see (default: the clock).
    """
    known = message_steps(automation)
    if step is not None:
        known = [(sid, s) for sid, s in known if sid == step]
        if not known:
            raise NotFound("message step", step, [sid for sid, _ in message_steps(automation)])
    when = now or SystemClock().now()
    data = dict(profile or {})
    p = Profile(
        person_id,
        dict(data.get("traits") or {}),
        list(data.get("tags") or []),
        dict(data.get("counts") or {}),
        data.get("stage"),
    )
    c = Compiled(automation)
    ev = None
    if trigger:
        ev = dict(trigger)
        if ev.get("ts") is not None:
            ev["ts"] = to_utc_naive(ev["ts"])
    j = Journey(
        journey_id(c.id, person_id, 1),
        c.id,
        person_id,
        1,
        "treatment",
        "waiting",
        when,
        when,
        context=trigger_context(ev) if ev else None,
    )
    scope = scope_of(p, None, j, when)
    out = []
    for sid, s in known:
        kind = "emit" if isinstance(s, EmitAction) else str(s.action)
        channel = "events" if isinstance(s, EmitAction) else s.channel
        key = idempotency_key(c.id, person_id, 1, sid)
        try:
            out.append(Rendered(sid, kind, channel, build_payload(s, scope, c, j, sid, key, when)))
        except (InputError, TypeError, ValueError) as exc:
            error = f"cannot render the message: {exc}"
            payload = None
            if isinstance(s, EmailAction) and "no e-mail address" in str(exc):
                # show the content anyway: the address is what is missing
                with contextlib.suppress(InputError, TypeError, ValueError):
                    stand_in = s.model_copy(update={"to": "nobody@preview.invalid"})
                    payload = build_payload(stand_in, scope, c, j, sid, key, when)
                    payload["to"] = None
            out.append(Rendered(sid, kind, channel, payload, error))
    return out


def stored_person(
    state: StateStore | str, automation_id: str, person_id: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A person's profile in the orchestration state, and the trigger of their latest journey
    in ``automation_id`` (each None when unknown)."""
    store = state if isinstance(state, StateStore) else StateStore(state, create=False)
    j = journeys_t.c
    with store.begin() as conn:
        data = conn.execute(
            sa.select(profiles_t.c.data).where(profiles_t.c.person_id == person_id)
        ).scalar()
        context = conn.execute(
            sa.select(j.context)
            .where(j.automation_id == automation_id, j.person_id == person_id)
            .order_by(j.entry.desc())
            .limit(1)
        ).scalar()
    return (json.loads(data) if data else None, json.loads(context) if context else None)


def send_test(
    messages: list[Rendered],
    *,
    to: str | None = None,
    email: Transport | None = None,
    webhook_url: str | None = None,
    webhook: Transport | None = None,
    automation_id: str = "",
    person_id: str = "",
) -> list[tuple[str, str]]:
    """Send rendered messages for a test: e-mails to ``to`` (subject marked ``[test]``),
    webhooks and CRM tasks to ``webhook_url``. Returns ``(step_id, outcome)`` per message;
    nothing is recorded in the outbox."""
    outcomes = []
    for m in messages:
        if m.payload is None or (m.error and m.kind != "email"):
            outcomes.append((m.step_id, f"not sent: {m.error}"))
            continue
        payload = dict(m.payload)
        if m.kind == "email" and to and email is not None:
            payload.update(to=to, subject=f"[test] {payload.get('subject') or ''}")
            transport, target = email, to
        elif m.kind in ("webhook", "crm_task") and webhook_url and webhook is not None:
            payload["url"] = webhook_url
            transport, target = webhook, webhook_url
        else:
            outcomes.append((m.step_id, f"skipped ({m.kind}: no test target given)"))
            continue
        key = f"test-{uuid.uuid4().hex}"
        message = OutboxMessage(
            0, key, m.kind, m.channel, automation_id, "test", person_id, m.step_id, payload, 1
        )
        try:
            transport.send(message)
        except (TransientFailure, TerminalFailure) as exc:
            outcomes.append((m.step_id, f"failed: {exc}"))
            continue
        outcomes.append((m.step_id, f"sent to {target}"))
    return outcomes
