"""Graceful shutdown: SIGTERM while records are in flight.

The worker stops consuming, waits for the broker to acknowledge what it
sent, commits, and exits with code 0 within ``worker.shutdown_timeout``.
Afterwards the committed offsets are exactly the processed ones: every
offset below the commit has its audit event, and no audited offset lies
past it, so a new worker neither skips nor repeats a record.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from test_security_support import (
    audit_sources,
    committed_offsets,
    make_pipeline,
    produce,
    start_worker,
    topic_names,
    wait_for_audit,
)

from streams.ops.kafka import create_topics

pytestmark = pytest.mark.kafka

PARTITIONS = 3
RECORDS = 3000
SHUTDOWN_TIMEOUT = 20.0


def test_sigterm_commits_exactly_what_was_processed(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = topic_names()
    create_topics(kafka_bootstrap, list(topics.values()), partitions=PARTITIONS)
    pipeline = make_pipeline(
        tmp_path,
        topics,
        {"bootstrap_servers": kafka_bootstrap},
        worker={"shutdown_timeout": SHUTDOWN_TIMEOUT, "max_in_flight": 500},
    )
    produce(pipeline, kafka_bootstrap, RECORDS)

    with open(tmp_path / "worker.log", "wb") as log:
        worker = start_worker(pipeline, log)
        try:
            seen = wait_for_audit(pipeline, kafka_bootstrap, 300, 120, worker)
            assert seen >= 300, (tmp_path / "worker.log").read_text()[-3000:]
            stopping = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(timeout=SHUTDOWN_TIMEOUT + 30)
            elapsed = time.monotonic() - stopping
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    log_text = (tmp_path / "worker.log").read_text(errors="replace")
    assert code == 0, log_text[-3000:]
    assert elapsed < SHUTDOWN_TIMEOUT
    audited = audit_sources(pipeline, kafka_bootstrap)
    assert max(audited.values()) == 1
    committed = committed_offsets(pipeline, kafka_bootstrap, PARTITIONS)
    for partition in range(PARTITIONS):
        processed = sorted(o for p, o in audited if p == partition)
        end = max(committed[partition], 0)
        assert processed == list(range(end)), f"partition {partition}"
    # The test only means something if SIGTERM came before the end.
    assert sum(audited.values()) < RECORDS
