"""The journey spec: stages in order, touchpoints, goals, personas and KPIs.

A spec is written in YAML (or built in Python with :class:`SpecBuilder`) and read into frozen
pydantic models. Every problem is an :class:`~journeykit.errors.InvalidSpec` naming the field
(``stages[1].touchpoints[0].events``) and, for YAML, the line.

.. code-block:: yaml

    name: Online shop
    stages:
      - name: consideration
        touchpoints:
          - {name: Product page, events: [Item Viewed], channel: [web, app]}
      - name: purchase
        touchpoints:
          - {name: Checkout, events: [Checkout Opened]}
          - {name: Payment failure, events: [Card Declined], kind: error}
        kpis:
          - {name: Checkout conversion, metric: conversion, touchpoint: Checkout, target: 0.7}
    goals:
      - {name: Order, event: Purchase Made}
    personas:
      - {name: iOS app users, where: 'properties.platform == "ios"'}

The semantic sections say what the data means, for every analytic, model, dashboard page and
alert; all are optional and default from the stages and goals:

.. code-block:: yaml

    currency: GBP                       # ISO 4217 code; the symbol (£) is derived
    conversions: {events: [Purchase Made], revenue: revenue}   # default: the goal events
    marketing: {events: [Banner Clicked], channel: channel}          # touches for attribution / CAC
    contacts: [Chat Opened]            # default: touchpoints of kind contact
    messages: [Newsletter Sent]              # default: touchpoints of kind message
    surveys:                            # default: touchpoints of kind feedback
      - {event: Survey Submitted, score: properties.score, comment: properties.comment,
         metric_field: properties.survey}
    session_gap: 30m

Touchpoints match events by name, optionally by channel and by an event filter (``where``, the
filter language of :mod:`journeykit.analytics.filters`). An event belongs to the first
touchpoint, in spec order, that matches it. Two touchpoints overlap, and the spec is refused,
when an earlier one without a ``where`` takes an event name on a channel that a later one also
claims (the later one would silently lose those events).

A touchpoint's ``kind`` says who acts: ``action`` (the customer does something), ``contact``
(a conversation with the business: chat, phone; waits and repeat contacts are measured),
``message`` (the business sends something), ``feedback`` (a survey answer, a review) or
``error`` (something went wrong). Messages and feedback do not move a person between stages
unless ``advances: true`` says so; the other kinds do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from journeykit.errors import InvalidSpec

Kind = Literal["action", "contact", "message", "feedback", "error"]
Metric = Literal[
    "people",
    "events",
    "conversion",
    "next_stage",
    "drop_off",
    "median_hours",
    "emotion",
    "nps",
    "csat",
    "ces",
    "revenue",
    "repeat_rate",
    "wait_seconds",
    "long_wait_share",
]
#: What a survey score measures; ``review`` is a 1-5 rating with a text.
SurveyMetric = Literal["nps", "csat", "ces", "review"]
Loc = tuple[str | int, ...]

#: Display symbols of common currency codes; any other code shows as ``"CODE "``.
CURRENCY_SYMBOLS: dict[str, str] = {
    "GBP": "£",
    "USD": "$",
    "EUR": "€",
    "JPY": "¥",
    "CNY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "ILS": "₪",
    "NGN": "₦",
    "UAH": "₴",
    "TRY": "₺",
    "PHP": "₱",
    "VND": "₫",
    "RUB": "₽",
}
# old ``settings.currency`` symbols read back as codes
_CODE_OF_SYMBOL: dict[str, str] = {"£": "GBP", "$": "USD", "€": "EUR", "₹": "INR", "¥": "JPY"}
#: Defaults of the semantic sections.
DEFAULT_REVENUE_FIELD = "revenue"
DEFAULT_CHANNEL_FIELD = "channel"
DEFAULT_SESSION_GAP = "30m"
#: The fields a survey derived from a ``feedback`` touchpoint reads.
DEFAULT_SURVEY_FIELDS: dict[str, str] = {
    "score": "properties.score",
    "comment": "properties.comment",
    "metric_field": "properties.survey",
}

#: Metrics for which a lower value is the better one (the rest: higher is better).
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"drop_off", "median_hours", "repeat_rate", "wait_seconds", "long_wait_share"}
)


def _listify(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return value


#: A list of names where YAML may also give one name alone (``events: purchase``).
Names = Annotated[tuple[str, ...], BeforeValidator(_listify)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Touchpoint(_Model):
    """A point of contact: the events (and channels, and an optional event filter) it takes.

    Attributes:
        name: unique in the spec.
        events: event names (``event:`` with one name is accepted too).
        channels: channels it takes (``channel:`` too); ``None``: any channel.
        where: an event filter (``properties.platform == "ios"``).
        kind: who acts (see the module docstring).
        advances: whether reaching it moves the person into its stage (default by kind).
        stage: the stage, for touchpoints listed at the top level of a spec.
        description: free text shown on the map.
    """

    name: str = Field(min_length=1)
    events: tuple[str, ...] = Field(min_length=1)
    channels: tuple[str, ...] | None = None
    where: str | None = None
    kind: Kind = "action"
    advances: bool | None = None
    stage: str | None = None
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = dict(data)
            for short, full in (("event", "events"), ("channel", "channels")):
                if short in data:
                    if full in data:
                        raise ValueError(f"give either {short!r} or {full!r}, not both")
                    data[full] = data.pop(short)
            for full in ("events", "channels"):
                if full in data:
                    data[full] = _listify(data[full])
        return data

    @field_validator("events", "channels")
    @classmethod
    def _non_empty_names(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            for item in value:
                if not str(item).strip():
                    raise ValueError("names cannot be empty")
        return value

    @property
    def moves(self) -> bool:
        """Whether this touchpoint moves a person into its stage."""
        if self.advances is not None:
            return self.advances
        return self.kind not in ("message", "feedback")


class KPI(_Model):
    """A number the map reports for a stage, with an optional target.

    ``metric`` is measured on ``touchpoint`` when given, else on the whole stage.
    """

    name: str = Field(min_length=1)
    metric: Metric
    touchpoint: str | None = None
    target: float | None = None
    stage: str | None = None

    @property
    def higher_is_better(self) -> bool:
        """Direction of the metric."""
        return self.metric not in LOWER_IS_BETTER


class Stage(_Model):
    """One stage of the designed journey and the touchpoints that belong to it."""

    name: str = Field(min_length=1)
    description: str | None = None
    touchpoints: tuple[Touchpoint, ...] = ()
    kpis: tuple[KPI, ...] = ()


class Goal(_Model):
    """A goal event (a conversion); its ``revenue`` column is the value of the conversion."""

    name: str = Field(min_length=1)
    event: str = Field(min_length=1)
    where: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_default(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"name": data, "event": data}
        if isinstance(data, Mapping) and "name" not in data and "event" in data:
            return {**data, "name": data["event"]}
        return data


class Persona(_Model):
    """A group of people named by a filter (any field of the filter language)."""

    name: str = Field(min_length=1)
    where: str = Field(min_length=1)
    description: str | None = None


class MapSettings(_Model):
    """How the map measures.

    Attributes:
        survey_event: the event that carries survey answers (properties survey, score,
            touchpoint, comment); the spec's ``surveys`` section, when given, wins.
        long_wait_seconds: a wait (``properties.wait_seconds``) at least this long is long.
        breakdowns: event properties to break touchpoints down by (drop-off per value).
        min_people: smallest group a pain point or a breakdown is reported for.
        period: the date ranges the map can be switched to.
        horizon_days: touches this close to the last event are too young to judge drop-off
            by; pain points use older ones.
        currency: the old display symbol ("£", "$", "EUR "); the spec's top-level
            ``currency`` (an ISO code) wins.
    """

    survey_event: str | None = None
    long_wait_seconds: float = Field(default=300.0, gt=0)
    breakdowns: Names = ("platform",)
    min_people: int = Field(default=30, ge=1)
    period: Literal["month", "week"] = "month"
    horizon_days: float = Field(default=28.0, ge=0)
    currency: str = ""


class Conversions(_Model):
    """What counts as a purchase or conversion, and where its value is.

    Attributes:
        events: the conversion event names (default: the goal events).
        revenue: the value field: the ``revenue`` column or ``properties.<key>``.
    """

    events: Names = Field(min_length=1)
    revenue: str = DEFAULT_REVENUE_FIELD


class Marketing(_Model):
    """The marketing touches that attribution and CAC credit, and where a touch's channel is.

    Attributes:
        events: the touch event names.
        channel: the ``channel`` column or ``properties.<key>``.
    """

    events: Names = Field(min_length=1)
    channel: str = DEFAULT_CHANNEL_FIELD


class Survey(_Model):
    """A survey or review event and the fields that carry its answers.

    Attributes:
        event: the event name.
        score: the numeric score field (``properties.score``).
        comment: the free-text field, if any (``properties.comment``).
        metric: what every score measures (nps, csat, ces, or review: a 1-5 rating).
        metric_field: a field whose value names the metric per answer (``properties.survey``),
            for an event that carries several surveys.
    """

    event: str = Field(min_length=1)
    score: str = DEFAULT_SURVEY_FIELDS["score"]
    comment: str | None = None
    metric: SurveyMetric | None = None
    metric_field: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"event": data}
        return data


class JourneySpec(_Model):
    """A designed journey. Read one with :func:`load_spec` or build one with :class:`SpecBuilder`.

    >>> spec = JourneySpec.from_yaml('''
    ... stages:
    ...   - {name: visit, touchpoints: [{name: Visit, event: Visit Began}]}
    ...   - {name: buy, touchpoints: [{name: Order, event: Purchase Made}]}
    ... goals: [Purchase Made]
    ... ''')
    >>> spec.stage_names, spec.touchpoint("Order").stage
    (('visit', 'buy'), 'buy')
    """

    name: str = "journey"
    description: str | None = None
    stages: tuple[Stage, ...] = Field(min_length=1)
    touchpoints: tuple[Touchpoint, ...] = ()
    kpis: tuple[KPI, ...] = ()
    goals: tuple[Goal, ...] = Field(min_length=1)
    personas: tuple[Persona, ...] = ()
    settings: MapSettings = MapSettings()
    currency: str | None = None
    conversions: Conversions | None = None
    marketing: Marketing | None = None
    contacts: Names | None = None
    messages: Names | None = None
    # read through the `surveys` property, which fills in the default from feedback touchpoints
    survey_section: tuple[Survey, ...] | None = Field(default=None, alias="surveys")
    session_gap: str | float | None = None

    @field_validator("survey_section", mode="before")
    @classmethod
    def _survey_list(cls, value: Any) -> Any:
        if isinstance(value, str | Mapping):
            return (value,)
        return value

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha() or not code.isascii():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (GBP, USD, EUR, ...)")
        return code

    # --- reading ------------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, text: str, *, file: str | None = None) -> JourneySpec:
        """Read and check a spec from YAML text (see :func:`load_spec` for files)."""
        return _from_yaml(text, file)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JourneySpec:
        """Read and check a spec from plain data (what YAML gives)."""
        return _build(data, None, None)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data, without defaults, top-level touchpoints folded into stages."""
        data = self.normalised().model_dump(exclude_defaults=True, exclude_none=True, by_alias=True)
        data.pop("touchpoints", None)
        data.pop("kpis", None)
        for stage in data["stages"]:
            for tp in stage.get("touchpoints", []):
                tp.pop("stage", None)
            for kpi in stage.get("kpis", []):
                kpi.pop("stage", None)
        return data

    def to_yaml(self) -> str:
        """The spec as YAML text that :meth:`from_yaml` reads back to an equal spec."""
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    # --- the normalised view ------------------------------------------------------------------

    def normalised(self) -> JourneySpec:
        """The same spec with top-level touchpoints and KPIs moved into their stages."""
        if not self.touchpoints and not self.kpis:
            return self
        stages = []
        for stage in self.stages:
            extra_tp = tuple(
                tp.model_copy(update={"stage": None})
                for tp in self.touchpoints
                if tp.stage == stage.name
            )
            extra_kpi = tuple(
                k.model_copy(update={"stage": None}) for k in self.kpis if k.stage == stage.name
            )
            stages.append(
                stage.model_copy(
                    update={
                        "touchpoints": stage.touchpoints + extra_tp,
                        "kpis": stage.kpis + extra_kpi,
                    }
                )
            )
        return self.model_copy(update={"stages": tuple(stages), "touchpoints": (), "kpis": ()})

    @property
    def stage_names(self) -> tuple[str, ...]:
        """Stage names in the designed order."""
        return tuple(s.name for s in self.stages)

    def all_touchpoints(self) -> tuple[Touchpoint, ...]:
        """Every touchpoint in matching order (stage by stage), each with its ``stage`` set."""
        out: list[Touchpoint] = []
        for stage in self.normalised().stages:
            out.extend(tp.model_copy(update={"stage": stage.name}) for tp in stage.touchpoints)
        return tuple(out)

    def touchpoint(self, name: str) -> Touchpoint:
        """The touchpoint called ``name`` (with its stage set)."""
        for tp in self.all_touchpoints():
            if tp.name == name:
                return tp
        from journeykit.errors import NotFound

        raise NotFound("touchpoint", name, [tp.name for tp in self.all_touchpoints()])

    def stage_index(self, name: str) -> int:
        """Position of a stage in the designed order (0-based)."""
        try:
            return self.stage_names.index(name)
        except ValueError:
            from journeykit.errors import NotFound

            raise NotFound("stage", name, list(self.stage_names)) from None

    @property
    def goal_events(self) -> tuple[str, ...]:
        """The event names of the goals."""
        return tuple(dict.fromkeys(g.event for g in self.goals))

    # --- the semantic layer: what the data means, defaulting from stages and goals --------

    def _events_of_kind(self, kind: str) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(e for tp in self.all_touchpoints() if tp.kind == kind for e in tp.events)
        )

    @property
    def conversion_events(self) -> tuple[str, ...]:
        """The purchase / conversion events: ``conversions.events``, else the goal events.

        >>> load_spec("stages: [{name: a, touchpoints: [{name: A, event: x}]}]\\ngoals: [buy]"
        ...           ).conversion_events
        ('buy',)
        """
        if self.conversions is not None:
            return self.conversions.events
        return self.goal_events

    @property
    def revenue_field(self) -> str:
        """Where a conversion's value is: ``"revenue"`` (the column) or ``"properties.<key>"``."""
        return self.conversions.revenue if self.conversions is not None else DEFAULT_REVENUE_FIELD

    @property
    def currency_code(self) -> str | None:
        """The ISO 4217 code: ``currency``, else read back from an old ``settings.currency``.

        >>> load_spec("stages: [{name: a, touchpoints: [{name: A, event: x}]}]\\ngoals: [x]\\n"
        ...           "settings: {currency: £}").currency_code
        'GBP'
        """
        if self.currency is not None:
            return self.currency
        old = self.settings.currency.strip()
        if len(old) == 3 and old.isalpha() and old.isascii():
            return old.upper()
        return _CODE_OF_SYMBOL.get(old)

    @property
    def currency_symbol(self) -> str:
        """What money is prefixed with: ``£`` for GBP, ``"CHF "`` for codes without a symbol,
        the old ``settings.currency`` when no code is given, ``""`` when unknown.

        >>> load_spec("stages: [{name: a, touchpoints: [{name: A, event: x}]}]\\ngoals: [x]\\n"
        ...           "currency: eur").currency_symbol
        '€'
        """
        if self.currency is not None:
            return CURRENCY_SYMBOLS.get(self.currency, f"{self.currency} ")
        return self.settings.currency

    @property
    def touch_events(self) -> tuple[str, ...]:
        """Marketing touches: ``marketing.events``, else the first stage's action events."""
        if self.marketing is not None:
            return self.marketing.events
        first = self.normalised().stages[0]
        return tuple(
            dict.fromkeys(e for tp in first.touchpoints if tp.kind == "action" for e in tp.events)
        )

    @property
    def touch_channel_field(self) -> str:
        """Where a touch's channel is: ``"channel"`` (the column) or ``"properties.<key>"``."""
        return self.marketing.channel if self.marketing is not None else DEFAULT_CHANNEL_FIELD

    @property
    def contact_events(self) -> tuple[str, ...]:
        """Contact / support events: ``contacts``, else the touchpoints of kind contact."""
        return self.contacts if self.contacts is not None else self._events_of_kind("contact")

    @property
    def message_events(self) -> tuple[str, ...]:
        """Events the business sends: ``messages``, else the touchpoints of kind message."""
        return self.messages if self.messages is not None else self._events_of_kind("message")

    @property
    def surveys(self) -> tuple[Survey, ...]:
        """Survey / review events with their fields: the ``surveys`` section; else the old
        ``settings.survey_event``; else each event of the feedback touchpoints, read with
        ``properties.score``, ``properties.comment`` and the metric in ``properties.survey``."""
        if self.survey_section is not None:
            return self.survey_section
        if self.settings.survey_event is not None:
            events: tuple[str, ...] = (self.settings.survey_event,)
        else:
            events = self._events_of_kind("feedback")
        return tuple(Survey.model_validate({"event": e, **DEFAULT_SURVEY_FIELDS}) for e in events)

    @property
    def survey_events(self) -> tuple[str, ...]:
        """The event names of :attr:`surveys`."""
        return tuple(dict.fromkeys(s.event for s in self.surveys))

    @property
    def session_gap_seconds(self) -> float:
        """Inactivity that ends a session, in seconds (``session_gap``; default 30 minutes)."""
        from journeykit.analytics._common import parse_duration

        gap = parse_duration(
            DEFAULT_SESSION_GAP if self.session_gap is None else self.session_gap,
            field="session_gap",
        )
        assert gap is not None
        return gap.total_seconds()

    @property
    def stage_of_event(self) -> Mapping[str, str]:
        """Event name -> the stage of the first touchpoint (in matching order) that takes it."""
        out: dict[str, str] = {}
        for tp in self.all_touchpoints():
            for e in tp.events:
                out.setdefault(e, tp.stage or "")
        return MappingProxyType(out)

    def events_named(self) -> frozenset[str]:
        """Every event name the spec mentions: touchpoints, goals and the semantic sections.

        >>> sorted(load_spec("stages: [{name: a, touchpoints: [{name: A, event: x}]}]\\n"
        ...                  "goals: [y]\\ncontacts: [call]").events_named())
        ['call', 'x', 'y']
        """
        names: set[str] = {e for tp in self.all_touchpoints() for e in tp.events}
        names.update(self.goal_events)
        names.update(self.conversion_events)
        names.update(self.touch_events)
        names.update(self.contact_events)
        names.update(self.message_events)
        names.update(self.survey_events)
        return frozenset(names)


