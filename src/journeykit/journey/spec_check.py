"""A spec against the data: the event names it mentions that never occur, with the closest ones.

A spec that names ``Purchase Made`` over data whose purchase is ``purchase`` measures nothing
and says so nowhere; :func:`missing_events` finds such names so the CLI, the API and the
dashboard can warn about each, with the workspace's closest names ("did you mean purchase?").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeykit.journey.spec import JourneySpec

_SEPARATORS = re.compile(r"[\s_\-.:/]+")


@dataclass(frozen=True)
class MissingEvent:
    """An event name a spec mentions that no stored event has.

    Attributes:
        name: the name in the spec.
        closest: the workspace's closest event names, best first (may be empty).
    """

    name: str
    closest: tuple[str, ...]

    @property
    def message(self) -> str:
        """One line for a person: the name, and what it might have meant."""
        hint = ""
        if self.closest:
            hint = "; did you mean " + " or ".join(repr(n) for n in self.closest) + "?"
        return f"event {self.name!r} never occurs in the data{hint}"


def _key(name: str) -> str:
    """``Add To Cart``, ``add_to_cart`` and ``addToCart`` compare equal."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return _SEPARATORS.sub(" ", spaced).strip().lower()


def closest_names(name: str, known: Iterable[str], n: int = 3) -> tuple[str, ...]:
    """The names in ``known`` closest to ``name`` (case, spacing and ``_`` ignored).

    >>> closest_names("Add To Cart", ["add_to_cart", "purchase", "page_view"])
    ('add_to_cart',)
    >>> closest_names("purchse", ["purchase", "page_view"])
    ('purchase',)
    """
    by_key: dict[str, str] = {}
    for k in known:
        by_key.setdefault(_key(k), k)
    keys = difflib.get_close_matches(_key(name), list(by_key), n=n, cutoff=0.6)
    return tuple(by_key[k] for k in keys)


def event_names(ws: Any) -> list[str]:
    """The distinct event names stored in a workspace, sorted."""
    store = getattr(ws, "store", None)
    if store is not None:
        return [r[0] for r in store.fetchall("SELECT DISTINCT event FROM events ORDER BY 1")]
    frame = ws.table("events").select("event").distinct().to_pandas()
    return sorted(frame["event"].dropna().astype(str))


def missing_events(
    ws: Any, spec: JourneySpec, *, known: Sequence[str] | None = None
) -> list[MissingEvent]:
    """The event names ``spec`` mentions that no event in ``ws`` has, sorted by name.

    An empty workspace has nothing to compare with and gives no warnings.

    >>> import journeykit, tempfile
    >>> from journeykit.ingest import load
    >>> from journeykit.journey import load_spec
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> _ = load(ws, [{"ts": "2026-01-05T10:00:00Z", "event": "add_to_cart", "user_id": "u1"}])
    >>> spec = load_spec("stages: [{name: a, touchpoints: [{name: A, event: Add To Cart}]}]\\n"
    ...                  "goals: [add_to_cart]")
    >>> [m.message for m in missing_events(ws, spec)]
    ["event 'Add To Cart' never occurs in the data; did you mean 'add_to_cart'?"]
    """
    names = list(known) if known is not None else event_names(ws)
    if not names:
        return []
    present = set(names)
    return [
        MissingEvent(name, closest_names(name, names))
        for name in sorted(spec.events_named())
        if name not in present
    ]
