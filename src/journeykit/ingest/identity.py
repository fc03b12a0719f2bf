"""Identity stitching: every identifier seen together belongs to one person.

Identifiers are strings ``kind:value`` (``email:ann@example.com``). Two identifiers on the same
event, or linked by an identify or alias call, are joined by a *link*; people are the connected
components of the identifier graph over links that are not undone. Each person's id is derived
from the smallest identifier in its component, so the same graph always gives the same ids.

Connected components come from scipy's sparse graph routines (vectorised, well kept) over just
the part of the graph a load touches: the identifiers it brings and every identifier of the
people those reach. A link that joins two people who each had their own history before it is a
*merge*; merges are recorded and can be undone (the link is marked undone, never deleted, and
the components are computed again), so no event is ever lost.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from journeykit.errors import NotFound
from journeykit.schema.events import IDENTIFIER_KINDS
from journeykit.store import Store, first_value


def person_id_for(identifier: str) -> str:
    """The person id of a component whose smallest identifier is ``identifier``.

    >>> person_id_for("email:ann@example.com")
    'p_ab175f65a2cdc7f7'
    """
    return "p_" + hashlib.sha1(identifier.encode("utf-8")).hexdigest()[:16]


def anchor_sql(extra: tuple[str, ...] = (), prefix: str = "") -> str:
    """SQL picking an event's anchor identifier (the first present in identifier order)."""
    parts = [f"'{k}:' || {prefix}{k}" for k in IDENTIFIER_KINDS]
    parts += [f"'{k}:' || json_extract_string({prefix}other_ids, '$.\"{k}\"')" for k in extra]
    return f"coalesce({', '.join(parts)})"


def _identifier_rows_sql(table: str, extra: tuple[str, ...]) -> str:
    parts = [
        f"SELECT event_id, ts, '{k}' AS kind, {k} AS value FROM {table} WHERE {k} IS NOT NULL"
        for k in IDENTIFIER_KINDS
    ]
    parts += [
        f"SELECT event_id, ts, '{k}' AS kind, json_extract_string(other_ids, '$.\"{k}\"') "
        f"AS value FROM {table} WHERE json_extract_string(other_ids, '$.\"{k}\"') IS NOT NULL"
        for k in extra
    ]
    return " UNION ALL ".join(parts)


@dataclass(frozen=True)
class StitchResult:
    """What one stitching pass changed."""

    new_identifiers: int
    new_links: int
    merges: int