# --- building from data, with locations ---------------------------------------------------------


class _Locator:
    """Finds the YAML line of a location such as ``("stages", 1, "touchpoints", 0, "events")``."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def line(self, loc: Loc) -> int | None:
        import yaml

        node = self.root
        found = None if node is None else node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                nxt = None
                for key, value in node.value:
                    if key.value == part:
                        found = key.start_mark.line + 1
                        nxt = value
                        break
                if nxt is None:
                    return found
                node = nxt
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return found
                node = node.value[part]
                found = node.start_mark.line + 1
            else:
                return found
        return found


def field_path(loc: Loc) -> str:
    """``("stages", 1, "events")`` -> ``"stages[1].events"``.

    >>> field_path(("stages", 1, "touchpoints", 0, "events"))
    'stages[1].touchpoints[0].events'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _from_yaml(text: str, file: str | None) -> JourneySpec:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidSpec(f"not valid YAML: {problem}", line=line, file=file) from None
    if not isinstance(data, Mapping):
        raise InvalidSpec(
            "a journey spec is a YAML mapping with 'stages' and 'goals'",
            line=1 if root is None else root.start_mark.line + 1,
            file=file,
        )
    return _build(data, _Locator(root), file)


def _build(data: Mapping[str, Any], locator: _Locator | None, file: str | None) -> JourneySpec:
    def fail(reason: str, loc: Loc) -> InvalidSpec:
        line = locator.line(loc) if locator is not None else None
        return InvalidSpec(reason, field=field_path(loc) or None, line=line, file=file)

    try:
        spec = JourneySpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}"
        raise fail(msg, loc) from None
    from journeykit.journey.spec_rules import problems

    problem = next(iter(problems(spec)), None)
    if problem is not None:
        raise fail(*problem)
    return spec


