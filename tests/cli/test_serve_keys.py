"""`journeykit serve` makes one read key for its dashboard link; no session's key outlives it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from journeykit.server.keys import create_key, list_keys


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(folder, tmp_path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    log = (tmp_path / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from journeykit.cli.main import main; main()",
            "serve",
            "-w",
            str(folder),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "JOURNEYKIT_CONFIG": str(tmp_path / "none.toml"), "COLUMNS": "400"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, f"http://127.0.0.1:{port}"
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError((tmp_path / f"serve-{port}.log").read_text())


def _session_keys(folder) -> list[str]:
    return [
        k.key_id
        for k in list_keys(folder, include_revoked=False)
        if k.name == "dashboard (journeykit serve)"
    ]


def test_each_session_key_is_revoked_and_other_keys_stay(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    mine = create_key(folder, "read", "my own read key")
    seen: list[str] = []
    for _ in range(2):
        proc, url = _serve(folder, tmp_path)
        try:
            live = _session_keys(folder)
            assert len(live) == 1  # the earlier session's key no longer works
            seen += live
            assert httpx.get(f"{url}/v1/summary", headers={"Authorization": f"Bearer {mine}"})
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    assert len(set(seen)) == 2
    # after a clean stop no session key is left
    assert _session_keys(folder) == []
    assert [k.name for k in list_keys(folder, include_revoked=False)] == ["my own read key"]


def test_a_key_left_by_a_killed_session_is_revoked_by_the_next(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    proc, _ = _serve(folder, tmp_path)
    left = _session_keys(folder)
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    assert _session_keys(folder) == left and len(left) == 1  # nothing could revoke it
    proc, _ = _serve(folder, tmp_path)
    try:
        live = _session_keys(folder)
        assert len(live) == 1 and live != left
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert _session_keys(folder) == []
