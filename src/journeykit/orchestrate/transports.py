"""How messages leave: webhooks over HTTP (httpx), e-mail over SMTP, events to a sink.

A transport's ``send`` returns on success and raises
:class:`~journeykit.errors.TransientFailure` (retry later: timeouts, refused connections,
HTTP 5xx/408/429, SMTP 4xx) or :class:`~journeykit.errors.TerminalFailure` (dead letter:
HTTP 4xx, SMTP 5xx, a message that cannot be built). Every message carries its idempotency key
(``Idempotency-Key`` header; e-mail ``Message-ID`` and ``X-Journeykit-Idempotency-Key``) so
receivers can drop a repeat.
"""

from __future__ import annotations

import contextlib
import smtplib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

from journeykit.errors import TerminalFailure, TransientFailure


@dataclass(frozen=True)
class OutboxMessage:
    """A message claimed from the outbox for sending."""

    outbox_id: int
    idem_key: str
    kind: str
    channel: str
    automation_id: str
    journey_id: str
    person_id: str
    step_id: str
    payload: dict[str, Any]
    attempts: int


class Transport(Protocol):
    """Sends one message or raises Transient/TerminalFailure."""

    def send(self, message: OutboxMessage) -> None:
        """Deliver ``message``."""
        ...


class WebhookTransport:
    """POST/PUT/PATCH JSON with httpx (one pooled client, safe across threads).

    Args:
        timeout: seconds for connect and read.
        headers: headers added to every request (for example a shared secret).
    """

    def __init__(self, *, timeout: float = 10.0, headers: Mapping[str, str] | None = None) -> None:
        import httpx

        self._httpx = httpx
        self.headers = dict(headers or {})
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def send(self, message: OutboxMessage) -> None:
        """Send the request; 2xx is success."""
        httpx = self._httpx
        p = message.payload
        headers = {
            **self.headers,
            **p.get("headers", {}),
            "Idempotency-Key": message.idem_key,
            "User-Agent": "journeykit",
        }
        try:
            response = self.client.request(
                p.get("method", "POST"), p["url"], json=p.get("json"), headers=headers
            )
        except httpx.TimeoutException as exc:
            raise TransientFailure(f"timed out: {exc}") from None
        except httpx.TransportError as exc:
            raise TransientFailure(f"{type(exc).__name__}: {exc}") from None
        except httpx.HTTPError as exc:  # invalid URL and similar
            raise TerminalFailure(f"{type(exc).__name__}: {exc}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = f"HTTP {status} from {p['url']}: {response.text[:200]}"
        if status in (408, 425, 429) or status >= 500:
            raise TransientFailure(detail)
        raise TerminalFailure(detail)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


class SmtpTransport:
    """Send e-mail over SMTP (one connection per thread, reopened when the server drops it).

    Args:
        host: SMTP server.
        port: SMTP port.
        sender: the ``From`` address when a step gives none.
        starttls: upgrade with STARTTLS.
        username: log in with this user (and ``password``).
        password: the password.
        timeout: socket timeout in seconds.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 25,
        *,
        sender: str = "journeykit@localhost",
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password, self.timeout = (
            starttls,
            username,
            password,
            timeout,
        )
        self._local = threading.local()

    def _connection(self) -> smtplib.SMTP:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                conn.starttls()
            if self.username:
                conn.login(self.username, self.password or "")
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def build(self, message: OutboxMessage) -> EmailMessage:
        """The e-mail for an outbox message."""
        p = message.payload
        mail = EmailMessage()
        mail["From"] = p.get("from") or self.sender
        mail["To"] = p["to"]
        mail["Subject"] = p.get("subject") or ""
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = f"<{message.idem_key}@journeykit>"
        mail["X-Journeykit-Idempotency-Key"] = message.idem_key
        mail.set_content(p.get("text") or "")
        if p.get("html"):
            mail.add_alternative(p["html"], subtype="html")
        return mail

    def send(self, message: OutboxMessage) -> None:
        """Send the e-mail; 4xx replies and dropped connections are transient."""
        try:
            mail = self.build(message)
        except (KeyError, ValueError) as exc:
            raise TerminalFailure(f"cannot build the e-mail: {exc}") from None
        for attempt in (1, 2):
            try:
                self._connection().send_message(mail)
                return
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()  # a pooled connection the server closed: reconnect once
                if attempt == 2:
                    raise TransientFailure(f"SMTP server disconnected: {exc}") from None
            except smtplib.SMTPRecipientsRefused as exc:
                self._drop()
                codes = [code for code, _ in exc.recipients.values()]
                text = f"recipient refused: {exc.recipients}"
                if all(400 <= c < 500 for c in codes):
                    raise TransientFailure(text) from None
                raise TerminalFailure(text) from None
            except smtplib.SMTPResponseException as exc:
                self._drop()
                text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
                if 400 <= exc.smtp_code < 500:
                    raise TransientFailure(text) from None
                raise TerminalFailure(text) from None
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise TransientFailure(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        """Close this thread's connection."""
        self._drop()


class EventSinkTransport:
    """Hands emitted events to a callable (for example a loader into the workspace)."""

    def __init__(self, sink: Callable[[dict[str, Any]], None]) -> None:
        self.sink = sink

    def send(self, message: OutboxMessage) -> None:
        """Call the sink with the event in the canonical layout."""
        p = message.payload
        self.sink(
            {
                "event_id": message.idem_key,
                "person_id": message.person_id,
                "event": p["event"],
                "channel": "journeykit",
                "properties": p.get("properties", {}),
            }
        )


class NullTransport:
    """Accepts everything and keeps a count (dry runs, backtests)."""

    def __init__(self) -> None:
        self.sent = 0
        self._lock = threading.Lock()

    def send(self, message: OutboxMessage) -> None:
        """Count the message."""
        with self._lock:
            self.sent += 1
