"""A load generator for a Segment-compatible collector (smoke tests, benchmarks, fault drills).

Keeps ``connections`` HTTP/1.1 keep-alive connections busy, each sending one request after
the other (single messages to ``/v1/track`` or batches to ``/v1/batch``), and measures each
request's latency. When a connection breaks (the server went away), it reconnects until the
run ends. The ids of acknowledged messages can be written to a file, one a line.

Run it in its own process (``python -m journeykit.server.loadgen --help``); it prints a JSON
summary. It speaks plain HTTP/1.1 on asyncio streams: a client library would cost more CPU
than the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Synthetic traffic: what matters to the collector is the size and shape of the messages
#: (names and properties of a typical web shop's events), not what they mean.
EVENTS = (
    ("session_start", {"platform": "web"}),
    ("item_view", {"item_id": "sku-1042", "category": "shoes", "price": 79.0}),
    ("add_to_cart", {"item_id": "sku-1042", "category": "shoes", "price": 79.0}),
    ("begin_checkout", {"platform": "web"}),
    ("purchase", {"order_id": "o-1", "revenue": 79.0, "items": 1, "platform": "web"}),
    ("newsletter_open", {"campaign": "newsletter"}),
)


@dataclass
class LoadResult:
    """What a run did. Latencies are in milliseconds."""

    mode: str
    batch: int
    connections: int
    seconds: float
    requests: int = 0
    ok: int = 0
    events_acked: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    connect_failures: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    events_per_second: float = 0.0
    requests_per_second: float = 0.0


def make_message(run: str, worker: int, seq: int, users: int, rng: random.Random) -> dict[str, Any]:
    """One realistic track message with a unique ``messageId``."""
    name, props = EVENTS[rng.randrange(len(EVENTS))]
    user = rng.randrange(users)
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "type": "track",
        "messageId": f"{run}-{worker}-{seq}",
        "event": name,
        "userId": f"user-{user}",
        "anonymousId": f"anon-{user}",
        "timestamp": now,
        "sentAt": now,
        "properties": props,
        "context": {
            "library": {"name": "journeykit-loadgen", "version": "1"},
            "page": {"path": "/products/sku-1042", "title": "Running shoe"},
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
        },
    }


async def _connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port)


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> int:
    writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    status_and_headers = await reader.readuntil(b"\r\n\r\n")
    status = int(status_and_headers[9:12])
    length = 0
    for line in status_and_headers.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    if b"connection: close" in status_and_headers.lower():
        raise ConnectionResetError("the server closed the connection")
    return status


async def _worker(
    n: int, cfg: dict[str, Any], result: LoadResult, latencies: list[float], acked: list[str]
) -> None:
    rng = random.Random(cfg["seed"] * 1000 + n)
    url = urlsplit(cfg["url"])
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = "/v1/batch" if cfg["mode"] == "batch" else "/v1/track"
    auth = base64.b64encode(f"{cfg['key']}:".encode()).decode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Basic {auth}\r\n"
        "Content-Type: application/json\r\nContent-Length: "
    ).encode()
    seq = 0
    end = cfg["end"]
    # paced runs: each connection sends its share of the target rate
    pace = cfg["connections"] / cfg["rate"] if cfg["rate"] else 0.0
    due = time.monotonic()
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.monotonic() < end:
        if cfg["total"] and result.events_acked >= cfg["total"]:
            break
        if conn is None:
            try:
                conn = await _connect(host, port)
            except OSError:
                result.connect_failures += 1
                await asyncio.sleep(0.05)
                continue
        count = cfg["batch"] if cfg["mode"] == "batch" else 1
        if pace:
            due += count * pace
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        msgs = [make_message(cfg["run"], n, seq + i, cfg["users"], rng) for i in range(count)]
        seq += count
        body = json.dumps({"batch": msgs} if cfg["mode"] == "batch" else msgs[0]).encode()
        started = time.perf_counter()
        try:
            status = await _request(conn[0], conn[1], head, body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            conn[1].close()
            conn = None
            continue
        latencies.append(time.perf_counter() - started)
        result.requests += 1
        result.statuses[str(status)] = result.statuses.get(str(status), 0) + 1
        if status == 200:
            result.ok += 1
            result.events_acked += count
            if cfg["record"]:
                acked.extend(m["messageId"] for m in msgs)
        elif status == 429:
            await asyncio.sleep(0.05)
    if conn is not None:
        conn[1].close()


async def run_load(
    url: str,
    key: str,
    *,
    mode: str = "batch",
    batch: int = 100,
    connections: int = 16,
    seconds: float = 10.0,
    total: int = 0,
    users: int = 5000,
    seed: int = 1,
    rate: float = 0.0,
    ack_file: str | Path | None = None,
) -> LoadResult:
    """Send load for ``seconds`` (or until ``total`` events are acknowledged).

    Args:
        url: the collector's base URL (``http://127.0.0.1:8000``).
        key: a write key.
        mode: ``batch`` (``/v1/batch``, ``batch`` messages a request) or ``single``.
        connections: concurrent keep-alive connections.
        rate: target events a second over all connections (0: as fast as answered).
        ack_file: where to write the acknowledged message ids, one a line.
    """
    result = LoadResult(
        mode=mode, batch=batch if mode == "batch" else 1, connections=connections, seconds=0
    )
    cfg = {
        "url": url,
        "key": key,
        "mode": mode,
        "batch": batch,
        "users": users,
        "seed": seed,
        "total": total,
        "run": os.urandom(4).hex(),
        "record": ack_file is not None,
        "rate": rate,
        "connections": connections,
        "end": time.monotonic() + seconds,
    }
    latencies: list[float] = []
    acked: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(_worker(i, cfg, result, latencies, acked) for i in range(connections)))
    result.seconds = time.perf_counter() - started
    if latencies:
        latencies.sort()
        result.p50_ms = round(latencies[len(latencies) // 2] * 1000, 2)
        result.p99_ms = round(
            latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2
        )
    result.events_per_second = round(result.events_acked / result.seconds, 1)
    result.requests_per_second = round(result.requests / result.seconds, 1)
    if ack_file is not None:
        Path(ack_file).write_text("".join(f"{i}\n" for i in acked), encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line entry: run a load and write the JSON summary to stdout."""
    parser = argparse.ArgumentParser(prog="python -m journeykit.server.loadgen")
    parser.add_argument("url")
    parser.add_argument("key")
    parser.add_argument("--mode", choices=("batch", "single"), default="batch")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--total", type=int, default=0, help="stop after this many acked events")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.0, help="target events a second")
    parser.add_argument("--ack-file", default=None)
    args = parser.parse_args(argv)
    try:
        from uvloop import run as arun
    except ImportError:
        arun = asyncio.run  # type: ignore[assignment]
    result = arun(
        run_load(
            args.url,
            args.key,
            mode=args.mode,
            batch=args.batch,
            connections=args.connections,
            seconds=args.seconds,
            total=args.total,
            users=args.users,
            seed=args.seed,
            rate=args.rate,
            ack_file=args.ack_file,
        )
    )
    sys.stdout.write(json.dumps(asdict(result)) + "\n")


if __name__ == "__main__":
    main()
