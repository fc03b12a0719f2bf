"""Warnings on dashboard pages for names that match no event ("did you mean ...?")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from journeykit.server.dashboard.html import notice

if TYPE_CHECKING:
    from journeykit.server.dashboard.context import PageContext


def name_notices(
    ctx: PageContext,
    events: Mapping[str, Iterable[str | None]] | None = None,
    filters: Iterable[str | None] = (),
    cohort: str | None = None,
) -> str:
    """One warning notice per name a page was given that matches no event: ``events`` by what
    they are ("funnel step": [...]), event names compared in ``filters``, and a retention
    ``cohort``. Empty when every name is known."""
    from journeykit.analytics.names import unknown_events, unknown_in_cohort, unknown_in_filters

    known = [str(e) for e in ctx.event_names()["event"]]
    found = []
    for what, names in (events or {}).items():
        found += unknown_events(None, names, what=what, known=known)
    found += unknown_in_filters(None, filters, known=known)
    found += unknown_in_cohort(None, cohort, known=known)
    return "".join(notice(item.message, kind="warn") for item in found)
