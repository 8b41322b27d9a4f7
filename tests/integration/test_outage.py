"""The worker through broker outages: at start and while it runs.

The test owns its broker (own data folder and ports). It starts the worker
while the broker is down, starts the broker, stops it while the worker
runs, and starts it again on the same folder and ports. Every source record
produced before and after must get exactly one audit event; a duplicate is
tolerated only when it repeats the same audit id, and duplicates are counted.
"""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest
from test_security_support import (
    Pipeline,
    make_pipeline,
    produce,
    start_worker,
    topic_names,
    wait_for_audit,
)

from streams.demo import read_all
from streams.ops import process
from streams.ops.kafka import LocalKafka, create_topics, start_on_free_ports

pytestmark = pytest.mark.kafka

BEFORE = 100
AFTER = 100


def _readiness(port: int) -> int:
    """Return the HTTP status of ``/readyz``, or 0 when the connection fails."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/readyz", timeout=5
        ) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _wait_for_status(port: int, status: int, timeout: float) -> bool:
    return process.wait_until(lambda: _readiness(port) == status, timeout)


def _wait_for_log(path: Path, text: str, timeout: float) -> bool:
    return process.wait_until(
        lambda: text in path.read_text(encoding="utf-8", errors="replace"), timeout
    )


def _audit_ids_by_offset(pipeline: Pipeline, bootstrap: str) -> dict[int, set[str]]:
    ids: dict[int, set[str]] = defaultdict(set)
    for message in read_all(bootstrap, pipeline.topics["audit"]):
        event = pipeline.engine.decode_audit(message.value())
        ids[event["source_offset"]].add(message.key().decode())
    return ids


def test_worker_survives_broker_outages(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("outage")
    broker = start_on_free_ports(tmp / "kafka", heap_max="384m")
    address = broker.bootstrap
    same_broker = LocalKafka(
        broker.data_dir,
        port=broker.port,
        controller_port=broker.controller_port,
        heap_max="384m",
    )
    metrics_port = process.pick_free_port()
    topics = topic_names()
    create_topics(address, list(topics.values()))
    pipeline = make_pipeline(
        tmp / "worker",
        topics,
        {"bootstrap_servers": address},
        worker={"startup_timeout": 180},
        metrics_port=metrics_port,
    )
    log_path = tmp / "worker.log"
    broker.stop()
    try:
        with log_path.open("wb") as log:
            worker = start_worker(pipeline, log)
            try:
                # Down at start: the worker retries and names the broker.
                assert _wait_for_log(log_path, f"bootstrap={address}", 60)
                assert worker.poll() is None
                same_broker.start()
                produce(pipeline, address, BEFORE, seed=1)
                assert wait_for_audit(pipeline, address, BEFORE, 120, worker) >= BEFORE
                assert _wait_for_status(metrics_port, 200, 60)

                # Down while running: not ready, retries logged, then back.
                same_broker.stop()
                assert _wait_for_status(metrics_port, 503, 60)
                assert _wait_for_log(
                    log_path,
                    f"measurement failed, retrying in 10 s: bootstrap={address}",
                    30,
                )
                assert worker.poll() is None
                same_broker.start()
                produce(pipeline, address, AFTER, seed=2)
                total = BEFORE + AFTER
                assert wait_for_audit(pipeline, address, total, 180, worker) >= total
                assert _wait_for_status(metrics_port, 200, 60)
                worker.send_signal(signal.SIGTERM)
                exit_code = worker.wait(timeout=60)
            finally:
                _kill(worker)
        ids = _audit_ids_by_offset(pipeline, address)
    finally:
        same_broker.stop()
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert exit_code == 0, output[-3000:]
    assert sorted(ids) == list(range(BEFORE + AFTER))
    assert [offset for offset, found in ids.items() if len(found) != 1] == []


def test_worker_gives_up_after_startup_timeout(tmp_path: Path) -> None:
    address = f"127.0.0.1:{process.pick_free_port()}"
    pipeline = make_pipeline(
        tmp_path,
        topic_names(),
        {"bootstrap_servers": address},
        worker={"startup_timeout": 3},
    )
    log_path = tmp_path / "worker.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        worker = start_worker(pipeline, log)
        try:
            exit_code = worker.wait(timeout=60)
        finally:
            _kill(worker)
    elapsed = time.monotonic() - started
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert exit_code == 2, output[-3000:]
    errors = [line for line in output.splitlines() if "seawall: error" in line]
    assert len(errors) == 1, output[-3000:]
    assert address in errors[0]
    assert "worker.startup_timeout" in errors[0]
    assert elapsed < 45


def _kill(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.kill()
        worker.wait()
