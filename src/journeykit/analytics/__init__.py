"""Journey analytics: funnels, flows and paths, retention and churn, KPIs, segments.

Every analytic is an Ibis expression over the workspace's events, so the same call runs on
DuckDB (default) and Spark (:mod:`journeykit.store.spark`); results are pandas DataFrames
with documented columns, and figures are Plotly (:mod:`.figures`). Modules:

- :mod:`.filters`: the safe filter language for segments and breakdowns.
- :mod:`.funnels`: :func:`funnel` with ordered, strict and any-order modes.
- :mod:`.paths`: transitions, step matrices, next/previous steps, variants, Sankey flows.
- :mod:`.cohorts`: cohort retention, churn, lifecycle, stickiness.
- :mod:`.metrics`: conversion, CAC, AOV, purchase frequency, CLV, time to first purchase.
- :mod:`.compare`: significance tests between segments.
- :mod:`.value`: customer value and cause models (CLV, attribution, drivers, ...).

The names below are imported on first use, so importing this package loads nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "Filter": "filters",
    "parse_filter": "filters",
    "Step": "funnels",
    "Exclusion": "funnels",
    "FunnelResult": "funnel_result",
    "funnel": "funnels",
    "FlowGraph": "paths",
    "Flows": "paths",
    "Transitions": "paths",
    "flow_graph": "paths",
    "flows": "paths",
    "next_steps": "paths",
    "step_matrix": "paths",
    "transition_matrix": "paths",
    "variants": "paths",
    "Retention": "cohorts",
    "churn": "cohorts",
    "lifecycle": "cohorts",
    "retention": "cohorts",
    "stickiness": "cohorts",
    "Kpis": "metrics",
    "kpis": "metrics",
    "Comparison": "compare",
    "compare_rates": "compare",
    "compare_segments": "compare",
    "compare_values": "compare",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
