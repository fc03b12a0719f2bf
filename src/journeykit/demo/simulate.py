"""One block of people, from arrival to the last survey: the order of the simulation steps.

The steps run in a fixed order on the block's own random stream, so a block's events depend
only on (seed, block number, world), never on the blocks around it or the file layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from journeykit.demo import clickstream, followups, instore, marketing, online, service
from journeykit.demo.frame import Parts, Rows, assemble
from journeykit.demo.identity import SERIAL_STRIDE, reference
from journeykit.demo.online import Orders
from journeykit.demo.people import Block, draw_people
from journeykit.demo.world import BLOCK_PEOPLE, World

ORDER_SALT = 1


@dataclass(frozen=True)
class BlockResult:
    """The events of one block, and what measuring them needs."""

    block: Block
    table: pa.Table
    rows: Rows
    parts: Parts
    orders: Orders


def _concat(a: Orders, b: Orders) -> Orders:
    return Orders(
        **{
            name: np.concatenate([getattr(a, name), getattr(b, name)])
            for name in Orders.__dataclass_fields__
        }
    )


def simulate_block(world: World, index: int, first_event: int) -> BlockResult:
    """Simulate block ``index`` and number its events from ``first_event``."""
    first = index * BLOCK_PEOPLE
    n = min(BLOCK_PEOPLE, world.people - first)
    b = draw_people(world, index, first, n)
    seed = world.seed

    on = online.schedule(b)
    chats = service.schedule_chats(b, on.payment_chats)
    web_orders = online.finalise(b, on)
    visits = instore.schedule(b, index * SERIAL_STRIDE + len(on.ck_serial))
    orders = _concat(web_orders, instore.orders(visits))
    sent = marketing.match_referrals(b, on, web_orders)

    parts = Parts()
    clickstream.emit(parts, b, on, reference("o", on.ck_serial, seed, ORDER_SALT))
    instore.emit(parts, b, visits, reference("o", visits.serial[visits.bought], seed, ORDER_SALT))
    service.emit_chats(parts, b, chats)
    triggers = followups.emit(parts, b, orders, reference("o", orders.serial, seed, ORDER_SALT))
    service.emit_calls(parts, b, triggers)
    marketing.emit_referrals(parts, b, sent)
    marketing.emit_emails(parts, b, orders)
    table, rows = assemble(parts, b.ids, seed=seed, first_event=first_event)
    return BlockResult(block=b, table=table, rows=rows, parts=parts, orders=orders)
