"""Fixtures for the orchestration tests: an HTTP receiver, an SMTP server, PostgreSQL, a clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from orchestrate_parts import PG_URL, START, Mailbox, Receiver, free_port

from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.state import StateStore


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def flaky_receiver() -> Iterator[Receiver]:
    r = Receiver(fail_every=2)
    yield r
    r.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'state.sqlite'}"


@pytest.fixture
def pg_store() -> Iterator[StateStore]:
    schema = f"jk_test_{uuid.uuid4().hex[:12]}"
    try:
        store = StateStore(PG_URL, schema=schema)
    except Exception as exc:  # pragma: no cover - the server is part of the machine
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed: {exc}")
    yield store
    store.drop_all()
    store.dispose()
