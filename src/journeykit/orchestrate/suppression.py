"""The global suppression list: people and addresses no automation may message.

A person lands on the list when they unsubscribe (an event named in
``EngineSettings.suppress_events``, or :func:`suppress`) or are erased; an e-mail address can be
listed on its own (a bounce, a complaint). The list is checked by the dispatcher at send time,
inside the transaction that claims a message, so a message queued or held before the person
was listed is never sent: it ends as ``suppressed`` with the reason. Listing a person also
cancels their messages that are still waiting in the outbox.

The list keeps a hash of each id or address (SHA-256), not the value itself, so it can outlive
an erasure without keeping the erased identifier.

>>> subject_key("address", " Ann@Example.org ") == subject_key("address", "ann@example.org")
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .clock import SystemClock
from .state import StateStore, journeys_t, outbox_t, profiles_t, suppressions_t, timers_t

Kind = Literal["person", "address"]


def subject_key(kind: Kind, value: str) -> str:
    """The stored form of a person id or an address (addresses compare without case).

    >>> len(subject_key("person", "p_1"))
    64
    """
    norm = value.strip().lower() if kind == "address" else value
    return hashlib.sha256(f"{kind}\x1f{norm}".encode()).hexdigest()


def _store(state: StateStore | str) -> StateStore:
    return state if isinstance(state, StateStore) else StateStore(state)


def rows(
    *,
    person_id: str | None,
    address: str | None,
    channel: str,
    reason: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """The suppression rows for a person and/or an address."""
    out = []
    if person_id:
        out.append(("person", person_id))
    if address:
        out.append(("address", address))
    return [
        {
            "subject": subject_key(kind, value),  # type: ignore[arg-type]
            "channel": channel,
            "kind": kind,
            "reason": reason,
            "created_at": now,
        }
        for kind, value in out
    ]


def cancel_pending(conn: Connection, person_id: str, channel: str, reason: str) -> int:
    """Cancel a person's messages that are not sent yet (``channel`` ``*`` = all but events)."""
    o = outbox_t.c
    q = (
        sa.update(outbox_t)
        .where(o.person_id == person_id, o.status == "pending", o.kind != "emit")
        .values(status="suppressed", last_error=reason)
    )
    if channel != "*":
        q = q.where(o.channel == channel)
    return conn.execute(q).rowcount or 0


def add(conn: Connection, store: StateStore, entries: list[dict[str, Any]]) -> None:
    """Insert suppression rows (a row already there keeps its first reason)."""
    if entries:
        conn.execute(store.insert_ignore(suppressions_t, ["subject", "channel"]), entries)


def suppress(
    state: StateStore | str,
    *,
    person_id: str | None = None,
    address: str | None = None,
    channel: str = "*",
    reason: str = "unsubscribed",
    now: datetime | None = None,
) -> int:
    """Put a person and/or an address on the suppression list; returns the messages cancelled.

    Args:
        state: the orchestration state (store or URL).
        person_id: the person (their waiting messages are cancelled at once).
        address: an e-mail address (checked against each e-mail's ``To`` at send time).
        channel: the channel they may no longer be reached on (``*``: every channel).
        reason: kept with the entry and on every message it stops.
        now: when (default: the wall clock).
    """
    if not person_id and not address:
        raise ValueError("suppress needs a person_id or an address")
    store = _store(state)
    when = now or SystemClock().now()
    entries = rows(person_id=person_id, address=address, channel=channel, reason=reason, now=when)

    def write(conn: Connection) -> int:
        add(conn, store, entries)
        if person_id:
            return cancel_pending(conn, person_id, channel, f"suppressed: {reason}")
        return 0

    return store.run(write)


def unsuppress(
    state: StateStore | str,
    *,
    person_id: str | None = None,
    address: str | None = None,
    channel: str = "*",
) -> int:
    """Take entries off the list (a person who subscribes again); returns the rows removed."""
    store = _store(state)
    keys = [
        subject_key(kind, value)  # type: ignore[arg-type]
        for kind, value in (("person", person_id), ("address", address))
        if value
    ]
    s = suppressions_t.c
    with store.begin() as conn:
        return (
            conn.execute(
                sa.delete(suppressions_t).where(s.subject.in_(keys), s.channel == channel)
            ).rowcount
            or 0
        )


