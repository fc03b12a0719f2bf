"""Checking Segment-spec messages at receipt, and the spool record that carries them.

A request is checked once when it arrives, fast and with the same rules the loader applies
later (:func:`journeykit.ingest.segment.message_to_row` and the staging checks), so a message
that is acknowledged is a message the store will take. Good messages of a batch are kept
beside bad ones; each bad one is reported by its 0-based index.

The spool keeps the request body as received, behind a one-line header that records when it
arrived, which messages were refused, and the ids given to messages that came without one.
:func:`decode_record` rebuilds exactly the accepted messages from that record.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from journeykit.errors import InputError
from journeykit.ingest.segment import MESSAGE_TYPES, parse_time

#: The characters DuckDB's ``trim`` removes (Unicode space separators); staging trims with it.
_TRIM = "".join(
    chr(c) for c in (0x20, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)
)
_NON_ASCII_DIGITS = re.compile(r"[^0-9]")
_NULL_WORDS = ("nan", "none", "null")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
#: An event name with a NUL character could be stored but never named in a query.
NUL_IN_NAME = "an event name cannot hold a NUL character (\\u0000)"


@dataclass(frozen=True)
class MessageError:
    """One refused message: its 0-based index in the request, the field and the reason."""

    index: int
    field: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass
class Checked:
    """A request after checking: what to spool and what to report."""

    messages: int
    accepted: int
    errors: list[MessageError] = field(default_factory=list)
    assigned_ids: dict[int, str] = field(default_factory=dict)


#: How deep the objects and arrays of a message may nest (the message itself is level 1).
#: Deeper values cannot be written back as JSON by every reader of the store (pydantic
#: stops at about 250 levels, orjson at 255, the standard library near 1000).
MAX_DEPTH = 64


@dataclass(frozen=True)
class Bounds:
    """How far from the time of receipt an event's time may lie, and how deep it may nest."""

    max_future: timedelta
    max_past: timedelta
    max_depth: int = MAX_DEPTH


def too_deep(message: Any, limit: int = MAX_DEPTH) -> str | None:
    """The top-level field of ``message`` nested deeper than ``limit`` levels, or ``None``.

    Walks without recursion, so any depth the parser let through is measured safely. The
    message itself is level 1; a message that is too deep as a whole (not an object) is
    named ``message``.

    >>> too_deep({"properties": {"a": {"b": [1]}}}, limit=3)
    'properties'
    >>> too_deep({"properties": {"a": 1}}, limit=3) is None
    True
    """
    if message.__class__ is not dict:
        deeper = message.__class__ is list and _deeper(message, 1, limit)
        return "message" if deeper else None
    for key, value in message.items():
        if (value.__class__ is dict or value.__class__ is list) and _deeper(value, 2, limit):
            return str(key)
    return None


def _deeper(value: Any, level: int, limit: int) -> bool:
    stack = [(value, level)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if depth > limit:
            return True
        children = node.values() if node.__class__ is dict else node
        for child in children:
            cls = child.__class__
            if cls is dict or cls is list:
                push((child, depth + 1))
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


try:  # a faster parser when installed; it answers exactly as the standard one or not at all
    import orjson as _orjson
except ImportError:  # pragma: no cover - the standard library does the same, slower
    _orjson = None  # type: ignore[assignment]

# orjson reads integers beyond 64 bits as floats: bodies with 20 digits in a row go to the
# standard parser (found by mapping digits to "0" and the rest to " ": C speed, no regex)
_DIGIT_MASK = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_TWENTY = b"0" * 20


def parse_body(body: bytes) -> Any:
    """The JSON payload of a request body.

    Raises:
        InputError: the body is not UTF-8 JSON (``NaN``, ``Infinity`` and numbers beyond a
            double are refused too).
    """
    if not body.strip():
        raise InputError("the request body is empty; send a JSON object", field="body")
    if _orjson is not None and _TWENTY not in body.translate(_DIGIT_MASK):
        try:
            return _orjson.loads(body)
        except _orjson.JSONDecodeError:
            pass  # the standard parser finds the same fault and words it well
    try:
        return json.loads(
            body.decode("utf-8-sig"), parse_constant=_reject_constant, parse_float=_finite
        )
    except RecursionError:
        raise InputError("the JSON is nested too deeply", field="body") from None
    except UnicodeDecodeError:
        raise InputError("the body is not UTF-8 text", field="body") from None
    except ValueError as exc:
        raise InputError(f"malformed JSON: {exc}", field="body") from None


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite)
_BATCH_START = re.compile(r'[ \t\n\r]*\{[ \t\n\r]*"batch"[ \t\n\r]*:[ \t\n\r]*\[')
_WS = re.compile(r"[ \t\n\r]*")