def stitch(store: Store, table: str, *, extra: tuple[str, ...] = ()) -> StitchResult:
    """Stitch the identifiers of the events in temp table ``table`` into the identity graph.

    Leaves a temp table ``_touched(person_id)`` with the people (by their old ids) whose
    events must be re-keyed and re-ordered. Runs inside the caller's transaction.
    """
    cur = store.cursor()
    _check_extra(extra)
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ids AS
        SELECT event_id, ts, kind, value, kind || ':' || value AS identifier
        FROM ({_identifier_rows_sql(table, extra)})
        """
    )
    # Alias calls name a previous id: a user id when one is known by that value, else an
    # anonymous id (as the Segment spec describes previousId).
    cur.execute(
        f"""
        INSERT INTO _ids
        SELECT s.event_id, s.ts,
               CASE WHEN EXISTS (SELECT 1 FROM identities i WHERE i.identifier = 'user_id:' || p.prev)
                      OR EXISTS (SELECT 1 FROM {table} t WHERE t.user_id = p.prev)
                    THEN 'user_id' ELSE 'anonymous_id' END AS kind,
               p.prev AS value, NULL
        FROM {table} s, (SELECT json_extract_string(s.other_ids, '$.previous_id') AS prev) p
        WHERE s.type = 'alias' AND p.prev IS NOT NULL
        """
    )
    cur.execute("UPDATE _ids SET identifier = kind || ':' || value WHERE identifier IS NULL")
    # links: each event's identifiers joined to its first one (a star is enough for components)
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _new_links AS
        WITH ranked AS (
          SELECT event_id, ts, identifier,
                 first_value(identifier) OVER (PARTITION BY event_id ORDER BY
                   CASE WHEN kind = 'user_id' THEN 0 ELSE 1 END, identifier) AS anchor
          FROM (SELECT DISTINCT event_id, ts, kind, identifier FROM _ids)
        ), pairs AS (
          SELECT least(anchor, identifier) AS a, greatest(anchor, identifier) AS b,
                 event_id, ts
          FROM ranked WHERE identifier <> anchor
        )
        SELECT a, b, arg_min(event_id, (ts, event_id)) AS event_id, min(ts) AS ts
        FROM pairs p
        WHERE NOT EXISTS (
          SELECT 1 FROM identity_links l WHERE l.a = p.a AND l.b = p.b AND l.undone_at IS NULL)
        GROUP BY a, b
        """
    )
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _id_seen AS
        SELECT identifier, any_value(kind) AS kind, any_value(value) AS value,
               min(ts) AS first_seen, max(ts) AS last_seen
        FROM _ids GROUP BY identifier
        """
    )
    # the part of the graph this load reaches: its identifiers, and all of their people
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _touched AS
        SELECT DISTINCT i.person_id FROM identities i JOIN _id_seen s USING (identifier)
        """
    )
    n_new_ids = int(
        first_value(
            cur,
            "SELECT count(*) FROM _id_seen s WHERE NOT EXISTS "
            "(SELECT 1 FROM identities i WHERE i.identifier = s.identifier)",
        )
    )
    n_links = int(first_value(cur, "SELECT count(*) FROM _new_links"))
    if n_new_ids == 0 and n_links == 0:
        cur.execute(
            """
            UPDATE identities SET last_seen = greatest(identities.last_seen, s.last_seen),
                   first_seen = least(identities.first_seen, s.first_seen)
            FROM _id_seen s WHERE identities.identifier = s.identifier
            """
        )
        return StitchResult(0, 0, 0)
    merges = _recompute(store, new_links=True)
    return StitchResult(n_new_ids, n_links, merges)


def _check_extra(extra: tuple[str, ...]) -> None:
    for key in extra:
        if not key.replace("_", "").isalnum():
            from journeykit.errors import InputError

            raise InputError(f"identifier name {key!r} must be letters, digits and _")


def _components(members: pd.Series, edges: pd.DataFrame) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    codes = pd.Index(members)
    n = len(codes)
    if len(edges):
        rows = codes.get_indexer(edges["a"])
        cols = codes.get_indexer(edges["b"])
        keep = (rows >= 0) & (cols >= 0)
        graph = coo_matrix(
            (np.ones(int(keep.sum()), dtype=np.int8), (rows[keep], cols[keep])), shape=(n, n)
        )
    else:
        graph = coo_matrix((n, n), dtype=np.int8)
    _, labels = connected_components(graph, directed=False)
    return labels


