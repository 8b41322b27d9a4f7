"""MaskingEngine start-up: plans for the schema folder and the FF3-1 warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from streams.codec.store import SchemaStore
from streams.config import Policy
from streams.engine import MaskingEngine
from streams.keys import Keyring
from streams.tokenizers.base import FieldPolicy

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_plans_cover_route_schemas_only() -> None:
    engine = MaskingEngine(
        SchemaStore.from_directory(SCHEMAS), Keyring.generate("unit"), Policy()
    )

    assert set(engine.plans) == {"crm.Customer", "crm.Order"}


def test_ff3_1_logs_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    policy = Policy(
        types={
            "cn_mobile": FieldPolicy("tokenize", {"cipher": "ff3-1"}),
            "bank_card": FieldPolicy("tokenize", {"cipher": "ff3-1"}),
        }
    )

    with caplog.at_level(logging.WARNING, logger="streams.engine"):
        MaskingEngine(
            SchemaStore.from_directory(SCHEMAS), Keyring.generate("u"), policy
        )

    warnings = [r for r in caplog.records if "FF3-1" in r.getMessage()]
    assert len(warnings) == 1
    assert "bank_card, cn_mobile" in warnings[0].getMessage()
    assert "withdraws" in warnings[0].getMessage()


def test_ff1_logs_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="streams.engine"):
        MaskingEngine(
            SchemaStore.from_directory(SCHEMAS), Keyring.generate("u"), Policy()
        )

    assert not [r for r in caplog.records if "FF3-1" in r.getMessage()]
