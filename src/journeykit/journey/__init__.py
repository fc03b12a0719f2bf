"""The journey: a spec of stages and touchpoints, each person's stages, and the journey map.

* :mod:`~journeykit.journey.spec`: the journey spec (YAML or :class:`SpecBuilder`), checked
  with line and field in every error; :func:`init_spec` infers a starter from the data.
* :mod:`~journeykit.journey.stages`: stage visits, current stages, transitions, time in stage;
  :mod:`~journeykit.journey.conformance`: designed versus actual journeys.
* :mod:`~journeykit.journey.model`: :func:`build_map`, the measured map with pain points,
  opportunities and the Markov what-if (:mod:`~journeykit.journey.markov`).

Names are imported lazily: ``import journeykit.journey`` loads neither pandas nor Ibis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeykit.journey.conformance import Conformance, conformance
    from journeykit.journey.infer import init_spec
    from journeykit.journey.markov import Chain, JourneyChain, WhatIf
    from journeykit.journey.model import JourneyMap, build_map
    from journeykit.journey.opportunities import Opportunity
    from journeykit.journey.pains import PainPoint
    from journeykit.journey.spec import (
        KPI,
        Goal,
        JourneySpec,
        MapSettings,
        Persona,
        SpecBuilder,
        Stage,
        Touchpoint,
        demo_spec_path,
        load_spec,
    )
    from journeykit.journey.stages import (
        current_stages,
        stage_history,
        stage_visits,
        time_in_stage,
        transition_matrix,
    )

_WHERE: dict[str, str] = {
    "Chain": "markov",
    "Conformance": "conformance",
    "Goal": "spec",
    "JourneyChain": "markov",
    "JourneyMap": "model",
    "JourneySpec": "spec",
    "KPI": "spec",
    "MapSettings": "spec",
    "Opportunity": "opportunities",
    "PainPoint": "pains",
    "Persona": "spec",
    "SpecBuilder": "spec",
    "Stage": "spec",
    "Touchpoint": "spec",
    "WhatIf": "markov",
    "build_map": "model",
    "conformance": "conformance",
    "current_stages": "stages",
    "demo_spec_path": "spec",
    "init_spec": "infer",
    "load_spec": "spec",
    "stage_history": "stages",
    "stage_visits": "stages",
    "time_in_stage": "stages",
    "transition_matrix": "stages",
}

__all__ = [
    "KPI",
    "Chain",
    "Conformance",
    "Goal",
    "JourneyChain",
    "JourneyMap",
    "JourneySpec",
    "MapSettings",
    "Opportunity",
    "PainPoint",
    "Persona",
    "SpecBuilder",
    "Stage",
    "Touchpoint",
    "WhatIf",
    "build_map",
    "conformance",
    "current_stages",
    "demo_spec_path",
    "init_spec",
    "load_spec",
    "stage_history",
    "stage_visits",
    "time_in_stage",
    "transition_matrix",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'journeykit.journey' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"journeykit.journey.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
