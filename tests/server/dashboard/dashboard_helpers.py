"""Helpers of the dashboard tests: a dashboard served in a thread, a signed-in browser tab."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from journeykit.store import Workspace


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running dashboard: its address, workspace and keys."""

    url: str
    ws: Workspace
    keys: dict[str, str] = field(default_factory=dict)
    stop: Callable[[], None] = lambda: None
    lock: Any = None


def serve(ws: Workspace, **router_options: Any) -> Served:
    """Mount the dashboard over ``ws`` in a small app and run it with uvicorn in a thread."""
    import uvicorn
    from fastapi import FastAPI

    from journeykit.server.dashboard import dashboard_router
    from journeykit.server.keys import create_key

    # the tests query the workspace too: through the same lock as the dashboard
    lock = threading.RLock()
    app = FastAPI()
    app.include_router(dashboard_router(lambda: ws, get_lock=lambda: lock, **router_options))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)

    keys = {kind: create_key(ws, kind, f"dashboard tests ({kind})") for kind in ("read", "write")}
    return Served(url=f"http://127.0.0.1:{port}", ws=ws, keys=keys, stop=stop, lock=lock)


@dataclass
class Tab:
    """A signed-in page and what it saw: console errors and every URL it requested."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, path: str, *, chart: bool = True, timeout: float = 60_000) -> Any:
        """Go to ``path``; with ``chart``, wait until its first chart is drawn."""
        response = self.page.goto(self.base + path, wait_until="load", timeout=timeout)
        if chart:
            self.page.wait_for_selector("div.chart[data-rendered]", timeout=timeout)
        return response


def signed_in_tab(browser: Any, served: Served, width: int, height: int) -> Iterator[Tab]:
    """A browser context of the given size, signed in with the read key, recording errors."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    context.add_cookies(
        [{"name": "journeykit_key", "value": served.keys["read"], "url": served.url}]
    )
    page = context.new_page()
    tab = Tab(page=page, base=served.url)
    page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.errors.append(str(e)))
    page.on("request", lambda r: tab.requests.append(r.url))
    page.on("dialog", lambda d: (tab.errors.append(f"dialog: {d.message}"), d.dismiss()))
    yield tab
    context.close()


def read_table(page: Any, caption: str) -> list[dict[str, str]]:
    """The raw values (``data-v``) of a dashboard table, by its caption, as dicts."""
    return page.evaluate(
        """(caption) => {
            const box = [...document.querySelectorAll('.table-box')]
                .find(b => b.querySelector('h3') && b.querySelector('h3').textContent === caption);
            const heads = [...box.querySelectorAll('thead th')].map(th => th.textContent);
            return [...box.querySelectorAll('tbody tr')].map(tr => Object.fromEntries(
                [...tr.querySelectorAll('td')].map((td, i) => [heads[i], td.dataset.v])));
        }""",
        caption,
    )