def reasons(conn: Connection, subjects: Iterable[tuple[str, str | None, str]]) -> dict[int, str]:
    """Which of ``(person_id, address, channel)`` are suppressed, by position: the reason."""
    items = list(subjects)
    keys: set[str] = set()
    for person_id, address, _ in items:
        keys.add(subject_key("person", person_id))
        if address:
            keys.add(subject_key("address", address))
    if not keys:
        return {}
    s = suppressions_t.c
    found: dict[tuple[str, str], str] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        q = sa.select(s.subject, s.channel, s.kind, s.reason).where(
            s.subject.in_(ordered[start : start + 500])
        )
        for subject, channel, kind, reason in conn.execute(q):
            found[(subject, channel)] = f"{kind} {reason}"
    out: dict[int, str] = {}
    for i, (person_id, address, channel) in enumerate(items):
        candidates = [subject_key("person", person_id)]
        if address:
            candidates.append(subject_key("address", address))
        for key in candidates:
            why = found.get((key, "*")) or found.get((key, channel))
            if why:
                out[i] = f"suppressed ({why})"
                break
    return out


def is_suppressed(
    state: StateStore | str,
    *,
    person_id: str,
    address: str | None = None,
    channel: str = "*",
) -> str | None:
    """The reason a person (or address) may not be messaged on ``channel``, or None."""
    store = _store(state)
    with store.begin() as conn:
        return reasons(conn, [(person_id, address, channel)]).get(0)


def erase(
    state: StateStore | str, person_id: str, *, now: datetime | None = None
) -> dict[str, int]:
    """Erase a person from the orchestration state and keep them from being messaged again.

    In one transaction: the person goes on the suppression list (every channel, reason
    ``erased``), their unsent messages are stopped, the content of every message kept for them
    is removed, their running journeys end (``exited``, reason ``erased``) with their timers,
    the trigger events kept with their journeys are removed, and their profile loses its traits,
    tags, event counts and stage (it keeps only the numbering of their journeys). Journey rows stay, under the person id alone, so the measured figures
    do not change. Returns what was done, by table.
    """
    store = _store(state)
    when = now or SystemClock().now()
    entries = rows(person_id=person_id, address=None, channel="*", reason="erased", now=when)
    o, j, t = outbox_t.c, journeys_t.c, timers_t.c

    def write(conn: Connection) -> dict[str, int]:
        add(conn, store, entries)
        stopped = cancel_pending(conn, person_id, "*", "suppressed: erased")
        redacted = conn.execute(
            sa.update(outbox_t).where(o.person_id == person_id).values(payload="{}")
        ).rowcount
        timers = conn.execute(
            sa.update(timers_t)
            .where(t.person_id == person_id, t.status == "pending")
            .values(status="cancelled")
        ).rowcount
        ended = conn.execute(
            sa.update(journeys_t)
            .where(j.person_id == person_id, j.status == "waiting")
            .values(status="exited", exit_reason="erased", ended_at=when, updated_at=when)
        ).rowcount
        conn.execute(sa.update(journeys_t).where(j.person_id == person_id).values(context=None))
        # the profile keeps only its entry numbers (journey ids must stay unique)
        data = conn.execute(
            sa.select(profiles_t.c.data).where(profiles_t.c.person_id == person_id)
        ).scalar()
        profiles = 0
        if data is not None:
            kept = {"entries": json.loads(data).get("entries", {})}
            profiles = conn.execute(
                sa.update(profiles_t)
                .where(profiles_t.c.person_id == person_id)
                .values(data=json.dumps(kept), updated_at=when)
            ).rowcount
        return {
            "messages_stopped": stopped,
            "messages_redacted": redacted or 0,
            "timers_cancelled": timers or 0,
            "journeys_ended": ended or 0,
            "profiles_cleared": profiles or 0,
        }

    return store.run(write)