def parse_batch(body: bytes) -> tuple[Any, list[int] | None]:
    """:func:`parse_body` for a batch, also giving each message's size in bytes as sent.

    The sizes come from decoding the messages one by one (when the body starts with
    ``{"batch": [``, as Segment's libraries send it); otherwise they are ``None``.

    Raises:
        InputError: as :func:`parse_body`.
    """
    try:
        text = body.decode("utf-8")
        found = _BATCH_START.match(text)
        if found is not None:
            return _split_batch(text, found.end(), ascii_only=body.isascii())
    except (ValueError, RecursionError, IndexError):
        pass  # the plain parser finds the error and says it well
    return parse_body(body), None


def read_payload(body: bytes, *, batch: bool) -> tuple[Any, list[int] | None]:
    """The payload of a collector request, and for a batch each message's size when known.

    With orjson installed the body is parsed whole (fast) and messages are measured later as
    compact JSON; without it a batch is split by :func:`parse_batch`, sizes as sent.
    """
    if batch and _orjson is None:
        return parse_batch(body)
    return parse_body(body), None


def _split_batch(text: str, pos: int, *, ascii_only: bool) -> tuple[Any, list[int] | None]:
    decode = _DECODER.raw_decode
    skip = _WS.match
    items: list[Any] = []
    sizes: list[int] = []
    pos = skip(text, pos).end()  # type: ignore[union-attr]
    if text[pos] == "]":
        pos += 1
    else:
        while True:
            item, end = decode(text, pos)
            items.append(item)
            sizes.append(end - pos if ascii_only else len(text[pos:end].encode()))
            pos = skip(text, end).end()  # type: ignore[union-attr]
            if text[pos] == ",":
                pos = skip(text, pos + 1).end()  # type: ignore[union-attr]
                continue
            if text[pos] != "]":
                raise ValueError("expected , or ]")
            pos += 1
            break
    rest = text[pos:].strip(" \t\n\r")
    if rest == "}":
        return {"batch": items}, sizes
    if not rest.startswith(","):
        raise ValueError("expected , or }")
    payload = json.loads("{" + rest[1:], parse_constant=_reject_constant)
    if not isinstance(payload, dict) or "batch" in payload:
        raise ValueError("a second batch key")  # JSON says the last one wins: parse it plainly
    payload["batch"] = items
    return payload, sizes


