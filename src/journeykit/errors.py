"""Errors raised by journeykit.

The tree::

    JourneykitError
    ├── WorkspaceError               a workspace cannot be opened or is damaged
    │   └── StoreError               the storage engine refused a query (wraps the engine's error)
    ├── InputError (ValueError)      bad input from a user: file, row, field, reason
    │   ├── InvalidFile              a file that cannot be read as what it claims to be
    │   ├── InvalidFilter            a filter expression that does not parse or names unknown fields
    │   └── InvalidSpec              a journey / automation spec that does not validate
    ├── NotFound (LookupError)       an identifier, person, key or object that does not exist
    ├── NoSpec (LookupError)         the workspace has no journey spec yet (says how to make one)
    └── ActionFailed                 an orchestration action failed
        ├── TransientFailure         worth retrying
        └── TerminalFailure          goes to the dead letter queue

Usage errors also subclass the matching built-in so callers may catch either.
"""

from __future__ import annotations


class JourneykitError(Exception):
    """Root of every error journeykit raises on purpose."""


class WorkspaceError(JourneykitError):
    """A workspace cannot be opened, or its files are not what journeykit expects."""


class StoreError(WorkspaceError):
    """The storage engine rejected an operation; ``cause`` keeps the engine's error."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class InputError(ValueError, JourneykitError):
    """Bad input: says where (file, row, field) and why."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.row = row
        self.field = field
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {reason}" if where else reason)


class InvalidFile(InputError):
    """A file is empty, not UTF-8, or not the format its extension says."""


class InvalidFilter(InputError):
    """A filter expression is malformed; ``position`` points at the problem."""

    def __init__(self, reason: str, *, text: str = "", position: int | None = None) -> None:
        self.text = text
        self.position = position
        pointer = ""
        if text and position is not None:
            pointer = f"\n  {text}\n  {' ' * position}^"
        super().__init__(f"{reason}{pointer}", field="filter")


class InvalidSpec(InputError):
    """A spec (journey, automation) does not validate; names the line and the field."""

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        line: int | None = None,
        file: str | None = None,
    ) -> None:
        self.line = line
        super().__init__(
            f"{reason}" + (f" (line {line})" if line is not None else ""), field=field, file=file
        )


class NotFound(LookupError, JourneykitError):
    """Something asked for by name does not exist; ``known`` lists close alternatives."""

    def __init__(self, what: str, name: str, known: list[str] | None = None) -> None:
        self.what = what
        self.name = name
        self.known = known or []
        hint = f" Known: {', '.join(self.known[:10])}." if self.known else ""
        super().__init__(f"No {what} {name!r}.{hint}")


class NoSpec(LookupError, JourneykitError):
    """The workspace has no journey spec; the message says how to make one.

    journeykit never falls back to the demo's spec: without a spec of the workspace's own,
    names such as the conversion event are unknown.
    """

    def __init__(self, workspace: str) -> None:
        self.workspace = workspace
        super().__init__(
            "this workspace has no journey spec: run "
            f"`journeykit spec infer --workspace {workspace}` to propose one from the data, "
            "or `journeykit spec set FILE`"
        )


class ActionFailed(JourneykitError):
    """An orchestration action did not succeed."""


class TransientFailure(ActionFailed):
    """A failure worth retrying (timeouts, 5xx, 429, connection refused)."""


class TerminalFailure(ActionFailed):
    """A failure that retrying will not fix (4xx, bad template); goes to the dead letters."""
