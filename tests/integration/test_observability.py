"""Metrics, probes, dashboard and alerts against a real worker and Prometheus.

One module-scoped environment runs ``seawall worker`` as a child process and
a Prometheus server from Debian's package, both on 127.0.0.1, with
Prometheus scraping the worker every second and evaluating the repository's
alert rules. The tests run in file order: records flow and drain, the
worker stops while records keep arriving, then it starts again.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from confluent_kafka import Producer

from streams.config import load_config
from streams.engine import MaskingEngine
from streams.keys import Keyring
from streams.ops.kafka import create_topics
from streams.ops.process import pick_free_port
from streams.sample_data import SampleGenerator

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "seawall-dashboard.json"
RULES = REPO / "deploy" / "prometheus" / "seawall-alerts.yml"
GOOD_RECORDS = 300
BAD_RECORDS = 3
# The key and value of the records that fail to decode; neither may reach a log.
BAD_KEY = b"raw-key-5f0c1d"
BAD_VALUE = b"\x00raw-value-8e2b47"
# The rules wait minutes before firing; the copy Prometheus loads here waits
# this long instead, so the test takes seconds. promtool tests the real
# durations.
TEST_FOR = "3s"

T = TypeVar("T")


def _poll(description: str, check: Callable[[], T | None], timeout: float = 60) -> T:
    """Call `check` until it returns a value other than None; fail at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {description}")
        time.sleep(0.5)  # poll interval; the loop is bounded by the deadline


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


@dataclass
class Env:
    """The worker, Prometheus and topics of this module."""

    tmp: Path
    bootstrap: str
    config_path: Path
    engine: MaskingEngine
    topics: dict[str, str]
    metrics_port: int
    prometheus_url: str
    worker: subprocess.Popen[bytes] | None = None
    worker_logs: list[Path] = field(default_factory=list)
    producer: Producer | None = None

    def start_worker(self) -> None:
        """Start ``seawall worker`` as a child process."""
        log_path = self.tmp / f"worker-{len(self.worker_logs)}.log"
        self.worker_logs.append(log_path)
        with open(log_path, "wb") as log:
            self.worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streams.cli",
                    "worker",
                    "--config",
                    str(self.config_path),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop_worker(self) -> int:
        """Stop the worker with SIGTERM and return its exit code."""
        assert self.worker is not None
        self.worker.send_signal(signal.SIGTERM)
        try:
            return self.worker.wait(timeout=60)
        finally:
            if self.worker.poll() is None:
                self.worker.kill()
                self.worker.wait()

    def endpoint(self, path: str) -> tuple[int, str]:
        """GET one of the worker's own endpoints."""
        return _get(f"http://127.0.0.1:{self.metrics_port}{path}")

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Evaluate an instant PromQL query through the HTTP API."""
        url = f"{self.prometheus_url}/api/v1/query?" + urllib.parse.urlencode(
            {"query": expr}
        )
        status, body = _get(url)
        assert status == 200, f"query {expr!r} failed: {body}"
        result: list[dict[str, Any]] = json.loads(body)["data"]["result"]
        return result

    def firing(self, alert: str) -> list[dict[str, Any]]:
        """Return the firing alerts of one rule."""
        status, body = _get(f"{self.prometheus_url}/api/v1/alerts")
        assert status == 200, body
        return [
            a
            for a in json.loads(body)["data"]["alerts"]
            if a["labels"]["alertname"] == alert and a["state"] == "firing"
        ]

    def produce(self, count: int, bad: int = 0) -> None:
        """Produce generated customers, plus `bad` records that fail to decode."""
        if self.producer is None:
            self.producer = Producer({"bootstrap.servers": self.bootstrap})
        generator = SampleGenerator(seed=int(time.time()))
        for _ in range(count):
            customer = generator.customer()
            self.producer.produce(
                self.topics["source"],
                key=customer["customer_id"].encode(),
                value=self.engine.encode("crm.Customer", customer),
            )
        for _ in range(bad):
            self.producer.produce(self.topics["source"], key=BAD_KEY, value=BAD_VALUE)
        assert self.producer.flush(30) == 0

    def worker_log(self) -> str:
        """Return the text of every worker log so far."""
        return "\n".join(path.read_text(errors="replace") for path in self.worker_logs)


def _ensure_prometheus() -> None:
    result = subprocess.run(
        [str(REPO / "scripts" / "ensure-prometheus.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def _test_rules(path: Path) -> None:
    """Write the repository's rules with every ``for`` set to `TEST_FOR`."""
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = TEST_FOR
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")