def _recompute(store: Store, *, new_links: bool) -> int:
    """Recompute people for the identifiers of ``_touched`` people plus ``_id_seen``.

    Reads temp tables ``_touched`` (old person ids), ``_id_seen`` (identifiers, may be empty)
    and ``_new_links``; writes identities, identity_links and merges. Returns merges recorded.
    """
    cur = store.cursor()
    members = cur.execute(
        """
        SELECT identifier, min(first_seen) AS first_seen, any_value(person_id) AS old_person
        FROM (
          SELECT i.identifier, i.first_seen, i.person_id FROM identities i
          WHERE i.person_id IN (SELECT person_id FROM _touched)
          UNION ALL
          SELECT identifier, first_seen, NULL FROM _id_seen
        ) GROUP BY identifier ORDER BY identifier
        """
    ).df()
    old_links = cur.execute(
        """
        SELECT a, b FROM identity_links
        WHERE undone_at IS NULL AND a IN (
          SELECT identifier FROM identities WHERE person_id IN (SELECT person_id FROM _touched))
        """
    ).df()
    fresh = (
        cur.execute("SELECT a, b, event_id, ts FROM _new_links ORDER BY ts, event_id, a, b").df()
        if new_links
        else pd.DataFrame(columns=["a", "b", "event_id", "ts"])
    )
    edges = pd.concat([old_links, fresh[["a", "b"]]], ignore_index=True)
    labels = _components(members["identifier"], edges)
    members["component"] = labels
    # identifiers are sorted, so the first of each component is its smallest
    smallest = members.groupby("component", sort=False)["identifier"].transform("first")
    members["person_id"] = [person_id_for(s) for s in smallest] if len(smallest) else []

    merge_rows = _merges(members, fresh) if new_links else []
    now = datetime.now(UTC).replace(tzinfo=None)
    cur.register("_members_df", members[["identifier", "person_id"]])
    try:
        cur.execute(
            """
            UPDATE identities SET person_id = m.person_id
            FROM _members_df m WHERE identities.identifier = m.identifier
              AND identities.person_id <> m.person_id
            """
        )
        cur.execute(
            """
            INSERT INTO identities
            SELECT s.identifier, s.kind, s.value, m.person_id, s.first_seen, s.last_seen
            FROM _id_seen s JOIN _members_df m USING (identifier)
            WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.identifier = s.identifier)
            """
        )
        cur.execute(
            """
            UPDATE identities SET last_seen = greatest(identities.last_seen, s.last_seen),
                   first_seen = least(identities.first_seen, s.first_seen)
            FROM _id_seen s WHERE identities.identifier = s.identifier
            """
        )
    finally:
        cur.unregister("_members_df")
    if new_links:
        cur.execute(
            """
            INSERT INTO identity_links
            SELECT 'l_' || substr(md5(a || chr(31) || b || chr(31) || coalesce(event_id, '')), 1, 20),
                   a, b, 'event', event_id, ts, $now, NULL
            FROM _new_links
            """,
            {"now": now},
        )
    if merge_rows:
        frame = pd.DataFrame(
            merge_rows, columns=["a", "b", "event_id", "person_a", "person_b", "merged_into"]
        )
        cur.register("_merge_df", frame)
        try:
            cur.execute(
                """
                INSERT INTO merges
                SELECT 'm_' || substr(md5(l.link_id), 1, 16), l.link_id, person_a, person_b,
                       merged_into, m.event_id, $now, NULL
                FROM _merge_df m JOIN identity_links l
                  ON l.a = m.a AND l.b = m.b AND l.undone_at IS NULL
                """,
                {"now": now},
            )
        finally:
            cur.unregister("_merge_df")
    return len(merge_rows)


def _merges(members: pd.DataFrame, fresh: pd.DataFrame) -> list[tuple[str, ...]]:
    """Links that joined two histories: both sides were seen before the linking event.

    A union-find over the groups as they stood before this load, replaying new links in time
    order. Written by hand because it needs the order and the per-group first-seen time,
    which the vectorised component routine does not give.
    """
    if fresh.empty:
        return []
    parent: dict[str, str] = {}
    first: dict[str, pd.Timestamp] = {}
    label: dict[str, str] = {}
    for ident, seen, old in members[["identifier", "first_seen", "old_person"]].itertuples(
        index=False
    ):
        root = old if isinstance(old, str) else ident
        parent.setdefault(root, root)
        parent[ident] = root
        first[root] = min(first.get(root, seen), seen) if root in first else seen
        label[root] = old if isinstance(old, str) else ident

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    final = dict(zip(members["identifier"], members["person_id"], strict=True))
    out: list[tuple[str, ...]] = []
    for a, b, event_id, ts in fresh.itertuples(index=False):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        if first[ra] < ts and first[rb] < ts:
            out.append((a, b, event_id, label[ra], label[rb], final[a]))
        parent[rb] = ra
        first[ra] = min(first[ra], first[rb])
    return out


