"""The loader fed arbitrary JSON, past the edge's checks: every acknowledged message is stored
or dead-lettered with its reason, and the loader always reaches the end of the spool."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeykit
from journeykit.server.loader import Loader
from journeykit.server.spool import Position, Spool

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


def deep(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(levels):
        value = {"a": value} if i % 2 else [value]
    return value


deep_values = st.integers(50, 1010).map(deep)
names = st.sampled_from(["Signed Up", "Viewed", "", " ", "x\x00y", "Bought"]) | st.text(max_size=8)
ids = st.sampled_from(["u1", "u2", "", "null", " "]) | st.text(max_size=6) | st.integers()
stamps = st.sampled_from(
    [None, "2026-03-01T10:00:00Z", "garbage", "1999-01-01T00:00:00Z", "9999-12-31T00:00:00Z"]
) | st.integers(-(2**40), 2**40)
messages = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["track", "identify", "page", "screen", "alias", "group", "x"])},
        optional={
            "event": names,
            "userId": ids,
            "anonymousId": ids,
            "previousId": ids,
            "groupId": ids,
            "timestamp": stamps,
            "properties": json_values | deep_values,
            "context": json_values | deep_values,
            "traits": json_values,
            "name": json_values,
            "channel": json_values,
        },
    ),
)
records = st.lists(st.lists(messages, min_size=1, max_size=6), min_size=1, max_size=5)


def _record(batch: list[Any], tag: str) -> bytes:
    """A spool record as the collector writes it, every message taken, each with an id."""
    header = {
        "v": 1,
        "r": datetime.now().replace(microsecond=0).isoformat(),
        "t": None,
        "k": "k",
        "n": len(batch),
        "skip": [],
        "ids": {str(i): f"{tag}-{i}" for i in range(len(batch))},
    }
    body = json.dumps({"batch": batch}).encode()
    return json.dumps(header).encode() + b"\n" + body


@given(batches=records, batch_messages=st.sampled_from([1, 3, 50_000]))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_message_is_stored_or_dead_lettered_with_its_reason(batches, batch_messages):
    folder = Path(tempfile.mkdtemp()) / "ws"
    ws = journeykit.open(folder)
    spool = Spool(folder / "spool")
    spool.start()
    run = os.urandom(4).hex()
    sent: list[tuple[Position, int, Any]] = []  # (record end, index, message)
    for r, batch in enumerate(batches):
        tag = f"{run}-{r}"
        spool.append_sync(_record(batch, tag), count=len(batch))
        sent += [(spool.durable, i, m) for i, m in enumerate(batch)]
    loader = Loader(ws, spool, batch_messages=batch_messages, linger_seconds=0.0, retries=1)
    loader.start()
    try:
        assert loader.flush(20), loader.stats
        assert spool.committed == spool.durable
        assert spool.unloaded == 0
        status = loader.status()
        assert status.lag_seconds == 0 and status.lag_events == 0 and not status.failing
        stored = {r[0] for r in ws.store.fetchall("SELECT event_id FROM events")}
        dead_file = folder / "spool" / "dead" / "records.jsonl"
        dead = (
            [json.loads(line) for line in dead_file.read_text().splitlines()]
            if (dead_file.exists())
            else []
        )
        letters = {(d["position"], d["index"]): d for d in dead}
        for end, index, message in sent:
            where = f"{end.segment}:{end.offset}"
            letter = letters.get((where, index))
            event_id = _event_id(sent, end, index, run)
            if isinstance(message, dict) and event_id in stored:
                assert letter is None, (message, letter)
                continue
            assert letter is not None, f"message {index} of {where} was lost: {message!r:.300}"
            assert letter["reason"], letter
            # the dead letter holds the message, or the record it came in when it nests too
            # deeply to write as JSON
            assert "message" in letter or "record" in letter
        assert loader.stats.dead_letters == len(dead)
    finally:
        loader.stop(30)
        spool.close()
        ws.close()


def _event_id(sent: list[tuple[Position, int, Any]], end: Position, index: int, run: str) -> str:
    ends = list(dict.fromkeys(p for p, _, _ in sent))
    return f"{run}-{ends.index(end)}-{index}"