def load_spec(source: str | Path | JourneySpec | Mapping[str, Any]) -> JourneySpec:
    """Read a journey spec from a YAML file, YAML text, plain data or a spec (checked again).

    Raises:
        InvalidSpec: with the field and (for YAML) the line of the first problem.

    >>> load_spec("stages: [{name: a, touchpoints: [{name: A, event: X}]}]\\ngoals: [Y]").goal_events
    ('Y',)
    >>> load_spec("stages: [{name: a, touchpoints: [{name: A, event: X, stage: b}]}]\\ngoals: [Y]")
    Traceback (most recent call last):
    ...
    journeykit.errors.InvalidSpec: field 'stages[0].touchpoints[0].stage': touchpoint 'A' sits in stage 'a' but says stage 'b' (line 1)
    """
    if isinstance(source, JourneySpec):
        return _build(source.model_dump(exclude_defaults=True, by_alias=True), None, None)
    if isinstance(source, Mapping):
        return _build(source, None, None)
    text = str(source)
    if isinstance(source, Path) or ("\n" not in text and text.endswith((".yaml", ".yml"))):
        path = Path(text)
        try:
            body = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidSpec(f"cannot read the spec: {exc}", file=str(path)) from None
        return _from_yaml(body, str(path))
    return _from_yaml(text, None)


