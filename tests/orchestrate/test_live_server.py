"""The live path: ``journeykit serve --automations`` acts on collected events within a second.

A real server process on 127.0.0.1 collects events; its loader wakes the orchestrator in the
same process, which sends webhooks to a real receiver. SIGTERM drains: what was acknowledged
is loaded, handled and sent before the process ends.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from orchestrate_parts import Receiver, free_port

import journeykit
from journeykit.server.keys import create_key

AUTOMATION = """
automations:
  - id: hello
    trigger: {event: Signed Up}
    steps:
      - {id: hello, action: webhook, url: "RECEIVER/hello"}
"""


def start(folder: Path, spec: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "JOURNEYKIT_CONFIG": str(folder.parent / "none.toml"),
        "JOURNEYKIT_ORCHESTRATE_STATE_URL": f"sqlite:///{folder.parent / 'state.sqlite'}",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "journeykit.server",
                str(folder),
                "--port",
                str(port),
                "--automations",
                str(spec),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the server did not start: {log.read_text()[-3000:]}")


def signup(user: str, ts: datetime) -> dict[str, Any]:
    return {
        "userId": user,
        "event": "Signed Up",
        "timestamp": ts.isoformat() + "Z",
        "messageId": f"m-{user}",
    }


def wait_for(receiver: Receiver, n: int, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while len(receiver.accepted) < n and time.monotonic() < deadline:
        time.sleep(0.005)
    return time.monotonic()


def test_collected_events_reach_automations_within_a_second(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    with journeykit.open(folder):
        pass
    key = create_key(folder, "write", "test")
    spec = tmp_path / "auto.yaml"
    spec.write_text(AUTOMATION.replace("RECEIVER", receiver.url))
    proc, url = start(folder, spec, tmp_path / "server.log")
    try:
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"})
        latencies = []
        for i in range(6):
            now = datetime.now(UTC).replace(tzinfo=None)
            r = client.post("/v1/track", json=signup(f"u{i}", now))
            acked = time.monotonic()
            assert r.status_code == 200, r.text
            done = wait_for(receiver, i + 1)
            assert len(receiver.accepted) == i + 1
            latencies.append(done - acked)
        # within a second of the acknowledgement (the first one warms the process up)
        assert statistics.median(latencies[1:]) < 1.0, latencies
        assert max(latencies[1:]) < 1.5, latencies

        # a late event (its own time half an hour ago, after newer ones) is not skipped
        late = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=30)
        assert client.post("/v1/track", json=signup("late", late)).status_code == 200
        wait_for(receiver, 7)
        assert len(receiver.accepted) == 7

        # SIGTERM right after an acknowledgement: loaded, handled and sent before the end
        assert client.post("/v1/track", json=signup("last", late)).status_code == 200
        proc.send_signal(signal.SIGTERM)
        # uvicorn ends by re-raising the signal once it has shut down cleanly
        assert proc.wait(60) in (0, -signal.SIGTERM)
        assert len(receiver.accepted) == 8
        people = sorted(b["person_id"] for b in receiver.bodies.values())
        assert len(set(people)) == 8
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    log = (tmp_path / "server.log").read_text()
    assert "orchestrator stopped" in log and '"drained": true' in log
