"""The journey spec lives in the workspace: stored, versioned, and read by every command.

Each :func:`set_spec` stores a new version (table ``specs``: version, set_at, set_by, note,
yaml); the newest is the workspace's current spec. Readers ask :func:`current_spec` per use, so
a server picks up a new version without a restart (parsed specs are cached by their text).
A workspace without a spec raises :class:`~journeykit.errors.NoSpec`, which says how to make
one; journeykit never falls back to the demo's spec.

>>> import journeykit, tempfile
>>> ws = journeykit.open(tempfile.mkdtemp())
>>> find_spec(ws) is None
True
>>> set_spec(ws, "stages: [{name: a, touchpoints: [{name: A, event: x}]}]\\ngoals: [x]",
...          by="doctest").version
1
>>> current_spec(ws).goal_events
('x',)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeykit.errors import NoSpec

if TYPE_CHECKING:
    from journeykit.journey.spec import JourneySpec


@dataclass(frozen=True)
class SpecVersion:
    """One stored version of a workspace's spec.

    Attributes:
        version: 1, 2, ... (the highest is current).
        set_at: when it was stored (naive UTC).
        set_by: who or what stored it (``spec set``, ``spec infer``, ``demo``, a name).
        note: free text (the file it came from, a reason).
        yaml: the spec's text.
    """

    version: int
    set_at: datetime
    set_by: str
    note: str | None
    yaml: str

    @property
    def spec(self) -> JourneySpec:
        """The parsed spec."""
        return _parse(self.yaml)


@lru_cache(maxsize=32)
def _parse(text: str) -> JourneySpec:
    from journeykit.journey.spec import JourneySpec

    return JourneySpec.from_yaml(text)


def _rows(ws: Any, *, latest: bool) -> list[tuple[Any, ...]]:
    cols = "version, set_at, set_by, note, yaml"
    tail = " ORDER BY version DESC LIMIT 1" if latest else " ORDER BY version"
    store = getattr(ws, "store", None)
    if store is not None:
        return list(store.fetchall(f"SELECT {cols} FROM specs{tail}"))
    # an engine without a store (a Spark export): the specs table as exported with it
    try:
        frame = ws.table("specs").to_pandas()
    except Exception:  # an export older than the specs table holds no spec
        return []
    frame = frame.sort_values("version", ascending=not latest)
    if latest:
        frame = frame.head(1)
    return [
        tuple(r)
        for r in frame[["version", "set_at", "set_by", "note", "yaml"]].itertuples(index=False)
    ]


def _version(row: tuple[Any, ...]) -> SpecVersion:
    version, set_at, set_by, note, text = row
    return SpecVersion(int(version), set_at, str(set_by), note, str(text))


def spec_versions(ws: Any) -> list[SpecVersion]:
    """Every stored version of the workspace's spec, oldest first."""
    return [_version(r) for r in _rows(ws, latest=False)]


def current_version(ws: Any) -> SpecVersion | None:
    """The newest stored version, or ``None`` when the workspace has no spec."""
    rows = _rows(ws, latest=True)
    return _version(rows[0]) if rows else None


def find_spec(ws: Any) -> JourneySpec | None:
    """The workspace's current spec, or ``None`` when it has none."""
    current = current_version(ws)
    return None if current is None else current.spec


def current_spec(ws: Any) -> JourneySpec:
    """The workspace's current spec.

    Raises:
        NoSpec: the workspace has none; the message says how to make one.
    """
    spec = find_spec(ws)
    if spec is None:
        raise NoSpec(str(getattr(ws, "path", "WORKSPACE")))
    return spec


def spec_or_current(ws: Any, spec: JourneySpec | str | Path | None) -> JourneySpec:
    """An explicit spec (object, YAML text or file) when given, else the workspace's."""
    if spec is None:
        return current_spec(ws)
    from journeykit.journey.spec import JourneySpec, load_spec

    return spec if isinstance(spec, JourneySpec) else load_spec(spec)


def set_spec(
    ws: Any,
    spec: JourneySpec | str | Path | Mapping[str, Any],
    *,
    by: str,
    note: str | None = None,
) -> SpecVersion:
    """Check ``spec`` (a spec, YAML text, a YAML file or plain data) and store it as the
    workspace's new current version.

    Raises:
        InvalidSpec: the spec does not validate (nothing is stored).
    """
    from journeykit.journey.spec import load_spec

    checked = load_spec(spec)
    text = checked.to_yaml()
    if isinstance(spec, Path | str) and not isinstance(spec, Mapping):
        raw = Path(spec).read_text(encoding="utf-8") if _is_file(spec) else str(spec)
        # keep the author's text (comments, order) when it reads back to the same spec
        if _parse(raw) == checked:
            text = raw
    store = ws.store
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.transaction() as cur:
        version = int(cur.execute("SELECT coalesce(max(version), 0) + 1 FROM specs").fetchone()[0])
        cur.execute(
            "INSERT INTO specs (version, set_at, set_by, note, yaml) VALUES (?, ?, ?, ?, ?)",
            [version, now, by, note, text],
        )
    return SpecVersion(version, now, by, note, text)


def _is_file(source: str | Path) -> bool:
    text = str(source)
    return isinstance(source, Path) or ("\n" not in text and text.endswith((".yaml", ".yml")))
