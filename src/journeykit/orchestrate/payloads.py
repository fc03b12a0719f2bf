"""What a message step sends: the payload rendered (and frozen) when the step is queued."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from journeykit.errors import InputError

from .runtime import Compiled, Journey
from .spec import CrmTaskAction, EmailAction, EmitAction, WebhookAction
from .templates import render_text, render_value


def build_payload(
    step: Any, scope: dict[str, Any], c: Compiled, j: Journey, step_id: str, key: str, now: datetime
) -> dict[str, Any]:
    """Render what a message step will send (frozen at queue time)."""
    envelope = {
        "automation_id": c.id,
        "journey_id": j.journey_id,
        "step_id": step_id,
        "person_id": j.person_id,
        "entry": j.entry,
        "idempotency_key": key,
    }
    if isinstance(step, WebhookAction):
        body = render_value(step.body, scope) if step.body is not None else None
        if body is None:
            body = {
                **envelope,
                "traits": scope["traits"],
                "event": {"event": scope["event"], "properties": scope["properties"]},
            }
        return {
            "url": render_text(step.url, scope),
            "method": step.method,
            "headers": dict(step.headers),
            "json": body,
        }
    if isinstance(step, CrmTaskAction):
        task = render_value(step.task, scope)
        if step.due_in is not None:
            task = {**task, "due_at": (now + step.due_in).isoformat() + "Z"}
        return {
            "url": render_text(step.url, scope),
            "method": "POST",
            "headers": dict(step.headers),
            "json": {**envelope, "type": "task", "task": task, "traits": scope["traits"]},
        }
    if isinstance(step, EmailAction):
        tpl = c.spec.templates[step.template] if step.template else step
        to = render_text(step.to, scope).strip()
        if not to or "@" not in to:
            raise InputError(f"no e-mail address for {j.person_id} (to = {step.to!r})")
        return {
            "to": to,
            "from": step.from_,
            "subject": render_text(tpl.subject or "", scope).replace("\n", " "),
            "text": render_text(tpl.text, scope) if tpl.text else None,
            "html": render_text(tpl.html, scope, escape_html=True) if tpl.html else None,
        }
    if isinstance(step, EmitAction):
        return {"event": step.event, "properties": render_value(step.properties, scope)}
    raise TypeError(f"not a message step: {type(step).__name__}")  # pragma: no cover
