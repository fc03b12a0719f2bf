"""What the names mean: conversions, touches, contacts and fields, from the spec or arguments.

Analytics never assume an event name. Each default (the purchase event, the revenue field,
the marketing touches and their channel, ...) is read from the workspace's journey spec
(:func:`journeykit.journey.current_spec`) when the caller leaves it out; an explicit argument
always wins. A workspace without a spec raises :class:`~journeykit.errors.NoSpec`, which says
how to make one.

Fields are either a column of the events table (``revenue``, ``channel``, ...) or a property,
written ``properties.<key>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from journeykit.analytics._common import SESSION_GAP
from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from journeykit.journey.spec import JourneySpec

#: Event columns a field may name directly (everything else is ``properties.<key>``).
COLUMNS = frozenset(
    {"event", "channel", "type", "source", "revenue", "anonymous_id", "user_id", "person_id"}
)


def spec_of(ws: Any) -> JourneySpec:
    """The workspace's journey spec; :class:`~journeykit.errors.NoSpec` when it has none."""
    from journeykit.journey.workspace_spec import current_spec

    return current_spec(ws)


def maybe_spec(ws: Any) -> JourneySpec | None:
    """The workspace's journey spec, or ``None`` (for defaults that do not need one)."""
    from journeykit.journey.workspace_spec import find_spec

    return find_spec(ws)


def names(given: str | Sequence[str] | None, field: str) -> tuple[str, ...] | None:
    """``given`` as a tuple of event names (``None`` stays ``None``); empty names are refused.

    >>> names("purchase", "conversion_event"), names(["a", "b"], "touch_events")
    (('purchase',), ('a', 'b'))
    """
    if given is None:
        return None
    out = (given,) if isinstance(given, str) else tuple(given)
    if not out or any(not str(n).strip() for n in out):
        raise InputError(f"give at least one event name in {field}", field=field)
    return tuple(str(n) for n in out)