#: The shipped spec file of each demo scenario (``journeykit demo --scenario``).
DEMO_SPECS: dict[str, str] = {"retail": "demo.yaml", "bank": "bank.yaml"}


def demo_spec_path(scenario: str = "retail") -> Path:
    """The shipped spec of a demo scenario: the retailer (default) or the bank.

    >>> demo_spec_path("bank").name
    'bank.yaml'
    """
    from importlib import resources

    if scenario not in DEMO_SPECS:
        from journeykit.errors import InputError

        raise InputError(
            f"unknown scenario {scenario!r}; use {' or '.join(DEMO_SPECS)}", field="scenario"
        )
    return Path(str(resources.files("journeykit.journey").joinpath("specs", DEMO_SPECS[scenario])))


class SpecBuilder:
    """Build a spec in Python; :meth:`build` checks it like a YAML spec.

    >>> spec = (SpecBuilder("Shop")
    ...     .stage("browse").touchpoint("Product page", events=["Item Viewed"], channel="web")
    ...     .stage("buy").touchpoint("Checkout", events=["Checkout Opened"])
    ...     .kpi("Checkout conversion", "conversion", touchpoint="Checkout", target=0.7)
    ...     .goal("Purchase Made")
    ...     .persona("Web", 'channel == "web"')
    ...     .build())
    >>> [tp.name for tp in spec.all_touchpoints()]
    ['Product page', 'Checkout']
    """

    def __init__(self, name: str = "journey", description: str | None = None) -> None:
        self._data: dict[str, Any] = {"name": name, "stages": [], "goals": [], "personas": []}
        if description:
            self._data["description"] = description

    def stage(self, name: str, description: str | None = None) -> SpecBuilder:
        """Add the next stage; touchpoints and KPIs added after it belong to it."""
        entry: dict[str, Any] = {"name": name, "touchpoints": [], "kpis": []}
        if description:
            entry["description"] = description
        self._data["stages"].append(entry)
        return self

    def _current(self, what: str) -> dict[str, Any]:
        if not self._data["stages"]:
            raise InvalidSpec(f"add a stage before its first {what}", field="stages")
        return self._data["stages"][-1]

    def touchpoint(
        self,
        name: str,
        *,
        events: Sequence[str] | str,
        channel: Sequence[str] | str | None = None,
        where: str | None = None,
        kind: Kind = "action",
        advances: bool | None = None,
        description: str | None = None,
    ) -> SpecBuilder:
        """Add a touchpoint to the current stage."""
        entry: dict[str, Any] = {"name": name, "events": _listify(events), "kind": kind}
        for key, value in (
            ("channels", _listify(channel)),
            ("where", where),
            ("advances", advances),
            ("description", description),
        ):
            if value is not None:
                entry[key] = value
        self._current("touchpoint")["touchpoints"].append(entry)
        return self

    def kpi(
        self,
        name: str,
        metric: Metric,
        *,
        touchpoint: str | None = None,
        target: float | None = None,
    ) -> SpecBuilder:
        """Add a KPI to the current stage."""
        entry: dict[str, Any] = {"name": name, "metric": metric}
        if touchpoint is not None:
            entry["touchpoint"] = touchpoint
        if target is not None:
            entry["target"] = target
        self._current("KPI")["kpis"].append(entry)
        return self

    def goal(self, event: str, *, name: str | None = None, where: str | None = None) -> SpecBuilder:
        """Add a goal event."""
        entry: dict[str, Any] = {"name": name or event, "event": event}
        if where is not None:
            entry["where"] = where
        self._data["goals"].append(entry)
        return self

    def persona(self, name: str, where: str, description: str | None = None) -> SpecBuilder:
        """Add a persona."""
        entry = {"name": name, "where": where}
        if description:
            entry["description"] = description
        self._data["personas"].append(entry)
        return self

    def settings(self, **values: Any) -> SpecBuilder:
        """Set map settings (see :class:`MapSettings`)."""
        self._data.setdefault("settings", {}).update(values)
        return self

    def build(self) -> JourneySpec:
        """The checked spec."""
        return _build(self._data, None, None)
