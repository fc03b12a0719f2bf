"""The web dashboard: server-rendered pages over a workspace, signed in with a read key.

``dashboard_router(get_workspace)`` gives a FastAPI router to mount at ``/``; see
:mod:`journeykit.server.dashboard.app`. FastAPI loads on first use of the name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journeykit.server.dashboard.app import dashboard_router

__all__ = ["dashboard_router"]


def __getattr__(name: str) -> Any:
    if name == "dashboard_router":
        from journeykit.server.dashboard.app import dashboard_router

        return dashboard_router
    raise AttributeError(f"module 'journeykit.server.dashboard' has no attribute {name!r}")
