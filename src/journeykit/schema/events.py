"""Canonical columns of the workspace tables, and identifier normalisation.

One canonical event per interaction. The ``events`` table columns:

=============== =========== =======================================================
column          type        meaning
=============== =========== =======================================================
event_id        string      unique; a client's messageId when given, else where it was
                            read: the source and the row's place in it (so identical
                            rows are distinct events and a re-load stores nothing twice)
ts              timestamp   when it happened, UTC (naive timestamps mean UTC)
received_at     timestamp   when journeykit received it, UTC
person_id       string      the resolved person (identity stitching), ``p_`` + 16 hex
type            string      track, page, screen, identify, alias, group
event           string      the event name ("purchase", "Page Viewed", ...)
channel         string      web, app, email, chat, phone, store, social, ads, ...
anonymous_id    string      raw identifiers as sent (normalised: e-mail lower-case,
user_id         string      phone digits with a leading +)
email           string
phone           string
crm_id          string
device_id       string
other_ids       string      JSON object of further identifiers named in config
properties      string      JSON object
revenue         double      money the event brought (orders), else null
source          string      where it came from (file name, "collector", "demo")
seq             int64       position of the event in its person's journey (1-based),
                            maintained at load time
prev_event      string      the name of the person's previous event (null at seq 1)
prev_ts         timestamp   the time of the person's previous event
load_no         int64       the load that stored the event (1, 2, ... in load order)
src_row         int64       the event's row in its source (line of a file, position
                            of a message in a batch)
=============== =========== =======================================================

A person's events are ordered by ``ts``, then ``load_no``, then ``src_row``: events at the same
time keep the order the sources gave them.
"""

from __future__ import annotations

import re
from enum import StrEnum

import pyarrow as pa


class Channel(StrEnum):
    """Channels journeykit knows by name; any other string is allowed too."""

    WEB = "web"
    APP = "app"
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    STORE = "store"
    SOCIAL = "social"
    ADS = "ads"
    SEARCH = "search"
    BLOG = "blog"
    SURVEY = "survey"
    REVIEW = "review"
    REFERRAL = "referral"
    SMS = "sms"


#: Identifier columns on an event, in the order that picks a person's anchor identifier.
IDENTIFIER_KINDS: tuple[str, ...] = (
    "user_id",
    "crm_id",
    "email",
    "phone",
    "device_id",
    "anonymous_id",
)

#: Columns loaders accept (after column mapping), with the Arrow type they are cast to.
INPUT_COLUMNS: dict[str, pa.DataType] = {
    "event_id": pa.string(),
    "ts": pa.timestamp("us"),
    "received_at": pa.timestamp("us"),
    "type": pa.string(),
    "event": pa.string(),
    "channel": pa.string(),
    "anonymous_id": pa.string(),
    "user_id": pa.string(),
    "email": pa.string(),
    "phone": pa.string(),
    "crm_id": pa.string(),
    "device_id": pa.string(),
    "other_ids": pa.string(),
    "properties": pa.string(),
    "revenue": pa.float64(),
    "source": pa.string(),
}

#: Columns of the stored ``events`` table, in order.
EVENT_COLUMNS: dict[str, pa.DataType] = {
    **{k: v for k, v in INPUT_COLUMNS.items() if k in ("event_id", "ts", "received_at")},
    "person_id": pa.string(),
    **{k: v for k, v in INPUT_COLUMNS.items() if k not in ("event_id", "ts", "received_at")},
    "seq": pa.int64(),
    "prev_event": pa.string(),
    "prev_ts": pa.timestamp("us"),
    "load_no": pa.int64(),
    "src_row": pa.int64(),
}

#: The journey order of a person's events (stored as ``seq``): time, then load, then row.
JOURNEY_ORDER = "ts, load_no NULLS FIRST, src_row NULLS FIRST, event_id"


def events_arrow_schema() -> pa.Schema:
    """The Arrow schema of the stored events table.

    >>> events_arrow_schema().field("ts").type
    TimestampType(timestamp[us])
    """
    return pa.schema(list(EVENT_COLUMNS.items()))


