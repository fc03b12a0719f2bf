"""Demo data: an omnichannel retailer's customer journeys with planted, measured effects.

``generate`` writes event files in the loader's raw input layout, the daily ad spend, the true
person behind every identifier and a ground truth of the planted effects (each one measured on
the generated events). ``scale_for_events`` sizes a data set by its number of events. See
docs/demo.md for the vocabulary, the identity scheme and the effects.

Importing this package is cheap: the generator loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeykit.demo.dataset import DemoFiles, generate, scale_for_events

__all__ = ["DemoFiles", "generate", "scale_for_events"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from journeykit.demo import dataset as module

        return getattr(module, name)
    raise AttributeError(f"module 'journeykit.demo' has no attribute {name!r}")
