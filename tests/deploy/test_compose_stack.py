"""docker-compose.yml: validated by docker-compose, and the files it mounts.

`docker-compose config` from Debian's docker-compose package checks the file
against the Compose schema; it needs no Docker engine.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.config import parse_config

REPO = Path(__file__).resolve().parents[2]
EXPECTED_SERVICES = {
    "kafka",
    "kafka-topics",
    "schema-registry",
    "keyring",
    "worker-1",
    "worker-2",
    "producer",
    "prometheus",
    "grafana",
}


def _volumes(service: dict[str, Any]) -> list[dict[str, Any]]:
    """Parse the short volume syntax that docker-compose 1.x prints."""
    volumes = []
    for entry in service.get("volumes", []):
        source, target, mode = entry.split(":")
        volumes.append(
            {
                "type": "bind" if source.startswith("/") else "volume",
                "source": source,
                "target": target,
                "read_only": mode == "ro",
            }
        )
    return volumes


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Return the volume sources of a service by target path."""
    return {v["target"]: v["source"] for v in _volumes(service)}


@pytest.fixture(scope="module")
def resolved(docker_compose: str) -> dict[str, Any]:
    """Return the file as docker-compose resolves it (anchors merged)."""
    result = subprocess.run(
        [
            docker_compose,
            "--project-directory",
            str(REPO),
            "-f",
            "docker-compose.yml",
            "config",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = yaml.safe_load(result.stdout)
    return document


def test_services_present(resolved: dict[str, Any]) -> None:
    assert set(resolved["services"]) == EXPECTED_SERVICES


def test_kafka_image_official_kraft(resolved: dict[str, Any]) -> None:
    kafka = resolved["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_bind_mounts_exist(resolved: dict[str, Any]) -> None:
    for name, service in resolved["services"].items():
        for volume in _volumes(service):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name}: {volume['source']}"


def test_published_ports_loopback_only(resolved: dict[str, Any]) -> None:
    for name, service in resolved["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), name


def test_seawall_containers_locked_down(resolved: dict[str, Any]) -> None:
    for name in ("keyring", "worker-1", "worker-2", "producer"):
        service = resolved["services"][name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "/tmp" in service["tmpfs"], name


def test_workers_mount_keyring_read_only(resolved: dict[str, Any]) -> None:
    for name in ("worker-1", "worker-2"):
        volumes = _volumes(resolved["services"][name])
        keys = [v for v in volumes if v["target"] == "/etc/seawall/keys"]
        assert keys == [
            {
                "type": "volume",
                "source": "seawall-keys",
                "target": "/etc/seawall/keys",
                "read_only": True,
            }
        ]


def test_worker_config_is_valid() -> None:
    document = yaml.safe_load(
        (REPO / "deploy" / "compose" / "seawall.yaml").read_text("utf-8")
    )
    # In the image, the repository's schemas/ is /opt/seawall/schemas.
    assert document["schemas"]["directory"] == "/opt/seawall/schemas"
    document["schemas"]["directory"] = str(REPO / "schemas")
    config = parse_config(document, base_dir=REPO)
    assert config.kafka.bootstrap_servers == "kafka:9092"
    assert document["metrics"]["port"] == 9400


def test_topics_script_covers_config() -> None:
    document = yaml.safe_load(
        (REPO / "deploy" / "compose" / "seawall.yaml").read_text("utf-8")
    )
    topics = {document["audit_topic"], document["dead_letter_topic"]}
    for route in document["routes"]:
        topics |= {route["source"], route["destination"]}
    script = (REPO / "deploy" / "compose" / "create-topics.sh").read_text("utf-8")
    words = set(re.findall(r"[A-Za-z0-9._-]+", script))
    for topic in topics:
        assert topic in words, topic


def test_prometheus_scrapes_workers_with_rules(resolved: dict[str, Any]) -> None:
    prometheus = yaml.safe_load(
        (REPO / "deploy" / "compose" / "prometheus.yml").read_text("utf-8")
    )
    mounts = _mounts(resolved["services"]["prometheus"])
    (rule_file,) = prometheus["rule_files"]
    assert (
        Path(mounts[rule_file]) == REPO / "deploy" / "prometheus" / "seawall-alerts.yml"
    )
    (job,) = [j for j in prometheus["scrape_configs"] if j["job_name"] == "seawall"]
    workers = {n for n in resolved["services"] if n.startswith("worker-")}
    targets = {t for c in job["static_configs"] for t in c["targets"]}
    assert targets == {f"{w}:9400" for w in workers}


def test_grafana_provisions_dashboard(resolved: dict[str, Any]) -> None:
    mounts = _mounts(resolved["services"]["grafana"])
    provider = yaml.safe_load(
        (REPO / "deploy/compose/grafana/provisioning/dashboards/seawall.yml").read_text(
            "utf-8"
        )
    )
    folder = provider["providers"][0]["options"]["path"]
    dashboard = mounts[f"{folder}/seawall-dashboard.json"]
    assert Path(dashboard) == REPO / "deploy" / "grafana" / "seawall-dashboard.json"
