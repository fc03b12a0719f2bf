"""Running ``journeykit`` commands on the bring-your-own workspace, as a user would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

import journeykit
from journeykit.cli import main as cli_main
from journeykit.store import Workspace

runner = CliRunner()


@dataclass(frozen=True)
class CliResult:
    """Exit code and output (whitespace folded: Rich wraps long lines) of one command."""

    exit_code: int
    output: str


def jk(*args: str) -> CliResult:
    """Run ``journeykit ARGS`` in-process, through the same entry point a shell uses."""
    widths = (cli_main.console.width, cli_main.err.width)
    cli_main.console.width = cli_main.err.width = 220
    try:
        result = runner.invoke(cli_main.app, list(args), catch_exceptions=True)
    finally:
        cli_main.console.width, cli_main.err.width = widths
    out = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        out += f"\n{type(result.exception).__name__}: {result.exception}"
    return CliResult(result.exit_code, " ".join(out.split()))


@dataclass(frozen=True)
class Byo:
    """The loaded travel workspace: its folder and the CSV it came from."""

    folder: Path
    csv: Path

    def open(self) -> Workspace:
        return journeykit.open(self.folder)
