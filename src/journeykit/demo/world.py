"""The simulated world: time window, effect weeks, time units and the random streams.

All times inside the generator are int64 microseconds since 1970-01-01 UTC (the unit of the
``ts`` column). Every block of people draws from its own random stream, seeded by
``(seed, block)``, so a block's rows do not depend on how the output is split into files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from journeykit.errors import InputError

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
#: A time that never comes (a person who never signs up, a store customer with no e-mail).
NEVER = np.iinfo(np.int64).max // 4

MIN_DAYS = 42
#: People simulated together. Fixed: changing it changes the data of a seed.
BLOCK_PEOPLE = 1000

# Random streams: blocks use (seed, block); the world's own draws use numbers no block reaches.
WORLD_STREAM = 2**31 - 1
SPEND_STREAM = 2**31 - 2


@dataclass(frozen=True)
class World:
    """Fixed facts of one generated data set.

    ``start_us`` is midnight of the first day, ``end_us`` midnight after ``end`` (exclusive).
    ``ios_weeks`` and ``carrier_weeks`` hold the Monday of each affected week.
    """

    seed: int
    people: int
    days: int
    end: date
    start_us: int
    end_us: int
    ios_weeks: tuple[int, ...]
    carrier_weeks: tuple[int, ...]
    newsletters: tuple[int, ...]

    def in_weeks(self, ts: np.ndarray, weeks: tuple[int, ...]) -> np.ndarray:
        """Whether each time falls inside one of ``weeks`` (Mondays, seven days each)."""
        hit = np.zeros(len(ts), dtype=bool)
        for monday in weeks:
            hit |= (ts >= monday) & (ts < monday + WEEK)
        return hit

    def rng(self, block: int) -> np.random.Generator:
        """The random stream of one block of people."""
        return self.stream(block)

    def stream(self, number: int) -> np.random.Generator:
        """Random stream ``number`` of this seed (blocks, ``WORLD_STREAM``, ``SPEND_STREAM``)."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, number]))


def to_us(day: date) -> int:
    """Microseconds since the epoch at midnight UTC of ``day``."""
    return (day - date(1970, 1, 1)).days * DAY


def from_us(us: int) -> datetime:
    """The naive UTC datetime of a microsecond timestamp."""
    return datetime(1970, 1, 1) + timedelta(microseconds=int(us))


def make_world(seed: int, people: int, days: int, end: date) -> World:
    """Check the parameters and place the planted effects in time.

    The iOS payment incident covers two consecutive weeks and one more week apart from them;
    the carrier (delivery) trouble covers two other consecutive weeks. Neither touches the first
    two weeks (few people have arrived yet) or the last week (follow-ups fall outside).
    """
    if people < 1:
        raise InputError("must be at least 1", field="people")
    if days < MIN_DAYS:
        raise InputError(f"must be at least {MIN_DAYS} (six weeks)", field="days")
    if seed < 0:
        raise InputError("must be zero or positive", field="seed")
    end_us = to_us(end) + DAY
    start_us = end_us - days * DAY
    first_monday = start_us + ((7 - from_us(start_us).weekday()) % 7) * DAY
    mondays = list(range(first_monday, end_us - WEEK + 1, WEEK))
    usable = list(range(2, len(mondays) - 1))
    rng = np.random.default_rng(np.random.SeedSequence([seed, WORLD_STREAM]))
    ios, carrier = _place_weeks(rng, usable)
    thursdays = [m + 3 * DAY + 9 * HOUR for m in [first_monday - WEEK, *mondays]]
    return World(
        seed=seed,
        people=people,
        days=days,
        end=end,
        start_us=start_us,
        end_us=end_us,
        ios_weeks=tuple(mondays[i] for i in ios),
        carrier_weeks=tuple(mondays[i] for i in carrier),
        newsletters=tuple(t for t in thursdays if start_us <= t < end_us),
    )


def _place_weeks(rng: np.random.Generator, usable: list[int]) -> tuple[list[int], list[int]]:
    """Pick the iOS weeks (a pair and a single) and the carrier pair, all disjoint."""
    for _ in range(1000 if len(usable) >= 7 else 0):
        a, b, c = (int(x) for x in rng.choice(usable, size=3, replace=False))
        ios = [a, a + 1, b]
        carrier = [c, c + 1]
        if (
            a + 1 in usable
            and c + 1 in usable
            and abs(b - a) > 2
            and abs(b - (a + 1)) > 2
            and not set(carrier) & set(ios)
        ):
            return sorted(ios), carrier
    # short windows: one iOS week and one carrier week (the first and last usable ones)
    return [usable[0]], [usable[-1]]
