"""Automation specs: pydantic models that YAML files (see :mod:`.loader`) and Python both build.

An automation is a trigger (with profile conditions), a list of steps (wait, branch, split,
action), a goal, exit criteria, a re-entry policy, a holdout share, frequency caps and quiet
hours. Expressions are checked when the model is built; step ids are given to every step
(``step1``, ``step2.then1``, … when not named) and must be unique.

>>> a = Automation(id="welcome", trigger=Trigger(event="Account Created"),
...                steps=[{"wait": "1d"}, {"action": "add_tag", "tag": "welcomed"}])
>>> [s for s, _ in a.walk()]
['step1', 'step2']
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    model_validator,
)

from journeykit.errors import InvalidFilter

from .conditions import parse
from .templates import check_template, check_value
from .timeutil import (
    format_duration,
    parse_duration,
    parse_time_of_day,
    zone,
)


def _check_expr(text: str) -> str:
    try:
        parse(text)
    except InvalidFilter as exc:
        raise ValueError(exc.reason) from None
    return text


def _check_tz(name: str) -> str:
    zone(name)
    return name


def _check_template(text: str) -> str:
    try:
        check_template(text)
    except InvalidFilter as exc:
        raise ValueError(f"bad placeholder: {exc.reason}") from None
    return text


def _check_json_template(value: Any) -> Any:
    try:
        check_value(value)
    except InvalidFilter as exc:
        raise ValueError(f"bad placeholder: {exc.reason}") from None
    return value


def _check_url(url: str) -> str:
    if not url.startswith(("http://", "https://")) and "{{" not in url:
        raise ValueError(f"a URL must start with http:// or https://, got {url!r}")
    return _check_template(url)


def _duration_with_unit(value: Any) -> timedelta:
    """A duration as written in a spec: a bare number is refused (``within: 3`` would otherwise
    silently mean three seconds); 0 needs no unit."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value != 0:
        n = f"{value:g}"
        raise ValueError(
            f"a duration needs a unit: write {n}d, {n}h, {n}m or {n}s, not a bare {n} "
            "(units: s, m, h, d, w)"
        )
    return parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration_with_unit),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
