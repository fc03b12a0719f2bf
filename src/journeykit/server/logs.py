"""Structured logs: one JSON object a line, with the record's extra fields.

>>> import json, logging
>>> rec = logging.LogRecord("journeykit", logging.INFO, "f", 1, "loaded", None, None)
>>> rec.messages = 5
>>> line = json.loads(JsonFormatter().format(rec))
>>> line["level"], line["msg"], line["messages"]
('info', 'loaded', 5)
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """Formats a record as a JSON line: ts, level, logger, msg, the extras, and any error."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure(level: str = "info") -> dict[str, Any]:
    """Send the ``journeykit`` and ``uvicorn`` loggers to stderr as JSON lines.

    Returns the ``logging.config`` dictionary (also handed to uvicorn as its ``log_config``).
    """
    import logging.config

    name = f"{__name__}.JsonFormatter"
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": name}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": sys.stderr}
        },
        "loggers": {
            logger: {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
            for logger in ("journeykit", "uvicorn", "uvicorn.error")
        }
        | {"uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
    }
    logging.config.dictConfig(config)
    return config
