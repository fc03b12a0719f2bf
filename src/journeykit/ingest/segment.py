"""Segment-spec messages (track, identify, page, screen, alias, group, batch) as events.

Field names follow the Segment spec: ``messageId``, ``anonymousId``, ``userId``, ``timestamp``,
``originalTimestamp``, ``sentAt``, ``receivedAt``, ``context``, ``properties``, ``traits``,
``previousId``, ``groupId``. Clock skew is corrected as Segment does:
``ts = receivedAt - (sentAt - originalTimestamp)`` when all three are known.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from journeykit.errors import InputError

if TYPE_CHECKING:
    from journeykit.ingest.load import LoadReport, Progress
    from journeykit.store import Workspace

MESSAGE_TYPES = ("track", "identify", "page", "screen", "alias", "group")
_CONTEXT_CHANNELS = {"browser": "web", "mobile": "app", "server": None}


def parse_time(value: Any, field: str) -> datetime | None:
    """An ISO-8601 string (or epoch seconds) as a naive UTC datetime; ``None`` if absent.

    >>> parse_time("2026-03-01T10:00:00+02:00", "timestamp")
    datetime.datetime(2026, 3, 1, 8, 0)
    """
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError) as exc:
            raise InputError(f"epoch time {value!r} is out of range", field=field) from exc
    if not isinstance(value, str):
        raise InputError(f"expected an ISO-8601 time, got {type(value).__name__}", field=field)
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        raise InputError(f"cannot parse time {value!r}", field=field) from exc
    return parsed


def event_time(message: dict[str, Any], received_at: datetime | None) -> datetime | None:
    """When the message's event happened, with Segment's clock-skew correction."""
    received = parse_time(message.get("receivedAt"), "receivedAt") or received_at
    sent = parse_time(message.get("sentAt"), "sentAt")
    original = parse_time(message.get("originalTimestamp"), "originalTimestamp")
    stamp = parse_time(message.get("timestamp"), "timestamp")
    if received is not None and sent is not None and (original or stamp) is not None:
        return received - (sent - (original or stamp))  # type: ignore[operator]
    return stamp or original or received


def _obj(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"must be a JSON object, got {type(value).__name__}", field=key)
    return value


def _str(message: dict[str, Any], key: str) -> str | None:
    value = message.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"must be a string, got {type(value).__name__}", field=key)
    return str(value)


def message_to_row(message: Any, received_at: datetime | None = None) -> dict[str, Any]:
    """One Segment message as a row of the loader's raw input layout.

    Raises:
        InputError: with the field and the reason, for a message that cannot be an event.

    >>> row = message_to_row({"type": "track", "event": "signup", "userId": "u1",
    ...                       "timestamp": "2026-03-01T10:00:00Z", "messageId": "m1"})
    >>> row["event"], row["user_id"], row["event_id"]
    ('signup', 'u1', 'm1')
    """
    if not isinstance(message, dict):
        raise InputError("a message must be a JSON object", field="message")
    mtype = message.get("type", "track")
    if mtype not in MESSAGE_TYPES:
        raise InputError(
            f"unknown type {mtype!r}; expected one of {', '.join(MESSAGE_TYPES)}", field="type"
        )
    context = _obj(message, "context")
    properties = dict(_obj(message, "properties"))
    traits = dict(_obj(message, "traits")) or dict(_obj(context, "traits"))
    event = _str(message, "event")
    if mtype == "track" and not event:
        raise InputError("a track call needs an event name", field="event")
    if event and "\x00" in event:  # stored, it could never be named in a query
        raise InputError("an event name cannot hold a NUL character", field="event")
    if mtype in ("page", "screen"):
        name = _str(message, "name")
        if name:
            properties.setdefault("name", name)
        event = event or ("Page Viewed" if mtype == "page" else "Screen Viewed")
    other: dict[str, str] = {}
    if mtype == "identify":
        properties = {"traits": traits} if traits else {}
    if mtype == "alias":
        previous = _str(message, "previousId")
        if not previous:
            raise InputError("an alias call needs previousId", field="previousId")
        if not _str(message, "userId"):
            raise InputError("an alias call needs userId", field="userId")
        other["previous_id"] = previous
    if mtype == "group":
        group = _str(message, "groupId")
        if not group:
            raise InputError("a group call needs groupId", field="groupId")
        properties = {"group_id": group, "traits": traits}
    anonymous = _str(message, "anonymousId")
    user = _str(message, "userId")
    email = traits.get("email") if isinstance(traits.get("email"), str) else None
    phone = traits.get("phone") if isinstance(traits.get("phone"), str | int) else None
    if not (anonymous or user or other or email or phone):
        raise InputError("a message needs userId or anonymousId", field="userId")
    ts = event_time(message, received_at)
    if ts is None:
        raise InputError("no timestamp and no receivedAt", field="timestamp")
    channel = _str(message, "channel") or properties.get("channel")
    if not channel and isinstance(context.get("channel"), str) and context["channel"].strip():
        # Segment's own libraries say browser / mobile / server; anything else is a channel name
        said = context["channel"].strip().lower()
        channel = _CONTEXT_CHANNELS.get(said, said)
    if isinstance(context.get("page"), dict) and not channel:
        channel = "web"
    revenue = properties.get("revenue", properties.get("total"))
    if revenue is not None and (isinstance(revenue, bool) or not isinstance(revenue, int | float)):
        raise InputError("must be a number", field="properties.revenue")
    device: dict[str, Any] = context["device"] if isinstance(context.get("device"), dict) else {}
    row: dict[str, Any] = {
        "event_id": _str(message, "messageId"),
        "ts": ts.isoformat(),
        "received_at": (
            parse_time(message.get("receivedAt"), "receivedAt") or received_at or ts
        ).isoformat(),
        "type": mtype,
        "event": event,
        "channel": channel,
        "anonymous_id": anonymous,
        "user_id": user,
        "email": email,
        "phone": str(phone) if phone is not None else None,
        "crm_id": str(traits["crm_id"]) if traits.get("crm_id") is not None else None,
        "device_id": str(device["id"]) if device.get("id") is not None else None,
        "other_ids": json.dumps(other) if other else None,
        "properties": _properties_json(properties),
        "revenue": None if revenue is None else str(revenue),
        "source": "collector",
    }
    return row


def _properties_json(properties: dict[str, Any]) -> str:
    try:
        return json.dumps(properties, default=str, separators=(",", ":"))
    except RecursionError:
        raise InputError("nested too deeply to store as JSON", field="properties") from None
    except ValueError as exc:  # a circular reference (from Python callers)
        raise InputError(f"cannot be stored as JSON: {exc}", field="properties") from None


def _raw(message: Any) -> str | None:
    """A rejected message as text for the rejects table (cut to 500 characters)."""
    if message is None:
        return None
    try:
        return json.dumps(message, default=str)[:500]
    except (RecursionError, ValueError):
        return repr(message)[:500] if not isinstance(message, dict | list) else None


def flatten(payload: Any) -> list[Any]:
    """Messages of a payload: a ``{"batch": [...]}`` object (context merged in) or one message."""
    if isinstance(payload, dict) and "batch" in payload:
        batch = payload["batch"]
        if not isinstance(batch, list):
            raise InputError("batch must be a list of messages", field="batch")
        shared = payload.get("context") if isinstance(payload.get("context"), dict) else None
        out = []
        for item in batch:
            if shared and isinstance(item, dict):
                item = {**item, "context": {**shared, **(item.get("context") or {})}}
            out.append(item)
        return out
    if isinstance(payload, list):
        return payload
    return [payload]


def load_segment(
    ws: Workspace,
    messages: list[Any],
    *,
    received_at: datetime | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load Segment-spec messages; each bad message is refused with its 1-based position.

    >>> import journeykit, tempfile
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> msgs = [{"type": "identify", "userId": "u1", "anonymousId": "a1",
    ...          "traits": {"email": "A@B.io"}, "timestamp": "2026-03-01T10:00:00Z"},
    ...         {"type": "track", "userId": "u1"}]
    >>> report = load_segment(ws, msgs)
    >>> report.loaded, report.rejected, report.rejects[0].field
    (1, 1, 'event')
    """
    from journeykit.ingest.load import LoadReport, group_rejects, load
    from journeykit.ingest.readers import Reject

    received = received_at or datetime.now(UTC).replace(tzinfo=None)
    rows: list[dict[str, Any]] = []
    positions: list[int] = []
    rejects: list[Reject] = []
    for i, message in enumerate(flatten(messages) if not isinstance(messages, list) else messages):
        try:
            rows.append(message_to_row(message, received))
            positions.append(i + 1)
        except InputError as exc:
            rejects.append(Reject(i + 1, exc.field, exc.reason, _raw(message)))
    if not rows:
        return LoadReport(
            "",
            "segment",
            len(rejects),
            0,
            0,
            len(rejects),
            rejects,
            reject_groups=group_rejects(rejects),
        )
    report = load(ws, rows, source_name="collector", progress=progress)
    # the loader numbers rows among those handed to it; map back to message positions
    later = [
        Reject(positions[r.row - 1] if r.row else None, r.field, r.reason, r.raw)
        for r in report.rejects
    ]
    all_rejects = sorted(rejects + later, key=lambda r: r.row or 0)
    return LoadReport(
        load_id=report.load_id,
        source="segment",
        rows=len(rows) + len(rejects),
        loaded=report.loaded,
        duplicates=report.duplicates,
        rejected=len(rejects) + report.rejected,  # the report lists the first ones only
        rejects=all_rejects,
        notices=report.notices,
        merges=report.merges,
        rejects_file=report.rejects_file,
        already_stored=report.already_stored,
        earlier_loads=report.earlier_loads,
        repeated=report.repeated,
        reject_groups=group_rejects(all_rejects),
    )
