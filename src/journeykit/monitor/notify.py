"""Sending alerts: as ``Metric Alert`` events into orchestration.

An alert becomes an event; automations triggered by ``metric_alert`` decide what happens:
notify a team by webhook or e-mail (``alert_automation`` builds one), or enter the people a
condition selects (for example everyone whose payment failed) into a journey. Delivery, retries,
idempotency and dead letters are orchestration's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from journeykit.orchestrate.spec import Automation

if TYPE_CHECKING:
    from journeykit.orchestrate.engine import Engine, HandleResult

    from .watch import Alert

SUMMARY = (
    "{{ properties.metric }} was {{ properties.value }} on {{ properties.date }}, expected "
    "{{ properties.expected }} (range {{ properties.low }} to {{ properties.high }}, "
    "z = {{ properties.z }})"
)


def alert_automation(
    metric: str,
    *,
    automation_id: str | None = None,
    webhook_url: str | None = None,
    email_to: str | None = None,
    email_from: str | None = None,
    priority: int = 100,
) -> Automation:
    """An automation that tells people about alerts on ``metric`` (``*`` for every metric).

    Args:
        metric: the watched metric.
        automation_id: its id (default ``alert-<metric>``).
        webhook_url: POST the alert as JSON here (a chat or paging hook).
        email_to: e-mail the alert to this address.
        email_from: the sender address.
        priority: high by default, so that caps never hold an alert back behind campaigns.

    >>> alert_automation("orders", webhook_url="http://127.0.0.1:9/hook").trigger.metric_alert
    'orders'
    """
    steps: list[dict[str, Any]] = []
    if webhook_url:
        steps.append(
            {
                "id": "webhook",
                "action": "webhook",
                "url": webhook_url,
                "channel": "alerts",
                "body": {"text": SUMMARY, "alert": "{{ properties }}"},
            }
        )
    if email_to:
        steps.append(
            {
                "id": "email",
                "action": "email",
                "to": email_to,
                "from": email_from,
                "channel": "alerts",
                "subject": "Alert: {{ properties.metric }} is {{ properties.direction }} on {{ properties.date }}",
                "text": SUMMARY,
            }
        )
    safe = "".join(c if c.isalnum() or c in "_.-" else "-" for c in metric) or "all"
    return Automation.model_validate(
        {
            "id": automation_id or f"alert-{safe}",
            "name": f"Alerts on {metric}",
            "priority": priority,
            "trigger": {"metric_alert": metric},
            "steps": steps,
        }
    )


def publish(alerts: Iterable[Alert], engine: Engine) -> HandleResult:
    """Hand alerts to an orchestration engine (the same alert twice is handled once)."""
    return engine.handle_batch([a.to_event() for a in alerts])
