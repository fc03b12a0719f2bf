"""Who the demo people are: arrival, channel, devices, intentions and how long they stay.

A block is a run of consecutive people simulated together with one random stream. The
per-person arrays live on ``Block``; the simulation steps fill in the rest (sign-up time, the
final end of activity) as they go.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.demo.identity import Identities, identities
from journeykit.demo.vocab import ACQUISITION, HOUR_WEIGHTS, IOS, STORES, WEB
from journeykit.demo.world import DAY, HOUR, MINUTE, NEVER, World

# Who: shares of people.
STORE_ONLY = 0.10  # shop only in store, never online
OMNI = 0.22  # of online people: also visit the stores
ACQUISITION_SHARES = (0.27, 0.20, 0.25, 0.10, 0.18)  # ads, social, search, blog, referral
PLATFORM_SHARES = (0.48, 0.32, 0.20)  # web, ios, android
SECOND_DEVICE = 0.30
WELCOME = 0.60  # of sign-ups: get the welcome e-mail (random, so its effect is causal)
SIGNUP_EARLY = 0.12  # sign up in the first session, whether or not they buy
OPT_IN = 0.70  # of sign-ups: receive the newsletter
STORE_EMAIL = 0.45  # of store-only people: give an e-mail at the till
# Intentions.
BUY = 0.30
BUY_REFERRED = 0.12
BUY_OMNI = 0.30
# How long people stay active (exponential means, days).
LIFE_BUYER = 120.0
LIFE_BROWSER = 25.0
LIFE_STORE = 80.0
REFERRAL_EARLIEST = 7 * DAY  # before this nobody has bought yet to refer them


@dataclass
class Block:
    """The people of one block and what the simulation knows about them so far."""

    world: World
    index: int
    first: int
    n: int
    rng: np.random.Generator
    t0: np.ndarray  # arrival
    online: np.ndarray  # uses the web shop or the app
    omni: np.ndarray  # online and in store
    store_only: np.ndarray
    acquisition: np.ndarray  # code into ACQUISITION, -1 for store-only people
    platform: np.ndarray  # primary device: web, ios, android
    platform2: np.ndarray  # second device, -1 if none
    welcome: np.ndarray
    early_signup: np.ndarray
    buyer: np.ndarray
    opt_in: np.ndarray
    store_email: np.ndarray
    home_store: np.ndarray
    life_end: np.ndarray  # natural end of activity
    limit: np.ndarray  # end of activity after every cause of churn (set by the simulation)
    signup: np.ndarray  # sign-up time, NEVER if none
    referrer: np.ndarray  # the local person who referred them, -1 if none
    ids: Identities

    @property
    def referred(self) -> np.ndarray:
        """Arrived through a referral link."""
        return self.acquisition == ACQUISITION.index("referral")

    def referral_code(self, person: np.ndarray) -> pa.Array:
        """The referral code a person shares: derived from their user id."""
        return pc.binary_join_element_wise(
            "REF-", pc.utf8_upper(self.ids.user_id.take(pa.array(person))), ""
        )


def times_of_day(rng: np.random.Generator, day_start: np.ndarray) -> np.ndarray:
    """Online activity times within the given days, following ``HOUR_WEIGHTS``."""
    weights = np.array(HOUR_WEIGHTS) / sum(HOUR_WEIGHTS)
    hour = rng.choice(24, size=len(day_start), p=weights)
    return day_start + hour * HOUR + (rng.random(len(day_start)) * HOUR).astype(np.int64)


def daytime(rng: np.random.Generator, ts: np.ndarray, earliest: np.ndarray) -> np.ndarray:
    """Move times to a usual hour of their day (``HOUR_WEIGHTS``), unless that is too early."""
    moved = times_of_day(rng, ts - ts % DAY)
    return np.where(moved >= earliest, moved, ts)


def store_hours(rng: np.random.Generator, ts: np.ndarray) -> np.ndarray:
    """Move times into store opening hours (09:00-20:00) of the same day, to the minute."""
    moved = ts - ts % DAY + 9 * HOUR + (rng.random(len(ts)) * 11 * HOUR).astype(np.int64)
    return moved - moved % MINUTE


def draw_people(world: World, index: int, first: int, n: int) -> Block:
    """Draw the people ``first .. first+n-1`` (block ``index``)."""
    rng = world.rng(index)
    start = world.start_us
    day = rng.integers(0, world.days, size=n)
    store_only = rng.random(n) < STORE_ONLY
    t0 = times_of_day(rng, start + day * DAY)
    t0 = np.where(store_only, store_hours(rng, t0), t0)
    online = ~store_only
    omni = online & (rng.random(n) < OMNI)
    acquisition = rng.choice(len(ACQUISITION), size=n, p=ACQUISITION_SHARES)
    referral = ACQUISITION.index("referral")
    too_early = (acquisition == referral) & (t0 < start + REFERRAL_EARLIEST)
    acquisition = np.where(too_early, ACQUISITION.index("search"), acquisition)
    acquisition = np.where(store_only, -1, acquisition)
    platform = rng.choice(3, size=n, p=PLATFORM_SHARES)
    second = online & (rng.random(n) < SECOND_DEVICE)
    other_app = np.where(rng.random(n) < 0.6, IOS, IOS + 1)
    platform2 = np.where(second, np.where(platform == WEB, other_app, WEB), -1)
    referred = acquisition == referral
    buy_p = BUY + BUY_REFERRED * referred + BUY_OMNI * omni
    buyer = online & (rng.random(n) < buy_p)
    # omnichannel people have an online account: it is what ties their store visits to them
    early = online & (omni | (rng.random(n) < SIGNUP_EARLY))
    life_mean = np.where(store_only, LIFE_STORE, np.where(buyer, LIFE_BUYER, LIFE_BROWSER))
    life_end = t0 + 2 * HOUR + (rng.exponential(life_mean) * DAY).astype(np.int64)
    app = np.stack([platform != WEB, platform2 > WEB], axis=1)
    return Block(
        world=world,
        index=index,
        first=first,
        n=n,
        rng=rng,
        t0=t0,
        online=online,
        omni=omni,
        store_only=store_only,
        acquisition=acquisition,
        platform=platform,
        platform2=platform2,
        welcome=rng.random(n) < WELCOME,
        early_signup=early,
        buyer=buyer,
        opt_in=rng.random(n) < OPT_IN,
        store_email=store_only & (rng.random(n) < STORE_EMAIL),
        home_store=rng.integers(0, len(STORES), size=n),
        life_end=life_end,
        limit=life_end.copy(),
        signup=np.full(n, NEVER, dtype=np.int64),
        referrer=np.full(n, -1, dtype=np.int64),
        ids=identities(world.seed, first, n, world.people, app),
    )


def repeat_index(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per owner: the owner of each item and its position within the owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - np.repeat(starts, counts)


def uniform_between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A time uniformly between ``low`` and ``high`` (``low`` where ``high <= low``)."""
    span = np.maximum(high - low, 0)
    return low + (rng.random(len(low)) * span).astype(np.int64)


def exp_us(rng: np.random.Generator, mean_us: float, n: int) -> np.ndarray:
    """Exponential durations in microseconds."""
    return (rng.exponential(mean_us, size=n)).astype(np.int64)
