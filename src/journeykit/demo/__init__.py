"""Demo data: customer journeys with planted, measured effects, of a retailer or a bank.

``generate`` writes event files in the loader's raw input layout, the daily ad spend, the true
person behind every identifier and a ground truth of the planted effects (each one measured on
the generated events): the omnichannel retailer by default, the bank (loans and credit cards;
:mod:`journeykit.demo.bank`) with ``scenario="bank"``. ``scale_for_events`` sizes a data set
by its number of events. See docs/demo.md for the vocabularies, the identity schemes and the
effects.

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
