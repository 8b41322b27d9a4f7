"""Realistic sample records for the demo and the tests.

Names, resident IDs, mobiles, e-mail addresses, bank cards and addresses
come from Faker's ``zh_CN`` provider. Records match ``schemas/crm/``. The
data is made up, but it has the shape of real data, so tokens are checked
against realistic input.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from faker import Faker

RELATIONS = ("SPOUSE", "PARENT", "CHILD", "FRIEND", "COLLEAGUE")
SEGMENTS = ("RETAIL", "PREMIUM", "CORPORATE")


@dataclass(frozen=True)
class SampleRecord:
    """A generated record and the full name of the schema it matches."""

    schema_name: str
    key: bytes
    value: dict[str, Any]


class SampleGenerator:
    """Generates customers and orders with a fixed seed."""

    def __init__(self, seed: int = 2026) -> None:
        self._faker = Faker("zh_CN")
        self._faker.seed_instance(seed)
        self._random = random.Random(seed)
        self._serial = 0

    def customer(self) -> dict[str, Any]:
        """Return one ``crm.Customer`` record."""
        fake = self._faker
        self._serial += 1
        return {
            "customer_id": f"C{self._serial:09d}",
            "name": fake.name(),
            "resident_id": fake.ssn(),
            "mobile": fake.phone_number(),
            "email": fake.email() if self._random.random() < 0.9 else None,
            "bank_card": fake.credit_card_number()
            if self._random.random() < 0.7
            else None,
            "segment": self._random.choice(SEGMENTS),
            "created_at": self._timestamp_ms(),
            "address": self.address(),
            "contacts": [self._contact() for _ in range(self._random.randint(0, 3))],
            "notes": fake.sentence() if self._random.random() < 0.3 else None,
        }

    def address(self) -> dict[str, Any]:
        """Return one ``crm.Address`` record."""
        fake = self._faker
        return {
            "province": fake.province(),
            "city": fake.city(),
            "district": fake.district(),
            "street": fake.street_address(),
            "postcode": fake.postcode(),
        }

    def order(self) -> dict[str, Any]:
        """Return one ``crm.Order`` record whose buyer is a new customer."""
        fake = self._faker
        if self._random.random() < 0.6:
            payment: tuple[str, dict[str, Any]] = (
                "crm.CardPayment",
                {"card_number": fake.credit_card_number(), "holder": fake.name()},
            )
        else:
            payment = (
                "crm.TransferPayment",
                {"payer_account": fake.bban(), "payer_mobile": fake.phone_number()},
            )
        return {
            "order_id": f"O{self._random.randrange(10**11):011d}",
            "placed_at": self._timestamp_ms(),
            "amount": Decimal(self._random.randrange(100, 10_000_000)) / 100,
            "currency": "CNY",
            "buyer": self.customer(),
            "delivery": self.address() if self._random.random() < 0.8 else None,
            "payment": payment,
            "items": [
                {
                    "sku": f"SKU-{self._random.randrange(10**6):06d}",
                    "quantity": self._random.randint(1, 5),
                }
                for _ in range(self._random.randint(1, 4))
            ],
        }

    def records(self, count: int, order_share: float = 0.2) -> Iterator[SampleRecord]:
        """Yield `count` customers and orders, about `order_share` orders."""
        for _ in range(count):
            if self._random.random() < order_share:
                order = self.order()
                yield SampleRecord("crm.Order", order["order_id"].encode(), order)
            else:
                customer = self.customer()
                yield SampleRecord(
                    "crm.Customer", customer["customer_id"].encode(), customer
                )

    def _contact(self) -> dict[str, Any]:
        return {
            "relation": self._random.choice(RELATIONS),
            "name": self._faker.name(),
            "mobile": self._faker.phone_number(),
        }

    def _timestamp_ms(self) -> int:
        moment = self._faker.date_time_between(start_date="-3y", end_date="now")
        return int(moment.timestamp() * 1000)