def _start_prometheus(
    tmp: Path, metrics_port: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = pick_free_port("127.0.0.1")
    _test_rules(tmp / "rules.yml")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["rules.yml"],
        "scrape_configs": [
            {
                "job_name": "seawall",
                "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
            }
        ],
    }
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with open(tmp / "prometheus.log", "wb") as log:
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    _poll(
        "Prometheus to be ready",
        lambda: True if _get(f"{url}/-/ready")[0] == 200 else None,
        timeout=60,
    )
    return process, url


@pytest.fixture(scope="module")
def env(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    _ensure_prometheus()
    tmp = tmp_path_factory.mktemp("observability")
    suffix = uuid.uuid4().hex[:8]
    topics = {
        "source": f"cn.obs.customers.{suffix}",
        "destination": f"xb.obs.customers.{suffix}",
        "audit": f"cn.obs.audit.{suffix}",
        "dlq": f"cn.obs.dlq.{suffix}",
    }
    create_topics(kafka_bootstrap, list(topics.values()), partitions=2)
    Keyring.generate("obs").save(tmp / "keys.json")
    metrics_port = pick_free_port("127.0.0.1")
    config = {
        "kafka": {"bootstrap_servers": kafka_bootstrap, "group_id": f"obs-{suffix}"},
        "schemas": {"directory": str(REPO / "schemas")},
        "keys": {"file": "keys.json"},
        "audit_topic": topics["audit"],
        "dead_letter_topic": topics["dlq"],
        "routes": [
            {
                "name": "customers",
                "source": topics["source"],
                "destination": topics["destination"],
            }
        ],
        "metrics": {"host": "127.0.0.1", "port": metrics_port},
        "logging": {"format": "json", "level": "INFO"},
    }
    config_path = tmp / "config.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    prometheus, url = _start_prometheus(tmp, metrics_port)
    result = Env(
        tmp=tmp,
        bootstrap=kafka_bootstrap,
        config_path=config_path,
        engine=MaskingEngine.from_config(load_config(config_path)),
        topics=topics,
        metrics_port=metrics_port,
        prometheus_url=url,
    )
    try:
        yield result
    finally:
        if result.worker is not None and result.worker.poll() is None:
            result.stop_worker()
        prometheus.terminate()
        try:
            prometheus.wait(timeout=30)
        except subprocess.TimeoutExpired:
            prometheus.kill()
            prometheus.wait()


def _ready(env: Env) -> bool | None:
    return True if env.endpoint("/readyz")[0] == 200 else None


def _total(env: Env, expr: str) -> float | None:
    result = env.query(expr)
    return float(result[0]["value"][1]) if result else None


def test_worker_becomes_live_and_ready(env: Env) -> None:
    env.start_worker()

    _poll("the worker's /readyz to answer 200", lambda: _ready(env), timeout=90)

    assert env.endpoint("/healthz") == (200, "ok\n")
    assert env.endpoint("/readyz") == (200, "ok\n")


def _processed(env: Env, expected: int) -> Callable[[], float | None]:
    def check() -> float | None:
        total = _total(env, 'sum(seawall_records_total{job="seawall"})')
        return total if total is not None and total >= expected else None

    return check


def test_records_flow_and_are_counted(env: Env) -> None:
    # Rates need a scrape before and after the records: the first half is
    # produced once Prometheus has the worker's zeros, the second once it
    # has seen the first half.
    _poll("a first scrape", _processed(env, 0))
    env.produce(GOOD_RECORDS // 2, bad=BAD_RECORDS)
    _poll("the first half", _processed(env, GOOD_RECORDS // 2 + BAD_RECORDS))
    env.produce(GOOD_RECORDS // 2)
    expected = GOOD_RECORDS + BAD_RECORDS

    total = _poll("Prometheus to count every record", _processed(env, expected))

    assert total == expected
    rejected = _total(
        env, 'sum(seawall_records_total{job="seawall",outcome="rejected"})'
    )
    dead_letters = _total(env, 'sum(seawall_dead_letters_total{job="seawall"})')
    assert rejected == BAD_RECORDS
    assert dead_letters == BAD_RECORDS


def test_every_dashboard_panel_returns_data(env: Env) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    empty: list[str] = []
    checked = 0
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$job", "seawall")
            expr = expr.replace("$__rate_interval", "1m")
            # Audit events are counted when the broker acknowledges them,
            # a moment after the record itself.
            found = _poll_data(env, expr)
            if not found:
                empty.append(f"{panel['title']}: {expr}")
            checked += 1

    assert empty == []
    assert checked >= len(dashboard["panels"])


def _poll_data(env: Env, expr: str, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = env.query(expr)
        if result and not all(r["value"][1] == "NaN" for r in result):
            return True
        time.sleep(0.5)  # poll interval; the loop is bounded by the deadline
    return False


def test_lag_is_zero_after_the_load_drains(env: Env) -> None:
    def drained() -> list[dict[str, Any]] | None:
        offsets = env.query('seawall_consumer_lag_offsets{job="seawall"}')
        seconds = env.query('seawall_consumer_lag_seconds{job="seawall"}')
        values = [float(r["value"][1]) for r in offsets + seconds]
        if len(offsets) == 2 and len(seconds) == 2 and not any(values):
            return offsets
        return None

    offsets = _poll("the reported lag to reach 0", drained, timeout=60)

    assert {r["metric"]["partition"] for r in offsets} == {"0", "1"}
    assert {r["metric"]["topic"] for r in offsets} == {env.topics["source"]}


def test_worker_down_alert_fires_while_records_arrive(env: Env) -> None:
    stop = threading.Event()

    def keep_producing() -> None:
        while not stop.wait(0.2):
            env.produce(5)

    producing = threading.Thread(target=keep_producing, daemon=True)
    producing.start()
    try:
        exit_code = env.stop_worker()
        alerts = _poll(
            "SeawallWorkerDown to fire",
            lambda: env.firing("SeawallWorkerDown") or None,
            timeout=60,
        )
    finally:
        stop.set()
        producing.join(timeout=30)

    assert exit_code == 0
    assert alerts[0]["labels"]["severity"] == "page"
    assert alerts[0]["labels"]["job"] == "seawall"


def test_restarted_worker_reports_lag_before_draining(env: Env) -> None:
    env.start_worker()

    def lagging() -> float | None:
        total = _total(env, 'sum(seawall_consumer_lag_offsets{job="seawall"})')
        return total if total else None

    lag = _poll("the restarted worker to report lag", lagging, timeout=60)
    age = _total(env, 'max(seawall_consumer_lag_seconds{job="seawall"})')
    _poll("the restarted worker to drain", _drained(env), timeout=90)

    assert lag > 0
    assert age is not None
    assert age > 0


def _drained(env: Env) -> Callable[[], bool | None]:
    def check() -> bool | None:
        total = _total(env, 'sum(seawall_consumer_lag_offsets{job="seawall"})')
        return True if total == 0 else None

    return check


def test_worker_log_is_json_with_record_ids(env: Env) -> None:
    assert env.stop_worker() == 0
    lines = [json.loads(line) for line in env.worker_log().splitlines() if line]
    dead_letters = [
        line for line in lines if line["message"].startswith("record sent to the dead")
    ]

    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert len(dead_letters) == BAD_RECORDS
    for line in dead_letters:
        assert line["route"] == "customers"
        assert line["topic"] == env.topics["source"]
        assert line["partition"] in (0, 1)
        assert isinstance(line["offset"], int)
    log = env.worker_log()
    assert BAD_KEY.decode() not in log
    assert BAD_VALUE[1:].decode() not in log
