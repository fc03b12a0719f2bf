"""The public API is deliberate, and imports point down the layer table."""

from __future__ import annotations

import ast
from pathlib import Path

import journeykit

SRC = Path(journeykit.__file__).parent

# package -> packages it may import (DESIGN.md's layer table)
ALLOWED = {
    "schema": set(),
    "store": {"schema"},
    "ingest": {"schema", "store"},
    "journey": {"schema", "store", "analytics"},
    "analytics": {"schema", "store", "journey"},
    "voc": {"schema", "store", "analytics", "journey"},
    "orchestrate": {"schema", "analytics"},
    "monitor": {"schema", "store", "analytics", "orchestrate"},
    "demo": {"schema"},
}
SHARED = {"errors", "config", "__about__"}


def test_all_is_sorted_and_exported():
    assert journeykit.__all__ == sorted(journeykit.__all__)
    for name in journeykit.__all__:
        assert hasattr(journeykit, name)
    assert callable(journeykit.open)


def test_imports_point_down():
    problems = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).parts
        if len(rel) < 2 or rel[0] not in ALLOWED:
            continue
        layer = rel[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "journeykit" or len(parts) < 2:
                    continue
                target = parts[1]
                if target in SHARED or target == layer:
                    continue
                if target not in ALLOWED[layer]:
                    problems.append(f"{'/'.join(rel)} imports journeykit.{target}")
    assert not problems, problems


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, journeykit; heavy = [m for m in ('pandas', 'plotly', 'sklearn', 'pyspark',"
        " 'ibis', 'fastapi') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
