"""Customer value and cause models: CLV, attribution, key drivers, propensity, personas.

Every model fits on small aggregates pulled out of the engine (one row per person or per
path), so it runs the same on DuckDB and Spark. Modules:

- :mod:`.clv`: RFM summary, BG/NBD + Gamma-Gamma, historical and predicted CLV.
- :mod:`.paths` and :mod:`.attribution`: conversion paths and eight attribution models.
- :mod:`.drivers`: key driver analysis (logistic with odds ratios, OLS with dominance).
- :mod:`.predict`: churn and conversion propensity with reasons and next best actions.
- :mod:`.personas`: behavioural personas by k-means.
- :mod:`.figures`: Plotly figures of the results.

The names below are imported on first use, so importing this package loads nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "BetaGeoModel": "clv",
    "GammaGammaModel": "clv",
    "clv_by_segment": "clv",
    "fit_bgnbd": "clv",
    "fit_gamma_gamma": "clv",
    "historical_clv": "clv",
    "predict_clv": "clv",
    "predict_clv_by_segment": "clv",
    "rfm_summary": "clv",
    "rfm_summary_from_workspace": "clv",
    "Paths": "paths",
    "build_paths": "paths",
    "paths_from_table": "paths",
    "paths_from_workspace": "paths",
    "MODELS": "attribution",
    "attribute": "attribution",
    "bootstrap_attribution": "attribution",
    "compare_models": "attribution",
    "markov_removal_effects": "attribution",
    "DriverAnalysis": "drivers",
    "driver_correlations": "drivers",
    "driver_features_from_workspace": "drivers",
    "key_drivers": "drivers",
    "Evaluation": "predict",
    "PropensityModel": "predict",
    "PropensityReport": "predict",
    "evaluate": "predict",
    "fit_propensity": "predict",
    "journey_features": "predict",
    "propensity_from_workspace": "predict",
    "score": "predict",
    "Personas": "personas",
    "find_personas": "personas",
    "persona_features_from_workspace": "personas",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
