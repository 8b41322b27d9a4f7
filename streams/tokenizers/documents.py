"""Travel documents, company codes, device ids and international phones.

- ``passport``, ``hk_macau_permit`` (往来港澳通行证), ``mainland_travel_permit``
  (港澳居民来往内地通行证, 台湾居民来往大陆通行证): the leading letters stay, and
  the rest is encrypted class by class.
- ``cn_uscc``: the Unified Social Credit Code of GB 32100-2015. The
  registration authority, entity type and 6-digit region stay, the 9-character
  organization code is encrypted over the 31 code characters, and the check
  character is computed for the token.
- ``device_id``: a 15-digit IMEI keeps its 8-digit type allocation code, the
  6-digit serial number is encrypted and the Luhn check digit is computed for
  the token. A 16-digit IMEISV also keeps its 2-digit software version.
- ``phone``: an E.164 number keeps ``+`` and its country calling code. A
  number that ``phonenumbers`` finds valid gives a valid token by cycle
  walking, and an invalid one gives an invalid token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers

from streams.errors import InvalidValueError
from streams.tokenizers._checks import USCC_ALPHABET, luhn_digit, uscc_check
from streams.tokenizers._classes import ClassPattern
from streams.tokenizers._engine import Domain, make_tweak
from streams.tokenizers._transformer import Segment, Split
from streams.tokenizers.identifiers import shape_digest

# Formats of Chinese travel documents, as issued since 2012 or so. Older
# permits (such as W plus 8 digits) match the generic rule of their type.
DOCUMENT_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "passport": (
        re.compile(r"[A-Z]{1,2}[0-9]{7,8}"),
        "one or two capital letters and 7 or 8 digits, such as E12345678",
    ),
    "hk_macau_permit": (
        re.compile(r"[A-Z]{1,2}[0-9]{7,8}"),
        "one or two capital letters and 7 or 8 digits, such as C12345678",
    ),
    "mainland_travel_permit": (
        re.compile(r"[A-Z]?[0-9]{8,10}"),
        "an optional capital letter (H or M) and 8 to 10 digits",
    ),
}
_USCC = re.compile(f"[{USCC_ALPHABET}]{{18}}")
_IMEI = re.compile(r"[0-9]{15,16}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_LEADING_LETTERS = re.compile(r"[A-Z]*")


@dataclass(frozen=True)
class DocumentCodec:
    """Splits a travel document number after its letter prefix.

    Attributes:
        pii_type: One of the keys of `DOCUMENT_FORMATS`.
    """

    pii_type: str

    def split(self, value: Any) -> Split:
        """Keep the leading letters and encrypt the rest by class."""
        pattern, rule = DOCUMENT_FORMATS[self.pii_type]
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise InvalidValueError(f"a {self.pii_type} number must be {rule}")
        letters = _LEADING_LETTERS.match(value).end()  # type: ignore[union-attr]  # [A-Z]* matches every string
        prefix = value[:letters]
        rest = ClassPattern.of(value[letters:])
        tweak = make_tweak(self.pii_type, "number", prefix, shape_digest(rest))
        segment = Segment("number", rest.domain, rest.numerals, tweak)

        def rebuild(parts: list[list[int]]) -> str:
            return prefix + rest.fill(parts[0])

        return Split((segment,), rebuild, value.encode())


@dataclass(frozen=True)
class UsccCodec:
    """Splits a Unified Social Credit Code around its organization code."""

    def split(self, value: Any) -> Split:
        """Encrypt positions 9 to 17 and recompute the check character."""
        if not isinstance(value, str) or not _USCC.fullmatch(value):
            raise InvalidValueError(
                f"a unified social credit code must be 18 characters of {USCC_ALPHABET}"
            )
        if uscc_check(value[:17]) != value[17]:
            raise InvalidValueError(
                "the check character of the unified social credit code does "
                "not match GB 32100 (weights 3**i mod 31)"
            )
        head = value[:8]
        # NOTE: positions 9 to 17 of codes issued before 2015 are a GB 11714
        # organization code with its own check character, which the token
        # does not keep. Only the GB 32100 check character is valid.
        numerals = [USCC_ALPHABET.index(c) for c in value[8:17]]
        tweak = make_tweak("cn_uscc", "organization", head)
        segment = Segment("organization", Domain.uniform(31, 9), numerals, tweak)

        def rebuild(parts: list[list[int]]) -> str:
            body = head + "".join(USCC_ALPHABET[n] for n in parts[0])
            return body + uscc_check(body)

        return Split((segment,), rebuild, value.encode())


@dataclass(frozen=True)
class ImeiCodec:
    """Splits an IMEI or IMEISV around its 6-digit serial number."""

    def split(self, value: Any) -> Split:
        """Encrypt the serial number; recompute the IMEI check digit."""
        if not isinstance(value, str) or not _IMEI.fullmatch(value):
            raise InvalidValueError(
                "a device id must be a 15-digit IMEI or a 16-digit IMEISV"
            )
        is_imei = len(value) == 15
        if is_imei and luhn_digit(value[:14]) != value[14]:
            raise InvalidValueError("the IMEI check digit does not match Luhn")
        tac, tail = value[:8], value[14:]
        numerals = [int(d) for d in value[8:14]]
        tweak = make_tweak("device_id", "serial", tac, "imei" if is_imei else "imeisv")
        segment = Segment("serial", Domain.uniform(10, 6), numerals, tweak)

        def rebuild(parts: list[list[int]]) -> str:
            body = tac + "".join(map(str, parts[0]))
            return body + (luhn_digit(body) if is_imei else tail)

        return Split((segment,), rebuild, value.encode())


@dataclass(frozen=True)
class PhoneCodec:
    """Splits an E.164 number after its country calling code."""

    def split(self, value: Any) -> Split:
        """Encrypt the national number, cycle-walking on its validity."""
        if not isinstance(value, str) or not _E164.fullmatch(value):
            raise InvalidValueError(
                "a phone number must be E.164: + and 7 to 15 digits, the first not 0"
            )
        country = _country_code(value)
        prefix = f"+{country}"
        rest = value[len(prefix) :]
        valid = _is_valid(value)

        def accept(numerals: Sequence[int]) -> bool:
            return _is_valid(prefix + "".join(map(str, numerals))) == valid

        def rebuild(parts: list[list[int]]) -> str:
            return prefix + "".join(map(str, parts[0]))

        numerals = [int(d) for d in rest]
        tweak = make_tweak("phone", "national", prefix)
        segment = Segment(
            "national", Domain.uniform(10, len(rest)), numerals, tweak, accept
        )
        return Split((segment,), rebuild, value.encode())


def _country_code(value: str) -> int:
    """Return the country calling code of an E.164 number."""
    for length in (1, 2, 3):
        code = int(value[1 : 1 + length])
        if phonenumbers.region_code_for_country_code(code) != "ZZ":
            return code
    raise InvalidValueError(
        "the phone number does not start with an assigned country calling code"
    )


def _is_valid(number: str) -> bool:
    """Return True when phonenumbers finds the E.164 number valid."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(parsed))
