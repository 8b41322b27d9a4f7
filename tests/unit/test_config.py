"""Configuration loading: the minimal file, and one message per bad key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streams.config import load_config, parse_config
from streams.errors import ConfigError

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _minimal() -> dict[str, Any]:
    return {
        "kafka": {"bootstrap_servers": "127.0.0.1:9092"},
        "schemas": {"directory": str(SCHEMAS)},
        "keys": {"file": "keys.json"},
        "audit_topic": "cn.seawall.audit",
        "dead_letter_topic": "cn.seawall.dlq",
        "routes": [
            {
                "name": "customers",
                "source": "cn.crm.customers",
                "destination": "xb.crm.customers",
            }
        ],
    }


def _error(document: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(document, base_dir=Path("/etc/seawall"))
    return str(caught.value)


def test_minimal_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "kafka: {bootstrap_servers: '127.0.0.1:9092'}\n"
        f"schemas: {{directory: {SCHEMAS}}}\n"
        "keys: {file: keys.json}\n"
        "audit_topic: cn.seawall.audit\n"
        "dead_letter_topic: cn.seawall.dlq\n"
        "routes:\n"
        "  - {name: customers, source: cn.crm.customers,"
        " destination: xb.crm.customers}\n",
        encoding="utf-8",
    )

    config = load_config(path)

    assert config.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert config.keys_file == (tmp_path / "keys.json").resolve()
    assert config.routes[0].key_action == "pseudonymize"
    assert config.routes[0].allowed_headers == ()
    assert config.policy.unclassified == "block"
    assert len(config.policy.version) == 16


def test_unknown_key_is_rejected_by_name() -> None:
    document = _minimal()
    document["routes"][0]["destinaton"] = "xb.typo"

    message = _error(document)

    assert "routes[0].destinaton: unknown key" in message


def test_every_problem_is_listed_at_once() -> None:
    document = _minimal()
    del document["audit_topic"]
    document["dead_letter_topic"] = "has space"
    document["routes"][0]["key"] = "hash"

    message = _error(document)

    assert "audit_topic: missing" in message
    assert "dead_letter_topic: invalid value 'has space'" in message
    assert "routes[0].key: invalid value 'hash'" in message


def test_destination_must_not_be_domestic_topic() -> None:
    document = _minimal()
    document["routes"][0]["destination"] = "cn.seawall.audit"

    message = _error(document)

    assert "routes[customers].destination" in message


def test_duplicate_route_names_rejected() -> None:
    document = _minimal()
    document["routes"].append(dict(document["routes"][0], source="cn.other"))

    assert "route name 'customers' is used more than once" in _error(document)


def test_keys_need_exactly_one_source() -> None:
    document = _minimal()
    document["keys"] = {"file": "keys.json", "env": "SEAWALL_KEYS"}

    assert "set exactly one of 'file'" in _error(document)


def test_invalid_policy_action_rejected() -> None:
    document = _minimal()
    document["policy"] = {"types": {"cn_mobile": {"action": "scramble"}}}

    assert "policy.types.cn_mobile.action: invalid action 'scramble'" in _error(
        document
    )


def test_field_policy_prefers_qualified_path() -> None:
    document = _minimal()
    document["policy"] = {
        "types": {"cn_mobile": {"action": "mask", "keep_last": 4}},
        "fields": {
            "mobile": {"action": "redact"},
            "crm.Customer:mobile": {"action": "pseudonymize"},
        },
    }
    policy = parse_config(document, base_dir=Path("/")).policy

    assert policy.for_field("crm.Customer", "mobile", "cn_mobile").action == (
        "pseudonymize"
    )
    assert policy.for_field("crm.Order", "mobile", "cn_mobile").action == "redact"
    other = policy.for_field("crm.Order", "contacts[].mobile", "cn_mobile")
    assert other.action == "mask"
    assert other.options == {"keep_last": 4}


def test_missing_file_names_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_config(tmp_path / "absent.yaml")


def test_processing_guarantee_accepts_exactly_once() -> None:
    document = _minimal()
    document["worker"] = {"processing_guarantee": "exactly_once"}

    config = parse_config(document, base_dir=Path("/"))

    assert config.worker.processing_guarantee == "exactly_once"
    assert parse_config(_minimal(), base_dir=Path("/")).worker.processing_guarantee == (
        "at_least_once"
    )


def test_processing_guarantee_rejects_unknown_value() -> None:
    document = _minimal()
    document["worker"] = {"processing_guarantee": "exactly-once"}

    assert "worker.processing_guarantee: invalid value 'exactly-once'" in _error(
        document
    )
