"""Logging setup: one dictConfig for the server, as text lines or JSON objects."""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import orjson

#: Attributes every LogRecord has; anything else came through ``extra=`` and is kept in JSON.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line, with ``extra=`` fields included."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value) for key, value in vars(record).items() if key not in _RECORD_FIELDS
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config(level: str = "INFO", fmt: str = "text") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` dictionary for the server.

    Args:
        level: the level of the ``pubsubgo`` loggers (aiohttp's stay at WARNING, except its
            access log, which follows ``level`` so that DEBUG shows requests).
        fmt: ``text`` for people, ``json`` for log collectors.
    """
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default"},
        },
        "loggers": {
            "pubsubgo": {"level": level},
            "aiohttp": {"level": "WARNING"},
            "aiohttp.access": {"level": level if level == "DEBUG" else "WARNING"},
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
    }


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Apply :func:`logging_config`."""
    logging.config.dictConfig(logging_config(level, fmt))
