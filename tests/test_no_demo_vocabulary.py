"""No demo event name in library code: the journey spec is where names come from.

The demos' vocabulary lives in ``journeykit.demo`` and in the shipped demo specs
(``journeykit/journey/specs/*.yaml``) only. Every other file of the package -- code,
docstrings, templates, static assets -- must work on anyone's data, so it reads event names
from the workspace's spec or from arguments, never from a constant. The names checked are
those of every demo generator (each ``EVENTS`` vocabulary in ``journeykit.demo``) and every
event the demo specs mention.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import journeykit
import journeykit.demo
from journeykit.journey import load_spec

SRC = Path(journeykit.__file__).parent
SPECS = SRC / "journey" / "specs"
TEXT_SUFFIXES = {".py", ".html", ".js", ".css", ".j2", ".jinja", ".txt", ".json", ".yaml", ".md"}


def demo_vocabulary() -> set[str]:
    """Every event name of the demo generators and of the shipped demo specs."""
    names: set[str] = set()
    for info in pkgutil.walk_packages(journeykit.demo.__path__, "journeykit.demo."):
        events = getattr(importlib.import_module(info.name), "EVENTS", None)
        if isinstance(events, tuple) and all(isinstance(e, str) for e in events):
            names.update(events)
    for path in SPECS.glob("*.yaml"):
        names.update(load_spec(path).events_named())
    return names


def library_files() -> list[Path]:
    """The package's text files outside ``journeykit.demo`` and the demo specs."""
    out = []
    for path in sorted(SRC.rglob("*")):
        rel = path.relative_to(SRC)
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES or "__pycache__" in rel.parts:
            continue
        if rel.parts[0] == "demo" or path.parent == SPECS:
            continue
        out.append(path)
    return out


def occurrences(text: str, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    return [
        (number, match.group(1))
        for number, line in enumerate(text.splitlines(), 1)
        for match in pattern.finditer(line)
    ]


def vocabulary_pattern(names: set[str]) -> re.Pattern[str]:
    # whole names only: "email_sent" is a demo name, "email_sent_at" is not
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w])({alternatives})(?![\w])")


def test_the_vocabulary_is_found() -> None:
    names = demo_vocabulary()
    # both demos' names are in it (a test that finds no names could never fail)
    assert {"Order Completed", "Survey Answered", "loan_contract_signed"} <= names
    assert len(names) >= 40
    pattern = vocabulary_pattern(names)
    assert occurrences('x = "Order Completed"\ny = "email_sent_at"', pattern) == [
        (1, "Order Completed")
    ]


def test_no_demo_event_name_in_library_code() -> None:
    pattern = vocabulary_pattern(demo_vocabulary())
    found = []
    for path in library_files():
        for number, name in occurrences(path.read_text(encoding="utf-8"), pattern):
            found.append(f"{path.relative_to(SRC)}:{number}: {name!r}")
    assert not found, "demo event names outside journeykit.demo:\n" + "\n".join(found)
