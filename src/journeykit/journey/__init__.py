"""The journey: a spec of stages and touchpoints, each person's stages, and the journey map.

* :mod:`~journeykit.journey.spec`: the journey spec (YAML or :class:`SpecBuilder`), checked
  with line and field in every error; :func:`infer_spec` proposes one from the data,
  explaining each decision;
  :mod:`~journeykit.journey.workspace_spec`: the spec stored, versioned, in the workspace
  (:func:`current_spec`, :func:`set_spec`).
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
    from journeykit.journey.infer import Decision, Inference, infer_spec, init_spec
    from journeykit.journey.markov import Chain, JourneyChain, WhatIf
    from journeykit.journey.model import JourneyMap, build_map
    from journeykit.journey.opportunities import Opportunity
    from journeykit.journey.pains import PainPoint
    from journeykit.journey.spec import (
        KPI,
        Conversions,
        Goal,
        JourneySpec,
        MapSettings,
        Marketing,
        Persona,
        SpecBuilder,
        Stage,
        Survey,
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
    from journeykit.journey.workspace_spec import (
        SpecVersion,
        current_spec,
        current_version,
        find_spec,
        set_spec,
        spec_or_current,
        spec_versions,
    )

_WHERE: dict[str, str] = {
    "Chain": "markov",
    "Conformance": "conformance",
    "Conversions": "spec",
    "Decision": "infer",
    "Goal": "spec",
    "Inference": "infer",
    "JourneyChain": "markov",
    "JourneyMap": "model",
    "JourneySpec": "spec",
    "KPI": "spec",
    "MapSettings": "spec",
    "Marketing": "spec",
    "Opportunity": "opportunities",
    "PainPoint": "pains",
    "Persona": "spec",
    "SpecBuilder": "spec",
    "SpecVersion": "workspace_spec",
    "Stage": "spec",
    "Survey": "spec",
    "Touchpoint": "spec",
    "WhatIf": "markov",
    "build_map": "model",
    "conformance": "conformance",
    "current_spec": "workspace_spec",
    "current_stages": "stages",
    "current_version": "workspace_spec",
    "demo_spec_path": "spec",
    "find_spec": "workspace_spec",
    "infer_spec": "infer",
    "init_spec": "infer",
    "load_spec": "spec",
    "set_spec": "workspace_spec",
    "spec_or_current": "workspace_spec",
    "spec_versions": "workspace_spec",
    "stage_history": "stages",
    "stage_visits": "stages",
    "time_in_stage": "stages",
    "transition_matrix": "stages",
}

__all__ = [
    "KPI",
    "Chain",
    "Conformance",
    "Conversions",
    "Decision",
    "Goal",
    "Inference",
    "JourneyChain",
    "JourneyMap",
    "JourneySpec",
    "MapSettings",
    "Marketing",
    "Opportunity",
    "PainPoint",
    "Persona",
    "SpecBuilder",
    "SpecVersion",
    "Stage",
    "Survey",
    "Touchpoint",
    "WhatIf",
    "build_map",
    "conformance",
    "current_spec",
    "current_stages",
    "current_version",
    "demo_spec_path",
    "find_spec",
    "infer_spec",
    "init_spec",
    "load_spec",
    "set_spec",
    "spec_or_current",
    "spec_versions",
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
