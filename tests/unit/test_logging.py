"""Log formatters: record ids on every line about a record, never a value."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.config import parse_config
from streams.errors import ConfigError
from streams.observability import (
    JsonFormatter,
    TextFormatter,
    logging_config,
    record_ids,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
RAW_VALUE = "13800138000"
RAW_BYTES = RAW_VALUE.encode()


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("seawall.test.logging")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream, handler
    logger.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_carries_record_ids(
    capture: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = capture
    handler.setFormatter(JsonFormatter())

    logger.warning(
        "record rejected: reason=%s",
        "decode.bad_marker",
        extra=record_ids("customers", "cn.crm.customers", 2, 41),
    )

    (line,) = _lines(stream)
    assert line["message"] == "record rejected: reason=decode.bad_marker"
    assert line["level"] == "WARNING"
    assert line["logger"] == "seawall.test.logging"
    assert line["route"] == "customers"
    assert line["topic"] == "cn.crm.customers"
    assert line["partition"] == 2
    assert line["offset"] == 41
    assert line["time"].endswith("+00:00")


def test_json_line_has_only_known_fields(
    capture: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = capture
    handler.setFormatter(JsonFormatter())

    logger.info("lifecycle", extra={"value": RAW_VALUE, "key": RAW_BYTES})

    (line,) = _lines(stream)
    assert set(line) == {"time", "level", "logger", "message"}
    assert RAW_VALUE not in stream.getvalue()


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()], ids=str)
def test_no_record_value_reaches_the_line(
    capture: tuple[logging.Logger, io.StringIO, logging.Handler],
    formatter: logging.Formatter,
) -> None:
    logger, stream, handler = capture
    handler.setFormatter(formatter)

    # Every way a caller could pass record bytes: as an argument, as the
    # message, as an id of the wrong type, as an unknown extra, and in the
    # message of a logged exception.
    logger.warning("value=%s", RAW_BYTES)
    logger.warning("value=%(value)s", {"value": bytearray(RAW_BYTES)})
    logger.warning(RAW_BYTES)
    logger.warning("ids", extra={"partition": RAW_VALUE, "offset": RAW_BYTES})
    logger.warning("extra", extra={"record_value": RAW_VALUE})
    try:
        raise ValueError(f"cannot parse {RAW_VALUE}")
    except ValueError:
        logger.exception("parse failed", extra=record_ids("c", "cn.c", 0, 1))

    output = stream.getvalue()
    assert RAW_VALUE not in output
    assert "<11 bytes>" in output
    assert "ValueError" in output


def test_text_line_ends_with_record_ids(
    capture: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = capture
    handler.setFormatter(TextFormatter())

    logger.warning("rejected", extra=record_ids("orders", "cn.crm.orders", 0, 7))

    line = stream.getvalue().rstrip("\n")
    assert line.endswith(
        "WARNING seawall.test.logging rejected "
        "route=orders topic=cn.crm.orders partition=0 offset=7"
    )


def test_logging_config_installs_json_formatter() -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        logging.config.dictConfig(logging_config("json", "WARNING"))
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JsonFormatter)
        assert root.level == logging.WARNING
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])


def _config(**sections: Any) -> dict[str, Any]:
    return {
        "kafka": {"bootstrap_servers": "127.0.0.1:9092"},
        "schemas": {"directory": str(SCHEMAS)},
        "keys": {"file": "keys.json"},
        "audit_topic": "cn.seawall.audit",
        "dead_letter_topic": "cn.seawall.dlq",
        "routes": [{"name": "c", "source": "cn.c", "destination": "xb.c"}],
        **sections,
    }


def test_logging_config_defaults() -> None:
    config = parse_config(_config(), base_dir=Path("/"))

    assert config.logging.format == "text"
    assert config.logging.level == "INFO"


def test_logging_level_is_case_insensitive() -> None:
    config = parse_config(
        _config(logging={"format": "json", "level": "debug"}), base_dir=Path("/")
    )

    assert config.logging.format == "json"
    assert config.logging.level == "DEBUG"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"format": "xml"}, "logging.format: invalid value 'xml'"),
        ({"level": "LOUD"}, "logging.level: invalid value 'LOUD'"),
        ({"colour": True}, "logging.colour: unknown key"),
    ],
)
def test_logging_config_invalid(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(_config(logging=section), base_dir=Path("/"))
