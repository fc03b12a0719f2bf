"""Alerts go out through orchestration: webhook, e-mail, and journeys for affected people."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from orchestrate_parts import Mailbox, Receiver

from journeykit.monitor import Watch, alert_automation, publish, scan
from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.dispatch import Dispatcher
from journeykit.orchestrate.engine import Engine
from journeykit.orchestrate.loader import loads
from journeykit.orchestrate.transports import SmtpTransport, WebhookTransport


def test_alerts_reach_webhook_email_and_journeys(
    tmp_path: Path, receiver: Receiver, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    days = pd.date_range("2026-06-01", periods=70, freq="D")
    rng = np.random.default_rng(2)
    conversion = pd.Series(0.3 + rng.normal(0, 0.01, 70), index=days)
    conversion.iloc[-1] = 0.12  # checkout conversion on iOS collapses
    [alert] = [
        a
        for a in scan(conversion, Watch("checkout_conversion_ios", direction="low"))
        if a.date == days[-1].date()
    ]

    notify = alert_automation(
        "checkout_conversion_ios",
        webhook_url=f"{receiver.url}/oncall",
        email_to="oncall@shop.example",
    )
    [apology] = loads(
        """
id: apologise
trigger: {metric_alert: checkout_conversion_ios, conditions: '"Payment Failed" in events'}
steps:
  - {action: add_tag, tag: owed-apology}
"""
    )
    clock = ManualClock(datetime(2026, 8, 10, 6))
    engine = Engine([notify, apology], f"sqlite:///{tmp_path / 's.sqlite'}", clock=clock)
    engine.handle_batch(
        [
            {"event_id": "1", "person_id": "ann", "event": "Payment Failed"},
            {"event_id": "2", "person_id": "bob", "event": "Order Completed"},
        ]
    )
    result = publish([alert], engine)
    assert result.entered == 2  # the on-call notification, and Ann's journey
    assert publish([alert], engine).entered == 0  # the same alert is handled once
    assert engine.profile("ann")["tags"] == ["owed-apology"] and engine.profile("bob")["tags"] == []

    web = WebhookTransport()
    d = Dispatcher(
        engine.state, {"webhook": web, "email": SmtpTransport("127.0.0.1", port)}, clock=clock
    )
    assert d.dispatch_due().sent == 2
    web.close()
    [body] = receiver.bodies.values()
    expected = f"{alert.expected:.4g}"
    head = f"checkout_conversion_ios was 0.12 on {alert.date.isoformat()}, expected {expected}"
    assert body["text"].startswith(head)
    assert f"z = {round(alert.z, 1)})" in body["text"]
    assert (
        body["alert"]["direction"] == "low" and body["alert"]["metric"] == "checkout_conversion_ios"
    )
    [mail] = box.messages
    assert mail["To"] == "oncall@shop.example"
    assert mail["Subject"] == f"Alert: checkout_conversion_ios is low on {alert.date.isoformat()}"
    clock.advance(timedelta(days=1))
