"""The worker under a SIGKILL, a broker restart and a rebalance, on a small scale.

One module-scoped chaos run (`streams.ops.chaos.run_chaos`) produces 3,000
records over 40 seconds while the worker is killed and restarted once, the
broker restarts once and a second worker joins and leaves the group. The
tests then check that run from several sides. ``scripts/chaos.py`` runs the
same checks on 50,000 records.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.ops.chaos import ChaosPlan, ChaosReport, run_chaos

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
PLAN = ChaosPlan(
    records=3000,
    produce_seconds=40.0,
    kills=1,
    broker_restarts=1,
    joins=1,
    seed=7,
    settle_timeout=240.0,
    schemas=REPO / "schemas",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ChaosReport:
    result = run_chaos(PLAN, tmp_path_factory.mktemp("chaos"), log=lambda _: None)
    print("\n".join(result.lines()))
    return result


def test_every_disruption_happened(report: ChaosReport) -> None:
    kinds = [entry.split(" s ", 1)[1] for entry in report.disruptions]
    assert sum(kind.startswith("SIGKILL") for kind in kinds) == PLAN.kills
    assert sum(kind.startswith("broker stopped") for kind in kinds) == 1
    assert sum(kind.startswith("second worker joined") for kind in kinds) == 1
    assert sum(kind.startswith("second worker left") for kind in kinds) == 1


def test_every_source_offset_was_produced(report: ChaosReport) -> None:
    assert report.source_offsets == PLAN.records
    assert report.malformed == PLAN.records // 500


def test_every_source_offset_has_an_output(report: ChaosReport) -> None:
    assert report.missing_output == []


def test_no_source_offset_on_both_sides(report: ChaosReport) -> None:
    assert report.in_both == []


def test_every_source_offset_has_an_audit_event(report: ChaosReport) -> None:
    assert report.missing_audit == []


def test_no_raw_tagged_value_on_destinations(report: ChaosReport) -> None:
    assert report.raw_values_checked > PLAN.records * 5
    assert report.raw_values_found == []


def test_duplicates_carry_the_same_audit_id(report: ChaosReport) -> None:
    assert report.inconsistent_duplicates == []


def test_duplicates_stay_below_a_quarter(report: ChaosReport) -> None:
    # Each disruption replays only the records after the last committed
    # offset, which faust commits every 2.8 seconds. Offsets that never
    # commit would replay the whole topic after each restart instead.
    assert report.duplicate_outputs < PLAN.records // 4
    assert report.duplicate_audit_events < PLAN.records // 4
