"""Validation and normalisation: from the raw ``_src`` table to canonical ``_staged`` rows.

Everything runs as one DuckDB statement over the whole source (vectorised): column mapping,
timestamp parsing to UTC, identifier normalisation, the ``event_id`` (where the row was read,
when it has no message id), and a per-row verdict. Rows with a verdict go to the rejects; the rest are staged.
Column names come from the source and are quoted as identifiers; values are never formatted
into the SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from journeykit.errors import InputError
from journeykit.schema.events import IDENTIFIER_KINDS, INPUT_COLUMNS
from journeykit.store import Store, first_value

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
    "event_name": "event",
    "name": "event",
    "action": "event",
    "props": "properties",
    "amount": "revenue",
    "value": "revenue",
}

#: Column names people give identifiers, per identifier kind, the likeliest meaning first.
#: When two columns name the same kind the earlier name wins; the other is kept in properties.
IDENTIFIER_NAMES: dict[str, tuple[str, ...]] = {
    "user_id": (
        "userid",
        "customer_id",
        "customerid",
        "person_id",
        "personid",
        "person",
        "customer",
        "customer_no",
        "customer_number",
        "client_id",
        "clientid",
        "client",
        "member_id",
        "memberid",
        "account_id",
        "accountid",
        "contact_id",
        "uid",
    ),
    "anonymous_id": (
        "anonymousid",
        "anon_id",
        "visitor_id",
        "visitorid",
        "cookie_id",
        "user_pseudo_id",
    ),
    "email": ("e_mail", "mail", "email_address"),
    "phone": ("phone_number", "mobile", "msisdn"),
    "crm_id": ("crm",),
    "device_id": ("deviceid", "device"),
}

#: Weaker identifiers: taken (as anonymous ids) only when a source has no other identifier,
#: since one of them may be shared by different people over time.
WEAK_IDENTIFIERS: dict[str, str] = {"session_id": "anonymous_id", "sessionid": "anonymous_id"}

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
    """Counts of one staging pass, which source columns went where, and what was assumed."""

    n_staged: int
    n_invalid: int
    mapped: dict[str, str]
    unknown_columns: list[str]
    notices: list[str] = field(default_factory=list)


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


def _alias(key: str) -> str | None:
    """The canonical column a (keyed) foreign name stands for, if any."""
    if key in INPUT_COLUMNS:
        return key
    if key in ALIASES:
        return ALIASES[key]
    for kind, names in IDENTIFIER_NAMES.items():
        if key in names:
            return kind
    return WEAK_IDENTIFIERS.get(key)


def _canon_target(name: str) -> str:
    target = _alias(_key(name))
    if target is None:
        raise InputError(
            f"unknown target column {name!r}; targets are {', '.join(INPUT_COLUMNS)}",
            field="map",
        )
    return target


def resolve_columns(
    source_columns: list[str], mapping: Mapping[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """Decide which source column feeds each canonical column; the rest are unknown.

    Canonical names win, then the common foreign names (for identifiers, the likeliest
    meaning first: ``customer_id`` before ``account_id``); a session id is taken as the
    anonymous id only when nothing else identifies people.

    >>> resolve_columns(["when", "Customer", "session_id", "what"], {"ts": "when"})
    ({'ts': 'when', 'user_id': 'Customer'}, ['session_id', 'what'])
    """
    mapping = dict(mapping or {})
    missing = [src for src in mapping.values() if src not in source_columns]
    if missing:
        raise InputError(
            f"mapped column(s) {', '.join(map(repr, missing))} not in the source; "
            f"it has {', '.join(source_columns)}",
            field="map",
        )
    used = set(mapping.values())
    free = [c for c in source_columns if c not in used and not c.startswith("_")]
    keys = {c: _key(c) for c in free}

    def take(target: str, col: str) -> None:
        mapping[target] = col
        used.add(col)

    for col in free:  # canonical names first
        if keys[col] in INPUT_COLUMNS and keys[col] not in mapping:
            take(keys[col], col)
    for kind, names in IDENTIFIER_NAMES.items():
        if kind in mapping:
            continue
        ranked = [c for c in free if c not in used and keys[c] in names]
        if ranked:
            take(kind, min(ranked, key=lambda c: names.index(keys[c])))
    for col in free:
        target = ALIASES.get(keys[col])
        if col not in used and target and target not in mapping:
            take(target, col)
    if not any(k in mapping for k in (*IDENTIFIER_KINDS, "other_ids")):
        for col in free:
            target = WEAK_IDENTIFIERS.get(keys[col])
            if col not in used and target and target not in mapping:
                take(target, col)
    unknown = [c for c in source_columns if c not in used and not c.startswith("_")]
    return mapping, unknown


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(expr: str) -> str:
    return f"nullif(trim(CAST({expr} AS VARCHAR)), '')"


#: A date written day or month first: ``13/03/2024``, ``3.1.2024``, ``01-03-2024 10:21``.
_DMY = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
DateOrder = Literal["day-first", "month-first"]


def _ts_expr(
    col: str,
    dtype: str,
    tz: str | None,
    *,
    ts_format: str | None = None,
    order: DateOrder | None = None,
) -> str:
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
    if ts_format:
        parsed = f"try_strptime({s}, $ts_format)"
        if "%z" in ts_format or "%Z" in ts_format:
            return f"timezone('UTC', {parsed})"
        return f"timezone('UTC', {local.format(x=parsed)})"
    if order is not None:
        iso = r"\3-\2-\1" if order == "day-first" else r"\3-\1-\2"
        s = f"regexp_replace({s}, '{_DMY}', '{iso}')"
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


def detect_date_order(store: Store, column: str) -> tuple[DateOrder | None, str | None]:
    """Whether a text time column writes dates day-first or month-first, with an example.

    Dates like ``13/03/2024`` (day > 12) are day-first, ``03/13/2024`` month-first; when every
    date could be either (``01/03/2024``) the order cannot be known.

    Raises:
        InputError: the dates could be read either way, or the column mixes both orders;
            the message says to give the format.
    """
    s = _text(_q(column))
    row = (
        store.cursor()
        .execute(
            f"""
        SELECT count(*), max(a), max(b), arg_max(v, a), arg_max(v, b), any_value(v)
        FROM (
          SELECT v, CAST(regexp_extract(v, $p, 1) AS INTEGER) AS a,
                 CAST(regexp_extract(v, $p, 2) AS INTEGER) AS b
          FROM (SELECT {s} AS v FROM _src) WHERE regexp_matches(v, $p)
        )
        """,
            {"p": _DMY},
        )
        .fetchone()
    )
    if row is None or not row[0]:
        return None, None
    _, first, second, day_example, month_example, example = row
    formats = "'%d/%m/%Y %H:%M' (day first) or '%m/%d/%Y %H:%M' (month first)"
    if first > 12 and second > 12:
        raise InputError(
            f"the time column {column!r} mixes day-first ({day_example!r}) and month-first "
            f"({month_example!r}) dates; give the layout with --ts-format, e.g. {formats}",
            field="ts",
        )
    if first > 12:
        return "day-first", day_example
    if second > 12:
        return "month-first", month_example
    raise InputError(
        f"dates like {example!r} in {column!r} could be day-first or month-first; say which "
        f"with --ts-format, e.g. {formats}",
        field="ts",
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


def _identifier_notice(mapped: Mapping[str, str], given: Mapping[str, str]) -> str | None:
    """Which source columns were taken as identifiers under another name (not by --map)."""
    taken = [
        f"{col!r} as {kind}"
        for kind, col in mapped.items()
        if kind in (*IDENTIFIER_KINDS, "other_ids") and kind not in given and _key(col) != kind
    ]
    return "identifiers: " + ", ".join(taken) if taken else None


def _check_ts_format(store: Store, ts_format: str) -> None:
    try:
        store.cursor().execute("SELECT try_strptime('', $f)", {"f": ts_format})
    except Exception as exc:
        raise InputError(
            f"--ts-format {ts_format!r} is not a strptime layout (e.g. '%d/%m/%Y %H:%M'): "
            f"{str(exc).splitlines()[0]}",
            field="ts_format",
        ) from exc


def stage(
    store: Store,
    *,
    mapping: Mapping[str, str] | None = None,
    tz: str | None = None,
    source_name: str = "",
    has_line_column: bool = False,
    max_future_hours: float = 24.0,
    max_past_years: float = 30.0,
    ts_format: str | None = None,
    dedupe_rows: bool = False,
) -> StageResult:
    """Validate and normalise ``_src`` into ``_staged`` (good rows) and ``_invalid`` (verdicts).

    ``_staged`` has the canonical input columns plus ``_row`` (the source row number).
    ``_invalid`` has ``_row``, ``field``, ``reason`` and ``raw`` (the row as JSON).

    Without a message id an event's id says where it was read: the source, and which
    occurrence of that exact row in the source it is (so identical rows are distinct events,
    a re-read stores nothing twice, rows added anywhere in a file are new). With
    ``dedupe_rows`` identical rows are one event wherever they are read.

    Raises:
        InputError: no timestamp or identifier column, an unknown time zone or time layout,
            or dates that could be day-first or month-first.
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
    if not any(k in mapped for k in (*IDENTIFIER_KINDS, "other_ids")):
        raise InputError(
            f"no identifier column: nothing says who did each event (looked for user_id, "
            f"customer_id, person_id, email, phone, anonymous_id, visitor_id, session_id, ...; "
            f"the source has {', '.join(columns)}); name the column with --map user_id=COLUMN "
            f"(or email=, phone=, anonymous_id=, crm_id=, device_id=)",
            field="user_id",
        )
    notices = [n for n in [_identifier_notice(mapped, mapping or {})] if n]
    ts_col = mapped["ts"]
    ts_type = dtypes[ts_col].upper()
    is_text = ts_type.startswith("VARCHAR")
    order: DateOrder | None = None
    if ts_format and is_text:
        _check_ts_format(store, ts_format)
    elif is_text:
        order, example = detect_date_order(store, ts_col)
        if order is not None:
            notices.append(
                f"dates read {order} ({'DD/MM/YYYY' if order == 'day-first' else 'MM/DD/YYYY'}),"
                f" as {example!r} can only be; give --ts-format to read them otherwise"
            )

    def col(name: str) -> str:
        return _q(mapped[name]) if name in mapped else "NULL"

    ts_raw = _text(col("ts"))
    ts = _ts_expr(ts_col, dtypes[ts_col], tz, ts_format=ts_format if is_text else None, order=order)
    typ = f"coalesce(lower({_text(col('type'))}), 'track')"
    event = f"{_text(col('event'))}"
    ids = {kind: identifier_sql(kind, col(kind)) for kind in IDENTIFIER_KINDS}
    revenue_raw = _text(col("revenue"))
    revenue = f"try_cast({revenue_raw} AS DOUBLE)"
    props_raw = _text(col("properties"))
    params: dict[str, object] = {}
    if unknown:
        # names are bound, never written into the SQL text
        params.update({f"k{i}": u for i, u in enumerate(unknown)})
        extra = ", ".join(f"$k{i}, {_q(u)}" for i, u in enumerate(unknown))
        # merging into {} drops the columns a row leaves empty; the properties column wins
        kept = f"json_merge_patch('{{}}', json_object({extra}))"
        props = f"json_merge_patch({kept}, coalesce(try_cast({props_raw} AS JSON), '{{}}'))"
    else:
        props = f"coalesce(try_cast({props_raw} AS JSON), '{{}}')"
    row_no = "_line" if has_line_column else "rowid + 1"
    any_id = " OR ".join(f"{ids[k]} IS NOT NULL" for k in IDENTIFIER_KINDS)
    other_ids = _text(col("other_ids"))
    any_id += f" OR ({other_ids} IS NOT NULL AND {other_ids} <> '{{}}')"
    types_list = ", ".join(f"'{t}'" for t in TYPES)
    verdict = f"""
        CASE
          WHEN {ts_raw} IS NULL THEN ['ts', 'missing timestamp']
          WHEN _ts IS NULL THEN ['ts', 'cannot parse timestamp: ' || {ts_raw}]
          WHEN _ts > now()::TIMESTAMP + to_microseconds(CAST($future AS BIGINT))
            THEN ['ts', 'timestamp is in the future: ' || {ts_raw}]
          WHEN _ts < now()::TIMESTAMP - to_microseconds(CAST($past AS BIGINT))
            THEN ['ts', 'timestamp is too far in the past: ' || {ts_raw}]
          WHEN _type NOT IN ({types_list})
            THEN ['type', 'unknown type (expected one of {", ".join(TYPES)}): ' || _type]
          WHEN _type = 'track' AND {event} IS NULL THEN ['event', 'missing event name']
          WHEN NOT ({any_id})
            THEN ['{next(k for k in IDENTIFIER_KINDS if k in mapped)}',
                  'no identifier: every identifier column is empty']
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
    params.update(
        {
            "future": int(max_future_hours * 3600 * 1_000_000),
            "past": int(max_past_years * 365.25 * 86400 * 1_000_000),
            "source": source_name or None,
        }
    )
    if ts_format and is_text:
        params["ts_format"] = ts_format
    if tz:
        params["tz"] = tz
        try:
            cur.execute("SELECT timezone($tz, TIMESTAMP '2000-01-01')", {"tz": tz})
        except Exception as exc:
            raise InputError(f"unknown time zone {tz!r}", field="tz") from exc
    given_id = _text(col("event_id"))
    # rows without a message id: which occurrence of this exact row in the source it is
    needs_row_ids = not dedupe_rows and (
        "event_id" not in mapped
        or first_value(cur, f"SELECT count(*) FROM _src WHERE {given_id} IS NULL") > 0
    )
    if needs_row_ids:
        # by column name, so a re-export with its columns in another order is the same rows
        raw_cols = " || chr(31) || ".join(
            f"coalesce(CAST({_q(c)} AS VARCHAR), chr(0))" for c in sorted(columns)
        )
        row_hash = f"md5({raw_cols})"
        occurrence = f"row_number() OVER (PARTITION BY {row_hash} ORDER BY {row_no})"
        id_parts = f", {row_hash} AS _h, {occurrence} AS _occ"
    else:
        id_parts = ", NULL AS _h, NULL AS _occ"
    cur.execute("DROP TABLE IF EXISTS _checked")
    cur.execute(
        f"""
        CREATE TEMP TABLE _checked AS
        SELECT
            {verdict} AS _verdict,
            _row, _ts, _type, _h, _occ,
            {given_id} AS _given_id,
            coalesce({
            _ts_expr(mapped["received_at"], dtypes[mapped["received_at"]], None)
            if "received_at" in mapped
            else "NULL::TIMESTAMP"
        }, current_timestamp AT TIME ZONE 'UTC') AS received_at,
            {event} AS _event,
            lower({_text(col("channel"))}) AS channel,
            {", ".join(f"{ids[k]} AS {k}" for k in IDENTIFIER_KINDS)},
            CAST(try_cast({other_ids} AS JSON) AS VARCHAR) AS other_ids,
            CAST({props} AS VARCHAR) AS properties,
            {revenue} AS revenue,
            coalesce({_text(col("source"))}, $source) AS source
        FROM (
          SELECT *, {row_no} AS _row, {ts} AS _ts, {typ} AS _type{id_parts} FROM _src
        ) AS _src
        """,
        params,
    )
    content = ["_ts", "_type", "_event", "channel", *IDENTIFIER_KINDS]
    content += ["other_ids", "properties", "revenue"]
    canonical = " || chr(31) || ".join(f"coalesce(CAST({c} AS VARCHAR), chr(0))" for c in content)
    if dedupe_rows:
        made_id = f"'h_' || substr(md5({canonical}), 1, 24)"
    else:
        made_id = (
            "'r_' || substr(md5(coalesce($source, '') || chr(31) || _h || chr(31) "
            "|| CAST(_occ AS VARCHAR)), 1, 24)"
        )
    cur.execute("DROP TABLE IF EXISTS _staged")
    cur.execute(
        f"""
        CREATE TEMP TABLE _staged AS
        SELECT coalesce(_given_id, {made_id}) AS event_id, _ts AS ts, received_at,
               _type AS type,
               coalesce(_event, CASE _type {default_event} END) AS event, channel,
               {", ".join(IDENTIFIER_KINDS)}, other_ids, properties, revenue, source, _row
        FROM _checked WHERE _verdict IS NULL
        """,
        {"source": source_name or None} if not dedupe_rows else None,
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
    n_staged = int(first_value(cur, "SELECT count(*) FROM _staged"))
    n_invalid = int(first_value(cur, "SELECT count(*) FROM _invalid"))
    cur.execute("DROP TABLE _checked")
    return StageResult(n_staged, n_invalid, mapped, unknown, notices)
