"""Pictures of the map for slides: PNG and SVG, from headless Chromium (Playwright).

Playwright drives the system's Chromium (``/usr/bin/chromium`` by default, or the
``JOURNEYKIT_CHROMIUM`` environment variable); nothing is downloaded. The page is opened from
the file, so it works offline like the page itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journeykit.errors import JourneykitError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class ExportError(JourneykitError):
    """The map could not be drawn to a picture (no browser, or the page failed)."""


@dataclass
class PageCheck:
    """What loading the page showed: console errors, page errors, and the lanes drawn."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    lanes: list[str] = field(default_factory=list)


def chromium_path() -> str:
    """The Chromium executable to drive."""
    return os.environ.get("JOURNEYKIT_CHROMIUM", CHROMIUM)


@contextmanager
def open_page(html_path: str | Path, *, width: int = 1600, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium page with the map loaded and drawn; yields (page, check)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ExportError(
            "pictures of the map need Playwright: pip install playwright "
            "(it drives the system's Chromium; no browser download is needed)"
        ) from exc
    exe = chromium_path()
    if not Path(exe).exists():
        raise ExportError(
            f"no Chromium at {exe}; install it (apt-get install chromium) or set "
            "JOURNEYKIT_CHROMIUM to its path"
        )
    url = Path(html_path).resolve().as_uri()
    check = PageCheck()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on(
                "console",
                lambda msg: check.console_errors.append(msg.text) if msg.type == "error" else None,
            )
            page.on("pageerror", lambda err: check.page_errors.append(str(err)))
            page.route("**/*", _local_only)
            page.goto(url, wait_until="load")
            page.wait_for_function("window.__jkReady === true", timeout=20_000)
            check.lanes = page.eval_on_selector_all(
                "#jk-svg g.lane", "els => els.map(e => e.getAttribute('data-lane'))"
            )
            yield page, check
        finally:
            browser.close()


def _local_only(route: Any) -> None:
    """Let the page read its own file only: the map must work offline."""
    if route.request.url.startswith(("file:", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def export_images(
    html_path: str | Path,
    *,
    png: str | Path | None = None,
    svg: str | Path | None = None,
    full_page: str | Path | None = None,
    width: int = 1600,
) -> PageCheck:
    """Draw the page and save the map as PNG (2x, for slides) and/or SVG.

    Args:
        html_path: the page written by :func:`journeykit.render.write_html`.
        png: where to save the map as PNG.
        svg: where to save the map as SVG.
        full_page: where to save a PNG of the whole page.
        width: browser width in pixels (the map fills it).

    Returns:
        What loading the page showed (errors, lanes).

    Raises:
        ExportError: no browser, or the page reported errors.
    """
    with open_page(html_path, width=width) as (page, check):
        if check.page_errors or check.console_errors:
            raise ExportError(
                "the map page failed: " + "; ".join(check.page_errors + check.console_errors)
            )
        if png is not None:
            Path(png).parent.mkdir(parents=True, exist_ok=True)
            page.locator("#jk-svg").screenshot(path=str(png))
        if full_page is not None:
            Path(full_page).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(full_page), full_page=True)
        if svg is not None:
            Path(svg).parent.mkdir(parents=True, exist_ok=True)
            Path(svg).write_text(page.evaluate("window.jkSvgText()"), encoding="utf-8")
        return check
