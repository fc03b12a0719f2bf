"""Analytics endpoints (read or admin key): funnels, flows, retention, KPIs, the journey map.

Each endpoint imports its analysis when called, so the server starts without the analytics
extras; an analysis that is not installed answers 501. Filters and segments are text in
journeykit's filter language (:mod:`journeykit.analytics.filters`): parsed into expressions,
never pasted into SQL. Results are tables (``columns`` and ``rows``) and values, as the
analysis functions return them (their docstrings document the columns).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from journeykit.server.state import ApiError

log = logging.getLogger("journeykit.server.query")

if TYPE_CHECKING:
    from collections.abc import Callable

#: A duration: '30m', '2h', '7d', or seconds as a number.
Duration = (
    Annotated[str, StringConstraints(max_length=32)] | Annotated[float, Field(ge=0, le=3.2e9)]
)
DURATION = "A duration: '30m', '2h', '7d', or seconds as a number."
Filter = Field(
    None,
    max_length=2000,
    description='A filter, e.g. properties.platform == "ios" and channel in ("web", "app").',
)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # the query engine cannot take a NUL character inside a text value
        if _has_nul(data):
            raise ValueError("text may not contain NUL characters (\\u0000)")
        return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class StepSpec(_Request):
    """One funnel step: an event (or several), a condition on it, or both."""

    event: str | list[str] | None = Field(None, description="Event name(s); any matches.")
    where: str | None = Filter
    name: str | None = Field(None, max_length=200, description="Label in the results.")
    optional: bool = False
    within: Duration | None = Field(
        None, description="At most this long after the previous required step ('1h', '7d')."
    )


class ExclusionSpec(_Request):
    """Units doing this between two steps are left out."""

    event: str | list[str] | None = None
    where: str | None = Filter
    between: tuple[int, int] | None = Field(None, description="1-based steps (i, j).")


class FunnelRequest(_Request):
    """A funnel: two or more steps and how to count them."""

    steps: list[str | StepSpec] = Field(min_length=2, max_length=64)
    mode: Literal["ordered", "strict", "any"] = "ordered"
    window: Duration | None = Field(None, description=DURATION)
    per: Literal["person", "session"] = "person"
    session_gap: Duration = Field("30m", description=DURATION)
    exclude: list[str | ExclusionSpec] = Field(default_factory=list, max_length=20)
    by: str | list[str] | dict[str, str] | None = Field(
        None, description="A breakdown: a field, a list of fields, or {name: segment filter}."
    )
    by_step: int = Field(1, ge=1, le=64)
    segment: str | None = Filter
    start: datetime | date | None = None
    end: datetime | date | None = None


class FlowsRequest(_Request):
    """Flows through the first steps of journeys, or around an anchor event."""

    steps: int = Field(4, ge=2, le=12)
    anchor: str | None = Field(None, max_length=500)
    direction: Literal["next", "previous"] = "next"
    max_nodes: int = Field(8, ge=1, le=50)
    per: Literal["person", "session"] = "person"
    session_gap: Duration = Field("30m", description=DURATION)
    collapse_repeats: bool = False
    segment: str | None = Filter


class RetentionRequest(_Request):
    """Cohort retention."""

    cohort: str = Field(
        "first_event",
        max_length=2000,
        description="first_event, first_purchase, an event, a filter.",
    )
    returning: str | None = Filter
    grain: Literal["day", "week", "month"] = "week"
    periods: int = Field(8, ge=0, le=104)
    kind: Literal["n_period", "unbounded"] = "n_period"
    by: str | list[str] | dict[str, str] | None = None
    segment: str | None = Filter
    start: datetime | date | None = None
    end: datetime | date | None = None
    purchase_event: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="The event first_purchase means; default: the spec's conversion events.",
    )


class KpisRequest(_Request):
    """The journey KPIs over a range."""

    stages: dict[str, list[str]] | None = Field(
        None, description="{stage: [event names]} in journey order."
    )
    start: datetime | date | None = None
    end: datetime | date | None = None
    segment: str | None = Filter
    purchase_event: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="The purchase event; default: the spec's conversion events.",
    )
    attribution: Literal["first_touch", "last_touch"] = "first_touch"
    inactivity: str = Field("30d", max_length=32)


class JourneyMapRequest(_Request):
    """The journey map of a spec (JSON form of the YAML), or of the workspace's spec."""

    spec: dict[str, Any] | None = Field(
        None, description="The journey spec; default: the workspace's (journeykit spec set)."
    )
    top: int = Field(12, ge=1, le=100, description="Pain points kept, biggest impact first.")
    replicates: int = Field(100, ge=10, le=1000, description="Bootstrap replicates a what-if.")


