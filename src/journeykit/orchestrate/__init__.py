"""Journey orchestration: automations that trigger, wait, branch, act and measure against a holdout.

The public names load lazily (nothing heavy happens on ``import journeykit.orchestrate``):

* specs: :class:`Automation` and its parts, :func:`validate_file`, :func:`read_file` (with
  global caps and send rates), :func:`loads`;
* running: :class:`Engine`, :class:`Dispatcher`, :func:`run_worker`, clocks, transports;
* measuring: :func:`stats`, :func:`report`, :func:`list_automations`, :func:`dead_letters`,
  :func:`backtest`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Automation": "spec",
    "AutomationFile": "loader",
    "AutomationReport": "measure",
    "BacktestReport": "backtest",
    "Cap": "spec",
    "Clock": "clock",
    "Condition": "conditions",
    "Dispatcher": "dispatch",
    "Engine": "engine",
    "EngineSettings": "engine",
    "Goal": "spec",
    "HandleResult": "engine",
    "IterableSource": "worker",
    "ManualClock": "clock",
    "OrchestrateSettings": "worker",
    "QueueSource": "worker",
    "QuietHours": "spec",
    "RetryPolicy": "dispatch",
    "SmtpTransport": "transports",
    "StateStore": "state",
    "SystemClock": "clock",
    "Trigger": "spec",
    "Uplift": "measure",
    "WebhookTransport": "transports",
    "WorkerStats": "worker",
    "backtest": "backtest",
    "dead_letters": "measure",
    "funnel": "measure",
    "list_automations": "measure",
    "loads": "loader",
    "parse_condition": "conditions",
    "read_file": "loader",
    "report": "measure",
    "run_worker": "worker",
    "stats": "measure",
    "validate_file": "loader",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'journeykit.orchestrate' has no attribute {name!r}")
    attr = "parse" if name == "parse_condition" else name
    value = getattr(import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