TimeOfDay = Annotated[
    time,
    BeforeValidator(parse_time_of_day),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"),
]
Expr = Annotated[str, AfterValidator(_check_expr)]
TemplateText = Annotated[str, AfterValidator(_check_template)]
Url = Annotated[str, AfterValidator(_check_url)]
TimeZone = Annotated[str, AfterValidator(_check_tz)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Names = str | list[str]
StepId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$", max_length=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _names(value: Names) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


# ---- trigger, goal, exit, policies ----------------------------------------------------------


class Schedule(_Model):
    """Enter everyone matching the trigger's conditions every ``every``, at ``at`` local time."""

    every: Duration = timedelta(days=1)
    at: TimeOfDay | None = None
    weekdays: tuple[Weekday, ...] = ()
    timezone: TimeZone = "UTC"

    @model_validator(mode="after")
    def _positive(self) -> Schedule:
        if self.every < timedelta(minutes=1):
            raise ValueError("a schedule runs at most once a minute ('every' >= 1m)")
        return self


class Trigger(_Model):
    """What starts a journey: exactly one of ``event``, ``segment``, ``stage``, ``metric_alert``,
    ``schedule``; ``where`` filters the event, ``conditions`` the person's profile."""

    event: Names | None = None
    segment: str | None = None
    stage: str | None = None
    metric_alert: str | None = None
    schedule: Schedule | None = None
    channel: Names | None = None
    where: Expr | None = None
    conditions: Expr | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        kinds = [
            k for k in ("event", "segment", "stage", "metric_alert", "schedule") if getattr(self, k)
        ]
        if len(kinds) != 1:
            raise ValueError(
                "a trigger needs exactly one of: event, segment, stage, metric_alert, schedule"
                + (f" (got {', '.join(kinds)})" if kinds else "")
            )
        return self

    @property
    def kind(self) -> Literal["event", "segment", "stage", "metric_alert", "schedule"]:
        """Which kind of trigger this is."""
        for k in ("event", "segment", "stage", "metric_alert"):
            if getattr(self, k):
                return k  # type: ignore[return-value]
        return "schedule"

    @property
    def event_names(self) -> tuple[str, ...]:
        """The event names that can start this trigger."""
        if self.event:
            return _names(self.event)
        return {
            "segment": ("Segment Entered",),
            "stage": ("Stage Entered",),
            "metric_alert": ("Metric Alert",),
            "schedule": ("Schedule Fired",),
        }.get(self.kind, ())


class Goal(_Model):
    """The conversion event; a journey converts when it happens within ``within`` of entry."""

    event: Names
    where: Expr | None = None
    within: Duration = timedelta(days=30)

    @property
    def event_names(self) -> tuple[str, ...]:
        """The goal event names."""
        return _names(self.event)


class Exit(_Model):
    """When a journey ends early.

    ``mode``: ``on_conversion`` (the goal ends it), ``trigger_unmatched`` (the person no longer
    matches the trigger), ``either``, or ``at_end`` (neither; it runs to its end). ``when`` is an
    expression on incoming events that ends it in every mode (for example an unsubscribe).
    """

    mode: Literal["on_conversion", "trigger_unmatched", "either", "at_end"] = "on_conversion"
    when: Expr | None = None


class Reentry(_Model):
    """Whether a person may enter again: ``never``, ``after_end`` (default) or ``restart``
    (a new trigger ends the running journey and starts a new one); ``cooldown`` since last entry."""

    policy: Literal["never", "after_end", "restart"] = "after_end"
    cooldown: Duration = timedelta(0)


class Cap(_Model):
    """At most ``max`` messages per person on ``channel`` (``*`` = every channel) per ``per``."""

    channel: str = "*"
    max: Annotated[int, Field(ge=0)]
    per: Duration


class QuietHours(_Model):
    """No message on ``channels`` (empty = all) between ``start`` and ``end`` local time; a
    message due then is held until ``end``."""

    start: TimeOfDay
    end: TimeOfDay
    channels: tuple[str, ...] = ()


class EmailTemplate(_Model):
    """A named e-mail: subject and a text and/or HTML body, all with placeholders."""

    subject: TemplateText
    text: TemplateText | None = None
    html: TemplateText | None = None

    @model_validator(mode="after")
    def _body(self) -> EmailTemplate:
        if not self.text and not self.html:
            raise ValueError("an e-mail template needs 'text' or 'html'")
        return self


# ---- steps -------------------------------------------------------------------------------


class WaitUntil(_Model):
    """Wait until a time of day (``"09:00"``) in the person's time zone, on given weekdays."""

    until: TimeOfDay
    weekdays: tuple[Weekday, ...] = ()


class WaitForEvent(_Model):
    """Wait until the person does ``event`` (matching ``where``), at most ``timeout``.

    Afterwards ``journey.matched`` is true if the event came, false on timeout."""

    event: Names
    where: Expr | None = None
    timeout: Duration

    @property
    def event_names(self) -> tuple[str, ...]:
        """The awaited event names."""
        return _names(self.event)


def _wait_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        if "until" in value:
            return "~until"
        if "event" in value or "timeout" in value:
            return "~event"
        return None
    if isinstance(value, WaitUntil):
        return "~until"
    if isinstance(value, WaitForEvent):
        return "~event"
    return "~duration"


WaitSpec = Annotated[
    Annotated[Duration, Tag("~duration")]
    | Annotated[WaitUntil, Tag("~until")]
    | Annotated[WaitForEvent, Tag("~event")],
    Discriminator(
        _wait_kind,
        custom_error_type="wait",
        custom_error_message="a wait is a duration (3d), {until: 'HH:MM'} or {event: ..., timeout: ...}",
    ),
]


class WaitStep(_Model):
    """Pause the journey."""

    id: StepId | None = None
    wait: WaitSpec


class Branch(_Model):
    """``if`` the condition holds, run ``then``, else ``else``; both rejoin afterwards."""

    if_: Expr = Field(alias="if")
    then: list[Step] = []
    else_: list[Step] = Field(default=[], alias="else")


class BranchStep(_Model):
    """A two-way branch on a condition."""

    id: StepId | None = None
    branch: Branch


class SplitPath(_Model):
    """One arm of a random split (``steps`` may be empty for an in-journey holdout arm)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]
    share: Annotated[float, Field(gt=0, le=1)]
    steps: list[Step] = []


class SplitStep(_Model):
    """A deterministic random split: a person's arm is fixed by a hash of the ids."""

    id: StepId | None = None
    split: Annotated[list[SplitPath], Field(min_length=2)]

    @model_validator(mode="after")
    def _shares(self) -> SplitStep:
        total = sum(p.share for p in self.split)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split shares must add up to 1, got {total:g}")
        names = [p.name for p in self.split]
        if len(set(names)) != len(names):
            raise ValueError("split arm names must be unique")
        return self


class _Action(_Model):
    id: StepId | None = None


class WebhookAction(_Action):
    """POST (or PUT/PATCH) JSON to ``url``; ``body`` may hold placeholders."""

    action: Literal["webhook"]
    url: Url
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = {}
    body: Annotated[Any, AfterValidator(_check_json_template)] = None
    channel: str = "webhook"


class EmailAction(_Action):
    """Send an e-mail over SMTP, from a named ``template`` or an inline subject and body."""

    action: Literal["email"]
    to: TemplateText = "{{ traits.email }}"
    template: str | None = None
    subject: TemplateText | None = None
    text: TemplateText | None = None
    html: TemplateText | None = None
    from_: str | None = Field(default=None, alias="from")
    channel: str = "email"

    @model_validator(mode="after")
    def _content(self) -> EmailAction:
        if self.template is None and not (self.subject and (self.text or self.html)):
            raise ValueError("an e-mail needs a 'template', or a 'subject' with 'text' or 'html'")
        return self


class CrmTaskAction(_Action):
    """Hand a task to a CRM through its webhook (``task`` is the task's fields)."""

    action: Literal["crm_task"]
    url: Url
    task: Annotated[dict[str, Any], AfterValidator(_check_json_template)]
    due_in: Duration | None = None
    headers: dict[str, str] = {}
    channel: str = "crm"


class SetTraitAction(_Action):
    """Set a profile trait (``value`` may be a placeholder)."""

    action: Literal["set_trait"]
    trait: str
    value: Annotated[Any, AfterValidator(_check_json_template)]


class UnsetTraitAction(_Action):
    """Remove a profile trait."""

    action: Literal["unset_trait"]
    trait: str


class AddTagAction(_Action):
    """Add the person to a segment tag (emits ``Segment Entered`` when new)."""

    action: Literal["add_tag"]
    tag: str


class RemoveTagAction(_Action):
    """Remove a segment tag (emits ``Segment Exited`` when it was there)."""

    action: Literal["remove_tag"]
    tag: str


class EmitAction(_Action):
    """Emit an event for this person; other automations see it at once."""

    action: Literal["emit"]
    event: str
    properties: Annotated[dict[str, Any], AfterValidator(_check_json_template)] = {}


Action = Annotated[
    WebhookAction
    | EmailAction
    | CrmTaskAction
    | SetTraitAction
    | UnsetTraitAction
    | AddTagAction
    | RemoveTagAction
    | EmitAction,
    Field(discriminator="action"),
]
MESSAGE_ACTIONS = (WebhookAction, EmailAction, CrmTaskAction)


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [k for k in ("wait", "branch", "split", "action") if k in value]
        return f"~{found[0]}" if len(found) == 1 else None
    for kind, cls in (("wait", WaitStep), ("branch", BranchStep), ("split", SplitStep)):
        if isinstance(value, cls):
            return f"~{kind}"
    return "~action"


Step = Annotated[
    Annotated[WaitStep, Tag("~wait")]
    | Annotated[BranchStep, Tag("~branch")]
    | Annotated[SplitStep, Tag("~split")]
    | Annotated[Action, Tag("~action")],
    Discriminator(
        _step_kind,
        custom_error_type="step",
        custom_error_message="a step needs exactly one of: wait, branch, split, action",
    ),
]

Branch.model_rebuild()
SplitPath.model_rebuild()


def walk_steps(steps: list[Any], prefix: str = "step") -> Iterator[tuple[str, Any]]:
    """Yield ``(step_id, step)`` depth-first, naming unnamed steps by their position."""
    for i, step in enumerate(steps, start=1):
        sid = step.id or f"{prefix}{i}"
        yield sid, step
        if isinstance(step, BranchStep):
            yield from walk_steps(step.branch.then, f"{sid}.then")
            yield from walk_steps(step.branch.else_, f"{sid}.else")
        elif isinstance(step, SplitStep):
            for path in step.split:
                yield from walk_steps(path.steps, f"{sid}.{path.name}")


class Automation(_Model):
    """One journey automation. See docs/orchestrate.md for the YAML form."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", max_length=100)]
    name: str | None = None
    description: str | None = None
    enabled: bool = True
    priority: int = 0
    timezone: TimeZone = "UTC"
    trigger: Trigger
    steps: list[Step] = []
    goal: Goal | None = None
    exit: Exit = Exit()
    reentry: Reentry = Reentry()
    holdout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    caps: list[Cap] = []
    quiet_hours: QuietHours | None = None
    templates: dict[str, EmailTemplate] = {}

    @model_validator(mode="after")
    def _consistent(self) -> Automation:
        seen: set[str] = set()
        for sid, step in self.walk():
            if sid in seen:
                raise ValueError(f"step id {sid!r} is used twice")
            seen.add(sid)
            missing = isinstance(step, EmailAction) and step.template not in (None, *self.templates)
            if missing:
                known = ", ".join(sorted(self.templates)) or "none defined"
                raise ValueError(
                    f"step {sid!r}: unknown e-mail template {step.template!r} ({known})"
                )
        return self

    def walk(self) -> Iterator[tuple[str, Any]]:
        """Every step with its id, depth-first in journey order."""
        return walk_steps(self.steps)

    @property
    def version(self) -> str:
        """A short hash of the spec (changes whenever the spec does)."""
        return hashlib.sha256(self.model_dump_json(by_alias=True).encode()).hexdigest()[:12]
