"""E-mail addresses.

The local part is encrypted class by class: a digit stays a digit, a letter
keeps its case, and dots, hyphens, plus signs and other characters stay in
place, so the token is a valid address. The domain is kept, unless the
option ``tokenize_domain`` is set: then each domain label except the
top-level domain is encrypted the same way and the top-level domain is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from streams.errors import InvalidValueError
from streams.tokenizers._classes import ClassPattern
from streams.tokenizers._engine import make_tweak
from streams.tokenizers._transformer import Segment, Split
from streams.tokenizers.identifiers import shape_digest

PII_TYPE = "email"
# RFC 5322 dot-atom local part and RFC 1035 host names, ASCII only.
_LOCAL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
MAX_LOCAL_LENGTH = 64


@dataclass(frozen=True)
class EmailCodec:
    """Splits an address into its local part and, optionally, its domain.

    Attributes:
        tokenize_domain: Encrypt the domain labels except the top-level one.
    """

    tokenize_domain: bool = False

    def split(self, value: Any) -> Split:
        """Cut an address into a local-part segment and a domain segment."""
        local, domain = _parse(value)
        tld = domain.rsplit(".", 1)[1]
        local_pattern = ClassPattern.of(local)
        context = tld if self.tokenize_domain else domain.lower()
        local_tweak = make_tweak(
            PII_TYPE, "local", shape_digest(local_pattern), context
        )
        segments = [
            Segment("local", local_pattern.domain, local_pattern.numerals, local_tweak)
        ]
        host = domain[: -len(tld)]
        host_pattern = ClassPattern.of(host)
        if self.tokenize_domain:
            host_tweak = make_tweak(PII_TYPE, "domain", shape_digest(host_pattern), tld)
            segments.append(
                Segment(
                    "domain", host_pattern.domain, host_pattern.numerals, host_tweak
                )
            )

        def rebuild(parts: list[list[int]]) -> str:
            new_local = local_pattern.fill(parts[0])
            new_host = host_pattern.fill(parts[1]) if self.tokenize_domain else host
            return f"{new_local}@{new_host}{tld}"

        return Split(tuple(segments), rebuild, value.encode())


def _parse(value: Any) -> tuple[str, str]:
    """Return the local part and the domain of a valid address."""
    if not isinstance(value, str) or "@" not in value:
        raise InvalidValueError("an e-mail address must be a string with one @")
    local, _, domain = value.rpartition("@")
    if len(local) > MAX_LOCAL_LENGTH or not _LOCAL.fullmatch(local):
        raise InvalidValueError(
            "the local part of the e-mail address must be an RFC 5322 dot-atom "
            f"of ASCII characters, at most {MAX_LOCAL_LENGTH} long"
        )
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidValueError(
            "the domain of the e-mail address must be two or more dot-separated "
            "labels of ASCII letters, digits and inner hyphens"
        )
    return local, domain
