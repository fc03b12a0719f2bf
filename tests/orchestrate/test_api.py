"""The plain functions the command line is built on."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from orchestrate_helpers import ev
from orchestrate_parts import Receiver

import journeykit.orchestrate as orchestrate
from journeykit.errors import InvalidSpec, NotFound
from journeykit.orchestrate import list_automations, run_worker, stats, validate_file
from journeykit.orchestrate.worker import OrchestrateSettings, QueueSource


def test_public_names_are_sorted_and_load() -> None:
    assert orchestrate.__all__ == sorted(orchestrate.__all__)
    for name in orchestrate.__all__:
        assert getattr(orchestrate, name) is not None


def test_validate_list_run_and_stats(tmp_path: Path, receiver: Receiver, sqlite_url: str) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text(
        f"""
id: hello
name: Say hello
priority: 3
trigger: {{event: Signed Up}}
goal: {{event: Order Completed, within: 7d}}
steps:
  - {{action: webhook, url: "{receiver.url}/hello"}}
"""
    )
    automations = validate_file(spec)
    source = QueueSource()
    stop = threading.Event()
    settings = OrchestrateSettings(poll_interval=0.01)
    out = {}
    worker = threading.Thread(
        target=lambda: out.setdefault(
            "stats", run_worker(sqlite_url, automations, source, stop, settings=settings)
        )
    )
    worker.start()
    for i in range(20):
        source.put(ev(f"p{i}", "Signed Up"))
    deadline = time.monotonic() + 20
    while len(receiver.accepted) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    # (a conversion before the message went out would cancel it: the orders come after)
    for i in range(5):
        source.put(ev(f"p{i}", "Order Completed"))
    while source.queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    stop.set()
    worker.join(10)
    assert out["stats"].sent == 20 and out["stats"].events == 25

    listed = list_automations(sqlite_url)
    assert listed[["automation_id", "name", "priority", "entered", "waiting"]].to_dict(
        "records"
    ) == [
        {"automation_id": "hello", "name": "Say hello", "priority": 3, "entered": 20, "waiting": 0}
    ]
    df = stats(sqlite_url, "hello")
    assert df.loc["treatment", ["entered", "completed", "converted"]].tolist() == [20, 20, 5]
    assert df.loc["treatment", "conversion_rate"] == 0.25
    with pytest.raises(NotFound, match="hello"):
        stats(sqlite_url, "nope")


def test_validate_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntrigger: {event: A}\nsteps:\n  - action: sms\n")
    with pytest.raises(InvalidSpec) as err:
        validate_file(bad)
    assert err.value.line == 4 and "bad.yaml" in str(err.value)
