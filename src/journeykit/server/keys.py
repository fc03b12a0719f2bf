"""API keys: write keys collect, read keys query, admin keys manage keys and people.

Keys live in ``keys.sqlite`` in the workspace folder (SQLite, WAL mode, so ``journeykit keys``
can change them while the server runs). Only a salted SHA-256 of each key's secret is kept.
A key is 256 random bits, so a slow password hash would add nothing against guessing and
would make every request with a wrong key cost CPU. A key reads
``jk<kind letter>_<key id>_<secret>``, e.g. ``jkw_4f1c2a9be07d3e55_...``; the key id is
public (it names the key in lists and logs), the secret is shown once, at creation.

The server keeps keys it has checked in memory. It forgets them when it changes the key table
itself, and when another process does (``journeykit keys revoke``; SQLite's ``data_version``,
looked at twice a second), so a revoked key is refused at once or within half a second.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> key = create_key(folder, "write", "web site")
>>> key.startswith("jkw_")
True
>>> [k.kind for k in list_keys(folder)]
['write']
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from journeykit.errors import InputError, NotFound

if TYPE_CHECKING:
    from journeykit.store import Workspace

KeyKind = Literal["write", "read", "admin"]
KINDS: tuple[str, ...] = ("write", "read", "admin")
_LETTER = {"write": "w", "read": "r", "admin": "a"}
KEYS_FILE = "keys.sqlite"
#: How often the server looks for key changes made by other processes.
RECHECK_SECONDS = 0.5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('write', 'read', 'admin')),
    name TEXT NOT NULL,
    salt BLOB NOT NULL,
    digest BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    rate REAL,
    burst REAL
)
"""


@dataclass(frozen=True)
class ApiKey:
    """A key as listed (never with its secret).

    Attributes:
        key_id: the public id (part of the key itself).
        kind: ``write`` (collect), ``read`` (query) or ``admin`` (keys, export, erasure).
        name: what the key is for.
        created_at: when it was made (UTC).
        revoked_at: when it was revoked, or ``None`` while it works.
        rate, burst: its own rate limit (per second) and burst, or ``None`` for the default.
    """

    key_id: str
    kind: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    rate: float | None = None
    burst: float | None = None

    @property
    def active(self) -> bool:
        """Whether the key is accepted."""
        return self.revoked_at is None


def _folder(ws: Workspace | Path | str) -> Path:
    return Path(ws.path) if hasattr(ws, "path") else Path(ws)  # type: ignore[union-attr]


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA busy_timeout=10000")
    con.execute(_SCHEMA)
    return con


@contextmanager
def _db(ws: Workspace | Path | str) -> Iterator[sqlite3.Connection]:
    folder = _folder(ws)
    folder.mkdir(parents=True, exist_ok=True)
    with closing(_connect(folder / KEYS_FILE)) as con:
        yield con


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _row_to_key(row: tuple[object, ...]) -> ApiKey:
    key_id, kind, name, created, revoked, rate, burst = row
    return ApiKey(
        key_id=str(key_id),
        kind=str(kind),
        name=str(name),
        created_at=datetime.fromisoformat(str(created)),
        revoked_at=datetime.fromisoformat(str(revoked)) if revoked else None,
        rate=float(rate) if rate is not None else None,  # type: ignore[arg-type]
        burst=float(burst) if burst is not None else None,  # type: ignore[arg-type]
    )


_COLUMNS = "key_id, kind, name, created_at, revoked_at, rate, burst"


def create_key(
    ws: Workspace | Path | str,
    kind: str,
    name: str,
    *,
    rate: float | None = None,
    burst: float | None = None,
) -> str:
    """Make a key and return it in plain text (shown once; only a hash is kept).

    Args:
        ws: the workspace (or its folder).
        kind: ``write``, ``read`` or ``admin``.
        name: what the key is for ("web site", "dashboard").
        rate, burst: the key's own rate limit (messages a second for write keys, requests a
            second otherwise) and burst; ``None`` takes the server's default.

    Raises:
        InputError: unknown kind, empty name, or a negative rate.
    """
    if kind not in KINDS:
        raise InputError(f"unknown key kind {kind!r}; use one of {', '.join(KINDS)}", field="kind")
    if not name or not name.strip():
        raise InputError("a key needs a name saying what it is for", field="name")
    for label, value in (("rate", rate), ("burst", burst)):
        if value is not None and not value >= 0:
            raise InputError("must be a number >= 0", field=label)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    with _db(ws) as con:
        con.execute(
            f"INSERT INTO api_keys ({_COLUMNS}, salt, digest) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?)",
            (key_id, kind, name.strip(), _now(), rate, burst, salt, _digest(salt, secret)),
        )
    return f"jk{_LETTER[kind]}_{key_id}_{secret}"


