"""Signing in to the dashboard with a read key.

A key is presented once (the sign-in form, ``?key=`` on any page, or an ``Authorization:
Bearer`` header) and kept in an HttpOnly cookie. Each request checks it again, so a revoked
key stops working at once. The check is a seam: :class:`KeyCheck` takes any function from a
token to "may read", and by default asks the workspace's key ring
(:class:`journeykit.server.keys.KeyRing`), where read and admin keys may read and write keys
may not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import Request

    from journeykit.store import Workspace

COOKIE = "journeykit_key"
#: Key kinds that may read the dashboard.
READ_KINDS = frozenset({"read", "admin"})

Verifier = Callable[["Workspace", str], bool]


class KeyCheck:
    """Decides whether a presented key may read a workspace.

    Args:
        verify: ``verify(ws, token) -> bool``; ``None`` asks the workspace's key file afresh
            on every check (a page view costs one small SQLite read, and a revoked key is
            refused on its next request).
    """

    def __init__(self, verify: Verifier | None = None) -> None:
        self._verify = verify

    def __call__(self, ws: Workspace, token: str | None) -> bool:
        """Whether ``token`` is a key that may read ``ws``."""
        if not token:
            return False
        if self._verify is not None:
            return bool(self._verify(ws, token))
        from journeykit.server.keys import KeyRing

        ring = KeyRing(ws)
        try:
            key = ring.verify(token)
        finally:
            ring.close()
        return key is not None and key.kind in READ_KINDS


def presented_key(request: Request) -> str | None:
    """The key a request carries: ``?key=``, then ``Authorization: Bearer``, then the cookie."""
    key = request.query_params.get("key")
    if key:
        return key.strip()
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    cookie = request.cookies.get(COOKIE)
    return cookie.strip() if cookie else None
