"""CLI commands while `journeykit serve` holds the workspace: reads, and erasure, through
the server."""

from __future__ import annotations

import json
import subprocess
import sys

from journeykit.server.keys import list_keys


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from journeykit.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_read_commands_work_while_the_server_holds_the_workspace(launch):
    srv = launch()
    ws = str(srv.workspace)
    batch = [
        {"event": "Opened", "userId": "cli-u1", "traits": {"email": "c@example.com"}},
        {"type": "identify", "userId": "cli-u1", "traits": {"email": "c@example.com"}},
        {"event": "Paid", "userId": "cli-u1", "properties": {"revenue": 12.5}},
        {"event": "Opened", "userId": "cli-u2"},
    ]
    with srv.client("write") as w:
        assert w.post("/v1/batch", json={"batch": batch}).status_code == 200
    srv.flush()
    keys_before = {k.key_id for k in list_keys(srv.workspace, include_revoked=False)}

    done = _cli("summary", "--json", "-w", ws)
    assert done.returncode == 0, done.stderr
    tables = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    facts = {r["metric"]: r["value"] for r in tables[0]["rows"]}
    assert (facts["people"], facts["events"], facts["identifiers"]) == (2, 4, 3)

    done = _cli("person", "email:c@example.com", "-w", ws, "--json")
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr  # with --json the heading goes to stderr
    assert "email:c@example.com" in said and "user_id:cli-u1" in said
    rows = json.loads(done.stdout.splitlines()[-1])["rows"]
    assert [r["event"] for r in rows] == ["Opened", "Identified", "Paid"]

    done = _cli("export-person", "cli-u1", "-w", ws)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["events"]) == 3

    done = _cli("forget", "cli-u2", "-w", ws, "--yes")
    assert done.returncode == 0, done.stderr
    assert "events: 1 rows removed" in done.stdout + done.stderr
    with srv.client("read") as r:
        assert r.get("/v1/people/timeline", params={"identifier": "cli-u2"}).status_code == 404
        assert r.get("/v1/summary").json()["events"] == 3

    done = _cli("person", "nobody-at-all", "-w", ws)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and "nobody-at-all" in done.stderr
    assert "Traceback" not in done.stderr
    # each command's key lived for that command only
    assert {k.key_id for k in list_keys(srv.workspace, include_revoked=False)} == keys_before


def test_without_a_server_a_held_workspace_says_why(tmp_path):
    import journeykit

    folder = tmp_path / "ws"
    with journeykit.open(folder):  # this process holds it; no server says where it listens
        done = _cli("summary", "-w", str(folder))
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and "lock" in done.stderr.lower()
