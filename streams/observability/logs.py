"""Structured logging for the worker: text or JSON lines.

A log line about a record carries the record's ids, passed with
``extra=record_ids(...)``: ``route``, ``topic``, ``partition`` and
``offset``. Both formatters write only those ids and the message, never
other attributes a caller attaches, and they replace ``bytes`` arguments
with their length, because record keys and values are bytes.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any

RECORD_IDS = ("route", "topic", "partition", "offset")


def record_ids(route: str, topic: str, partition: int, offset: int) -> dict[str, Any]:
    """Return the ``extra=`` mapping of a log call about one record."""
    return {"route": route, "topic": topic, "partition": partition, "offset": offset}


def _safe_arg(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return value


def _message(record: logging.LogRecord) -> str:
    """Format the message with bytes arguments replaced by their length."""
    args = record.args
    if isinstance(args, tuple):
        args = tuple(_safe_arg(arg) for arg in args)
    elif isinstance(args, dict):
        args = {key: _safe_arg(value) for key, value in args.items()}
    text = str(_safe_arg(record.msg))
    return text % args if args else text


def _ids(record: logging.LogRecord) -> dict[str, str | int]:
    """Return the record ids a log record carries, checked for type."""
    found: dict[str, str | int] = {}
    for name in RECORD_IDS:
        value = getattr(record, name, None)
        if name in ("partition", "offset"):
            if isinstance(value, int) and not isinstance(value, bool):
                found[name] = value
        elif isinstance(value, str):
            found[name] = value
    return found


def _error(record: logging.LogRecord) -> dict[str, str]:
    """Return the exception class and stack, without the exception message.

    The message of an exception from a library can quote the data it failed
    on, so only the class and the frames are written.
    """
    if not record.exc_info or record.exc_info[0] is None:
        return {}
    kind, _error, tb = record.exc_info
    return {"error": kind.__name__, "stack": "".join(traceback.format_tb(tb)).rstrip()}


class JsonFormatter(logging.Formatter):
    """Formats a log record as one JSON object on one line.

    The object has ``time`` (ISO 8601, UTC), ``level``, ``logger``,
    ``message``, the record ids that were passed, and ``error`` and
    ``stack`` when an exception is logged.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the JSON line of `record`."""
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        document.update(_ids(record))
        document.update(_error(record))
        return json.dumps(document, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Formats a log record as one readable line, record ids at the end."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the text line of `record`."""
        created = datetime.fromtimestamp(record.created, UTC)
        parts = [
            created.isoformat(timespec="milliseconds"),
            record.levelname,
            record.name,
            _message(record),
        ]
        parts += [f"{name}={value}" for name, value in _ids(record).items()]
        line = " ".join(parts)
        error = _error(record)
        if error:
            line += f" error={error['error']}\n{error['stack']}"
        return line


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """Return a `logging.config.dictConfig` mapping for the worker.

    Args:
        log_format: ``text`` or ``json``.
        level: Root level name, such as ``INFO``.
    """
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"seawall": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "seawall",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
    }
