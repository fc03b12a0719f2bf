"""The same engine on PostgreSQL, and several workers sharing timers and the outbox."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from orchestrate_helpers import engine, ev, journeys, outbox, timers
from orchestrate_parts import PG_URL, Receiver

from journeykit.errors import StoreError
from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.engine import Engine
from journeykit.orchestrate.loader import loads
from journeykit.orchestrate.measure import list_automations
from journeykit.orchestrate.state import StateStore, journeys_t, timers_t
from journeykit.orchestrate.worker import OrchestrateSettings, QueueSource, WorkerStats, run_worker

pytestmark = pytest.mark.postgres


def test_engine_flow_on_postgres(pg_store: StateStore, clock: ManualClock) -> None:
    text = """
id: pg-flow
trigger: {segment: lapsed}
exit: {mode: either, when: 'event == "Unsubscribed"'}
goal: {event: Order Completed, within: 30d}
holdout: 0.2
steps:
  - {id: first, action: webhook, url: "http://127.0.0.1:9/a"}
  - {id: long, wait: 30d}
  - {id: last, action: webhook, url: "http://127.0.0.1:9/b"}
"""
    e = engine(text, pg_store, clock)
    people = [f"p{i}" for i in range(40)]
    r = e.handle_batch([ev(p, "Segment Entered", properties={"segment": "lapsed"}) for p in people])
    assert r.entered == 40
    treated = [j["person_id"] for j in journeys(e, grp="treatment")]
    clock.advance(timedelta(days=1))
    e.handle(ev(treated[0], "Unsubscribed"))
    e.handle(ev(treated[1], "Order Completed"))
    e.handle(ev(treated[2], "Segment Exited", properties={"segment": "lapsed"}))
    clock.advance(timedelta(days=30))
    # held-out people walk the wait too (without being acted on)
    assert e.fire_due_timers().fired == len(people) - 3
    last = {m["person_id"] for m in outbox(e, step_id="last")}
    assert last == set(treated[3:])
    assert {t["status"] for t in timers(e)} == {"fired", "cancelled"}
    assert e.handle(ev(treated[3], "Order Completed")).converted == 0  # window is over


@pytest.mark.slow
def test_two_workers_share_the_work_and_send_nothing_twice(pg_store: StateStore) -> None:
    receiver = Receiver()
    [automation] = loads(
        f"""
id: shared
trigger: {{event: Signed Up}}
reentry: {{policy: never}}
steps:
  - {{id: hello, action: webhook, url: "{receiver.url}/hello"}}
  - wait: 1s
  - {{id: again, action: webhook, url: "{receiver.url}/again"}}
"""
    )
    people = [f"person-{i}" for i in range(1500)]
    source = QueueSource()
    for p in people:  # each person signs up twice: the second must not enter again
        source.put(ev(p, "Signed Up"))
        source.put(ev(p, "Signed Up"))
    stop = threading.Event()
    results: dict[int, WorkerStats] = {}
    errors: list[BaseException] = []
    settings = OrchestrateSettings(poll_interval=0.02, batch_size=100, concurrency=4)

    def work(n: int) -> None:
        store = StateStore(PG_URL, schema=pg_store.schema)  # its own connections
        try:
            results[n] = run_worker(store, [automation], source, stop, settings=settings)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            store.dispose()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 150
    while len(receiver.accepted) < 2 * len(people) and time.monotonic() < deadline and not errors:
        time.sleep(0.2)
    time.sleep(0.5)  # let any duplicate show itself
    stop.set()
    for t in threads:
        t.join(60)
    receiver.close()
    assert not errors, errors
    assert len(receiver.accepted) == 2 * len(people)
    assert max(receiver.accepted.values()) == 1 and not receiver.rejected
    assert all(results[n].sent > 0 for n in (0, 1)), results  # both took a share
    assert results[0].sent + results[1].sent == 2 * len(people)
    assert results[0].fired + results[1].fired == len(people)
    assert results[0].events + results[1].events == 2 * len(people)
    with pg_store.begin() as conn:
        n_fired = conn.execute(
            sa.select(sa.func.count()).where(timers_t.c.status == "fired")
        ).scalar()
        entries = conn.execute(sa.select(sa.func.count(), sa.func.max(journeys_t.c.entry))).one()
    assert n_fired == len(people)
    assert tuple(entries) == (len(people), 1)


def test_workers_starting_together_create_and_register_once() -> None:
    schema = f"jk_test_start_{uuid.uuid4().hex[:8]}"
    [automation] = loads("id: same\ntrigger: {event: A}\n")
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            store = StateStore(PG_URL, schema=schema)
            Engine([automation], store)
            store.dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    store = StateStore(PG_URL, schema=schema)
    try:
        assert not errors, errors
        assert list_automations(store)["automation_id"].tolist() == ["same"]
    finally:
        store.drop_all()
        store.dispose()


def test_an_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(StoreError, match=r"postgres:\*\*\*@127.0.0.1:1/test"):
        StateStore("postgresql://postgres:secret@127.0.0.1:1/test")
