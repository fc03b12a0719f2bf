"""Small builders shared by the orchestration tests."""

from __future__ import annotations

import itertools
import json
from typing import Any

import sqlalchemy as sa

from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.engine import Engine, EngineSettings
from journeykit.orchestrate.loader import loads
from journeykit.orchestrate.state import StateStore, journeys_t, outbox_t, timers_t

_ids = itertools.count()


def engine(yaml_text: str, state: str | StateStore, clock: ManualClock, **settings: Any) -> Engine:
    return Engine(loads(yaml_text), state, clock=clock, settings=EngineSettings(**settings))


def ev(person: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": f"ev{next(_ids)}", "person_id": person, "event": name, **fields}


def outbox(e: Engine, **where: Any) -> list[dict[str, Any]]:
    q = sa.select(outbox_t).order_by(outbox_t.c.outbox_id)
    for k, v in where.items():
        q = q.where(outbox_t.c[k] == v)
    with e.state.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        r["payload"] = json.loads(r["payload"])
    return rows


def journeys(e: Engine, **where: Any) -> list[dict[str, Any]]:
    q = sa.select(journeys_t).order_by(journeys_t.c.person_id, journeys_t.c.entry)
    for k, v in where.items():
        q = q.where(journeys_t.c[k] == v)
    with e.state.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def timers(e: Engine, **where: Any) -> list[dict[str, Any]]:
    q = sa.select(timers_t).order_by(timers_t.c.timer_id)
    for k, v in where.items():
        q = q.where(timers_t.c[k] == v)
    with e.state.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
