"""Metric watches and alerts.

``Watch`` says how to watch a daily series; ``scan`` / ``check`` / ``check_all`` find the days
outside their expected range (a trailing same-weekday baseline with a robust z-score);
``publish`` hands the alerts to orchestration, where ``alert_automation`` (or any automation
with a ``metric_alert`` trigger) sends them on or starts journeys.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Alert": "watch",
    "Watch": "watch",
    "alert_automation": "notify",
    "check": "watch",
    "check_all": "watch",
    "expected_range": "watch",
    "publish": "notify",
    "scan": "watch",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'journeykit.monitor' has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