def conversion_events(ws: Any, given: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The conversion (purchase) events: ``given``, else the spec's."""
    return names(given, "conversion_event") or spec_of(ws).conversion_events


def revenue_field(ws: Any, given: str | None = None) -> str:
    """Where a conversion's value is: ``given``, else the spec's (``revenue`` by default)."""
    if given is not None:
        return check_field(given, "revenue_field")
    return revenue_field_of(maybe_spec(ws), None)


def touch_events(ws: Any, given: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The marketing touches: ``given``, else the spec's."""
    out = names(given, "touch_events") or spec_of(ws).touch_events
    if not out:
        raise InputError(
            "the journey spec names no marketing touches: add a `marketing: {events: [...]}` "
            "section or give the touch events",
            field="touch_events",
        )
    return out


def channel_field(ws: Any, given: str | None = None) -> str:
    """Where a touch's channel is: ``given``, else the spec's (``channel`` by default)."""
    if given is not None:
        return check_field(given, "channel_field")
    spec = maybe_spec(ws)
    return spec.touch_channel_field if spec is not None else "channel"


def session_gap(ws: Any, given: Any) -> Any:
    """The session gap: ``given``, else the spec's, else 30 minutes (seconds or text)."""
    if given is not None:
        return given
    spec = maybe_spec(ws)
    return spec.session_gap_seconds if spec is not None else SESSION_GAP


def check_field(name: str, what: str) -> str:
    """Check a field name: an event column or ``properties.<key>``.

    >>> check_field("properties.order_value", "revenue_field")
    'properties.order_value'
    """
    text = str(name).strip()
    if text in COLUMNS:
        return text
    key = text.removeprefix("properties.")
    if text.startswith("properties.") and key.replace("_", "a").replace("-", "a").isalnum():
        return text
    raise InputError(
        f"{name!r} is not a field: name an event column ({', '.join(sorted(COLUMNS))}) "
        "or a property as properties.<key>",
        field=what,
    )


def field_text(t: ibis.Table, field: str) -> ir.StringValue:
    """The text of a field of an events table (a column, or ``properties.<key>``)."""
    from journeykit.analytics._common import engine, json_text

    if field in COLUMNS:
        return t[field].cast("string")
    return json_text(t.properties, field.removeprefix("properties."), engine(t))


def field_number(t: ibis.Table, field: str) -> ir.FloatingValue:
    """The numeric value of a field (null where it is missing or not a number)."""
    if field in COLUMNS:
        return t[field].cast("float64")
    return field_text(t, field).try_cast("float64")


@dataclass(frozen=True)
class Names:
    """Everything the per-person models need to know about the data, in one place.

    Built by :func:`resolve` from the journey spec, with explicit arguments winning.

    Attributes:
        conversions: the conversion (purchase) events.
        revenue_field: where a conversion's value is.
        touch_events: the marketing touches (may be empty).
        channel_field: where a touch's channel is.
        contacts: contact / support events.
        messages: events the business sends (not the person's activity).
        surveys: survey events with their score and metric fields.
        errors: events of touchpoints of kind ``error``.
        stages: the stage names in order (empty without a spec).
        stage_of_event: event name -> stage name.
        long_wait_seconds: a contact wait (``properties.wait_seconds``) this long is long.
        spec: the journey spec (``None`` when every name was given).
    """

    conversions: tuple[str, ...]
    revenue_field: str = "revenue"
    touch_events: tuple[str, ...] = ()
    channel_field: str = "channel"
    contacts: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    surveys: tuple[Any, ...] = ()
    errors: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    stage_of_event: Mapping[str, str] = field(default_factory=dict)
    long_wait_seconds: float = 300.0
    spec: JourneySpec | None = None

    @property
    def survey_events(self) -> tuple[str, ...]:
        """The survey event names."""
        return tuple(dict.fromkeys(s.event for s in self.surveys))


def resolve(
    ws: Any,
    *,
    conversion_event: str | Sequence[str] | None = None,
    revenue_field: str | None = None,
    touch_events: str | Sequence[str] | None = None,
    channel_field: str | None = None,
    contact_events: str | Sequence[str] | None = None,
    message_events: str | Sequence[str] | None = None,
) -> Names:
    """The names of a workspace: its journey spec's, with the given ones winning.

    Without a spec every model still runs when ``conversion_event`` is given (it then knows
    no stages, touches, contacts, messages or surveys but the ones given); otherwise
    :class:`~journeykit.errors.NoSpec` says how to make a spec.
    """
    given = names(conversion_event, "conversion_event")
    spec = maybe_spec(ws) if given is not None else spec_of(ws)
    if spec is None:
        assert given is not None
        return Names(
            conversions=given,
            revenue_field=revenue_field_of(None, revenue_field),
            touch_events=names(touch_events, "touch_events") or (),
            channel_field=check_field(channel_field, "channel_field")
            if channel_field
            else "channel",
            contacts=names(contact_events, "contact_events") or (),
            messages=names(message_events, "message_events") or (),
        )
    return Names(
        conversions=given or spec.conversion_events,
        revenue_field=revenue_field_of(spec, revenue_field),
        touch_events=names(touch_events, "touch_events") or spec.touch_events,
        channel_field=(
            check_field(channel_field, "channel_field")
            if channel_field
            else spec.touch_channel_field
        ),
        contacts=names(contact_events, "contact_events") or spec.contact_events,
        messages=names(message_events, "message_events") or spec.message_events,
        surveys=spec.surveys,
        errors=tuple(
            dict.fromkeys(
                e for tp in spec.all_touchpoints() if tp.kind == "error" for e in tp.events
            )
        ),
        stages=spec.stage_names,
        stage_of_event=dict(spec.stage_of_event),
        long_wait_seconds=spec.settings.long_wait_seconds,
        spec=spec,
    )


def revenue_field_of(spec: JourneySpec | None, given: str | None) -> str:
    """``given`` (checked), else the spec's revenue field, else the ``revenue`` column."""
    if given is not None:
        return check_field(given, "revenue_field")
    return spec.revenue_field if spec is not None else "revenue"
