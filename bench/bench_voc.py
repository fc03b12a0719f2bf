"""Voice-of-the-customer speed: sentiment and themes on N comments, in comments per second.

    .venv/bin/python bench/bench_voc.py               # 100,000 comments
    .venv/bin/python bench/bench_voc.py --big         # add 1,000,000 comments
    .venv/bin/python bench/bench_voc.py --n 20000     # another size

The comments mix the demo retailer's generated comments (journeykit.demo.comments) with the
labelled customer comments shipped in journeykit/voc/data (retail, banking, telecom), half
and half, drawn with a fixed seed. Each step runs once on one process; the numbers include
the one-off cost of training the sentiment model (under a second) and of choosing the number
of themes. Writes the table to docs/benchmarks/voc.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks" / "voc.md"


def comments(n: int, seed: int = 0) -> pd.Series:
    """``n`` comments: half demo-generated, half resampled from the shipped labelled set."""
    from journeykit.demo.comments import SETS, make_texts
    from journeykit.voc.sentiment import labelled_feedback

    rng = np.random.default_rng(seed)
    half = n // 2
    generated = make_texts(rng, rng.integers(0, len(SETS), half)).to_pylist()
    labelled = labelled_feedback()["text"].to_numpy(dtype=object)
    sampled = labelled[rng.integers(0, len(labelled), n - half)].tolist()
    mixed = np.array(generated + sampled, dtype=object)
    return pd.Series(mixed[rng.permutation(n)], dtype=object)


def timed(step: Callable[[], object]) -> tuple[float, float, object]:
    """Wall seconds, CPU seconds of this process, and the step's result."""
    start, cpu = time.perf_counter(), time.process_time()
    result = step()
    return time.perf_counter() - start, time.process_time() - cpu, result


def bench(n: int) -> list[dict[str, object]]:
    from journeykit.voc.sentiment import default_model, sentiment
    from journeykit.voc.themes import find_themes

    texts = comments(n)
    rows: list[dict[str, object]] = []

    def add(step: str, timing: tuple[float, float], note: str = "") -> None:
        wall, cpu = timing
        rows.append(
            {
                "comments": n,
                "step": step,
                "seconds": wall,
                "cpu_seconds": cpu,
                "per_second": n / wall,
                "per_cpu_second": n / cpu,
                "note": note,
            }
        )

    wall, cpu, _ = timed(lambda: sentiment(texts, method="vader"))
    add("sentiment: VADER", (wall, cpu))
    train_wall, train_cpu, _ = timed(default_model)
    wall, cpu, _ = timed(lambda: sentiment(texts, method="model"))
    add(
        "sentiment: model (TF-IDF + VADER + LR)",
        (wall + train_wall, cpu + train_cpu),
        f"training {train_wall:.1f} s of it",
    )
    wall, cpu, found = timed(lambda: find_themes(texts, n_themes="auto", method="nmf"))
    k = len(found.themes)  # type: ignore[attr-defined]
    add("themes: TF-IDF + NMF, auto k", (wall, cpu), f"k = {k}")
    wall, cpu, _ = timed(lambda: find_themes(texts, n_themes=10, method="nmf"))
    add("themes: TF-IDF + NMF, k = 10", (wall, cpu))
    wall, cpu, _ = timed(lambda: find_themes(texts, n_themes=10, method="kmeans"))
    add("themes: TF-IDF + k-means, k = 10", (wall, cpu))
    return rows


def machine() -> str:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB memory, Python "
        f"{platform.python_version()}"
    )


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| comments | step | wall s | CPU s | comments/s (wall) | comments per CPU s | note |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['comments']:,} | {r['step']} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
            f"{r['per_second']:,.0f} | {r['per_cpu_second']:,.0f} | {r['note']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="comments (default 100,000)")
    parser.add_argument("--big", action="store_true", help="also run 1,000,000 comments")
    args = parser.parse_args()
    sizes = [args.n, *([1_000_000] if args.big and args.n != 1_000_000 else [])]
    load_before = os.getloadavg()[0]
    rows = [row for n in sizes for row in bench(n)]
    load_after = os.getloadavg()[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    command = "python bench/bench_voc.py" + (f" --n {args.n}" if args.n != 100_000 else "")
    command += " --big" if args.big else ""
    text = "\n".join(
        [
            "# Voice of the customer: sentiment and themes",
            "",
            f"Machine: {machine()}. Command: `{command}`. Peak memory {peak:,.0f} MiB. "
            f"Load average (1 min) {load_before:.1f} before, {load_after:.1f} after: when it is "
            "above the core count other work shared the CPU, and the CPU-second column is the "
            "steadier figure.",
            "",
            "Comments: half generated by the demo retailer's comment templates, half drawn from "
            "the labelled retail/banking/telecom set in `journeykit/voc/data` (seed 0). One "
            "process, one run per step; the sentiment model's time includes training it.",
            "",
            table(rows),
            "",
        ]
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
