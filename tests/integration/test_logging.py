"""Logging: the dictConfig the server applies, as text or JSON lines."""

from __future__ import annotations

import logging

import orjson

from pubsubgo.log import JsonFormatter, logging_config


class TestLogging:
    def test_json_lines_carry_the_message_and_extra_fields(self) -> None:
        record = logging.makeLogRecord(
            {"name": "pubsubgo.x", "levelno": logging.WARNING, "levelname": "WARNING",
             "msg": "push of %s failed", "args": ("0-1",), "subscription": "billing"}
        )  # fmt: skip
        line = orjson.loads(JsonFormatter().format(record))
        assert line["message"] == "push of 0-1 failed"
        assert line["level"] == "WARNING"
        assert line["subscription"] == "billing"

    def test_the_level_applies_to_the_broker_and_not_to_aiohttp(self) -> None:
        config = logging_config("DEBUG", "json")
        assert config["loggers"]["pubsubgo"]["level"] == "DEBUG"
        assert config["loggers"]["aiohttp"]["level"] == "WARNING"
        assert config["formatters"]["default"]["()"] is JsonFormatter
