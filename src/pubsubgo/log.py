"""Logging setup: one dictConfig for the server, as text lines or JSON objects."""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace

#: Attributes every LogRecord has; anything else came through ``extra=`` and is kept in JSON.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class TraceContextFilter(logging.Filter):
    """Adds the current span's ``trace_id`` and ``span_id`` to each record (empty outside one),
    so that a log line can be found from its trace and back."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        trace_id = format(context.trace_id, "032x") if context.is_valid else ""
        span_id = format(context.span_id, "016x") if context.is_valid else ""
        # LogRecord takes extra attributes by design (that is what ``extra=`` does).
        vars(record).update(
            trace_id=trace_id, span_id=span_id, trace=f" trace_id={trace_id}" if trace_id else ""
        )
        return True


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
            (key, value)
            for key, value in vars(record).items()
            if key not in _RECORD_FIELDS and key != "trace" and value != ""
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config(level: str = "INFO", fmt: str = "text") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` dictionary for the server.

    Args:
        level: the level of the ``pubsubgo`` loggers, the access log (``pubsubgo.access``)
            included; aiohttp's own stay at WARNING.
        fmt: ``text`` for people, ``json`` for log collectors.
    """
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s%(trace)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"trace": {"()": TraceContextFilter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["trace"],
            },
        },
        "loggers": {
            "pubsubgo": {"level": level},
            "aiohttp": {"level": "WARNING"},
            # The broker writes its own access line (with route and trace ids).
            "aiohttp.access": {"level": "WARNING"},
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
    }


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Apply :func:`logging_config`."""
    logging.config.dictConfig(logging_config(level, fmt))
