"""Names that match no event, with the closest ones the workspace knows ("did you mean ...?").

A funnel step, a goal, an anchor, a value compared with ``event`` in a filter or an event a
journey spec names that the workspace never saw makes an analysis answer 0 % without saying
why. These helpers find such names so the CLI, the API and the dashboard can warn about them,
with the closest names from the one matcher of the code base
(:func:`journeykit.journey.spec_check.closest_names`; events a spec names are checked by
:func:`journeykit.journey.spec_check.missing_events`):

>>> import journeykit, tempfile
>>> from journeykit.ingest import load
>>> ws = journeykit.open(tempfile.mkdtemp())
>>> _ = load(ws, [{"ts": "2026-01-05T10:00:00", "event": e, "user_id": "u1"}
...               for e in ("purchase", "page_view", "purchase")])
>>> [w.message for w in unknown_events(ws, ["page_view", "purchased"], what="funnel step")]
["funnel step 'purchased' matches no event in the workspace; did you mean purchase?"]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from journeykit.journey.spec_check import closest_names, event_names

if TYPE_CHECKING:
    from journeykit.store import Workspace


@dataclass(frozen=True)
class UnknownName:
    """A name that matches no event in the workspace.

    Attributes:
        what: what the name was given as ("funnel step", "goal", "filter value", "spec event").
        name: the name.
        suggestions: the closest event names the workspace knows, best first.
    """

    what: str
    name: str
    suggestions: tuple[str, ...]

    @property
    def message(self) -> str:
        """``funnel step 'add to cart' matches no event; did you mean add_to_cart?``"""
        hint = f"; did you mean {' or '.join(self.suggestions)}?" if self.suggestions else ""
        return f"{self.what} {self.name!r} matches no event in the workspace{hint}"

    def __str__(self) -> str:
        return self.message


def unknown_events(
    ws: Workspace | None,
    names: Iterable[Any],
    *,
    what: str = "event",
    known: Iterable[str] | None = None,
) -> list[UnknownName]:
    """The names (strings; anything else is skipped) that match no event, each with the
    closest known names. ``known`` saves reading the workspace's names again."""
    wanted = [n for n in dict.fromkeys(names) if isinstance(n, str) and n]
    if not wanted:
        return []
    pool = tuple(known) if known is not None else event_names(ws) if ws is not None else ()
    have = set(pool)
    return [UnknownName(what, n, closest_names(n, pool)) for n in wanted if n not in have]


def filter_events(text: str | None) -> list[str]:
    """The event names a filter compares ``event`` with (``==``, ``in``, inside ``count``).

    >>> filter_events('event == "purchase" or count(event in ("a", "b")) >= 2')
    ['purchase', 'a', 'b']
    >>> filter_events(None), filter_events('channel == "web"')
    ([], [])
    """
    if not text:
        return []
    from journeykit.analytics import filter_syntax as fs
    from journeykit.analytics.filters import parse_filter

    root = parse_filter(text).root
    out: list[str] = []

    def is_event(node: Any) -> bool:
        return isinstance(node, fs.Field) and node.name == "event"

    def visit(node: Any) -> None:
        for item in fs.walk(node):
            if isinstance(item, fs.Compare) and item.op in ("==", "!="):
                for a, b in ((item.left, item.right), (item.right, item.left)):
                    if is_event(a) and isinstance(b, fs.Literal) and isinstance(b.value, str):
                        out.append(b.value)
            elif isinstance(item, fs.InList) and is_event(item.operand):
                out.extend(v.value for v in item.values if isinstance(v.value, str))
            elif isinstance(item, fs.Compare):
                for side in (item.left, item.right):
                    if isinstance(side, fs.Count) and side.cond is not None:
                        visit(side.cond)

    visit(root)
    return list(dict.fromkeys(out))


def unknown_in_filters(
    ws: Workspace | None,
    filters: Iterable[str | None],
    *,
    what: str = "filter value",
    known: Iterable[str] | None = None,
) -> list[UnknownName]:
    """Event names compared in ``filters`` that match no event. A filter that does not parse
    is skipped here: running it raises the error that says where."""
    from journeykit.errors import InvalidFilter

    names: list[str] = []
    for text in filters:
        try:
            names.extend(filter_events(text))
        except InvalidFilter:
            continue
    return unknown_events(ws, names, what=what, known=known)


def unknown_in_cohort(
    ws: Workspace | None, cohort: str | None, *, known: Iterable[str] | None = None
) -> list[UnknownName]:
    """For a retention cohort (``first_event``, ``first_purchase``, an event name or a
    filter): the event names in it that match no event.

    >>> [u.message for u in unknown_in_cohort(None, "signup", known=["sign_up"])]
    ["cohort event 'signup' matches no event in the workspace; did you mean sign_up?"]
    >>> unknown_in_cohort(None, "first_purchase", known=["sign_up"])
    []
    """
    if not cohort or cohort in ("first_event", "first_purchase"):
        return []
    if any(op in cohort for op in ("==", "!=", " in ", "(")):
        return unknown_in_filters(ws, [cohort], what="cohort filter value", known=known)
    return unknown_events(ws, [cohort], what="cohort event", known=known)
