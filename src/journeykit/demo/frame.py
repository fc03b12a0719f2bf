"""Collecting the events of one block of people and turning them into an Arrow table.

Simulation code adds *parts*: many events of one name at once, as numpy arrays (person,
time, channel, which identifiers the row carries) plus the ``properties`` JSON text built with
Arrow string kernels. ``assemble`` sorts a block's events into journey order, gives them their
ids and writes the identifier columns from the block's ``Identities``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.demo.identity import Identities
from journeykit.demo.vocab import CHANNELS, EVENTS
from journeykit.schema.events import INPUT_COLUMNS

#: Columns of the demo event files, in order: the loader's raw input layout less received_at.
COLUMNS: dict[str, pa.DataType] = {k: v for k, v in INPUT_COLUMNS.items() if k != "received_at"}
SCHEMA = pa.schema(list(COLUMNS.items()))
SOURCE = "demo"

# --- JSON text, built column-wise -------------------------------------------------------


def text(values: pa.Array) -> pa.Array:
    """JSON string literals of texts that need no escaping (ids, names, slugs, comments)."""
    return pc.fill_null(pc.binary_join_element_wise('"', values, '"', ""), "null")


def number(values: np.ndarray) -> pa.Array:
    """JSON number literals (integers, or floats already rounded)."""
    return pc.cast(pa.array(values), pa.string())


@cache
def _literals(names: tuple[str, ...]) -> pa.Array:
    return pa.array([json.dumps(n) for n in names] + ["null"])


def pick(names: Sequence[str], codes: np.ndarray) -> pa.Array:
    """JSON literals of ``names[code]``; a negative code gives ``null``."""
    literals = _literals(tuple(names))
    codes = np.asarray(codes, dtype=np.int64)
    return literals.take(pa.array(np.where(codes < 0, len(names), codes)))


def boolean(values: np.ndarray) -> pa.Array:
    """JSON ``true`` / ``false``."""
    return pa.array(["false", "true"]).take(pa.array(np.asarray(values, dtype=np.int64)))


def obj(n: int, fields: Sequence[tuple[str, pa.Array | str]]) -> pa.Array:
    """JSON objects, one per row: each field is (key, column of literals or one literal)."""
    pieces: list[pa.Array | str] = []
    constant = "{"
    for i, (key, value) in enumerate(fields):
        constant += ("," if i else "") + json.dumps(key) + ":"
        if isinstance(value, str):
            constant += value
        else:
            pieces += [constant, value]
            constant = ""
    constant += "}"
    pieces.append(constant)
    if len(pieces) == 1:
        return pa.repeat(constant, n)
    return pc.binary_join_element_wise(*pieces, "")


# --- parts and assembly -----------------------------------------------------------------


@dataclass
class Part:
    """Events of one name; every array has one entry per event."""

    event: int
    person: np.ndarray
    ts: np.ndarray
    channel: np.ndarray
    props: pa.Array
    anon: np.ndarray
    uid: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    crm: np.ndarray
    revenue: np.ndarray | None
    meta: dict[str, np.ndarray | pa.Array] = field(default_factory=dict)


def _full(value: int | bool | np.ndarray, n: int, dtype: type) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value.astype(dtype, copy=False)
    return np.full(n, value, dtype=dtype)


@dataclass(frozen=True)
class Vocabulary:
    """A scenario's event and channel names; an event's index is its code and tie order.

    ``identify`` names the events written with type ``identify`` (the rest are ``track``).
    """

    events: tuple[str, ...]
    channels: tuple[str, ...]
    identify: tuple[str, ...] = ()

    @property
    def codes(self) -> dict[str, int]:
        """Event name -> code."""
        return _codes(self.events)


@cache
def _codes(names: tuple[str, ...]) -> dict[str, int]:
    return {name: code for code, name in enumerate(names)}


#: The retailer's vocabulary (journeykit.demo.vocab).
RETAIL = Vocabulary(events=EVENTS, channels=CHANNELS, identify=("Signed Up",))


class Parts:
    """The events of one block, collected part by part, named in ``vocab``."""

    def __init__(self, vocab: Vocabulary = RETAIL) -> None:
        self.vocab = vocab
        self.items: list[Part] = []

    def add(
        self,
        event: str,
        person: np.ndarray,
        ts: np.ndarray,
        props: pa.Array,
        *,
        channel: str | np.ndarray,
        anon: int | np.ndarray = -1,
        uid: bool | np.ndarray = False,
        email: int | np.ndarray = 0,
        phone: int | np.ndarray = 0,
        crm: bool | np.ndarray = False,
        revenue: np.ndarray | None = None,
        meta: dict[str, np.ndarray | pa.Array] | None = None,
    ) -> None:
        """Add events of one name.

        ``anon`` is the device whose anonymous_id (and device_id, on an app) the row carries
        (-1 none); ``email`` 0 none, 1 normalised, 2 as spelled by the source; ``phone`` 0
        none or 1-4 for the format. ``channel`` is a name or an array of channel codes.
        """
        n = len(person)
        if n == 0:
            return
        ch = (
            np.full(n, self.vocab.channels.index(channel), dtype=np.int8)
            if isinstance(channel, str)
            else channel.astype(np.int8)
        )
        self.items.append(
            Part(
                event=self.vocab.codes[event],
                person=person.astype(np.int64, copy=False),
                ts=ts.astype(np.int64, copy=False),
                channel=ch,
                props=props,
                anon=_full(anon, n, np.int8),
                uid=_full(uid, n, bool),
                email=_full(email, n, np.int8),
                phone=_full(phone, n, np.int8),
                crm=_full(crm, n, bool),
                revenue=revenue,
                meta=meta or {},
            )
        )

    def of(self, event: str) -> list[Part]:
        """The parts holding events named ``event``."""
        code = self.vocab.codes[event]
        return [p for p in self.items if p.event == code]

    def meta(self, event: str, key: str) -> np.ndarray:
        """One measurement column of every part of ``event``, concatenated."""
        return np.concatenate([p.meta[key] for p in self.of(event)] or [np.array([], np.int64)])


@dataclass(frozen=True)
class Rows:
    """The assembled block in journey order, as numpy arrays (for measuring).

    ``anon``, ``uid``, ``email``, ``phone`` and ``crm`` say which identifiers each row carries
    (as in ``Parts.add``).
    """

    person: np.ndarray
    ts: np.ndarray
    event: np.ndarray
    anon: np.ndarray
    uid: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    crm: np.ndarray


def assemble(
    parts: Parts, ids: Identities, *, seed: int, first_event: int
) -> tuple[pa.Table, Rows]:
    """Sort a block's events by (ts, person, event order), number them, build the table."""
    items, vocab = parts.items, parts.vocab
    person = np.concatenate([p.person for p in items])
    ts = np.concatenate([p.ts for p in items])
    event = np.concatenate([np.full(len(p.person), p.event, dtype=np.int16) for p in items])
    order = np.lexsort((event, person, ts))
    person, ts, event = person[order], ts[order], event[order]
    take = pa.array(order)

    def column(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in items])[order]

    anon, email, phone = column("anon"), column("email"), column("phone")
    uid, crm = column("uid"), column("crm")
    n = len(person)
    number_ = pc.utf8_lpad(
        pc.cast(pa.array(np.arange(first_event, first_event + n, dtype=np.int64)), pa.string()),
        9,
        "0",
    )
    device_at = pa.array(person * 2 + anon, mask=anon < 0)
    revenue = np.concatenate(
        [p.revenue if p.revenue is not None else np.full(len(p.person), np.nan) for p in items]
    )[order]
    table = pa.Table.from_arrays(
        [
            pc.binary_join_element_wise(f"d{seed}-", number_, ""),
            pa.array(ts, pa.timestamp("us")),
            pa.array(["track", "identify"]).take(
                pa.array(np.isin(event, [vocab.codes[e] for e in vocab.identify]).astype(np.int8))
            ),
            pa.array(vocab.events).take(pa.array(event)),
            pa.array(vocab.channels).take(pa.array(column("channel"))),
            ids.anonymous_id.take(device_at),
            ids.user_id.take(pa.array(person, mask=~uid)),
            ids.email.take(pa.array(person * 2 + email - 1, mask=email == 0)),
            ids.phone.take(pa.array(person * 4 + phone - 1, mask=phone == 0)),
            ids.crm_id.take(pa.array(person, mask=~crm)),
            ids.device_id.take(device_at),
            pa.nulls(n, pa.string()),
            pa.concat_arrays([p.props for p in items]).take(take),
            pa.array(revenue, mask=np.isnan(revenue)),
            pa.repeat(SOURCE, n),
        ],
        schema=SCHEMA,
    )
    rows = Rows(person, ts, event, anon=anon, uid=uid, email=email, phone=phone, crm=crm)
    return table, rows
