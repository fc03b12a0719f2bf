"""Drawing journeykit results: the journey map as HTML, PNG and SVG.

:func:`render_map` is the one call the CLI needs (``journeykit map --spec spec.yaml --out
map.html [--png map.png]``). Importing this package loads nothing heavy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from journeykit.journey.emotion import Scorer
    from journeykit.journey.model import JourneyMap
    from journeykit.journey.spec import JourneySpec
    from journeykit.store import Workspace

__all__ = ["comment_scorer", "render_map"]


def comment_scorer() -> Scorer | None:
    """The comment sentiment of :mod:`journeykit.voc` as a scorer, if its extra is installed."""
    try:
        import sklearn  # noqa: F401
        import vaderSentiment  # noqa: F401
    except ImportError:
        return None
    from journeykit.voc.sentiment import sentiment

    def score(texts: list[str]) -> list[float]:
        return [float(x) for x in sentiment(texts)["score"]]

    return score


def render_map(
    ws: Workspace,
    spec: JourneySpec | str | Path | None,
    out_html: str | Path,
    png: str | Path | None = None,
    *,
    svg: str | Path | None = None,
    sentiment: bool = True,
) -> JourneyMap:
    """Build the journey map of a workspace and write it as a self-contained HTML page.

    Args:
        ws: the workspace.
        spec: a journey spec or the path of its YAML; ``None``: the workspace's spec.
        out_html: the page to write.
        png: also save the map as a PNG (headless Chromium).
        svg: also save the map as an SVG (headless Chromium).
        sentiment: score comments with :mod:`journeykit.voc` when it is installed.

    Returns:
        The map that was drawn.
    """
    from journeykit.journey.model import build_map
    from journeykit.render.export import export_images
    from journeykit.render.html import write_html

    jm = build_map(ws, spec, sentiment=comment_scorer() if sentiment else None)
    write_html(jm, out_html)
    if png is not None or svg is not None:
        export_images(out_html, png=png, svg=svg)
    return jm
