"""Birth dates as Avro dates, timestamps or ISO strings.

Accepted forms: an Avro ``int`` with logical type ``date`` (days since
1970-01-01), a ``long`` with logical type ``timestamp-millis``,
``timestamp-micros``, ``local-timestamp-millis`` or
``local-timestamp-micros``, and a ``string`` ``YYYY-MM-DD`` or ``YYYYMMDD``.
Every output keeps the input's form.

- ``tokenize``: FF1 over the days of the range ``date_min`` to ``date_max``
  (defaults 1900-01-01 and 2099-12-31) times the time units of a day. A date
  alone has fewer than 1,000,000 possible values, so dates always take the
  small-domain fallback (a keyed pseudonym in the range, or rejection).
  Timestamps are encrypted.
- ``pseudonymize``: a keyed date in the range, or, with ``max_shift_days``,
  the date shifted by a keyed offset of 1 to N days either way.
- ``generalize``: the first day of the year (``to: year``, the default) or
  of the month (``to: month``), at midnight for timestamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from streams.errors import InvalidValueError
from streams.tokenizers._engine import Domain, make_tweak
from streams.tokenizers._transformer import Segment, Split

PII_TYPE = "birth_date"
EPOCH = date(1970, 1, 1)
DAY_UNITS = {
    None: 1,
    "date": 1,
    "timestamp-millis": 86_400_000,
    "local-timestamp-millis": 86_400_000,
    "timestamp-micros": 86_400_000_000,
    "local-timestamp-micros": 86_400_000_000,
}
_ISO = re.compile(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})")


@dataclass(frozen=True)
class BirthDateCodec:
    """Splits a birth date into its day in the range and its time of day.

    Attributes:
        avro_type: ``int``, ``long`` or ``string``.
        logical_type: The Avro logical type, None for strings.
        first: The earliest accepted date.
        last: The latest accepted date.
        max_shift_days: When set, pseudonyms shift the date instead.
        to: The generalization level, ``year`` or ``month``.
    """

    avro_type: str
    logical_type: str | None
    first: date = date(1900, 1, 1)
    last: date = date(2099, 12, 31)
    max_shift_days: int = 0
    to: str = "year"

    def split(self, value: Any) -> Split:
        """Cut a date or timestamp into one (day, time of day) segment."""
        day, time_of_day = self._parse(value)
        units = DAY_UNITS[self.logical_type]
        tweak = make_tweak(PII_TYPE, self.logical_type or "string", str(units))
        if self.max_shift_days:
            return self._shift_split(value, day, time_of_day, tweak)
        radixes: tuple[int, ...] = ((self.last - self.first).days + 1, units)
        numerals = [(day - self.first).days, time_of_day]
        if units == 1:
            radixes, numerals = radixes[:1], numerals[:1]

        def rebuild(parts: list[list[int]]) -> Any:
            new_time = parts[0][1] if units > 1 else 0
            return self._format(
                self.first + timedelta(days=parts[0][0]), new_time, value
            )

        segment = Segment("date", Domain(radixes), numerals, tweak)
        return Split((segment,), rebuild, str(value).encode())

    def generalize(self, value: Any) -> Any:
        """Return the first day of the value's year or month."""
        day, _ = self._parse(value)
        start = date(day.year, 1 if self.to == "year" else day.month, 1)
        return self._format(start, 0, value)

    def _shift_split(
        self, value: Any, day: date, time_of_day: int, tweak: bytes
    ) -> Split:
        """Build a segment whose pseudonym picks a non-zero day offset."""
        limit = self.max_shift_days

        def rebuild(parts: list[list[int]]) -> Any:
            index = parts[0][0]
            offset = index - limit if index < limit else index - limit + 1
            return self._format(day + timedelta(days=offset), time_of_day, value)

        segment = Segment("shift", Domain((2 * limit,)), [0], tweak)
        return Split((segment,), rebuild, str(value).encode())

    def _parse(self, value: Any) -> tuple[date, int]:
        """Return the date and the time of day in Avro units."""
        if self.avro_type == "string":
            day, time_of_day = _parse_text(value), 0
        else:
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidValueError(
                    f"a birth date must be an Avro {self.avro_type}"
                )
            days, time_of_day = divmod(value, DAY_UNITS[self.logical_type])
            try:
                day = EPOCH + timedelta(days=days)
            except OverflowError:
                raise InvalidValueError(
                    "the birth date is outside the calendar"
                ) from None
        if not self.first <= day <= self.last:
            raise InvalidValueError(
                f"the birth date is outside the configured range "
                f"{self.first.isoformat()} to {self.last.isoformat()}"
            )
        return day, time_of_day

    def _format(self, day: date, time_of_day: int, original: Any) -> Any:
        """Write a date in the same form as `original`."""
        if self.avro_type == "string":
            separator = "-" if "-" in original else ""
            return day.strftime(f"%Y{separator}%m{separator}%d")
        return (day - EPOCH).days * DAY_UNITS[self.logical_type] + time_of_day


def _parse_text(value: Any) -> date:
    """Parse ``YYYY-MM-DD`` or ``YYYYMMDD``."""
    match = _ISO.fullmatch(value) if isinstance(value, str) else None
    if match is None or (len(value) == 9):
        raise InvalidValueError("a birth date string must be YYYY-MM-DD or YYYYMMDD")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidValueError(
            "the birth date string is not a calendar date"
        ) from None
