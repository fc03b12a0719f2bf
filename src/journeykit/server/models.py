"""The wire models of the server: Segment-spec messages, responses and errors.

The collector reads bodies itself (fast, and lenient where Segment's libraries are); these
models describe what it accepts and answers, for the OpenAPI document and for clients.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Id = str | int | float
Time = datetime | float


def as_utc(value: datetime) -> datetime:
    """The store keeps naive UTC times; answers say so (RFC 3339 needs the offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A time in an answer: UTC, written with its "Z".
UtcTime = Annotated[datetime, AfterValidator(as_utc)]


class _Message(BaseModel):
    """Fields every Segment-spec message may carry; further fields are kept in the spool."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    messageId: str | None = Field(
        None,
        description="Unique id; a re-sent message with the same id is stored once. "
        "Given one at receipt when missing.",
    )
    anonymousId: Id | None = Field(None, description="Device or cookie id.")
    userId: Id | None = Field(
        None, description="Your id for the person. A message needs userId or anonymousId."
    )
    timestamp: Time | None = Field(
        None, description="When it happened (ISO 8601 or epoch seconds); default: receipt."
    )
    originalTimestamp: Time | None = Field(None, description="The client's clock at the event.")
    sentAt: Time | None = Field(
        None, description="The client's clock when sending; corrects the client's clock skew."
    )
    context: dict[str, Any] | None = Field(
        None, description="Library, page, device (device.id is an identifier), traits, ..."
    )
    channel: str | None = Field(None, description="web, app, email, store, ... (else guessed).")
    integrations: dict[str, Any] | None = None


class TrackMessage(_Message):
    """A track call: something a person did."""

    type: Literal["track"] | None = "track"
    event: str = Field(min_length=1, description="The event name, e.g. 'purchase'.")
    properties: dict[str, Any] | None = Field(
        None, description="Event properties; revenue (or total) must be a number."
    )


class IdentifyMessage(_Message):
    """An identify call: who a person is; links the identifiers it carries."""

    type: Literal["identify"] | None = "identify"
    traits: dict[str, Any] | None = Field(
        None, description="Traits; email, phone and crm_id are identifiers too."
    )


class PageMessage(_Message):
    """A page view (stored as 'Page Viewed')."""

    type: Literal["page"] | None = "page"
    name: Id | None = None
    properties: dict[str, Any] | None = None


class ScreenMessage(_Message):
    """A screen view in an app (stored as 'Screen Viewed')."""

    type: Literal["screen"] | None = "screen"
    name: Id | None = None
    properties: dict[str, Any] | None = None


class AliasMessage(_Message):
    """An alias call: ``previousId`` and ``userId`` are the same person."""

    type: Literal["alias"] | None = "alias"
    previousId: Id = Field(description="The earlier id.")
    userId: Id = Field(description="The id it is now known by.")  # type: ignore[assignment]


class GroupMessage(_Message):
    """A group call: the person belongs to an account or organisation."""

    type: Literal["group"] | None = "group"
    groupId: Id = Field(description="The group's id.")
    traits: dict[str, Any] | None = None


class BatchMessage(_Message):
    """One message of a batch: any type (default track)."""

    type: Literal["track", "identify", "page", "screen", "alias", "group"] | None = "track"
    event: str | None = None
    name: Id | None = None
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    previousId: Id | None = None
    groupId: Id | None = None


class Batch(BaseModel):
    """Several messages in one request (up to the batch size limit, 500 KB by default)."""

    model_config = ConfigDict(extra="allow")

    batch: list[BatchMessage] = Field(description="The messages; each is checked on its own.")
    context: dict[str, Any] | None = Field(None, description="Merged into every message.")
    sentAt: Time | None = Field(None, description="Applies to messages without their own.")
    writeKey: str | None = Field(None, description="The write key, for clients without headers.")


class MessageProblem(BaseModel):
    """Why one message was refused."""

    index: int = Field(description="0-based position of the message in the request.")
    field: str | None = Field(description="The field at fault, e.g. 'event' or 'timestamp'.")
    reason: str


class CollectResponse(BaseModel):
    """The answer to a collector call: the accepted messages are on disk."""

    success: bool = Field(description="True when at least one message was accepted.")
    accepted: int = Field(description="Messages spooled and to be stored.")
    rejected: list[MessageProblem] = Field(
        default_factory=list, description="Messages refused, by index; the others were kept."
    )


class ErrorResponse(BaseModel):
    """Every error: a code, a sentence, the field at fault, and per-message problems."""

    error: str = Field(description="A stable code, e.g. 'invalid_message', 'unauthorized'.")
    message: str
    field: str | None = None
    errors: list[MessageProblem] = Field(default_factory=list)


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"]


class LoaderReadiness(BaseModel):
    """How far behind the loader is, and its last error."""

    alive: bool = Field(description="The loader thread runs.")
    failing: bool = Field(description="Its last load failed as a whole (the store is failing).")
    lag_events: int | None = Field(
        description="Messages acknowledged and not yet in the store (null while the backlog "
        "left by a previous run is being counted)."
    )
    lag_seconds: float = Field(
        description="How long ago the oldest message not yet in the store was received."
    )
    last_error: str | None
    last_error_at: UtcTime | None
    last_progress_at: UtcTime | None = Field(description="When the loader last moved on.")
    dead_letters: int = Field(description="Messages set aside with their reason since start.")


class Readiness(BaseModel):
    """Whether the server takes traffic, and why not."""

    ready: bool
    checks: dict[str, bool] = Field(
        description="spool, spool_room, loader, loader_lag, store: each true when healthy."
    )
    spool_backlog_bytes: int
    loader: LoaderReadiness


class ChannelRow(BaseModel):
    """Events and people on one channel."""

    channel: str
    events: int
    people: int


class DayRow(BaseModel):
    """Events and people on one day."""

    day: date
    events: int
    people: int


class SummaryResponse(BaseModel):
    """What the workspace holds (see :class:`journeykit.store.Summary`)."""

    people: int
    events: int
    identities: int
    merges: int
    first_event: UtcTime | None
    last_event: UtcTime | None
    rejects: int
    loads: int
    spend: float
    by_channel: list[ChannelRow]
    by_day: list[DayRow]


class TimelineEvent(BaseModel):
    """One event of a person's journey."""

    seq: int
    ts: UtcTime
    channel: str | None
    event: str
    type: str
    revenue: float | None
    properties: dict[str, Any] | None
    event_id: str
    source: str | None


class TimelineResponse(BaseModel):
    """A person's events across channels in journey order."""

    person_id: str
    total: int = Field(description="Events the person has; 'events' is one page of them.")
    events: list[TimelineEvent]


class KeyCreate(BaseModel):
    """A key to make."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["write", "read", "admin"]
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    rate: float | None = Field(None, ge=0, description="Own rate limit per second (0: none).")
    burst: float | None = Field(None, ge=0)


class KeyInfo(BaseModel):
    """A key as listed (never with its secret)."""

    key_id: str
    kind: str
    name: str
    created_at: UtcTime
    revoked_at: UtcTime | None
    rate: float | None
    burst: float | None


class KeyCreated(KeyInfo):
    """A new key; ``key`` is shown only this once."""

    key: str


class ForgetResponse(BaseModel):
    """What erasing a person removed."""

    person_id: str
    identifiers: list[str]
    removed: dict[str, int]
    files_rewritten: list[str] = Field(
        description="Side files (rejects, dead letters) that held the person's identifiers."
    )
    store_rewritten: bool = Field(
        False, description="The database file was rewritten: nothing erased stays in its bytes."
    )


class SpoolStatus(BaseModel):
    """The collector, the spool and the loader, counted since the server started."""

    requests: int = Field(description="Collector requests answered 200.")
    accepted: int = Field(description="Messages acknowledged.")
    refused: int = Field(description="Messages refused at receipt.")
    backlog_bytes: int
    committed: str
    durable: str
    records_appended: int
    flushes: int
    loads: int
    messages_loaded: int
    duplicates: int
    rejected_by_loader: int
    dead_letters: int
    last_error: str | None
    store_memory_bytes: int = Field(description="Memory the store engine holds (its cache).")
    flushed: bool | None = None
