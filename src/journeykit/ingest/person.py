"""One person: their unified timeline, an export of everything kept about them, erasure.

Erasure (GDPR "right to be forgotten") removes the person's events, identifiers, links, merges,
traits and profile, the rejected rows and dead letters that mention any of their identifiers
(in the table and in the workspace's files), rewrites the database file so that none of it
stays readable in its bytes, and says what it removed.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from journeykit.ingest.identity import resolve
from journeykit.ingest.identity import unmerge as _unmerge_links
from journeykit.ingest.load import rewrite_people

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.store import Workspace

TIMELINE_COLUMNS = [
    "ts",
    "channel",
    "event",
    "type",
    "revenue",
    "properties",
    "event_id",
    "source",
    "seq",
]


def timeline(ws: Workspace, identifier: str) -> pd.DataFrame:
    """Every event of the person behind ``identifier``, across channels, in journey order.

    Columns: ts, channel, event, type, revenue, properties, event_id, source, seq.

    Raises:
        NotFound: no person has that identifier.
    """
    person = resolve(ws.store, identifier)
    return ws.store.df(
        f"SELECT {', '.join(TIMELINE_COLUMNS)} FROM events WHERE person_id = ? ORDER BY seq",
        [person],
    )


def _rows(ws: Workspace, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = ws.store.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_person(ws: Workspace, identifier: str, *, parse_json: bool = True) -> dict[str, Any]:
    """Everything the workspace keeps about one person, as JSON-ready data.

    Keys: person_id, profile, identities, links, merges, traits, events. With
    ``parse_json=False`` the JSON columns (event properties, other ids, profile traits) stay
    the JSON text they are stored as (see :func:`export_person_json`).

    Raises:
        NotFound: no person has that identifier.
    """
    person = resolve(ws.store, identifier)
    ids = "SELECT identifier FROM identities WHERE person_id = ?"
    out: dict[str, Any] = {
        "person_id": person,
        "profile": _rows(ws, "SELECT * FROM people WHERE person_id = ?", [person]),
        "identities": _rows(
            ws, "SELECT * FROM identities WHERE person_id = ? ORDER BY 1", [person]
        ),
        "links": _rows(
            ws, f"SELECT * FROM identity_links WHERE a IN ({ids}) ORDER BY ts", [person]
        ),
        "merges": _rows(
            ws,
            "SELECT m.* FROM merges m JOIN identity_links l USING (link_id) "
            f"WHERE l.a IN ({ids}) ORDER BY merged_at",
            [person],
        ),
        "traits": _rows(
            ws, f"SELECT * FROM traits WHERE identifier IN ({ids}) ORDER BY ts", [person]
        ),
        "events": _rows(ws, "SELECT * FROM events WHERE person_id = ? ORDER BY seq", [person]),
    }
    for key, value in out.items():
        if isinstance(value, list):
            out[key] = [{k: _jsonable(v) for k, v in row.items()} for row in value]
    if parse_json:
        for row, col in _json_cells(out):
            row[col] = json.loads(row[col])
    return out


def _json_cells(export: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """The (row, column) cells of an export that hold JSON text."""
    cells = [(row, "traits") for row in export["profile"]]
    cells += [(event, col) for event in export["events"] for col in ("properties", "other_ids")]
    return [(row, col) for row, col in cells if isinstance(row.get(col), str)]


def export_person_json(ws: Workspace, identifier: str, *, indent: int | None = None) -> str:
    """:func:`export_person` as JSON text, the stored JSON values written as they are stored.

    Never parses them: properties nested hundreds of levels deep (which no JSON writer
    takes back) export as they came in.

    Raises:
        NotFound: no person has that identifier.
    """
    export = export_person(ws, identifier, parse_json=False)
    nonce = os.urandom(8).hex()
    stored: list[str] = []
    for row, col in _json_cells(export):
        stored.append(row[col])
        row[col] = f"jk-json-{nonce}-{len(stored) - 1}"
    text = json.dumps(export, indent=indent, default=str)
    return re.sub(f'"jk-json-{nonce}-([0-9]+)"', lambda m: stored[int(m.group(1))], text)


@dataclass(frozen=True)
class ForgetReport:
    """What erasing a person removed, table by table, and the files rewritten.

    ``files_rewritten`` lists the side files (rejects CSVs, the collector's dead letters)
    that held the person's identifiers; ``store_rewritten`` says the database file was
    rewritten so that the deleted rows are gone from its bytes too.
    """

    person_id: str
    identifiers: list[str]
    removed: dict[str, int] = field(default_factory=dict)
    files_rewritten: list[str] = field(default_factory=list)
    store_rewritten: bool = False


#: Side files of a workspace that may hold raw messages or rows, one record a line:
#: the loader's rejects and the collector's dead letters.
LINE_FILES = ("rejects/*.csv", "spool/dead/*.jsonl")

#: What may stand between the digits of a phone number as people write it.
_PHONE_GAP = "[ ().\\-/]*"


def erasure_patterns(kinds_values: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """How a person's identifiers are found in raw text: substrings and regular expressions.

    Substrings are lower-cased values, also as JSON writes them (escaped). Phone numbers are
    stored normalised (``+15550109999``) but sent as written (``+1 (555) 010-9999``), so each
    is also a pattern of its digits with any of space, brackets, dots, dashes and slashes
    between them, not inside a longer number. The patterns are in the syntax Python's ``re``
    and DuckDB's (RE2) share.

    >>> subs, pats = erasure_patterns([("phone", "+15550109")])
    >>> import re
    >>> bool(re.search(pats[0], 'x,"+1 (555) 010-9",y')), bool(re.search(pats[0], "915550109"))
    (True, False)
    """
    subs: set[str] = set()
    patterns: set[str] = set()
    for kind, value in kinds_values:
        if not value:
            continue
        subs.add(value.lower())
        subs.add(json.dumps(value)[1:-1].lower())
        digits = re.sub(r"[^0-9]", "", value)
        if kind == "phone" and len(digits) >= 5:
            patterns.add("(^|[^0-9])(\\+|00)?" + _PHONE_GAP.join(digits) + "([^0-9]|$)")
    return sorted(subs), sorted(patterns)


def _mentions(text: str, subs: list[str], patterns: list[re.Pattern[str]]) -> bool:
    lowered = text.lower()
    return any(s in lowered for s in subs) or any(p.search(text) for p in patterns)


def forget(ws: Workspace, identifier: str, *, rewrite_store: bool = True) -> ForgetReport:
    """Erase a person from every table of the workspace, and from its files' bytes.

    Removes their events, identities, links, merges, traits and profile; the rejected rows
    and dead letters that mention any of their identifiers, as stored (normalised) or as
    sent (an e-mail in any case, a phone number as written); then rewrites the database
    file, since DuckDB leaves deleted rows readable in the file until its blocks are reused
    (``rewrite_store=False`` skips that, for erasing many people before one rewrite with
    :meth:`journeykit.store.Workspace.rewrite`).

    Raises:
        NotFound: no person has that identifier.
    """
    store = ws.store
    person = resolve(store, identifier)
    with store.lock:
        found = store.fetchall(
            "SELECT identifier, kind, value FROM identities WHERE person_id = ? ORDER BY 1",
            [person],
        )
        idents = [r[0] for r in found]
        subs, patterns = erasure_patterns([(r[1], r[2]) for r in found])
        removed: dict[str, int] = {}
        params = {"person": person, "ids": idents, "subs": subs, "phones": patterns}
        statements = {
            "events": "DELETE FROM events WHERE person_id = $person",
            "merges": "DELETE FROM merges WHERE link_id IN (SELECT link_id FROM identity_links "
            "WHERE a IN (SELECT unnest($ids::VARCHAR[])) "
            "OR b IN (SELECT unnest($ids::VARCHAR[])))",
            "identity_links": "DELETE FROM identity_links "
            "WHERE a IN (SELECT unnest($ids::VARCHAR[])) "
            "OR b IN (SELECT unnest($ids::VARCHAR[]))",
            "traits": "DELETE FROM traits WHERE identifier IN (SELECT unnest($ids::VARCHAR[]))",
            "identities": "DELETE FROM identities WHERE person_id = $person",
            "people": "DELETE FROM people WHERE person_id = $person",
            "rejects": "DELETE FROM rejects WHERE "
            "coalesce(list_bool_or([contains(lower(raw), v) FOR v IN $subs::VARCHAR[]]), false) "
            "OR coalesce(list_bool_or([regexp_matches(raw, x) FOR x IN $phones::VARCHAR[]]), false)",
        }
        with store.transaction() as cur:
            for table, sql in statements.items():
                used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}
                count = cur.execute(sql, used).fetchone()
                removed[table] = int(count[0]) if count else 0
        # the collector writes dead letters holding the store's lock: none is lost meanwhile
        files = _scrub_line_files(ws, subs, [re.compile(p) for p in patterns])
        if rewrite_store:
            ws.rewrite()
    return ForgetReport(person, idents, removed, files, rewrite_store)


def _scrub_line_files(ws: Workspace, subs: list[str], patterns: list[re.Pattern[str]]) -> list[str]:
    """Drop the lines (CSV records) of the side files that mention the person; atomically."""
    if not subs and not patterns:
        return []
    rewritten = []
    for path in sorted(p for pattern in LINE_FILES for p in ws.path.glob(pattern)):
        is_csv = path.suffix == ".csv"  # a CSV record may span lines
        with path.open(newline="", encoding="utf-8", errors="surrogateescape") as fh:
            records: list[list[str]] = list(csv.reader(fh)) if is_csv else []
            lines: list[str] = [] if is_csv else fh.read().splitlines(keepends=True)
        kept_records = [r for r in records if not _mentions(",".join(r), subs, patterns)]
        kept_lines = [r for r in lines if not _mentions(r, subs, patterns)]
        if len(kept_records) == len(records) and len(kept_lines) == len(lines):
            continue
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
            if is_csv:
                csv.writer(fh).writerows(kept_records)
            else:
                fh.writelines(kept_lines)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        rewritten.append(str(path))
    return rewritten


def unmerge(ws: Workspace, merge_or_link: str) -> list[str]:
    """Undo a merge: split the person again and re-key their events. No event is lost.

    Returns the person ids the identifiers of the undone link belong to afterwards.

    Raises:
        NotFound: no merge or active link has that id.
    """
    store = ws.store
    with store.lock, store.transaction():
        people = _unmerge_links(store, merge_or_link)
        rewrite_people(store, ws.settings.ingest.extra_identifiers, include_fresh=False)
    return people


def merges(ws: Workspace, *, include_undone: bool = False) -> pd.DataFrame:
    """The merge audit trail: which link joined which people, from which event, and when."""
    where = "" if include_undone else "WHERE m.undone_at IS NULL"
    return ws.store.df(
        "SELECT m.merge_id, m.merged_at, l.a, l.b, l.origin, m.event_id, m.person_a, "
        "m.person_b, m.merged_into, m.undone_at FROM merges m JOIN identity_links l "
        f"USING (link_id) {where} ORDER BY m.merged_at, m.merge_id"
    )
