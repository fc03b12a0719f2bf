"""Real parts for the orchestration tests: an HTTP receiver and an SMTP mailbox."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from datetime import datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
START = datetime(2026, 6, 1, 12, 0)  # a Monday, noon UTC


class Receiver:
    """A webhook receiver on 127.0.0.1; ``fail_every`` > 0 answers 500 to every n-th request."""

    def __init__(self, fail_every: int = 0, status_for: dict[str, int] | None = None) -> None:
        self.fail_every = fail_every
        self.status_for = status_for or {}
        self.lock = threading.Lock()
        self.requests = 0
        self.accepted: Counter[str] = Counter()  # idempotency key -> 2xx answers
        self.rejected: Counter[str] = Counter()
        self.bodies: dict[str, Any] = {}
        self.paths: dict[str, str] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.requests += 1
                    status = receiver.status_for.get(self.path, 200)
                    if (
                        status == 200
                        and receiver.fail_every
                        and receiver.requests % receiver.fail_every == 0
                    ):
                        status = 500
                    if status < 300:
                        receiver.accepted[key] += 1
                        receiver.bodies[key] = body
                        receiver.paths[key] = self.path
                    else:
                        receiver.rejected[key] += 1
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_PUT = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(m["X-Journeykit-Idempotency-Key"] for m in self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
