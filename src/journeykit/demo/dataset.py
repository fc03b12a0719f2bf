"""Writing a demo data set: event files, ad spend, the true identities and the ground truth.

People are simulated a block at a time; a writer thread puts each block on disk while the
next one is made, and at most a couple of blocks are held at once, so memory stays flat from
thousands to a hundred million events. Event files are cut at
``events_per_chunk`` rows; the rows themselves do not depend on where the cuts fall.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from journeykit.demo.frame import SCHEMA
from journeykit.demo.world import BLOCK_PEOPLE, SPEND_STREAM, World, from_us, make_world
from journeykit.errors import InputError

#: Events per person of the retailer at the default 120 days (measured; sizes and progress).
EVENTS_PER_PERSON = 50.5
DEFAULT_DAYS = 120
ScenarioName = Literal["retail", "bank"]
SCENARIOS: tuple[str, ...] = ("retail", "bank")
#: Events per person grow about as days ** 0.45 (people arrive through the whole window).
DAYS_EXPONENT = 0.45
TRUTH_SCHEMA = pa.schema([("identifier", pa.string()), ("person", pa.int64())])
SPEND_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("channel", pa.string()),
        ("campaign", pa.string()),
        ("amount", pa.float64()),
    ]
)
_EVENT_FILE = re.compile(r"events-\d{5}\.parquet")
_DICTIONARY = ["type", "event", "channel", "source", "other_ids"]
WRITES_AHEAD = 2


@dataclass(frozen=True)
class Scenario:
    """One demo world: how a block of people is simulated, measured and described.

    ``simulate(world, block, first_event)`` gives a result with ``table`` (the block's events),
    ``rows`` (``frame.Rows``) and ``block`` (with ``ids`` and ``first``); ``tally(world)``
    starts the running measures that ``measure(result, tally)`` adds to; ``spend`` and
    ``document`` make the ad spend table and the ground truth at the end.
    """

    name: str
    events_per_person: float
    simulate: Callable[[World, int, int], Any]
    tally: Callable[[World], Any]
    measure: Callable[[Any, Any], None]
    spend: Callable[[World, Any], pa.Table]
    document: Callable[[World, Any, dict[str, Any]], dict[str, Any]]


def get_scenario(name: str) -> Scenario:
    """The demo scenario called ``name`` (``retail`` or ``bank``)."""
    if name == "retail":
        from journeykit.demo.groundtruth import document
        from journeykit.demo.simulate import simulate_block
        from journeykit.demo.truth import Tally, measure
        from journeykit.demo.vocab import CAMPAIGNS

        return Scenario(
            name="retail",
            events_per_person=EVENTS_PER_PERSON,
            simulate=simulate_block,
            tally=Tally,
            measure=measure,
            spend=lambda world, tally: spend_table(world, tally.spend_clicks, CAMPAIGNS),
            document=document,
        )
    if name == "bank":
        from journeykit.demo.bank import SCENARIO

        return SCENARIO
    raise InputError(f"unknown scenario {name!r}; use {' or '.join(SCENARIOS)}", field="scenario")


@dataclass(frozen=True)
class DemoFiles:
    """What ``generate`` wrote.

    ``events`` are the event files in order (``events-00000.parquet``, ...); ``spend`` the
    daily ad spend; ``ground_truth`` the planted effects as measured; ``truth_people`` every
    identifier seen in the events with its true person number.
    """

    events: tuple[Path, ...]
    spend: Path
    ground_truth: Path
    truth_people: Path
    n_events: int
    n_people: int
    n_identifiers: int
    n_spend_rows: int


def scale_for_events(
    n_events: int, *, days: int = DEFAULT_DAYS, scenario: ScenarioName = "retail"
) -> int:
    """How many people give about ``n_events`` events over ``days`` days.

    >>> scale_for_events(1_000_000)
    19802
    """
    if n_events < 1:
        raise InputError("must be at least 1", field="n_events")
    return max(1, round(n_events / _per_person(get_scenario(scenario), days)))


def _per_person(sc: Scenario, days: int) -> float:
    return sc.events_per_person * (days / DEFAULT_DAYS) ** DAYS_EXPONENT


class _EventFiles:
    """Event Parquet files of at most ``limit`` rows each."""

    def __init__(self, out: Path, limit: int) -> None:
        self.out, self.limit = out, limit
        self.paths: list[Path] = []
        self.writer: pq.ParquetWriter | None = None
        self.rows_in_file = 0

    def write(self, table: pa.Table) -> None:
        offset = 0
        while offset < table.num_rows:
            if self.writer is None or self.rows_in_file == self.limit:
                self._next()
            take = min(self.limit - self.rows_in_file, table.num_rows - offset)
            assert self.writer is not None
            self.writer.write_table(table.slice(offset, take))
            self.rows_in_file += take
            offset += take

    def _next(self) -> None:
        self.close()
        path = self.out / f"events-{len(self.paths):05d}.parquet"
        self.paths.append(path)
        self.writer = pq.ParquetWriter(
            path, SCHEMA, compression="zstd", compression_level=1, use_dictionary=_DICTIONARY
        )
        self.rows_in_file = 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _write(events: _EventFiles, table: pa.Table, truth: pq.ParquetWriter, ids: pa.Table) -> None:
    events.write(table)
    truth.write_table(ids)


def generate(
    out_dir: str | Path,
    *,
    people: int = 20_000,
    days: int = DEFAULT_DAYS,
    seed: int = 7,
    end: date = date(2026, 9, 30),
    events_per_chunk: int = 1_000_000,
    progress: Callable[[int, int], None] | None = None,
    scenario: ScenarioName = "retail",
) -> DemoFiles:
    """Generate a demo world's data into ``out_dir``: the retailer, or the bank.

    Writes ``events-NNNNN.parquet`` (the raw input layout of ``journeykit.ingest.load``),
    ``spend.parquet``, ``truth_people.parquet`` and ``ground_truth.json``; event files left
    from an earlier run in the folder are removed first. The same arguments always give the
    same rows and a byte-identical ground truth.

    Args:
        out_dir: Folder to write to (created if missing).
        people: How many people (see ``scale_for_events`` to ask for a number of events).
        days: Length of the window, ending on ``end`` (at least 42).
        seed: Seed of every random draw.
        end: Last day of the window.
        events_per_chunk: Most rows per event file.
        progress: Called after each block of people with (events made so far, events
            expected); the last call has both equal to the final count.
        scenario: ``retail`` (the omnichannel retailer) or ``bank`` (loans and credit cards;
            see docs/demo.md).

    Returns:
        The paths written and their counts.

    >>> files = generate("demo-data", people=200)
    >>> files.n_people, [p.name for p in files.events]
    (200, ['events-00000.parquet'])
    """
    sc = get_scenario(scenario)
    world = make_world(seed, people, days, end)
    if events_per_chunk < 1:
        raise InputError("must be at least 1", field="events_per_chunk")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        if _EVENT_FILE.fullmatch(stale.name):
            stale.unlink()
    expected = round(people * _per_person(sc, days))
    tally = sc.tally(world)
    events = _EventFiles(out, events_per_chunk)
    truth_path = out / "truth_people.parquet"
    n_identifiers = done = 0
    # one thread writes while the next block is simulated (Arrow and numpy release the GIL);
    # at most WRITES_AHEAD blocks wait, so memory stays flat
    pending: deque[Future[None]] = deque()
    with (
        pq.ParquetWriter(truth_path, TRUTH_SCHEMA, compression="zstd") as truth,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-writer") as writer,
    ):
        try:
            for index in range(math.ceil(people / BLOCK_PEOPLE)):
                res = sc.simulate(world, index, done)
                sc.measure(res, tally)
                identifiers = truth_people(res)
                while len(pending) >= WRITES_AHEAD:
                    pending.popleft().result()
                pending.append(writer.submit(_write, events, res.table, truth, identifiers))
                n_identifiers += identifiers.num_rows
                done += res.table.num_rows
                if progress is not None:
                    progress(done, max(expected, done))
            while pending:
                pending.popleft().result()
        finally:
            for job in pending:
                job.cancel()
            writer.shutdown(wait=True)
            events.close()
    if progress is not None:
        progress(done, done)
    spend = sc.spend(world, tally)
    spend_path = out / "spend.parquet"
    pq.write_table(spend, spend_path, compression="zstd")
    files = {
        "events": [p.name for p in events.paths],
        "spend": spend_path.name,
        "truth_people": truth_path.name,
    }
    truth_doc = out / "ground_truth.json"
    text = json.dumps(sc.document(world, tally, files), indent=2, ensure_ascii=False)
    truth_doc.write_text(text + "\n", encoding="utf-8")
    return DemoFiles(
        events=tuple(events.paths),
        spend=spend_path,
        ground_truth=truth_doc,
        truth_people=truth_path,
        n_events=done,
        n_people=people,
        n_identifiers=n_identifiers,
        n_spend_rows=spend.num_rows,
    )


def truth_people(res: Any) -> pa.Table:
    """Every identifier the block's events carry, normalised, with its true person.

    E-mails appear as ``email:`` + the lower-cased address and phones as ``phone:`` + E.164,
    however the row spelled them (the values ``schema.normalise_identifier`` gives).
    """
    rows, ids, first = res.rows, res.block.ids, res.block.first
    devices = np.unique(rows.person[rows.anon >= 0] * 2 + rows.anon[rows.anon >= 0])

    def people(mask: np.ndarray) -> np.ndarray:
        return np.unique(rows.person[mask])

    # (kind, text per entry, entries seen, their people); e-mail and phone entries are the
    # normalised spellings (the first of the 2 or 4 kept per person)
    email, phone = people(rows.email > 0), people(rows.phone > 0)
    found = [
        ("user_id", ids.user_id, people(rows.uid), None),
        ("email", ids.email, email * 2, email),
        ("phone", ids.phone, phone * 4, phone),
        ("crm_id", ids.crm_id, people(rows.crm), None),
        ("anonymous_id", ids.anonymous_id, devices, devices // 2),
        ("device_id", ids.device_id, devices, devices // 2),
    ]
    pieces = []
    for kind, values, entries, person in found:
        text = values.take(pa.array(entries))
        valid = text.is_valid()  # web devices have no device_id
        pieces.append(
            pa.table(
                {
                    "identifier": pc.binary_join_element_wise(f"{kind}:", text.filter(valid), ""),
                    "person": pa.array((entries if person is None else person) + first).filter(
                        valid
                    ),
                }
            )
        )
    table = pa.concat_tables(pieces)
    order = pc.sort_indices(table, [("person", "ascending"), ("identifier", "ascending")])
    return table.take(order).cast(TRUTH_SCHEMA)


def spend_table(
    world: World, clicks: np.ndarray, campaigns: Sequence[tuple[str, str, str, float, float]]
) -> pa.Table:
    """Daily spend per paid campaign: a fixed daily cost plus paid clicks times cost per click.

    ``clicks`` holds the paid clicks per (day, campaign); ``campaigns`` are (channel, campaign,
    network, cost per click, fixed cost per day for 20,000 people). The fixed cost (reach
    bought beyond the clicks seen) scales with the number of people, so cost per customer
    does not depend on the size of the data set.
    """
    rng = world.stream(SPEND_STREAM)
    cpc = np.array([c[3] for c in campaigns])
    fixed = np.array([c[4] for c in campaigns]) * world.people / 20_000
    noise = rng.lognormal(0.0, 0.15, size=clicks.shape)
    amount = np.round((fixed + clicks * cpc) * noise, 2)
    day = np.repeat(np.arange(world.days), len(campaigns))
    which = np.tile(np.arange(len(campaigns)), world.days)
    first = from_us(world.start_us).date()
    dates = pa.array(np.datetime64(first, "D") + day.astype("timedelta64[D]"), pa.date32())
    table = pa.table(
        {
            "date": dates,
            "channel": pa.array([campaigns[i][0] for i in which]),
            "campaign": pa.array([campaigns[i][1] for i in which]),
            "amount": pa.array(amount.ravel()),
        },
        schema=SPEND_SCHEMA,
    )
    return table.sort_by(
        [("date", "ascending"), ("channel", "ascending"), ("campaign", "ascending")]
    )
