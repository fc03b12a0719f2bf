"""Spec inference benchmark: how often ``journeykit spec infer`` decides right, per decision.

    .venv/bin/python bench/bench_infer.py                 # all data sets, 3,000 people each
    .venv/bin/python bench/bench_infer.py --people 1000
    .venv/bin/python bench/bench_infer.py --time-on WS   # also time it on a big workspace

Four data sets with known answers (``tests/byo_data.py``): the demo retailer and the demo bank
(scored against their shipped specs), a subscription app with bare snake_case names and no
revenue, no channel column and no currency, and a travel site's CSV export. Each is loaded into
a fresh workspace and ``infer_spec`` proposes a spec; every decision is scored against what is
known (conversions, touches, contacts and messages by their overlap with the right set, stages
by the share of events put in the right stage, the rest right or wrong). Writes
docs/benchmarks/infer.md and the accuracy table in docs/journey.md (between its
``infer-accuracy`` markers).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "infer.md"
JOURNEY_DOC = ROOT / "docs" / "journey.md"
START, END = "<!-- infer-accuracy:start -->", "<!-- infer-accuracy:end -->"
sys.path.insert(0, str(ROOT / "tests"))

from byo_data import (  # noqa: E402  (the data sets live beside the tests that use them)
    DECISIONS,
    INFER_DATASETS,
    build_infer_dataset,
    score_inference,
    shipped_spec,
)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def run(people: int) -> list[dict[str, Any]]:
    from journeykit.journey.infer import infer_spec

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in INFER_DATASETS:
            if name == "bank" and not shipped_spec("bank").exists():
                print("bank: no shipped bank spec yet, skipped", file=sys.stderr)
                continue
            ws, truth = build_infer_dataset(name, Path(tmp), people=people)
            summary = ws.summary()
            started = time.perf_counter()
            result = infer_spec(ws)
            seconds = time.perf_counter() - started
            score = score_inference(result, truth)
            stage_of = {d.subject: d.choice for d in result.decisions if d.topic == "stage"}
            wrong = {
                e: (stage_of.get(e), s) for e, s in truth["stages"].items() if stage_of.get(e) != s
            }
            rows.append(
                {
                    "name": name,
                    "people": summary.people,
                    "events": summary.events,
                    "names": len(truth["stages"]),
                    "seconds": seconds,
                    "score": score,
                    "wrong_stages": wrong,
                    "result": result,
                    "truth": truth,
                }
            )
            ws.close()
            print(f"{name}: {summary.events:,} events, {seconds:.2f} s", file=sys.stderr)
    return rows


def accuracy_table(rows: list[dict[str, Any]]) -> str:
    head = "| decision | " + " | ".join(r["name"] for r in rows) + " |"
    lines = [head, "|---|" + "---:|" * len(rows)]
    for d in DECISIONS:
        cells = []
        for r in rows:
            v = r["score"][d]
            if d == "stage":
                right = round(v * r["names"])
                cells.append(f"{v:.0%} ({right}/{r['names']})")
            else:
                cells.append(f"{v:.0%}" if v not in (0.0, 1.0) else ("right" if v else "wrong"))
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _set_cell(items: Any) -> str:
    return ", ".join(items) if items else "-"


def time_on(folder: str) -> str:
    """How long inference takes on an existing (big) workspace."""
    import journeykit
    from journeykit.journey.infer import infer_spec

    ws = journeykit.open(folder)
    try:
        events, people = ws.summary().events, ws.summary().people
        infer_spec(ws)  # warm up: imports, first queries
        started = time.perf_counter()
        infer_spec(ws)
        seconds = time.perf_counter() - started
    finally:
        ws.close()
    return f"On a workspace of {events:,} events and {people:,} people it takes {seconds:.1f} s."


def write(rows: list[dict[str, Any]], command: str, big: str | None = None) -> None:
    table = accuracy_table(rows)
    body = [
        "# Spec inference benchmark",
        "",
        f"Machine: {machine()}. Command: `{command}`.",
        "",
        "How often `journeykit spec infer` (`journeykit.journey.infer_spec`) decides what a person",
        "who knows the data would write, on four data sets it was not told about. Scores: sets",
        "(conversions, touches, contacts, messages) by their overlap with the right set (Jaccard:",
        "shared / either), stages by the share of event names put in the right stage, surveys by",
        "event and score and comment fields, the rest right or wrong. The demo specs give the",
        "answers for the demos; the bank's six stages are read as the five inference proposes",
        "(discover: awareness, apply: consideration, verify and onboard: purchase, use:",
        "retention, advocate: advocacy). The rules were written against the retailer, the",
        "subscription app and the travel export; the bank was held out until they were done,",
        "then fixed where it showed two generic faults (the base conversion rate over several",
        "conversion events; `..._application_started` read as a completed sale).",
        "",
        "| data set | shape | people | events | event names | seconds |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        body.append(
            f"| {r['name']} | {INFER_DATASETS[r['name']]} | {r['people']:,} | {r['events']:,} | "
            f"{r['names']} | {r['seconds']:.2f} |"
        )
    if big:
        body += ["", big]
    body += ["", "## Accuracy per decision", "", table, ""]
    for r in rows:
        spec, truth = r["result"].spec, r["truth"]
        body += [
            f"## {r['name']}",
            "",
            "| decision | proposed | known |",
            "|---|---|---|",
            f"| conversions | {_set_cell(spec.conversion_events)} | {_set_cell(truth['conversions'])} |",
            f"| goal | {spec.goal_events[0]} | {truth['goal']} |",
            f"| touches | {_set_cell(spec.touch_events)} | {_set_cell(truth['touches'])} |",
            f"| touch channel | {spec.touch_channel_field} | {truth['touch_channel']} |",
            f"| contacts | {_set_cell(spec.contact_events)} | {_set_cell(truth['contacts'])} |",
            f"| messages | {_set_cell(spec.message_events)} | {_set_cell(truth['messages'])} |",
            f"| surveys | {_set_cell(s.event for s in spec.surveys)} | "
            f"{_set_cell(s['event'] for s in truth['surveys'])} |",
            f"| currency | {spec.currency_code or '-'} | {truth['currency'] or '-'} |",
            "",
        ]
        if r["wrong_stages"]:
            body.append(
                "Stages proposed otherwise: "
                + "; ".join(
                    f"{e} {got} (known: {want})"
                    for e, (got, want) in sorted(r["wrong_stages"].items())
                )
                + "."
            )
            body.append("")
        if r["result"].undecided:
            body.append("Could not decide: " + "; ".join(r["result"].undecided) + ".")
            body.append("")
    OUT.write_text("\n".join(body), encoding="utf-8")
    doc = JOURNEY_DOC.read_text(encoding="utf-8")
    block = f"{START}\n{table}\n\n(`{command}`; details in docs/benchmarks/infer.md.)\n{END}"
    if START in doc:
        doc = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, doc, flags=re.S)
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    JOURNEY_DOC.write_text(doc, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3000, help="people per demo data set")
    parser.add_argument("--time-on", help="also time inference on this (big) workspace")
    args = parser.parse_args()
    command = ".venv/bin/python bench/bench_infer.py" + (
        f" --people {args.people}" if args.people != 3000 else ""
    )
    rows = run(args.people)
    big = None
    if args.time_on:
        command += " --time-on WS"
        big = time_on(args.time_on) + " (WS: `journeykit demo`, the retailer's default size.)"
    write(rows, command, big)
    print(accuracy_table(rows))


if __name__ == "__main__":
    main()