def unmerge(store: Store, merge_or_link: str) -> list[str]:
    """Undo a merge (by merge id or link id): the link is marked undone and people recomputed.

    Returns the person ids that exist afterwards for the identifiers involved.

    Raises:
        NotFound: no merge or active link has that id.
    """
    cur = store.cursor()
    row = cur.execute(
        "SELECT link_id FROM merges WHERE merge_id = $id AND undone_at IS NULL "
        "UNION SELECT link_id FROM identity_links WHERE link_id = $id AND undone_at IS NULL",
        {"id": merge_or_link},
    ).fetchone()
    if row is None:
        known = [
            r[0]
            for r in cur.execute(
                "SELECT merge_id FROM merges WHERE undone_at IS NULL ORDER BY merged_at DESC LIMIT 5"
            ).fetchall()
        ]
        raise NotFound("merge or link", merge_or_link, known)
    link_id = row[0]
    now = datetime.now(UTC).replace(tzinfo=None)
    link = cur.execute("SELECT a, b FROM identity_links WHERE link_id = ?", [link_id]).fetchone()
    if link is None:  # removed since the lookup above
        raise NotFound("merge or link", merge_or_link, [])
    a, b = link
    cur.execute(
        "UPDATE identity_links SET undone_at = $now WHERE link_id = $id",
        {"now": now, "id": link_id},
    )
    cur.execute(
        "UPDATE merges SET undone_at = $now WHERE link_id = $id AND undone_at IS NULL",
        {"now": now, "id": link_id},
    )
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT person_id FROM identities "
        "WHERE identifier IN ($a, $b)",
        {"a": a, "b": b},
    )
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _id_seen AS SELECT identifier, kind, value, first_seen, "
        "last_seen FROM identities WHERE false"
    )
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _new_links (a VARCHAR, b VARCHAR, "
        "event_id VARCHAR, ts TIMESTAMP)"
    )
    _recompute(store, new_links=False)
    return [
        r[0]
        for r in cur.execute(
            "SELECT DISTINCT person_id FROM identities WHERE identifier IN ($a, $b) ORDER BY 1",
            {"a": a, "b": b},
        ).fetchall()
    ]


def resolve(store: Store, identifier: str) -> str:
    """The person id for an identifier given as ``kind:value``, a bare value, or a person id.

    Bare values are tried as every identifier kind (normalised for e-mail and phone).

    Raises:
        NotFound: nothing matches.
    """
    from journeykit.schema.events import normalise_identifier

    text = identifier.strip()
    if text.startswith("p_"):
        hit = store.scalar("SELECT person_id FROM identities WHERE person_id = ? LIMIT 1", [text])
        if hit:
            return str(hit)
    candidates: list[str] = []
    if ":" in text and text.split(":", 1)[0] in (*IDENTIFIER_KINDS, "other"):
        kind, value = text.split(":", 1)
        candidates.append(f"{kind}:{normalise_identifier(kind, value)}")
    candidates.append(text)
    for kind in IDENTIFIER_KINDS:
        norm = normalise_identifier(kind, text)
        if norm:
            candidates.append(f"{kind}:{norm}")
    hits = store.fetchall(
        "SELECT DISTINCT person_id FROM identities WHERE identifier IN "
        "(SELECT unnest($c::VARCHAR[]))",
        {"c": candidates},
    )
    if not hits:
        hits = store.fetchall(
            "SELECT DISTINCT person_id FROM identities WHERE value = ? LIMIT 2", [text]
        )
    if not hits:
        raise NotFound("person with identifier", identifier)
    if len(hits) > 1:
        from journeykit.errors import InputError

        raise InputError(
            f"{identifier!r} matches {len(hits)} people; say which kind, e.g. email:{text}",
            field="identifier",
        )
    return str(hits[0][0])


def identifier_sql_check(kind: str, value: str | None) -> str | None:
    """Normalise one value with the loader's SQL (to check it against the Python rule)."""
    import duckdb

    from journeykit.ingest.stage import identifier_sql

    con = duckdb.connect()
    try:
        row = con.execute(f"SELECT {identifier_sql(kind, '$v')}", {"v": value}).fetchone()
    finally:
        con.close()
    return None if row is None else row[0]
