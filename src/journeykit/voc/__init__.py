"""Voice of the customer: survey scores, sentiment, themes, and feedback linked to touchpoints.

Modules:

* :mod:`~journeykit.voc.metrics`: NPS, CSAT and CES over a pandas frame of responses
  (pure functions; by group and over time; ``low_sample`` flags).
* :mod:`~journeykit.voc.responses`: survey answers and comments out of a workspace (Ibis).
* :mod:`~journeykit.voc.linking`: each piece of feedback attached to its touchpoint.
* :mod:`~journeykit.voc.sentiment`: sentiment per comment (VADER, and a better trained model).
* :mod:`~journeykit.voc.themes`: themes with keywords and quotes, and the tables around them.
* :mod:`~journeykit.voc.report`: workspace reports for the CLI and the server.
* :mod:`~journeykit.voc.figures`: Plotly figures (NPS trend, theme bars, emotion curve).
* :mod:`~journeykit.voc.exports`: survey tool exports -> survey answer events.

The names below are imported lazily, so ``import journeykit.voc`` loads no pandas,
scikit-learn or Plotly until one is used. The sentiment of texts is
``journeykit.voc.sentiment.sentiment`` (the module and the function share the name).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeykit.voc.exports import export_to_events
    from journeykit.voc.figures import emotion_curve, nps_trend, theme_bars
    from journeykit.voc.linking import link_feedback, link_feedback_frame
    from journeykit.voc.metrics import ces, csat, nps, nps_category, nps_value
    from journeykit.voc.report import (
        ThemeReport,
        build_theme_report,
        ces_report,
        csat_report,
        emotion_report,
        nps_report,
        score_report,
        theme_report,
    )
    from journeykit.voc.responses import feedback, survey_responses
    from journeykit.voc.sentiment import evaluate_sentiment, sentiment_by
    from journeykit.voc.themes import (
        Themes,
        detractor_themes,
        emerging_themes,
        find_themes,
        theme_scores,
        theme_table,
    )

_WHERE: dict[str, str] = {
    "ThemeReport": "report",
    "Themes": "themes",
    "build_theme_report": "report",
    "ces": "metrics",
    "ces_report": "report",
    "csat": "metrics",
    "csat_report": "report",
    "detractor_themes": "themes",
    "emerging_themes": "themes",
    "emotion_curve": "figures",
    "emotion_report": "report",
    "evaluate_sentiment": "sentiment",
    "export_to_events": "exports",
    "feedback": "responses",
    "find_themes": "themes",
    "link_feedback": "linking",
    "link_feedback_frame": "linking",
    "nps": "metrics",
    "nps_category": "metrics",
    "nps_report": "report",
    "nps_trend": "figures",
    "nps_value": "metrics",
    "score_report": "report",
    "sentiment_by": "sentiment",
    "survey_responses": "responses",
    "theme_bars": "figures",
    "theme_report": "report",
    "theme_scores": "themes",
    "theme_table": "themes",
}

__all__ = [
    "ThemeReport",
    "Themes",
    "build_theme_report",
    "ces",
    "ces_report",
    "csat",
    "csat_report",
    "detractor_themes",
    "emerging_themes",
    "emotion_curve",
    "emotion_report",
    "evaluate_sentiment",
    "export_to_events",
    "feedback",
    "find_themes",
    "link_feedback",
    "link_feedback_frame",
    "nps",
    "nps_category",
    "nps_report",
    "nps_trend",
    "nps_value",
    "score_report",
    "sentiment_by",
    "survey_responses",
    "theme_bars",
    "theme_report",
    "theme_scores",
    "theme_table",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'journeykit.voc' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"journeykit.voc.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
