"""``python -m journeykit.cli``."""

from journeykit.cli.main import main

main()
