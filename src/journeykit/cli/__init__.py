"""The ``journeykit`` command (Typer + Rich)."""
