"""The seawall command without a broker: start-up checks and tokenize."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def _seawall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _config(tmp_path: Path, schemas: Path) -> Path:
    keys = _seawall("keys", "generate", "--out", str(tmp_path / "keys.json"))
    assert keys.returncode == 0, keys.stderr
    config = {
        # Nothing listens here: the checks under test run before connecting.
        "kafka": {"bootstrap_servers": "127.0.0.1:9"},
        "schemas": {"directory": str(schemas)},
        "keys": {"file": "keys.json"},
        "metrics": {"port": None},
        "audit_topic": "cn.seawall.audit",
        "dead_letter_topic": "cn.seawall.dlq",
        "routes": [
            {"name": "people", "source": "cn.people", "destination": "xb.people"}
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _write_schema(folder: Path, fields: list[dict[str, object]]) -> Path:
    folder.mkdir()
    schema = {"type": "record", "name": "Person", "namespace": "hr", "fields": fields}
    (folder / "person.avsc").write_text(json.dumps(schema), encoding="utf-8")
    return folder


def test_keys_generate_writes_private_file(tmp_path: Path) -> None:
    result = _seawall("keys", "generate", "--out", str(tmp_path / "keys.json"))

    assert result.returncode == 0, result.stderr
    mode = stat.S_IMODE((tmp_path / "keys.json").stat().st_mode)
    assert mode == 0o600
    material = json.loads((tmp_path / "keys.json").read_text())["versions"][0]
    assert material["material"] not in result.stdout + result.stderr


def test_worker_rejects_unknown_pii_type_at_start(tmp_path: Path) -> None:
    schemas = _write_schema(
        tmp_path / "schemas",
        [
            {"name": "name", "type": "string", "pii": "person_name"},
            {"name": "shoe", "type": "string", "pii": "shoe_size"},
        ],
    )

    result = _seawall("worker", "--config", str(_config(tmp_path, schemas)))

    assert result.returncode == 2
    assert "shoe" in result.stderr
    assert "shoe_size" in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_rejects_tag_its_type_cannot_take(tmp_path: Path) -> None:
    schemas = _write_schema(
        tmp_path / "schemas",
        [{"name": "mobile", "type": "double", "pii": "cn_mobile"}],
    )

    result = _seawall("worker", "--config", str(_config(tmp_path, schemas)))

    assert result.returncode == 2
    assert "mobile" in result.stderr
    assert "double" in result.stderr


def test_worker_rejects_domestic_destination(tmp_path: Path) -> None:
    schemas = _write_schema(
        tmp_path / "schemas",
        [{"name": "name", "type": "string", "pii": "person_name"}],
    )
    config = _config(tmp_path, schemas)
    document = yaml.safe_load(config.read_text())
    document["routes"][0]["destination"] = "cn.people"
    config.write_text(yaml.safe_dump(document), encoding="utf-8")

    result = _seawall("worker", "--config", str(config))

    assert result.returncode == 2
    assert "routes[people].destination" in result.stderr


@pytest.mark.kafka
def test_worker_names_missing_topics(tmp_path: Path, kafka_bootstrap: str) -> None:
    schemas = _write_schema(
        tmp_path / "schemas",
        [{"name": "name", "type": "string", "pii": "person_name"}],
    )
    config = _config(tmp_path, schemas)
    document = yaml.safe_load(config.read_text())
    document["kafka"]["bootstrap_servers"] = kafka_bootstrap
    config.write_text(yaml.safe_dump(document), encoding="utf-8")

    result = _seawall("worker", "--config", str(config))

    assert result.returncode == 2
    assert "cn.people" in result.stderr
    assert "xb.people" in result.stderr
    assert "create them" in result.stderr


def test_tokenize_prints_one_token_per_line(tmp_path: Path) -> None:
    config = _config(tmp_path, REPO / "schemas")

    result = _seawall(
        "tokenize",
        "--config",
        str(config),
        "--type",
        "cn_mobile",
        "13800138000",
        "13912345678",
    )

    assert result.returncode == 0, result.stderr
    tokens = result.stdout.splitlines()
    assert len(tokens) == 2
    assert all(len(token) == 11 and token.isdigit() for token in tokens)
    assert tokens[0].startswith("138")
    assert tokens[0] != "13800138000"


def test_tokenize_error_names_position_not_value(tmp_path: Path) -> None:
    config = _config(tmp_path, REPO / "schemas")

    result = _seawall(
        "tokenize",
        "--config",
        str(config),
        "--type",
        "cn_resident_id",
        "11010519491231002Y",
    )

    assert result.returncode == 1
    assert "VALUE 1" in result.stderr
    assert "11010519491231002Y" not in result.stderr
