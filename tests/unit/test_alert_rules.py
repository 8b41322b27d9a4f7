"""The Prometheus alert rules pass promtool's checks and their unit tests.

promtool comes from Debian's prometheus package, which
``scripts/ensure-prometheus.sh`` installs when it is missing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "seawall-alerts.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "seawall-alerts.test.yml"
ALERTS = {
    "SeawallLagHigh",
    "SeawallLagGrowing",
    "SeawallDeadLetters",
    "SeawallAuditSendFailures",
    "SeawallWorkerDown",
    "SeawallStalled",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    result = subprocess.run(
        [str(REPO / "scripts" / "ensure-prometheus.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return "promtool"


def test_rule_file_defines_every_alert() -> None:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    names = {rule["alert"] for group in groups for rule in group["rules"]}

    assert names == ALERTS


def test_rule_tests_cover_every_alert() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    covered = {case["alertname"] for test in tests for case in test["alert_rule_test"]}

    assert covered == ALERTS


def test_promtool_checks_rules(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests_pass(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "test", "rules", RULE_TESTS.name],
        cwd=RULE_TESTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
