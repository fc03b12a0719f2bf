"""Who the bank's people are: arrival, what they came for, how they bank and hear from it.

A block is a run of consecutive people simulated together on one random stream (as for the
retailer). The simulation steps fill in when each person became a customer, got a customer
number, enrolled in online banking and asked to close their account.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from journeykit.demo.bank.vocab import ACQUISITION, ANDROID, BRANCHES, LOCALE, WEB
from journeykit.demo.identity import Identities, identities
from journeykit.demo.people import times_of_day
from journeykit.demo.world import DAY, MINUTE, NEVER, WEEK, World, from_us

# What people come for.
LOAN, CARD, BROWSE = 0, 1, 2
INTENT_SHARES = (0.55, 0.25, 0.20)
WALK_IN = 0.22  # of loan seekers: walk into a branch rather than arrive online
ACQUISITION_SHARES = (0.30, 0.35, 0.15, 0.20)  # ads, search, social, comparison
PLATFORM_SHARES = (0.45, 0.30, 0.25)  # web, ios, android
PREFERS_LETTER = 0.18  # online people who ask for post rather than e-mail
PREFERS_LETTER_WALK_IN = 0.50
BANK_STREAM = 2**31 - 3  # the bank world's own draws (the broken Android release)


@dataclass
class Block:
    """The people of one block and what the simulation knows about them so far."""

    world: World
    index: int
    first: int
    n: int
    rng: np.random.Generator
    ids: Identities
    t0: np.ndarray  # arrival
    intent: np.ndarray  # LOAN, CARD or BROWSE
    walk_in: np.ndarray  # arrived by walking into a branch
    acquisition: np.ndarray  # code into ACQUISITION, -1 for walk-ins
    platform: np.ndarray  # web, ios, android: the device they bank on
    letters: np.ndarray  # asked for letters rather than e-mail
    home_branch: np.ndarray
    crm_at: np.ndarray  # when they got a customer number (NEVER if not)
    uid_at: np.ndarray  # when they enrolled in online banking (NEVER if not)
    limit: np.ndarray  # when they asked to close their account (NEVER if not)

    @property
    def bug_weeks(self) -> tuple[int, ...]:
        """The Mondays of the weeks with the broken Android release."""
        return bug_weeks(self.world)

    def broken(self, platform: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Whether each (platform, time) is the Android app in the broken release."""
        return (platform == ANDROID) & self.world.in_weeks(ts, self.bug_weeks)

    def version(self, platform: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """The app version code (into ``ANDROID_VERSIONS``) in use, -1 on the web or in a branch.

        Android runs 7.3.2 before the broken weeks, 7.4.0 in them and 7.4.1 after; iOS 7.4.0.
        """
        weeks = self.bug_weeks
        lo, hi = weeks[0], weeks[-1] + WEEK
        android = np.where(ts < lo, 0, np.where(ts < hi, 1, 2))
        app = (platform != WEB) & (platform >= 0)  # neither the web nor a branch desk
        return np.where(app, np.where(platform == ANDROID, android, 1), -1)


@cache
def _bug_weeks(seed: int, start_us: int, end_us: int) -> tuple[int, ...]:
    first_monday = start_us + ((7 - from_us(start_us).weekday()) % 7) * DAY
    mondays = list(range(first_monday, end_us - WEEK + 1, WEEK))
    usable = list(range(2, len(mondays) - 2))
    rng = np.random.default_rng(np.random.SeedSequence([seed, BANK_STREAM]))
    if len(usable) < 2:
        return (mondays[len(mondays) // 2],)
    a = int(rng.choice(usable[:-1]))
    return (mondays[a], mondays[a + 1])


def bug_weeks(world: World) -> tuple[int, ...]:
    """Two consecutive weeks (their Mondays) drawn from the seed, away from the window's ends."""
    return _bug_weeks(world.seed, world.start_us, world.end_us)


def branch_hours(rng: np.random.Generator, ts: np.ndarray) -> np.ndarray:
    """Move times into branch opening hours (09:30-16:30) of the same day, to the minute."""
    moved = ts - ts % DAY + 9 * 60 * MINUTE + 30 * MINUTE
    moved += (rng.random(len(ts)) * 7 * 60 * MINUTE).astype(np.int64)
    return moved - moved % MINUTE


def draw_people(world: World, index: int, first: int, n: int) -> Block:
    """Draw the people ``first .. first+n-1`` (block ``index``)."""
    rng = world.rng(index)
    day = rng.integers(0, world.days, size=n)
    intent = rng.choice(3, size=n, p=INTENT_SHARES)
    walk_in = (intent == LOAN) & (rng.random(n) < WALK_IN)
    t0 = times_of_day(rng, world.start_us + day * DAY)
    t0 = np.where(walk_in, branch_hours(rng, t0), t0 - t0 % 1000)
    acquisition = rng.choice(len(ACQUISITION), size=n, p=ACQUISITION_SHARES)
    # comparison sites list loans only: card seekers found through them searched instead
    comparison = ACQUISITION.index("comparison")
    acquisition = np.where(
        (acquisition == comparison) & (intent != LOAN), ACQUISITION.index("search"), acquisition
    )
    acquisition = np.where(walk_in, -1, acquisition)
    platform = rng.choice(3, size=n, p=PLATFORM_SHARES)
    letters = rng.random(n) < np.where(walk_in, PREFERS_LETTER_WALK_IN, PREFERS_LETTER)
    app = np.stack([platform != WEB, np.zeros(n, dtype=bool)], axis=1)
    return Block(
        world=world,
        index=index,
        first=first,
        n=n,
        rng=rng,
        ids=identities(world.seed, first, n, world.people, app, LOCALE),
        t0=t0,
        intent=intent,
        walk_in=walk_in,
        acquisition=acquisition,
        platform=platform,
        letters=letters,
        home_branch=rng.integers(0, len(BRANCHES), size=n),
        crm_at=np.full(n, NEVER, dtype=np.int64),
        uid_at=np.full(n, NEVER, dtype=np.int64),
        limit=np.full(n, NEVER, dtype=np.int64),
    )
