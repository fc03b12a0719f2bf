"""``python -m journeykit.server WORKSPACE [--host H] [--port P]``: run the server."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve until stopped."""
    from journeykit.server.app import serve

    parser = argparse.ArgumentParser(prog="python -m journeykit.server")
    parser.add_argument("workspace", help="the workspace folder")
    parser.add_argument("--host", default=None, help="address to listen on (default: settings)")
    parser.add_argument("--port", type=int, default=None, help="port (default: settings)")
    parser.add_argument(
        "--automations", default=None, help="automations to run on the collected events"
    )
    args = parser.parse_args(argv)
    from journeykit.server.settings import load_server_settings

    extra = {"automations": args.automations} if args.automations else {}
    settings = load_server_settings(**extra)
    serve(
        args.workspace,
        host=args.host or settings.host,
        port=args.port if args.port is not None else settings.port,
        settings=settings,
    )


if __name__ == "__main__":
    main()
