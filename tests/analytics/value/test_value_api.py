"""The value package's public names resolve, and importing it loads nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import journeykit.analytics.value as value


def test_every_export_resolves_and_all_is_sorted() -> None:
    assert value.__all__ == sorted(value.__all__)
    for name in value.__all__:
        assert getattr(value, name) is not None
    assert "fit_bgnbd" in dir(value)


def test_importing_the_models_loads_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "import journeykit.analytics.value\n"
        "from journeykit.analytics.value import attribution, clv, drivers, figures, personas\n"
        "from journeykit.analytics.value import predict\n"
        "heavy = [m for m in ('sklearn', 'statsmodels', 'plotly', 'scipy', 'pandas')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