class Table(BaseModel):
    """A result table: column names and rows (objects keyed by column)."""

    columns: list[str]
    rows: list[dict[str, Any]]


class AnalysisResponse(BaseModel):
    """An analysis result: its tables and its single values, by the result's field names, and
    warnings: names in the request that match no event ("did you mean ...?")."""

    analysis: str
    tables: dict[str, Table]
    values: dict[str, Any]
    warnings: list[str] = Field(default_factory=list)


def _table(frame: Any) -> dict[str, Any]:
    from journeykit.server.query import records

    return {"columns": [str(c) for c in frame.columns], "rows": records(frame)}


def _value(value: Any) -> Any:
    """Plain JSON-ready data, or ``...`` for things that are not data (models, figures)."""
    from journeykit.server.query import plain

    if value is None or isinstance(value, str | int | float | bool | datetime | date):
        return plain(value)
    if isinstance(value, list | tuple):
        items = [_value(v) for v in value]
        return [i for i in items if i is not ...]
    if isinstance(value, dict):
        return {str(k): v for k, v in ((k, _value(v)) for k, v in value.items()) if v is not ...}
    if type(value).__name__ == "DataFrame":
        return _table(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            if not f.name.startswith("_"):
                item = _value(getattr(value, f.name))
                if item is not ...:
                    out[f.name] = item
        return out
    if hasattr(value, "item"):
        return plain(value)
    text = getattr(value, "text", None)  # a parsed filter keeps its text
    return text if isinstance(text, str) else ...


def to_response(name: str, result: Any) -> dict[str, Any]:
    """An analysis result (a dataclass of DataFrames and values) as an AnalysisResponse."""
    tables: dict[str, Any] = {}
    values: dict[str, Any] = {}
    fields = (
        {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
        if dataclasses.is_dataclass(result)
        else {"table": result}
    )
    for key, value in fields.items():
        if key.startswith("_"):
            continue
        if type(value).__name__ == "DataFrame":
            tables[key] = _table(value)
        else:
            item = _value(value)
            if item is not ...:
                values[key] = item
    return {"analysis": name, "tables": tables, "values": values}


def _run(
    request: Request,
    name: str,
    call: Callable[[Any], Any],
    names: Callable[[Any], list[Any]] | None = None,
) -> dict[str, Any]:
    """Run an analysis; ``names`` lists the request's names that match no event."""
    state = request.app.state.jk
    try:
        with state.query_lock:
            unknown = names(state.ws) if names is not None else []
            result = call(state.ws)
    except ImportError as exc:
        raise ApiError(
            501, "not_available", f"{name} is not available in this installation ({exc})"
        ) from None
    except Exception as exc:
        if not _expression_error(exc):
            raise
        # the request's pieces do not make a query (say a filter that is only a number):
        # the user's input is at fault, and says so, while the log keeps the details
        log.warning("a request did not make a valid query", exc_info=exc, extra={"analysis": name})
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ApiError(
            400, "invalid_request", f"the request does not make a valid {name}: {first}"
        ) from None
    response = to_response(name, result)
    response["warnings"] = [u.message for u in unknown]
    return response


def _expression_error(exc: Exception) -> bool:
    """Whether the request's pieces could not make a query: Ibis refused to build it, or a
    number (a duration, a date) is out of range."""
    module = type(exc).__module__
    return isinstance(exc, OverflowError) or module.startswith(("ibis.common", "ibis.expr"))


def _steps(spec: list[str | StepSpec]) -> list[Any]:
    out: list[Any] = []
    for step in spec:
        if isinstance(step, str):
            out.append(step)
        else:
            data = step.model_dump(exclude_none=True)
            if isinstance(data.get("event"), list):
                data["event"] = tuple(data["event"])
            out.append(data)
    return out


def _step_events(steps: list[str | StepSpec] | list[str | ExclusionSpec]) -> list[str]:
    out: list[str] = []
    for step in steps:
        if isinstance(step, str):
            out.append(step)
        elif isinstance(step.event, list):
            out.extend(step.event)
        elif step.event is not None:
            out.append(step.event)
    return out


def _step_filters(steps: list[str | StepSpec] | list[str | ExclusionSpec]) -> list[str | None]:
    return [None if isinstance(step, str) else step.where for step in steps]


def _unknown(
    ws: Any,
    events: Mapping[str, Sequence[str | None]],
    filters: list[str | None],
) -> list[Any]:
    """Names (by what they were given as) and filter values that match no event."""
    from journeykit.analytics.names import event_names, unknown_events, unknown_in_filters

    known = event_names(ws)
    out = []
    for what, names in events.items():
        out += unknown_events(ws, names, what=what, known=known)
    return out + unknown_in_filters(ws, filters, known=known)


def add_analytics_routes(api: APIRouter, extra: dict[str, Any]) -> None:
    """Add the analytics routes to the query router."""

    @api.post("/funnels", response_model=AnalysisResponse, openapi_extra=extra)
    def funnels(request: Request, spec: FunnelRequest) -> dict[str, Any]:
        """A funnel (tables ``table`` per step and group, ``overall``)."""

        def call(ws: Any) -> Any:
            from journeykit.analytics.funnels import Exclusion, funnel

            exclude = [
                x
                if isinstance(x, str)
                else Exclusion(
                    event=tuple(x.event) if isinstance(x.event, list) else x.event,
                    where=x.where,
                    between=x.between,
                )
                for x in spec.exclude
            ]
            return funnel(
                ws,
                _steps(spec.steps),
                mode=spec.mode,
                window=spec.window,
                per=spec.per,
                session_gap=spec.session_gap,
                exclude=exclude,
                by=spec.by,
                by_step=spec.by_step,
                segment=spec.segment,
                start=spec.start,
                end=spec.end,
            )

        def names(ws: Any) -> list[Any]:
            return _unknown(
                ws,
                {"funnel step": _step_events(spec.steps), "exclusion": _step_events(spec.exclude)},
                [
                    spec.segment,
                    *_step_filters(spec.steps),
                    *_step_filters(spec.exclude),
                    *(spec.by.values() if isinstance(spec.by, dict) else ()),
                ],
            )

        return _run(request, "funnel", call, names)

    @api.post("/flows", response_model=AnalysisResponse, openapi_extra=extra)
    def flows(request: Request, spec: FlowsRequest) -> dict[str, Any]:
        """Flows between events step by step (table ``links``: step, source, target, units)."""

        def call(ws: Any) -> Any:
            from journeykit.analytics.paths import flows as run

            return run(ws, **spec.model_dump(exclude_none=True))

        return _run(
            request,
            "flows",
            call,
            lambda ws: _unknown(ws, {"anchor": [spec.anchor]}, [spec.segment]),
        )

    @api.post("/retention", response_model=AnalysisResponse, openapi_extra=extra)
    def retention(request: Request, spec: RetentionRequest) -> dict[str, Any]:
        """Cohort retention (table ``table``: cohort, period, people, retained, rate)."""

        def call(ws: Any) -> Any:
            from journeykit.analytics.cohorts import retention as run

            return run(ws, **spec.model_dump(exclude_none=True))

        def names(ws: Any) -> list[Any]:
            from journeykit.analytics.names import unknown_in_cohort

            filters = [spec.returning, spec.segment]
            filters += list(spec.by.values()) if isinstance(spec.by, dict) else []
            return unknown_in_cohort(ws, spec.cohort) + _unknown(ws, {}, filters)

        return _run(request, "retention", call, names)

    @api.post("/kpis", response_model=AnalysisResponse, openapi_extra=extra)
    def kpis(request: Request, spec: KpisRequest) -> dict[str, Any]:
        """Journey KPIs (tables ``table``, ``stages``, ``cac``)."""

        def call(ws: Any) -> Any:
            from journeykit.analytics.metrics import kpis as run

            return run(ws, **spec.model_dump(exclude_none=True))

        def names(ws: Any) -> list[Any]:
            stages = [e for events in (spec.stages or {}).values() for e in events]
            return _unknown(ws, {"stage event": stages}, [spec.segment])

        return _run(request, "kpis", call, names)

    @api.post("/journey-map", response_model=AnalysisResponse, openapi_extra=extra)
    def journey_map(request: Request, spec: JourneyMapRequest) -> dict[str, Any]:
        """The measured journey map: stages, touchpoints, pain points, opportunities."""

        def call(ws: Any) -> Any:
            from journeykit.journey.model import build_map
            from journeykit.journey.spec import load_spec
            from journeykit.journey.workspace_spec import current_spec

            # the spec sent, else the workspace's current one (NoSpec: 409 with what to do)
            source = load_spec(spec.spec) if spec.spec is not None else current_spec(ws)
            return build_map(ws, source, top=spec.top, replicates=spec.replicates)

        def names(ws: Any) -> list[Any]:
            from journeykit.errors import JourneykitError
            from journeykit.journey.spec import load_spec
            from journeykit.journey.spec_check import missing_events
            from journeykit.journey.workspace_spec import find_spec

            try:
                source = load_spec(spec.spec) if spec.spec is not None else find_spec(ws)
            except JourneykitError:
                return []  # the map itself answers with what is wrong
            return [] if source is None else missing_events(ws, source)

        return _run(request, "journey_map", call, names)
