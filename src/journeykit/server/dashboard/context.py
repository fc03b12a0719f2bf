"""What a page gets to build itself: the workspace, the request's parameters, the cache."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from journeykit.errors import InputError
from journeykit.server.dashboard.html import Figures

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.journey.spec import JourneySpec
    from journeykit.server.dashboard.cache import WorkspaceCache
    from journeykit.store import Workspace

T = TypeVar("T")


@dataclass
class PageContext:
    """One page request.

    Attributes:
        ws: the workspace.
        params: the query parameters, each name with its values in order.
        cache: the dashboard's cache.
        figures: collects the page's charts.
        lock: held while the engine computes (the server's query lock when it shares one
            connection with other routes); ``None`` takes the cache's per-workspace lock.
    """

    ws: Workspace
    params: Mapping[str, Sequence[str]]
    cache: WorkspaceCache
    figures: Figures = field(default_factory=Figures)
    lock: AbstractContextManager[Any] | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a parameter, stripped; ``default`` when absent or blank."""
        values = self.params.get(name) or ()
        value = values[0].strip() if values else ""
        return value or default

    def getlist(self, name: str) -> list[str]:
        """Every value of a parameter, in order (blank ones kept, stripped)."""
        return [v.strip() for v in self.params.get(name) or ()]

    def flat(self) -> dict[str, Any]:
        """The parameters as a dict for links (lists where a name repeats)."""
        return {k: (list(v) if len(v) > 1 else v[0]) for k, v in self.params.items() if v}

    def cached(
        self, name: str, args: Hashable, compute: Callable[[], T], *, engine: bool = True
    ) -> T:
        """A result cached per workspace until its data changes (see
        :meth:`WorkspaceCache.get <journeykit.server.dashboard.cache.WorkspaceCache.get>`)."""
        return self.cache.get(self.ws, name, args, compute, self.lock, engine=engine)

    def run(self, compute: Callable[[], T]) -> T:
        """An uncached computation, run under the workspace's engine lock."""
        return self.cache.run(self.ws, compute, self.lock)

    # --- the journey spec: what the data means -------------------------------------------

    @property
    def spec(self) -> JourneySpec | None:
        """The workspace's current journey spec (``None`` without one), read once per page."""
        if not hasattr(self, "_spec"):
            self._spec = journey_spec(self)
        return self._spec

    @property
    def currency(self) -> str:
        """The spec's currency symbol (``""`` when it names none)."""
        spec = self.spec
        return spec.currency_symbol if spec is not None else ""

    def money(self, value: Any) -> str:
        """An amount with the spec's currency symbol."""
        from journeykit.server.dashboard.html import fmt_money

        return fmt_money(value, self.currency)

    # --- shared look-ups ------------------------------------------------------------------

    def data_range(self) -> tuple[datetime | None, datetime | None]:
        """The first and last event time of the workspace."""

        def compute() -> tuple[Any, Any]:
            row = self.ws.store.fetchall("SELECT min(ts), max(ts) FROM events")[0]
            return row[0], row[1]

        return self.cached("range", (), compute)

    def event_names(self) -> pd.DataFrame:
        """Event names with counts (``event``, ``events``, ``people``), most frequent first."""
        return self.cached(
            "event_names",
            (),
            lambda: self.ws.store.df(
                "SELECT event, count(*) AS events, count(DISTINCT person_id) AS people "
                "FROM events GROUP BY 1 ORDER BY 2 DESC, 1"
            ),
        )

    def channels(self) -> list[str]:
        """Channels seen, most events first."""
        frame = self.cached(
            "channels",
            (),
            lambda: self.ws.store.df(
                "SELECT channel, count(*) AS n FROM events WHERE channel IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC, 1"
            ),
        )
        return [str(c) for c in frame["channel"]]

    def date_param(self, name: str) -> date | None:
        """A ``YYYY-MM-DD`` parameter as a date.

        Raises:
            InputError: the value is not a date.
        """
        value = self.get(name)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{value!r} is not a date like 2026-09-30", field=name) from None

    def period(self, default_days: int | None = None) -> tuple[datetime | None, datetime | None]:
        """The ``start`` / ``end`` parameters as a half-open datetime range.

        ``end`` is inclusive as typed (the whole day counts). Without ``start``, and with
        ``default_days``, the range is the last ``default_days`` days of data.
        """
        start_d, end_d = self.date_param("start"), self.date_param("end")
        start = datetime.combine(start_d, datetime.min.time()) if start_d else None
        end = datetime.combine(end_d, datetime.min.time()) + timedelta(days=1) if end_d else None
        if start and end and start >= end:
            raise InputError("the start date must come before the end date", field="start")
        if start is None and default_days is not None:
            _, last = self.data_range()
            if last is not None:
                stop = end or datetime.combine(last.date(), datetime.min.time()) + timedelta(1)
                start = stop - timedelta(days=default_days)
        return start, end


def journey_spec(ctx: PageContext) -> JourneySpec | None:
    """The workspace's current journey spec, or ``None`` when it has none.

    Read on every request (one small query; a version is parsed once), so a spec stored with
    ``journeykit spec set`` shows at the next page load, without a restart.
    """
    from journeykit.journey.workspace_spec import find_spec

    return find_spec(ctx.ws)


def no_spec_message(ctx: PageContext) -> str:
    """What to do when the workspace has no spec (the same words as the CLI's error)."""
    from journeykit.errors import NoSpec

    return str(NoSpec(str(ctx.ws.path)))


def spec_warnings(ctx: PageContext) -> str:
    """A warning naming each spec event that never occurs in the data, with the closest
    names the data has ("" when every one occurs, or without a spec)."""
    from journeykit.journey.spec_check import missing_events
    from journeykit.server.dashboard.html import esc

    spec = ctx.spec
    if spec is None:
        return ""
    known = [str(e) for e in ctx.event_names()["event"]]
    missing = missing_events(ctx.ws, spec, known=known)
    if not missing:
        return ""
    items = "".join(f"<li>{esc(m.message)}</li>" for m in missing)
    head = (
        f"The journey spec names {len(missing)} event(s) the data never has; what they "
        "measure stays at zero until the spec or the data is fixed (journeykit spec set FILE):"
    )
    return f'<div class="notice warn" id="spec-warnings">{esc(head)}<ul>{items}</ul></div>'
