"""The server: a Segment-compatible collector with an fsynced spool, and the query API.

``create_app(ws_path, settings)`` builds the FastAPI app and ``serve(ws_path, host, port)``
runs it (``journeykit serve``). ``create_key``, ``list_keys`` and ``revoke_key`` manage the
API keys (``journeykit keys``) without FastAPI installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeykit.server.app import create_app, serve
    from journeykit.server.keys import ApiKey, create_key, list_keys, revoke_key
    from journeykit.server.settings import ServerSettings, load_server_settings

__all__ = [
    "ApiKey",
    "ServerSettings",
    "create_app",
    "create_key",
    "list_keys",
    "load_server_settings",
    "revoke_key",
    "serve",
]

_WHERE = {
    "create_app": "app",
    "serve": "app",
    "ApiKey": "keys",
    "create_key": "keys",
    "list_keys": "keys",
    "revoke_key": "keys",
    "ServerSettings": "settings",
    "load_server_settings": "settings",
}


def __getattr__(name: str) -> Any:
    # FastAPI loads only with the app: `journeykit keys` works without the server extra
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"journeykit.server.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'journeykit.server' has no attribute {name!r}")