def list_keys(ws: Workspace | Path | str, *, include_revoked: bool = True) -> list[ApiKey]:
    """The keys of a workspace, oldest first (without secrets)."""
    where = "" if include_revoked else "WHERE revoked_at IS NULL"
    with _db(ws) as con:
        rows = con.execute(f"SELECT {_COLUMNS} FROM api_keys {where} ORDER BY rowid").fetchall()
    return [_row_to_key(r) for r in rows]


def revoke_key(ws: Workspace | Path | str, key_id: str) -> ApiKey:
    """Revoke a key by its id (or by the whole key); it is refused from its next request on.

    Raises:
        NotFound: no key has that id.
    """
    parsed = _parse(key_id)
    key_id = parsed[1] if parsed else key_id
    with _db(ws) as con:
        con.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (_now(), key_id),
        )
        row = con.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        if row is None:
            known = [r[0] for r in con.execute("SELECT key_id FROM api_keys").fetchall()]
            raise NotFound("key", key_id, known)
    return _row_to_key(row)


def _parse(token: str) -> tuple[str, str, str] | None:
    """(kind, key id, secret) of a key in the journeykit form, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or len(parts[0]) != 3 or not parts[0].startswith("jk"):
        return None
    kind = {"w": "write", "r": "read", "a": "admin"}.get(parts[0][2])
    if kind is None or len(parts[1]) != 16 or not parts[2]:
        return None
    return kind, parts[1], parts[2]


class KeyRing:
    """Checks presented keys against ``keys.sqlite``, remembering good ones until it changes."""

    def __init__(self, ws: Workspace | Path | str) -> None:
        self._con = _connect(_folder(ws) / KEYS_FILE)
        self._lock = threading.Lock()
        self._cache: dict[str, ApiKey] = {}
        self._version = self._data_version()
        self._checked = time.monotonic()

    def _data_version(self) -> int:
        # fetchall: a half-read statement would keep an old read snapshot open
        return int(self._con.execute("PRAGMA data_version").fetchall()[0][0])

    def verify(self, token: str) -> ApiKey | None:
        """The active key ``token`` is, or None (unknown, malformed, wrong secret, revoked)."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked > RECHECK_SECONDS:
                self._checked = now
                version = self._data_version()
                if version != self._version:
                    self._cache.clear()
                    self._version = version
            hit = self._cache.get(token)
            if hit is not None:
                return hit
            parsed = _parse(token)
            if parsed is None:
                return None
            kind, key_id, secret = parsed
            rows = self._con.execute(
                f"SELECT {_COLUMNS}, salt, digest FROM api_keys WHERE key_id = ?", (key_id,)
            ).fetchall()
            row = rows[0] if rows else None
            if row is None or row[4] is not None or row[1] != kind:
                return None
            if not hmac.compare_digest(_digest(row[7], secret), row[8]):
                return None
            key = _row_to_key(row[:7])
            if len(self._cache) < 10_000:
                self._cache[token] = key
            return key

    def forget_cache(self) -> None:
        """Drop remembered keys (after this process changed the key table)."""
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        """Close the SQLite connection."""
        with self._lock:
            self._con.close()


class TokenBucket:
    """A token bucket: ``rate`` tokens a second, holding at most ``burst``.

    >>> bucket = TokenBucket(rate=1.0, burst=2.0)
    >>> bucket.take(2.0), bucket.take(1.0) > 0
    (0.0, True)
    """

    __slots__ = ("_lock", "burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.tokens = self.burst
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self, cost: float) -> float:
        """Take ``cost`` tokens: 0.0 if allowed, else the seconds until they would be there."""
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            # a request larger than the burst passes once the bucket is full
            need = min(cost, self.burst)
            if self.tokens >= need:
                self.tokens -= cost
                return 0.0
            return (need - self.tokens) / self.rate


class RateLimits:
    """One token bucket per key; kinds have default rates, keys may carry their own."""

    def __init__(self, defaults: dict[str, tuple[float, float]]) -> None:
        self._defaults = defaults
        self._buckets: dict[str, TokenBucket | None] = {}
        self._lock = threading.Lock()

    def check(self, key: ApiKey, cost: float = 1.0) -> float:
        """0.0 if the key may go on, else the seconds to wait."""
        bucket = self._buckets.get(key.key_id, False)
        if bucket is False:
            rate, burst = self._defaults.get(key.kind, (0.0, 0.0))
            rate = key.rate if key.rate is not None else rate
            burst = key.burst if key.burst is not None else (burst or rate)
            with self._lock:
                bucket = self._buckets.setdefault(
                    key.key_id, TokenBucket(rate, burst) if rate > 0 else None
                )
        return 0.0 if bucket is None else bucket.take(cost)  # type: ignore[union-attr]