#: Every table a workspace holds and its DuckDB DDL. Documented in docs/tables.md.
TABLES: dict[str, str] = {
    # event_id is unique by construction (loads anti-join on it); no index, so bulk loads stay
    # fast and small
    "events": """
        event_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, received_at TIMESTAMP,
        person_id VARCHAR, type VARCHAR NOT NULL, event VARCHAR NOT NULL, channel VARCHAR,
        anonymous_id VARCHAR, user_id VARCHAR, email VARCHAR, phone VARCHAR, crm_id VARCHAR,
        device_id VARCHAR, other_ids VARCHAR, properties VARCHAR, revenue DOUBLE, source VARCHAR,
        seq BIGINT, prev_event VARCHAR, prev_ts TIMESTAMP, load_no BIGINT, src_row BIGINT
    """,
    # one row per identifier ("email:ann@example.com"); person_id is the stitched person
    "identities": """
        identifier VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, value VARCHAR NOT NULL,
        person_id VARCHAR NOT NULL, first_seen TIMESTAMP, last_seen TIMESTAMP
    """,
    # every link between two identifiers, where it came from, and whether it is undone
    "identity_links": """
        link_id VARCHAR PRIMARY KEY, a VARCHAR NOT NULL, b VARCHAR NOT NULL,
        origin VARCHAR NOT NULL, event_id VARCHAR, ts TIMESTAMP, created_at TIMESTAMP NOT NULL,
        undone_at TIMESTAMP
    """,
    # every time a link joined two people who were apart before (the audit trail)
    "merges": """
        merge_id VARCHAR PRIMARY KEY, link_id VARCHAR NOT NULL, person_a VARCHAR NOT NULL,
        person_b VARCHAR NOT NULL, merged_into VARCHAR NOT NULL, event_id VARCHAR,
        merged_at TIMESTAMP NOT NULL, undone_at TIMESTAMP
    """,
    "people": """
        person_id VARCHAR PRIMARY KEY, first_seen TIMESTAMP, last_seen TIMESTAMP,
        n_events BIGINT, revenue DOUBLE, first_channel VARCHAR, last_channel VARCHAR,
        traits VARCHAR
    """,
    # traits set by identify calls, per identifier, so people can be rebuilt after a merge
    "traits": """
        identifier VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, traits VARCHAR NOT NULL,
        event_id VARCHAR NOT NULL PRIMARY KEY
    """,
    "spend": """
        date DATE NOT NULL, channel VARCHAR NOT NULL, campaign VARCHAR NOT NULL DEFAULT '',
        amount DOUBLE NOT NULL, PRIMARY KEY (date, channel, campaign)
    """,
    "rejects": """
        load_id VARCHAR NOT NULL, file VARCHAR, row BIGINT, field VARCHAR, reason VARCHAR,
        raw VARCHAR, rejected_at TIMESTAMP NOT NULL
    """,
    "loads": """
        load_id VARCHAR PRIMARY KEY, source VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
        n_rows BIGINT, n_loaded BIGINT, n_duplicates BIGINT, n_rejected BIGINT, load_no BIGINT
    """,
    # every version of the workspace's journey spec (the newest is the current one)
    "specs": """
        version BIGINT PRIMARY KEY, set_at TIMESTAMP NOT NULL, set_by VARCHAR NOT NULL,
        note VARCHAR, yaml VARCHAR NOT NULL
    """,
}


#: Columns added to tables after their first release: (table, column, type), added on open.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("events", "load_no", "BIGINT"),
    ("events", "src_row", "BIGINT"),
    ("loads", "load_no", "BIGINT"),
)

_NON_DIGITS = re.compile(r"[^\d]")


def normalise_identifier(kind: str, value: object) -> str | None:
    """Normalise one identifier value so the same person matches across sources.

    E-mail: trimmed and lower-cased. Phone: digits only, ``00`` prefix read as ``+``;
    a leading ``+`` kept. Everything else: trimmed string. Empty values give ``None``.

    >>> normalise_identifier("email", "  Ann@Example.COM ")
    'ann@example.com'
    >>> normalise_identifier("phone", "+44 (20) 7946-0958")
    '+442079460958'
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.lower() in ("nan", "none", "null"):
        return None
    if kind == "email":
        return text.lower()
    if kind == "phone":
        plus = text.startswith("+") or text.startswith("00")
        digits = _NON_DIGITS.sub("", text)
        if text.startswith("00"):
            digits = digits[2:]
        if not digits:
            return None
        return ("+" if plus else "") + digits
    return text
