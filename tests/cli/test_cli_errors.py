"""Every command, used wrongly, answers with one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import typer

from journeykit.cli.main import app, main


def refuses_text(annotation: Any) -> bool:
    """Whether an option of this type refuses the word ``not-a-value``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(refuses_text(a) for a in typing.get_args(annotation) if a is not type(None))
    return annotation in (int, float, datetime)


def leaf_commands() -> Iterator[tuple[list[str], Any]]:
    """Every command the app has, as (words, click command), subcommand groups included."""
    root = typer.main.get_command(app)

    def walk(words: list[str], command: Any) -> Iterator[tuple[list[str], Any]]:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in sorted(subs.items()):
                yield from walk([*words, name], sub)
        else:
            yield words, command

    yield from walk([], root)


COMMANDS = list(leaf_commands())


def bad_value_args(command: Any) -> list[str]:
    """Arguments that give the command a value it must refuse before doing anything."""
    for param in command.params:
        if param.param_type_name != "option" or param.is_flag or not param.opts:
            continue
        if refuses_text(param.type_descriptor.annotation):
            return [param.opts[0], "not-a-value"]
    required = [p for p in command.params if p.param_type_name == "argument" and p.required]
    if required:
        return []  # a missing argument
    return ["an-unexpected-argument"]


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def assert_one_line_error(code: int, out: str, err: str, args: list[str]) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0, args
    assert "Traceback" not in out + err, args
    assert len(lines) == 1 and lines[0].startswith("Error: "), (args, err)


def test_there_are_many_commands() -> None:
    names = {" ".join(words) for words, _ in COMMANDS}
    assert {"ingest", "paths", "keys create", "voc nps", "automations list"} <= names
    assert len(names) >= 30


@pytest.mark.parametrize(("words", "command"), COMMANDS, ids=[" ".join(w) for w, _ in COMMANDS])
def test_every_command_refuses_a_bad_option_and_a_bad_value_in_one_line(
    capsys: pytest.CaptureFixture[str], words: list[str], command: Any
) -> None:
    args = [*words, "--no-such-option"]
    code, out, err = run(capsys, args)
    assert_one_line_error(code, out, err, args)
    assert "No such option: --no-such-option" in err
    assert f"journeykit {' '.join(words)} --help" in err
    args = [*words, *bad_value_args(command)]
    code, out, err = run(capsys, args)
    assert_one_line_error(code, out, err, args)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["keys", "create", "write", "sdk"], "unexpected extra argument"),
        (["paths", "--max-steps", "many"], "--max-steps"),
        (["paths", "--what", "everything"], "--what"),
        (["no-such-command"], "No such command"),
    ],
)
def test_the_installed_command_prints_one_line(args: list[str], says: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "journeykit.cli", *args], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], proc.stderr


def test_an_unexpected_failure_is_one_line_and_debug_shows_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    import journeykit
    from journeykit.store.workspace import Workspace

    journeykit.open(tmp_path / "ws").close()

    def broken(self: Workspace) -> None:
        raise RuntimeError("the disk\nis gone")

    monkeypatch.setattr(Workspace, "summary", broken)
    args = ["summary", "-w", str(tmp_path / "ws")]
    code, out, err = run(capsys, args)
    assert_one_line_error(code, out, err, args)
    assert "unexpected RuntimeError: the disk is gone" in err and "--debug" in err
    with pytest.raises(RuntimeError, match="the disk"):
        main(["--debug", *args])
