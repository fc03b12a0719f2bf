"""Collector benchmark: acknowledged events a second, latency, the fsync ceiling, memory.

    .venv/bin/python bench/bench_collector.py                    # 20 s a phase, 60 s soak
    .venv/bin/python bench/bench_collector.py --seconds 60 --soak-minutes 10

The server (``python -m journeykit.server``, default settings) and the load generator
(``python -m journeykit.server.loadgen``, plain HTTP/1.1 on keep-alive connections) run as
separate processes on 127.0.0.1. A request counts once the server answered 200: its events
are fsynced to the spool. Phases:

1. batched: ``/v1/batch`` with 100 events a request, 16 connections;
2. single: ``/v1/track`` with one event a request, 64 connections;
3. ceiling: the same events appended to a plain file with one ``fdatasync`` per batch (100,
   then 1), in this process: what durability costs without HTTP, parsing or checking;
4. soak: a paced load for ``--soak-minutes`` while the server's resident memory is sampled,
   then every acknowledged event is counted in the store.

Writes the table to docs/benchmarks/collector.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "collector.md"
PY = sys.executable


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, {cpu}, Python {platform.python_version()}"


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process on a fresh workspace, with a write and an admin key."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        from journeykit.server.keys import create_key

        self.folder = folder
        self.write = create_key(folder, "write", "bench")
        self.admin = create_key(folder, "admin", "bench")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (folder.parent / f"server-{self.port}.log").open("wb")
        self.proc = subprocess.Popen(
            [PY, "-m", "journeykit.server", str(folder), "--port", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "JOURNEYKIT_CONFIG": "/nonexistent.toml", **(env or {})},
        )
        self._wait()

    def _wait(self) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def cpu_seconds(self, task: str = "") -> float:
        """CPU time of the process, or of one of its threads (``task``: a thread id)."""
        where = f"/proc/{self.proc.pid}" + (f"/task/{task}" if task else "")
        fields = Path(f"{where}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def loop_cpu_seconds(self) -> float:
        """CPU time of the main thread: the event loop that parses, checks and answers."""
        return self.cpu_seconds(str(self.proc.pid))

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def flush(self) -> dict[str, Any]:
        import httpx

        r = httpx.post(
            f"{self.url}/v1/admin/spool/flush",
            params={"timeout": 3600},
            headers={"Authorization": f"Bearer {self.admin}"},
            timeout=3600,
        )
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(600)
        self.log.close()


def loadgen(server: Server, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [PY, "-m", "journeykit.server.loadgen", server.url, server.write, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def http_phase(base: Path, name: str, args: list[str]) -> dict[str, Any]:
    folder = base / name
    folder.mkdir()
    load = load_average()
    server = Server(folder)
    cpu0, loop0 = server.cpu_seconds(), server.loop_cpu_seconds()
    result = loadgen(server, *args)
    cpu = server.cpu_seconds() - cpu0
    loop = server.loop_cpu_seconds() - loop0
    started = time.perf_counter()
    status = server.flush()
    drain = time.perf_counter() - started
    server.stop()
    result.update(
        load=load,
        cpu_us_per_event=cpu / max(result["events_acked"], 1) * 1e6,
        loop_us_per_event=loop / max(result["events_acked"], 1) * 1e6,
        drain_seconds=drain,
        loaded=status["messages_loaded"],
        store_rate=status["messages_loaded"] / (result["seconds"] + drain),
    )
    print(f"{name}: {json.dumps(result)}", file=sys.stderr)
    return result


def ceiling(base: Path, batch: int, seconds: float) -> dict[str, Any]:
    """Append the same kind of events to a file, one fdatasync per batch."""
    from journeykit.server.loadgen import make_message

    rng = random.Random(1)
    path = base / f"ceiling-{batch}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    latencies: list[float] = []
    events = 0
    seq = 0
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            msgs = [make_message("c", 0, seq + i, 5000, rng) for i in range(batch)]
            seq += batch
            data = json.dumps(msgs if batch > 1 else msgs[0]).encode() + b"\n"
            started = time.perf_counter()
            os.write(fd, data)
            os.fdatasync(fd)
            latencies.append(time.perf_counter() - started)
            events += batch
    finally:
        os.close(fd)
    latencies.sort()
    return {
        "events_per_second": events / seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def soak(base: Path, seconds: float, rate: float) -> dict[str, Any]:
    folder = base / "soak"
    folder.mkdir()
    server = Server(folder)
    gen = subprocess.Popen(
        [
            PY,
            "-m",
            "journeykit.server.loadgen",
            server.url,
            server.write,
            "--mode",
            "batch",
            "--batch",
            "20",
            "--connections",
            "4",
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    while gen.poll() is None:
        samples.append((time.monotonic() - started, server.rss_mb()))
        time.sleep(1.0)
    result = json.loads(gen.communicate()[0])
    status = server.flush()
    rss_flushed = server.rss_mb()
    server.stop()
    from journeykit import open as open_ws

    with open_ws(folder) as ws:
        stored = int(ws.store.scalar("SELECT count(*) FROM events"))
    warm = [mb for t, mb in samples if t >= min(10.0, seconds / 4)] or [samples[-1][1]]
    half = len(warm) // 2 or 1
    out = {
        "seconds": seconds,
        "rate": rate,
        "acked": result["events_acked"],
        "stored": stored,
        "loaded": status["messages_loaded"],
        "rss_start_mb": warm[0],
        "rss_first_half_max_mb": max(warm[:half]),
        "rss_max_mb": max(mb for _, mb in samples),
        "rss_end_mb": warm[-1],
        "rss_flushed_mb": rss_flushed,
        "store_memory_mb": status["store_memory_bytes"] / 2**20,
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
    }
    print(f"soak: {json.dumps(out)}", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each HTTP phase")
    parser.add_argument(
        "--soak-minutes", type=float, default=1.0, help="soak length (10 for the long run)"
    )
    parser.add_argument(
        "--soak-rate", type=float, default=2000.0, help="events a second in the soak"
    )
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="jk-bench-collector-"))
    try:
        batch = http_phase(
            base,
            "batch",
            [
                "--mode",
                "batch",
                "--batch",
                "100",
                "--connections",
                "16",
                "--seconds",
                str(args.seconds),
            ],
        )
        single = http_phase(
            base,
            "single",
            ["--mode", "single", "--connections", "64", "--seconds", str(args.seconds)],
        )
        span = min(args.seconds, 10.0)
        ceil_batch = ceiling(base, 100, span)
        ceil_single = ceiling(base, 1, span)
        soaked = soak(base, args.soak_minutes * 60, args.soak_rate)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    lines = report(args, batch, single, ceil_batch, ceil_single, soaked)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def report(
    args: argparse.Namespace,
    batch: dict[str, Any],
    single: dict[str, Any],
    ceil_batch: dict[str, Any],
    ceil_single: dict[str, Any],
    soaked: dict[str, Any],
) -> list[str]:
    def row(label: str, r: dict[str, Any], note: str) -> str:
        if "loop_us_per_event" in r:
            cpu = (
                f"{r['loop_us_per_event']:.0f} | {1e6 / r['loop_us_per_event']:,.0f} "
                f"| {r['cpu_us_per_event']:.0f}"
            )
        else:
            cpu = "– | – | –"
        return (
            f"| {label} | {r['events_per_second']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {cpu} | {note} |"
        )

    lines = [
        "# Collector benchmark",
        "",
        f"Machine: {machine()}.",
        f"Command: `.venv/bin/python bench/bench_collector.py --seconds {args.seconds:g} "
        f"--soak-minutes {args.soak_minutes:g}`.",
        "",
        "Server: `python -m journeykit.server` with default settings (uvicorn, one process; "
        "the background loader moves the spool into DuckDB while the load runs). Load: "
        "`python -m journeykit.server.loadgen`, a separate process on 127.0.0.1. An event "
        "counts when its request was answered 200, that is once it was fsynced to the spool. "
        "*Event loop CPU* is the main thread's CPU time (it parses, checks, spools and answers) "
        "per acknowledged event, and the next column what one core of it allows; *process CPU* "
        "adds the spool writer and the loader moving events into DuckDB during the phase. CPU "
        "times hold when the machine is shared; events/s and latencies do not (see the load "
        "averages: other work ran on the machine during the run).",
        "",
        "| load | events/s | p50 ms | p99 ms | event loop CPU µs/event | events/s one core "
        "of event loop allows | process CPU µs/event | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        row(
            "batched: /v1/batch, 100 events a request, 16 connections",
            batch,
            f"{batch['requests_per_second']:,.0f} req/s; 1-min load average {batch['load']:.1f} at start",
        ),
        row(
            "single: /v1/track, 1 event a request, 64 connections",
            single,
            f"1-min load average {single['load']:.1f} at start",
        ),
        row(
            "ceiling: plain file append, fdatasync per 100 events",
            ceil_batch,
            "one writer, no HTTP, no checks; latency is write + fdatasync",
        ),
        row(
            "ceiling: plain file append, fdatasync per event",
            ceil_single,
            "the cost the collector's group commit avoids",
        ),
        "",
        "Moving into the store (the background loader, `load_segment`: stitching and journey "
        "order included):",
        "",
        "| phase | acknowledged | loaded | drain after the load stopped (s) | store rate (events/s) |",
        "|---|---:|---:|---:|---:|",
        f"| batched | {batch['events_acked']:,} | {batch['loaded']:,} | {batch['drain_seconds']:.1f} "
        f"| {batch['store_rate']:,.0f} |",
        f"| single | {single['events_acked']:,} | {single['loaded']:,} | {single['drain_seconds']:.1f} "
        f"| {single['store_rate']:,.0f} |",
        "",
        f"Soak: {soaked['seconds']:.0f} s at {soaked['rate']:,.0f} events/s (batches of 20, 4 "
        "connections); server resident memory sampled every second.",
        "",
        "| acknowledged | stored | RSS after warm-up (MB) | max RSS first half (MB) | max RSS (MB) "
        "| RSS at end (MB) | RSS when loaded (MB) | of which DuckDB (MB) | p50 ms | p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {soaked['acked']:,} | {soaked['stored']:,} | {soaked['rss_start_mb']:.0f} "
        f"| {soaked['rss_first_half_max_mb']:.0f} | {soaked['rss_max_mb']:.0f} "
        f"| {soaked['rss_end_mb']:.0f} | {soaked['rss_flushed_mb']:.0f} "
        f"| {soaked['store_memory_mb']:.0f} | {soaked['p50_ms']:.1f} | {soaked['p99_ms']:.1f} |",
        "",
        "Resident memory grows with the store: DuckDB keeps the table's pages in its buffer "
        "pool up to `memory_limit` (2 GB by default, `[store] memory_limit`); *of which DuckDB* "
        "is its `duckdb_memory()` once everything was loaded (`store_memory_bytes` in "
        "`GET /v1/admin/spool`), the rest is the Python process (about 300 MB with its "
        "libraries) and memory the allocators keep after the loader's batches.",
    ]
    return lines


if __name__ == "__main__":
    main()
