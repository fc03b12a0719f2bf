"""A real server on 127.0.0.1: ``python -m journeykit.server`` in a subprocess, on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from journeykit.server.keys import create_key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    """A server process and what a test needs to talk to it."""

    workspace: Path
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, kind: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[kind]}"} if kind else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60.0, **kwargs)

    def flush(self) -> dict[str, Any]:
        """Wait until everything acknowledged is in the store."""
        with self.client("admin") as c:
            r = c.post("/v1/admin/spool/flush")
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return int(self.proc.returncode)

    def log_lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()


def start_server(
    workspace: Path,
    *,
    env: dict[str, str] | None = None,
    keys: dict[str, str] | None = None,
    port: int | None = None,
    timeout: float = 60.0,
) -> RunningServer:
    """Start a server on ``workspace`` and wait until it answers /healthz."""
    workspace.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = workspace.parent / f"server-{port}.log"
    full_env = {
        **os.environ,
        "JOURNEYKIT_CONFIG": str(workspace.parent / "none.toml"),
        "JOURNEYKIT_SERVER_LOAD_LINGER_SECONDS": "0.1",
        **(env or {}),
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "journeykit.server", str(workspace), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    server = RunningServer(workspace, port, proc, log, dict(keys or {}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"the server did not start: {log.read_text()[-3000:]}")


def make_keys(workspace: Path) -> dict[str, str]:
    return {
        kind: create_key(workspace, kind, f"test {kind}") for kind in ("write", "read", "admin")
    }


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningServer]:
    """One server per test module, with a write, a read and an admin key.

    A module may define ``seed_workspace(ws)`` to load data before the server starts, and
    ``SERVER_ENV`` (a dict of ``JOURNEYKIT_SERVER_*`` variables) to configure it.
    """
    ws = tmp_path_factory.mktemp("srv") / "ws"
    ws.mkdir()
    seed = getattr(request.module, "seed_workspace", None)
    if seed is not None:
        import journeykit

        with journeykit.open(ws) as opened:
            seed(opened)
    running = start_server(ws, keys=make_keys(ws), env=getattr(request.module, "SERVER_ENV", None))
    yield running
    running.stop()


@pytest.fixture
def write(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client("write") as c:
        yield c


@pytest.fixture
def read(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client("read") as c:
        yield c


@pytest.fixture
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client("admin") as c:
        yield c


def _uid(prefix: str = "u") -> str:
    return f"{prefix}-{os.urandom(5).hex()}"


@pytest.fixture
def uid() -> Callable[..., str]:
    """Makes identifiers no other test uses: ``uid("user")``."""
    return _uid


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """Starts servers on workspaces of the test's own (stopped at the end of the test)."""
    started: list[RunningServer] = []

    def go(workspace: Path | None = None, **kwargs: Any) -> RunningServer:
        folder = workspace or tmp_path / "ws"
        folder.mkdir(parents=True, exist_ok=True)
        if "keys" not in kwargs:
            kwargs["keys"] = make_keys(folder)
        running = start_server(folder, **kwargs)
        started.append(running)
        return running

    yield go
    for running in started:
        running.stop()
