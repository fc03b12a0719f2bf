"""Customer service: chats (with the long waits that drive churn) and phone support calls.

Chats carry the user_id of a signed-up person (else the anonymous_id of their device); calls
carry the CRM id and the phone number, and the e-mail when the person has given one. A share
of chats wait long for an agent: their CSAT is low, and many of those people stop coming back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from journeykit.demo import frame as fr
from journeykit.demo.feedback import ISSUE, NO_ISSUE, add_surveys, moods
from journeykit.demo.identity import SERIAL_STRIDE, reference
from journeykit.demo.people import Block, daytime, exp_us, repeat_index, uniform_between
from journeykit.demo.vocab import CALL_REASONS, CHAT_TOPICS
from journeykit.demo.world import DAY, HOUR, MINUTE, SECOND

CHAT_COUNTS = (0.80, 0.15, 0.05)  # buyers with 0, 1, 2 chats (besides payment chats)
CHAT_COUNTS_OTHERS = (0.95, 0.04, 0.01)
LONG_WAIT = 0.22  # chats waiting LONG_WAIT_SECONDS or more for an agent
LONG_WAIT_SECONDS = 300
CHURN_AFTER_LONG_WAIT = 0.6  # chance a long wait makes the person leave ...
CHURN_DAYS = 4.0  # ... within about this many days
CSAT_AFTER_CHAT = 0.5
LONG_HOLD = 0.2  # calls on hold LONG_HOLD_SECONDS or more
LONG_HOLD_SECONDS = 600
CALL_DELAYED = 0.30  # late parcel: call to ask where it is
CALL_RETURNED = 0.15  # returned: call about the refund
CALL_OTHER = 0.05
CSAT_AFTER_CALL = 0.35
CES_AFTER_CALL = 0.30


@dataclass(frozen=True)
class Chats:
    """Chats planned for a block (before churn decides which are kept)."""

    person: np.ndarray
    start: np.ndarray
    wait: np.ndarray  # seconds until an agent answered
    duration: np.ndarray  # seconds with the agent
    topic: np.ndarray
    serial: np.ndarray

    @property
    def end(self) -> np.ndarray:
        """When each chat ended."""
        return self.start + (self.wait + self.duration) * SECOND


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, size=n)


def schedule_chats(b: Block, payment_chats: tuple[np.ndarray, np.ndarray]) -> Chats:
    """Plan the chats and apply the churn long waits cause (lowers ``b.limit``)."""
    rng = b.rng
    lim0 = np.minimum(b.life_end, b.world.end_us)
    count = (
        np.where(
            b.buyer,
            rng.choice(3, size=b.n, p=CHAT_COUNTS),
            rng.choice(3, size=b.n, p=CHAT_COUNTS_OTHERS),
        )
        * b.online
    )
    owner, _ = repeat_index(count)
    pay_person, pay_ts = payment_chats
    person = np.concatenate([owner, pay_person])
    earliest = b.t0[owner] + HOUR
    start = daytime(rng, uniform_between(rng, earliest, lim0[owner]), earliest)
    start = np.concatenate([start, pay_ts])
    start -= start % SECOND
    topic = np.concatenate(
        [rng.choice(3, size=len(owner), p=(0.45, 0.3, 0.25)), np.full(len(pay_person), 3)]
    )
    n = len(person)
    long = rng.random(n) < LONG_WAIT
    wait = np.where(
        long,
        np.clip(_lognormal(rng, 840, 0.4, n), LONG_WAIT_SECONDS, 3600),
        np.clip(_lognormal(rng, 45, 0.7, n), 5, LONG_WAIT_SECONDS - 1),
    ).astype(np.int64)
    duration = np.clip(_lognormal(rng, 300, 0.5, n), 60, 3600).astype(np.int64)
    chats = Chats(person, start, wait, duration, topic, np.arange(n, dtype=np.int64))
    leave = long & (rng.random(n) < CHURN_AFTER_LONG_WAIT)
    cut = chats.end + HOUR + exp_us(rng, CHURN_DAYS * DAY, n)
    np.minimum.at(b.limit, person[leave], cut[leave])
    return chats


def emit_chats(parts: fr.Parts, b: Block, chats: Chats) -> None:
    """Chat Started, Chat Ended and the CSAT answers after chats, for kept chats."""
    rng, end = b.rng, b.world.end_us
    kept = (chats.start < b.limit[chats.person]) & (chats.start < end)
    idx = np.flatnonzero(kept)
    person, start = chats.person[idx], chats.start[idx]
    wait, duration, topic = chats.wait[idx], chats.duration[idx], chats.topic[idx]
    serial = b.index * SERIAL_STRIDE + chats.serial[idx]
    ref = reference("ch", serial, b.world.seed, 2)
    uid = start >= b.signup[person]
    ident = {"anon": np.where(uid, -1, 0), "uid": uid}
    base = [
        ("chat_id", fr.text(ref)),
        ("topic", fr.pick(CHAT_TOPICS, topic)),
        ("wait_seconds", fr.number(wait)),
    ]
    meta = {"serial": serial, "wait": wait}
    parts.add(
        "Chat Started", person, start, fr.obj(len(idx), base), channel="chat", meta=meta, **ident
    )
    finish = start + (wait + duration) * SECOND
    done = finish < end
    resolved = rng.random(len(idx)) < np.where(topic == 3, 0.5, 0.85)
    props = fr.obj(
        int(done.sum()),
        [
            *[(k, v.filter(pa.array(done))) for k, v in base],
            ("duration_seconds", fr.number(duration[done])),
            ("resolved", fr.boolean(resolved[done])),
        ],
    )
    parts.add(
        "Chat Ended",
        person[done],
        finish[done],
        props,
        channel="chat",
        anon=ident["anon"][done],
        uid=uid[done],
    )
    answer = done & (rng.random(len(idx)) < CSAT_AFTER_CHAT)
    ts = finish + MINUTE + exp_us(rng, 10 * MINUTE, len(idx))
    ts -= ts % SECOND
    answer &= ts < end
    long = wait >= LONG_WAIT_SECONDS
    payment = topic == CHAT_TOPICS.index("payment")
    p_good = np.where(payment, 0.05, np.where(long, 0.1, 0.68))
    p_bad = np.where(payment, 0.75, np.where(long, 0.7, 0.1))
    issue = np.where(payment, ISSUE["payment"], np.where(long, ISSUE["wait"], NO_ISSUE))
    a = np.flatnonzero(answer)
    add_surveys(
        parts,
        b,
        survey="csat",
        touchpoint="Chat Ended",
        context="service",
        person=person[a],
        ts=ts[a],
        mood=moods(rng, p_good[a], p_bad[a]),
        issue=issue[a],
        ref_key="chat_id",
        ref=ref.take(pa.array(a)),
        serial=serial[a],
        ident={"anon": ident["anon"][a], "uid": uid[a]},
    )


def emit_calls(
    parts: fr.Parts,
    b: Block,
    triggers: list[tuple[np.ndarray, np.ndarray, int]],
) -> None:
    """Support calls: ``triggers`` are (person, earliest time, reason code) groups."""
    rng, end = b.rng, b.world.end_us
    lim0 = np.minimum(b.life_end, end)
    anyone = np.flatnonzero(rng.random(b.n) < CALL_OTHER)
    other = uniform_between(rng, b.t0[anyone], lim0[anyone])
    reason_other = np.where(rng.random(len(anyone)) < 0.6, 2, 3)
    person = np.concatenate([*(t[0] for t in triggers), anyone])
    ts = np.concatenate([*(t[1] for t in triggers), other])
    reason = np.concatenate([*(np.full(len(t[0]), t[2]) for t in triggers), reason_other])
    # office hours 08:00-20:00
    ts = ts - ts % DAY + 8 * HOUR + (rng.random(len(ts)) * 12 * HOUR).astype(np.int64)
    ts -= ts % SECOND
    # the call must tie to something else the person did: an account e-mail or store visits
    known = (b.signup[person] <= ts) | b.store_email[person] | b.store_only[person]
    keep = np.flatnonzero((ts < b.limit[person]) & (ts < end) & (ts >= b.t0[person]) & known)
    person, ts, reason = person[keep], ts[keep], reason[keep]
    order = np.lexsort((reason, ts, person))
    person, ts, reason = person[order], ts[order], reason[order]
    n = len(person)
    long = rng.random(n) < LONG_HOLD
    wait = np.where(
        long,
        np.clip(_lognormal(rng, 1000, 0.35, n), LONG_HOLD_SECONDS, 3600),
        np.clip(_lognormal(rng, 90, 0.6, n), 5, LONG_HOLD_SECONDS - 1),
    ).astype(np.int64)
    duration = np.clip(_lognormal(rng, 420, 0.5, n), 60, 3600).astype(np.int64)
    serial = b.index * SERIAL_STRIDE + np.arange(n, dtype=np.int64)
    ref = reference("cl", serial, b.world.seed, 3)
    email_known = (b.signup[person] <= ts) | b.store_email[person]
    props = fr.obj(
        n,
        [
            ("call_id", fr.text(ref)),
            ("reason", fr.pick(CALL_REASONS, reason)),
            ("wait_seconds", fr.number(wait)),
            ("duration_seconds", fr.number(duration)),
        ],
    )
    parts.add(
        "Support Called",
        person,
        ts,
        props,
        channel="phone",
        crm=True,
        phone=np.where(rng.random(n) < 0.7, 1, 2),
        email=email_known.astype(np.int8),
        meta={"serial": serial, "wait": wait},
    )
    finish = ts + (wait + duration) * SECOND
    p_good = np.where(long, 0.15, np.where(reason < 2, 0.3, 0.6))
    p_bad = np.where(long, 0.6, np.where(reason < 2, 0.5, 0.15))
    issue = np.where(
        long,
        ISSUE["wait"],
        np.where(reason == 0, ISSUE["delay"], np.where(reason == 1, ISSUE["returned"], NO_ISSUE)),
    )
    for survey, share in (("csat", CSAT_AFTER_CALL), ("ces", CES_AFTER_CALL)):
        at = finish + 10 * MINUTE + exp_us(rng, 30 * MINUTE, n)
        at -= at % SECOND
        a = np.flatnonzero((rng.random(n) < share) & (at < end))
        add_surveys(
            parts,
            b,
            survey=survey,
            touchpoint="Support Called",
            context="service",
            person=person[a],
            ts=at[a],
            mood=moods(rng, p_good[a], p_bad[a]),
            issue=issue[a],
            ref_key="call_id",
            ref=ref.take(pa.array(a)),
            serial=serial[a],
            ident={"crm": True},
        )
