"""Validation and normalisation: from the raw ``_src`` table to canonical ``_staged`` rows.

Everything runs as one DuckDB statement over the whole source (vectorised): column mapping,
timestamp parsing to UTC, identifier normalisation, the stable ``event_id`` hash, and a
per-row verdict. Rows with a verdict go to the rejects; the rest are staged.
Column names come from the source and are quoted as identifiers; values are never formatted
into the SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from journeykit.errors import InputError
from journeykit.schema.events import IDENTIFIER_KINDS, INPUT_COLUMNS
from journeykit.store import Store

#: Common foreign column names and what they mean (matched case- and punctuation-insensitively).
ALIASES: dict[str, str] = {
    "timestamp": "ts",
    "time": "ts",
    "datetime": "ts",
    "event_time": "ts",
    "eventtime": "ts",
    "occurred_at": "ts",
    "originaltimestamp": "ts",
    "receivedat": "received_at",
    "messageid": "event_id",
    "message_id": "event_id",
    "id": "event_id",
    "anonymousid": "anonymous_id",
    "userid": "user_id",
    "customer_id": "user_id",
    "person": "user_id",
    "event_name": "event",
    "name": "event",
    "action": "event",
    "e_mail": "email",
    "mail": "email",
    "phone_number": "phone",
    "mobile": "phone",
    "crm": "crm_id",
    "deviceid": "device_id",
    "device": "device_id",
    "props": "properties",
    "amount": "revenue",
    "value": "revenue",
}

TYPES = ("track", "page", "screen", "identify", "alias", "group")
DEFAULT_EVENT = {
    "page": "Page Viewed",
    "screen": "Screen Viewed",
    "identify": "Identified",
    "alias": "Aliased",
    "group": "Grouped",
}


@dataclass(frozen=True)
class StageResult:
    """Counts of one staging pass, and which source columns went where."""

    n_staged: int
    n_invalid: int
    mapped: dict[str, str]
    unknown_columns: list[str]


def parse_mapping(text: str | None) -> dict[str, str]:
    """Parse ``ts=timestamp,person=customer_no`` into ``{"ts": "timestamp", "user_id": ...}``.

    >>> parse_mapping("ts=timestamp, person=customer_no")
    {'ts': 'timestamp', 'user_id': 'customer_no'}
    """
    mapping: dict[str, str] = {}
    if not text:
        return mapping
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InputError(f"expected target=source, got {part.strip()!r}", field="map")
        target, source = (p.strip() for p in part.split("=", 1))
        target = _canon_target(target)
        mapping[target] = source
    return mapping


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "", name.lower().replace("-", "_").replace(" ", "_"))


def _canon_target(name: str) -> str:
    key = _key(name)
    if key in INPUT_COLUMNS:
        return key
    if key in ALIASES:
        return ALIASES[key]
    raise InputError(
        f"unknown target column {name!r}; targets are {', '.join(INPUT_COLUMNS)}", field="map"
    )


def resolve_columns(
    source_columns: list[str], mapping: Mapping[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """Decide which source column feeds each canonical column; the rest are unknown."""
    mapping = dict(mapping or {})
    missing = [src for src in mapping.values() if src not in source_columns]
    if missing:
        raise InputError(
            f"mapped column(s) {', '.join(map(repr, missing))} not in the source; "
            f"it has {', '.join(source_columns)}",
            field="map",
        )
    used = set(mapping.values())
    for col in source_columns:
        if col in used or col.startswith("_"):
            continue
        key = _key(col)
        target = key if key in INPUT_COLUMNS else ALIASES.get(key)
        if target and target not in mapping:
            mapping[target] = col
            used.add(col)
    unknown = [c for c in source_columns if c not in used and not c.startswith("_")]
    return mapping, unknown


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(expr: str) -> str:
    return f"nullif(trim(CAST({expr} AS VARCHAR)), '')"


def _ts_expr(col: str, dtype: str, tz: str | None) -> str:
    """SQL turning a source timestamp column of any type into a naive UTC timestamp."""
    c = _q(col)
    d = dtype.upper()
    local = "timezone($tz, {x})" if tz else "timezone('UTC', {x})"
    if d.startswith("TIMESTAMP WITH TIME ZONE") or d == "TIMESTAMPTZ":
        return f"timezone('UTC', {c})"
    if d.startswith("TIMESTAMP") or d == "DATE":
        return f"timezone('UTC', {local.format(x=f'CAST({c} AS TIMESTAMP)')})"
    if any(d.startswith(t) for t in ("BIGINT", "INTEGER", "DOUBLE", "FLOAT", "DECIMAL", "HUGEINT")):
        num = f"CAST({c} AS DOUBLE)"
        return (
            f"CASE WHEN abs({num}) >= 1e11 THEN make_timestamp(CAST({num} * 1000 AS BIGINT)) "
            f"ELSE make_timestamp(CAST({num} * 1000000 AS BIGINT)) END"
        )
    s = _text(c)
    naive = f"try_cast({s} AS TIMESTAMP)"
    has_zone = f"regexp_matches({s}, '(Z|z|[+-]\\d\\d(:?\\d\\d)?)$')"
    return (
        f"CASE WHEN regexp_full_match({s}, '-?\\d{{9,10}}(\\.\\d+)?') "
        f"THEN make_timestamp(CAST(CAST({s} AS DOUBLE) * 1000000 AS BIGINT)) "
        f"WHEN regexp_full_match({s}, '\\d{{12,13}}') "
        f"THEN make_timestamp(CAST({s} AS BIGINT) * 1000) "
        f"WHEN NOT {has_zone} AND {naive} IS NOT NULL "
        f"THEN timezone('UTC', {local.format(x=naive)}) "
        f"ELSE timezone('UTC', try_cast({s} AS TIMESTAMPTZ)) END"
    )


def identifier_sql(kind: str, expr: str) -> str:
    """SQL normalising one identifier column (mirrors ``schema.normalise_identifier``)."""
    raw = _text(expr)
    s = f"(CASE WHEN lower({raw}) IN ('nan', 'none', 'null') THEN NULL ELSE {raw} END)"
    if kind == "email":
        return f"lower({s})"
    if kind == "phone":
        digits = f"regexp_replace({s}, '[^0-9]', '', 'g')"
        local = f"(CASE WHEN starts_with({s}, '00') THEN substr({digits}, 3) ELSE {digits} END)"
        return (
            f"CASE WHEN {local} = '' THEN NULL "
            f"WHEN starts_with({s}, '00') OR starts_with({s}, '+') THEN '+' || {local} "
            f"ELSE {local} END"
        )
    return s


def stage(
    store: Store,
    *,
    mapping: Mapping[str, str] | None = None,
    tz: str | None = None,
    source_name: str = "",
    has_line_column: bool = False,
    max_future_hours: float = 24.0,
    max_past_years: float = 30.0,
) -> StageResult:
    """Validate and normalise ``_src`` into ``_staged`` (good rows) and ``_invalid`` (verdicts).

    ``_staged`` has the canonical input columns plus ``_row`` (the source row number).
    ``_invalid`` has ``_row``, ``field``, ``reason`` and ``raw`` (the row as JSON).
    """
    cur = store.cursor()
    described = cur.execute("DESCRIBE _src").fetchall()
    dtypes = {row[0]: str(row[1]) for row in described}
    columns = [c for c in dtypes if c != "_line"]
    mapped, unknown = resolve_columns(columns, mapping)
    if "ts" not in mapped:
        raise InputError(
            f"no timestamp column (looked for ts, timestamp, time, ...; the source has "
            f"{', '.join(columns)}); map one with --map ts=COLUMN",
            field="ts",
        )

    def col(name: str) -> str:
        return _q(mapped[name]) if name in mapped else "NULL"

    ts_raw = _text(col("ts"))
    ts = _ts_expr(mapped["ts"], dtypes[mapped["ts"]], tz)
    typ = f"coalesce(lower({_text(col('type'))}), 'track')"
    event = f"{_text(col('event'))}"
    ids = {kind: identifier_sql(kind, col(kind)) for kind in IDENTIFIER_KINDS}
    revenue_raw = _text(col("revenue"))
    revenue = f"try_cast({revenue_raw} AS DOUBLE)"
    props_raw = _text(col("properties"))
    if unknown:
        extra = ", ".join(f"'{u.replace(chr(39), chr(39) * 2)}', {_q(u)}" for u in unknown)
        props = f"json_merge_patch(json_object({extra}), coalesce(try_cast({props_raw} AS JSON), '{{}}'))"
    else:
        props = f"coalesce(try_cast({props_raw} AS JSON), '{{}}')"
    row_no = "_line" if has_line_column else "rowid + 1"
    hash_cols = " || chr(31) || ".join(
        f"coalesce(CAST({_q(c)} AS VARCHAR), chr(0))" for c in columns
    )
    any_id = " OR ".join(f"{ids[k]} IS NOT NULL" for k in IDENTIFIER_KINDS)
    other_ids = _text(col("other_ids"))
    any_id += f" OR ({other_ids} IS NOT NULL AND {other_ids} <> '{{}}')"
    types_list = ", ".join(f"'{t}'" for t in TYPES)
    verdict = f"""
        CASE
          WHEN {ts_raw} IS NULL THEN ['ts', 'missing timestamp']
          WHEN _ts IS NULL THEN ['ts', 'cannot parse timestamp ' || {ts_raw}]
          WHEN _ts > now()::TIMESTAMP + to_microseconds(CAST($future AS BIGINT))
            THEN ['ts', 'timestamp is in the future: ' || {ts_raw}]
          WHEN _ts < now()::TIMESTAMP - to_microseconds(CAST($past AS BIGINT))
            THEN ['ts', 'timestamp is too far in the past: ' || {ts_raw}]
          WHEN _type NOT IN ({types_list})
            THEN ['type', 'unknown type ' || _type || ' (expected one of {", ".join(TYPES)})']
          WHEN _type = 'track' AND {event} IS NULL THEN ['event', 'missing event name']
          WHEN NOT ({any_id})
            THEN ['anonymous_id', 'no identifier: one of {", ".join(IDENTIFIER_KINDS)} is required']
          WHEN {revenue_raw} IS NOT NULL AND {revenue} IS NULL
            THEN ['revenue', 'not a number: ' || {revenue_raw}]
          WHEN {props_raw} IS NOT NULL AND (try_cast({props_raw} AS JSON) IS NULL
               OR json_type(try_cast({props_raw} AS JSON)) <> 'OBJECT')
            THEN ['properties', 'not a JSON object']
          WHEN {other_ids} IS NOT NULL AND (try_cast({other_ids} AS JSON) IS NULL
               OR json_type(try_cast({other_ids} AS JSON)) <> 'OBJECT')
            THEN ['other_ids', 'not a JSON object']
          ELSE NULL
        END"""
    default_event = " ".join(f"WHEN '{t}' THEN '{e}'" for t, e in DEFAULT_EVENT.items())
    params = {
        "future": int(max_future_hours * 3600 * 1_000_000),
        "past": int(max_past_years * 365.25 * 86400 * 1_000_000),
        "source": source_name or None,
    }
    if tz:
        params["tz"] = tz
        try:
            cur.execute("SELECT timezone($tz, TIMESTAMP '2000-01-01')", {"tz": tz})
        except Exception as exc:
            raise InputError(f"unknown time zone {tz!r}", field="tz") from exc
    cur.execute("DROP TABLE IF EXISTS _checked")
    cur.execute(
        f"""
        CREATE TEMP TABLE _checked AS
        SELECT
            {verdict} AS _verdict,
            _row, _ts, _type,
            coalesce({_text(col("event_id"))},
                     'h_' || substr(md5({hash_cols}), 1, 24)) AS event_id,
            {
            _ts_expr(mapped["received_at"], dtypes[mapped["received_at"]], None)
            if "received_at" in mapped
            else "NULL::TIMESTAMP"
        } AS received_at,
            {event} AS _event,
            lower({_text(col("channel"))}) AS channel,
            {", ".join(f"{ids[k]} AS {k}" for k in IDENTIFIER_KINDS)},
            CAST(try_cast({other_ids} AS JSON) AS VARCHAR) AS other_ids,
            CAST({props} AS VARCHAR) AS properties,
            {revenue} AS revenue,
            coalesce({_text(col("source"))}, $source) AS source
        FROM (
          SELECT *, {row_no} AS _row, {ts} AS _ts, {typ} AS _type FROM _src
        ) AS _src
        """,
        params,
    )
    cur.execute("DROP TABLE IF EXISTS _staged")
    cur.execute(
        f"""
        CREATE TEMP TABLE _staged AS
        SELECT event_id, _ts AS ts, received_at, _type AS type,
               coalesce(_event, CASE _type {default_event} END) AS event, channel,
               {", ".join(IDENTIFIER_KINDS)}, other_ids, properties, revenue, source, _row
        FROM _checked WHERE _verdict IS NULL
        """
    )
    cur.execute("DROP TABLE IF EXISTS _invalid")
    # the raw row (as JSON) only for refused rows: serialising every row costs a lot
    cur.execute(
        f"""
        CREATE TEMP TABLE _invalid AS
        SELECT c._row, c._verdict[1] AS field, c._verdict[2] AS reason,
               CAST(to_json(s) AS VARCHAR) AS raw
        FROM (SELECT _row, _verdict FROM _checked WHERE _verdict IS NOT NULL) c
        JOIN (SELECT *, {row_no} AS _row_of FROM _src) s ON s._row_of = c._row
        ORDER BY c._row
        """
    )
    n_staged = int(cur.execute("SELECT count(*) FROM _staged").fetchone()[0])
    n_invalid = int(cur.execute("SELECT count(*) FROM _invalid").fetchone()[0])
    cur.execute("DROP TABLE _checked")
    return StageResult(n_staged, n_invalid, mapped, unknown)
