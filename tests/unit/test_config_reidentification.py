"""The optional kafka section and the reidentification_log key."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.commands import run_worker
from streams.config import load_config, parse_config
from streams.errors import ConfigError

SCHEMAS = Path(__file__).parents[2] / "schemas"


def document(**extra: Any) -> dict[str, Any]:
    """Return a valid configuration without a kafka section."""
    base: dict[str, Any] = {
        "schemas": {"directory": str(SCHEMAS)},
        "keys": {"file": "keys.json"},
        "audit_topic": "cn.seawall.audit",
        "dead_letter_topic": "cn.seawall.dlq",
        "routes": [
            {"name": "customers", "source": "cn.crm.c", "destination": "xb.crm.c"}
        ],
    }
    base.update(extra)
    return base


def test_kafka_section_is_optional(tmp_path: Path) -> None:
    config = parse_config(document(), base_dir=tmp_path)
    assert config.kafka_settings is None


def test_kafka_property_needs_section(tmp_path: Path) -> None:
    config = parse_config(document(), base_dir=tmp_path, source="site.yaml")
    with pytest.raises(ConfigError, match=r"site\.yaml has no 'kafka' section"):
        _ = config.kafka


def test_kafka_section_still_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"kafka\.bootstrap_servers"):
        parse_config(document(kafka={}), base_dir=tmp_path)


def test_kafka_section_read_when_present(tmp_path: Path) -> None:
    kafka = {"bootstrap_servers": "127.0.0.1:19092", "group_id": "g"}
    config = parse_config(document(kafka=kafka), base_dir=tmp_path)
    assert config.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert config.kafka_settings == config.kafka


def test_log_defaults_beside_config_file(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(document()), encoding="utf-8")
    config = load_config(path)
    assert config.reidentification_log == tmp_path / "reidentification.log"


def test_relative_log_resolved_against_config(tmp_path: Path) -> None:
    config = parse_config(
        document(reidentification_log="audit/reid.jsonl"), base_dir=tmp_path
    )
    assert config.reidentification_log == tmp_path / "audit" / "reid.jsonl"


def test_absolute_log_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "reid.log"
    config = parse_config(
        document(reidentification_log=str(target)), base_dir=tmp_path / "x"
    )
    assert config.reidentification_log == target


@pytest.mark.parametrize("value", ["", 17, None], ids=repr)
def test_log_must_be_path(tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigError, match="reidentification_log: must be a non-empty"):
        parse_config(document(reidentification_log=value), base_dir=tmp_path)


def test_log_must_not_be_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory; name a file"):
        parse_config(document(reidentification_log="."), base_dir=tmp_path)


def test_config_records_its_source(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(document()), encoding="utf-8")
    assert load_config(path).source == str(path)


def test_worker_command_needs_kafka(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(document()), encoding="utf-8")
    args = argparse.Namespace(config=str(path))
    with pytest.raises(ConfigError, match="worker command needs kafka"):
        run_worker(args)