def expand(payload: Any, mtype: str | None) -> list[Any]:
    """The messages of a payload, as the endpoint means them.

    ``mtype`` is the endpoint's type (``track``, ...) or ``None`` for ``/v1/batch``. A single
    message takes the endpoint's type; batch items get the batch's ``context`` and ``sentAt``
    where they have none.

    Raises:
        InputError: the payload is not a JSON object, or a batch has no list of messages.
    """
    if not isinstance(payload, dict):
        raise InputError(
            f"the body must be a JSON object, got {_json_type(payload)}",
            field="body",
        )
    if mtype is not None:
        message = dict(payload)
        message.pop("writeKey", None)
        message["type"] = mtype
        return [message]
    batch = payload.get("batch")
    if not isinstance(batch, list):
        reason = "is missing" if batch is None else f"must be a list, got {_json_type(batch)}"
        raise InputError(f"batch {reason}", field="batch")
    shared = payload.get("context") if isinstance(payload.get("context"), dict) else None
    sent = payload.get("sentAt")
    out: list[Any] = []
    for item in batch:
        if isinstance(item, dict) and (shared or sent is not None):
            item = dict(item)
            if shared:
                own = item.get("context")
                item["context"] = {**shared, **own} if isinstance(own, dict) else (own or shared)
            if sent is not None and item.get("sentAt") is None:
                item["sentAt"] = sent
        out.append(item)
    return out


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _obj(message: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    value = message.get(key)
    if value is None:
        return _EMPTY
    if value.__class__ is not dict:
        raise InputError(f"must be a JSON object, got {_json_type(value)}", field=where + key)
    return value  # type: ignore[no-any-return]


_EMPTY: dict[str, Any] = {}


def _str(message: dict[str, Any], key: str) -> str | None:
    """A string field as message_to_row reads it: numbers become text, "" is absent."""
    value = message.get(key)
    if value is None or value == "":
        return None
    cls = value.__class__
    if cls is str:
        return value  # type: ignore[no-any-return]
    if cls is bool or not isinstance(value, str | int | float):
        raise InputError(f"must be a string, got {_json_type(value)}", field=key)
    return str(value)


def _present(value: Any) -> bool:
    """Whether staging sees a value: trimmed text that is neither empty nor 'null' or 'nan'."""
    if value is None:
        return False
    text = (value if value.__class__ is str else str(value)).strip(_TRIM)
    return bool(text) and text.lower() not in _NULL_WORDS


def _has_phone(value: Any) -> bool:
    if not _present(value):
        return False
    text = str(value).strip(_TRIM)
    digits = _NON_ASCII_DIGITS.sub("", text)
    if text.startswith("00"):
        digits = digits[2:]
    return bool(digits)


_fromiso = datetime.fromisoformat


def _time(value: Any, key: str, cache: dict[Any, datetime]) -> datetime | None:
    """``parse_time`` with a fast path for ISO strings and a cache (a batch shares sentAt)."""
    if value is None or value == "":
        return None
    if value.__class__ is str:
        hit = cache.get(value)
        if hit is not None:
            return hit
        try:
            parsed = _fromiso(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            offset = parsed.utcoffset()
            if offset is not None:
                try:
                    parsed = (parsed - offset).replace(tzinfo=None)
                except OverflowError:
                    raise InputError(f"time out of range: {value!r}", field=key) from None
            cache[value] = parsed
            return parsed
    try:
        return parse_time(value, key)
    except InputError:
        raise
    except (OverflowError, OSError, ValueError):
        raise InputError(f"time out of range: {value!r}", field=key) from None


def check_message(
    message: Any, received: datetime, bounds: Bounds, cache: dict[Any, datetime] | None = None
) -> None:
    """Refuse a message the loader would not store, naming the field and the reason.

    The rules are those of :func:`journeykit.ingest.segment.message_to_row` and the loader's
    staging checks (blank or ``"null"`` identifiers do not count, a track needs a non-blank
    event name), plus the time window and a finite revenue.

    Raises:
        InputError: the message cannot become an event.
    """
    if message.__class__ is not dict:
        raise InputError(
            f"a message must be a JSON object, got {_json_type(message)}", field="message"
        )
    get = message.get
    mtype = get("type", "track")
    if mtype.__class__ is not str or mtype not in MESSAGE_TYPES:
        raise InputError(f"unknown type; expected one of {', '.join(MESSAGE_TYPES)}", field="type")
    _str(message, "messageId")
    context = _obj(message, "context")
    properties = _obj(message, "properties")
    traits = _obj(message, "traits") or _obj(context, "traits", "context.")
    event = _str(message, "event")
    if mtype == "track" and not (event and event.strip(_TRIM)):
        raise InputError("a track call needs an event name", field="event")
    if event and "\x00" in event:
        raise InputError(NUL_IN_NAME, field="event")
    other = False
    if mtype != "track":
        if mtype in ("page", "screen"):
            _str(message, "name")
        elif mtype == "alias":
            if not _str(message, "previousId"):
                raise InputError("an alias call needs previousId", field="previousId")
            if not _str(message, "userId"):
                raise InputError("an alias call needs userId", field="userId")
            other = True
        elif mtype == "group" and not _str(message, "groupId"):
            raise InputError("a group call needs groupId", field="groupId")
    anonymous = _str(message, "anonymousId")
    user = _str(message, "userId")
    _identified(traits, context, anonymous, user, other)
    _check_time(message, received, bounds, {} if cache is None else cache)
    _str(message, "channel")
    if properties:
        _check_revenue(properties)


def _identified(
    traits: dict[str, Any],
    context: dict[str, Any],
    anonymous: str | None,
    user: str | None,
    other: bool,
) -> None:
    if other or _present(user) or _present(anonymous):
        return
    email = traits.get("email") if isinstance(traits.get("email"), str) else None
    phone = traits.get("phone") if isinstance(traits.get("phone"), str | int) else None
    if not (anonymous or user or email or phone):
        raise InputError("a message needs userId or anonymousId", field="userId")
    device: dict[str, Any] = context.get("device") or {}
    if not isinstance(device, dict):
        device = {}
    if (
        _present(email)
        or (phone is not None and _has_phone(phone))
        or _present(traits.get("crm_id"))
        or _present(device.get("id"))
    ):
        return
    raise InputError(
        "a message needs a userId or anonymousId that is not blank or 'null'", field="userId"
    )


def _check_revenue(properties: dict[str, Any]) -> None:
    revenue = properties.get("revenue", properties.get("total"))
    if revenue is None:
        return
    name = "properties.revenue" if "revenue" in properties else "properties.total"
    if isinstance(revenue, bool) or not isinstance(revenue, int | float):
        raise InputError(f"must be a number, got {_json_type(revenue)}", field=name)
    try:
        finite = math.isfinite(float(revenue))
    except OverflowError:
        finite = False
    if not finite:
        raise InputError("must be a finite number", field=name)


def _check_time(
    message: dict[str, Any], received: datetime, bounds: Bounds, cache: dict[Any, datetime]
) -> None:
    get = message.get
    stamp = _time(get("timestamp"), "timestamp", cache)
    original = _time(get("originalTimestamp"), "originalTimestamp", cache)
    sent = _time(get("sentAt"), "sentAt", cache)
    try:
        if sent is not None and (original or stamp) is not None:
            ts = received - (sent - (original or stamp))  # type: ignore[operator]
        else:
            ts = stamp or original or received
    except OverflowError:
        raise InputError("sentAt is too far from the event time", field="sentAt") from None
    if received - bounds.max_past <= ts <= received + bounds.max_future:
        return
    which = "timestamp" if "timestamp" in message else "originalTimestamp"
    if ts > received:
        hours = bounds.max_future.total_seconds() / 3600
        raise InputError(f"the event time is more than {hours:g} hours ahead", field=which)
    days = bounds.max_past.total_seconds() / 86400
    raise InputError(f"the event time is more than {days:g} days ago", field=which)


def _message_id_missing(message: dict[str, Any]) -> bool:
    value = message.get("messageId")
    return value is None or (value.__class__ is str and not value.strip(_TRIM))


def new_message_id() -> str:
    """A fresh message id for a message that came without one."""
    return "jk-" + os.urandom(16).hex()


def check_messages(
    messages: list[Any],
    received: datetime,
    bounds: Bounds,
    *,
    body: bytes,
    max_message_bytes: int,
    sizes: list[int] | None = None,
) -> Checked:
    """Check each message; give those without a ``messageId`` one (recorded, not spooled yet).

    ``body`` is the raw request: messages are measured one by one only when the whole body
    is larger than one message may be (``sizes``, as sent, when known), and searched for
    unpaired surrogates only when the body has a surrogate escape.
    """
    checked = Checked(messages=len(messages), accepted=0)
    measure = len(body) > max_message_bytes
    # a message nested n levels holds n brackets: a body with few cannot be too deep
    deep = body.count(b"{") + body.count(b"[") > bounds.max_depth
    surrogates = _SURROGATE_ESCAPE.search(body) is not None
    cache: dict[Any, datetime] = {}
    for i, message in enumerate(messages):
        try:
            if deep and (where := too_deep(message, bounds.max_depth)) is not None:
                raise InputError(
                    f"nested more than {bounds.max_depth} levels deep (objects and arrays)",
                    field=where,
                )
            check_message(message, received, bounds, cache)
            if surrogates:
                _encoded_size(message)
            if measure:
                size = sizes[i] if sizes is not None else _encoded_size(message)
                if size > max_message_bytes:
                    raise InputError(
                        f"the message is {size} bytes; at most {max_message_bytes} are accepted",
                        field="message",
                    )
        except InputError as exc:
            checked.errors.append(MessageError(i, exc.field, exc.reason))
            continue
        if _message_id_missing(message):
            checked.assigned_ids[i] = new_message_id()
        checked.accepted += 1
    return checked


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _encoded_size(message: Any) -> int:
    """The size of a message as compact UTF-8 JSON.

    Raises:
        InputError: a string holds an unpaired surrogate (it cannot be stored as text).
    """
    if _orjson is not None:
        try:
            return len(_orjson.dumps(message))
        except TypeError:
            pass  # a surrogate (or an integer orjson cannot write): ask the standard encoder
    try:
        return len(_ENCODE(message).encode())
    except UnicodeEncodeError:
        raise InputError(
            "a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)", field="message"
        ) from None


def encode_record(
    body: bytes, mtype: str | None, received: datetime, checked: Checked, key_id: str | None
) -> bytes:
    """The spool record of one request: a JSON header line, then the body as received."""
    header = {
        "v": 1,
        "r": received.isoformat(),
        "t": mtype,
        "k": key_id,
        "n": checked.messages,
        "skip": [e.index for e in checked.errors],
        "ids": {str(i): v for i, v in checked.assigned_ids.items()},
    }
    head = _orjson.dumps(header) if _orjson is not None else json.dumps(header).encode()
    return head + b"\n" + body


@dataclass(frozen=True)
class Record:
    """A spooled request, decoded: when it arrived and its accepted messages, ready to load."""

    received: datetime
    messages: list[dict[str, Any]]


def decode_record(data: bytes) -> Record:
    """Rebuild the accepted messages of a spool record, with their ids and ``receivedAt``."""
    head, _, body = data.partition(b"\n")
    header = json.loads(head)
    received = datetime.fromisoformat(header["r"])
    messages = expand(parse_body(body), header.get("t"))
    skip = set(header.get("skip", ()))
    ids = {int(k): v for k, v in header.get("ids", {}).items()}
    stamp = header["r"] + "Z"  # the receipt time is naive UTC
    out = []
    for i, message in enumerate(messages):
        if i in skip:
            continue
        if message.__class__ is dict:  # anything else is refused, one by one, by the load
            message = dict(message)
            if i in ids:
                message["messageId"] = ids[i]
            # Segment semantics: receivedAt is the collector's clock, never the client's
            message["receivedAt"] = stamp
        out.append(message)
    return Record(received, out)


def record_events(data: bytes) -> int:
    """How many accepted messages a spool record holds (from its header line alone)."""
    head, _, _ = data.partition(b"\n")
    try:
        header = json.loads(head)
        return max(int(header["n"]) - len(header.get("skip", ())), 0)
    except (ValueError, TypeError, KeyError, AttributeError):
        return 0


def record_received(data: bytes) -> datetime | None:
    """When a spool record's request arrived (naive UTC), from its header line."""
    head, _, _ = data.partition(b"\n")
    try:
        return datetime.fromisoformat(json.loads(head)["r"])
    except (ValueError, TypeError, KeyError):
        return None
