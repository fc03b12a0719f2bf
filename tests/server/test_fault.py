"""Crash under load: every acknowledged event is in the store exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

import journeykit


@pytest.mark.slow
def test_sigkill_under_load_loses_and_doubles_nothing(launch, tmp_path):
    srv = launch()
    key = srv.keys["write"]
    acks = [tmp_path / "acks-batch.txt", tmp_path / "acks-single.txt"]
    generators = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "journeykit.server.loadgen",
                srv.url,
                key,
                "--mode",
                mode,
                "--batch",
                "25",
                "--connections",
                "8",
                "--seconds",
                "14",
                "--users",
                "300",
                "--ack-file",
                str(ack),
            ],
            stdout=subprocess.PIPE,
        )
        for mode, ack in zip(("batch", "single"), acks, strict=True)
    ]
    servers = [srv]
    for _ in range(2):  # kill it twice mid-load, restarting on the same port
        time.sleep(3.5)
        servers[-1].stop(signal.SIGKILL)
        servers.append(launch(srv.workspace, keys=srv.keys, port=srv.port))
    results = [json.loads(g.communicate(timeout=120)[0]) for g in generators]
    last = servers[-1]
    last.flush()
    assert last.stop() in (0, -signal.SIGTERM)

    acked = [line for ack in acks for line in ack.read_text().split()]
    assert len(acked) == sum(r["events_acked"] for r in results)
    assert len(set(acked)) == len(acked)
    assert sum(r["connect_failures"] for r in results) > 0  # the crashes did happen under load
    with journeykit.open(srv.workspace) as ws:
        stored = ws.store.df("SELECT event_id, count(*) AS n FROM events GROUP BY event_id")
    counts = dict(zip(stored["event_id"], stored["n"], strict=True))
    missing = [i for i in acked if i not in counts]
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:3]}"
    assert max(counts.values()) == 1
    assert len(acked) > 1000
