"""Format-preserving encryption and pseudonyms over a numeral domain.

Every tokenizer turns the secret part of a value into numerals, one per
position. Each position has its own radix: 10 for a digit, 26 for a letter,
8,105 for a Chinese character, or one large radix for an index into a list. This
module encrypts such numerals with FF1 and maps them to HMAC pseudonyms.

- All positions share one radix of at most 65,536: FF1 runs on the numerals
  directly, so one FF1 call makes one token.
- Mixed radixes, or one radix above 65,536: the numerals form one mixed-radix
  integer ``x < size``. FF1 with radix 2 runs on the ``L`` bits of ``x``,
  where ``L`` is the bit length of ``size - 1``, and repeats on its own
  output until the result is below ``size`` (cycle walking, Black and Rogaway
  2002). Fewer than 2 FF1 calls are needed on average.

FF3-1 runs the same way, with its own subkey and a 56-bit tweak derived from
the FF1 tweak (see `streams.tokenizers._ff3`). It also has a maximum length:
56 digits, or 192 bits for the radix-2 walk. A longer value raises
`InvalidValueError` with reason ``mask.domain_too_large``.

A type can narrow the domain with an `accept` predicate, such as "passes
Luhn". Encryption then cycle-walks until the output is accepted. The walk is
a permutation of the accepted set, so an accepted input gives an accepted
token and decryption walks back to it. A type that must also handle inputs
outside that set passes the negated predicate for them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from streams.errors import InvalidValueError
from streams.keys import KeyVersion
from streams.tokenizers._ff3 import ff3_1_cipher, ff3_1_tweak

# SP 800-38G Rev. 1, section 5.2: radix ** length must be at least 1,000,000.
MIN_DOMAIN_SIZE = 1_000_000
MAX_FF1_RADIX = 65_536
# A walk on an accepted set holding at least 1/1000 of the domain ends long
# before this bound; reaching it means the predicate is wrong.
_MAX_WALK = 100_000
TWEAK_SEPARATOR = b"\x1f"
CIPHERS = ("ff1", "ff3-1")

Accept = Callable[[Sequence[int]], bool]


class NumeralCipher(Protocol):
    """The encrypt and decrypt calls that FF1 and FF3-1 share."""

    def encrypt(self, numerals: Sequence[int], tweak: bytes) -> list[int]:
        """Encrypt a numeral string under a tweak."""

    def decrypt(self, numerals: Sequence[int], tweak: bytes) -> list[int]:
        """Decrypt a numeral string under a tweak."""


def make_tweak(pii_type: str, part: str, *context: str) -> bytes:
    """Build the FF1 tweak ``type 0x1F part [0x1F context]...`` in UTF-8."""
    fields = [pii_type, part, *context]
    return TWEAK_SEPARATOR.join(f.encode() for f in fields)


@dataclass(frozen=True)
class Domain:
    """The numerals of one value's secret part and the radix of each.

    Attributes:
        radixes: The radix of each position, each 2 or more.
    """

    radixes: tuple[int, ...]

    @classmethod
    def uniform(cls, radix: int, length: int) -> Domain:
        """Return a domain of `length` positions of one radix."""
        return cls((radix,) * length)

    @property
    def size(self) -> int:
        """The number of distinct numeral sequences."""
        total = 1
        for radix in self.radixes:
            total *= radix
        return total

    @property
    def is_small(self) -> bool:
        """True when FF1 must not run on this domain (below 1,000,000)."""
        return self.size < MIN_DOMAIN_SIZE

    def to_int(self, numerals: Sequence[int]) -> int:
        """Read numerals as a mixed-radix integer, most significant first."""
        value = 0
        for numeral, radix in zip(numerals, self.radixes, strict=True):
            value = value * radix + numeral
        return value

    def from_int(self, value: int) -> list[int]:
        """Write an integer below `size` as mixed-radix numerals."""
        numerals = [0] * len(self.radixes)
        for position in range(len(self.radixes) - 1, -1, -1):
            value, numerals[position] = divmod(value, self.radixes[position])
        return numerals


def encrypt(
    key: KeyVersion,
    domain: Domain,
    numerals: Sequence[int],
    tweak: bytes,
    accept: Accept | None = None,
    cipher: str = "ff1",
) -> list[int]:
    """Encrypt numerals with `cipher`, cycle-walking into `accept` when given."""
    step = _permutation(key, domain, tweak, decrypt=False, cipher=cipher)
    return _walk(step, numerals, accept)


def decrypt(
    key: KeyVersion,
    domain: Domain,
    numerals: Sequence[int],
    tweak: bytes,
    accept: Accept | None = None,
    cipher: str = "ff1",
) -> list[int]:
    """Invert `encrypt` with the same domain, tweak, predicate and cipher."""
    step = _permutation(key, domain, tweak, decrypt=True, cipher=cipher)
    return _walk(step, numerals, accept)


def pseudonymize(
    key: KeyVersion,
    domain: Domain,
    data: bytes,
    context: str,
    accept: Accept | None = None,
) -> list[int]:
    """Map `data` to numerals of `domain` with HMAC-SHA256.

    The output is uniform over the domain, or over the accepted set when
    `accept` is given, up to a bias below 2**-128. Equal data and context
    under one key version give equal numerals.
    """
    size = domain.size
    needed = (size.bit_length() + 128 + 7) // 8
    for counter in range(_MAX_WALK):
        stream = _expand(key, data, f"{context}#{counter}", needed)
        candidate = domain.from_int(int.from_bytes(stream, "big") % size)
        if accept is None or accept(candidate):
            return candidate
    raise RuntimeError(f"no accepted pseudonym in {_MAX_WALK} tries for {context}")


def _expand(key: KeyVersion, data: bytes, context: str, length: int) -> bytes:
    """Concatenate HMAC blocks with a counter until `length` bytes exist."""
    blocks = []
    for index in range((length + 31) // 32):
        blocks.append(key.pseudonym(data, f"{context}/{index}"))
    return b"".join(blocks)[:length]


def _walk(
    step: Callable[[Sequence[int]], list[int]],
    numerals: Sequence[int],
    accept: Accept | None,
) -> list[int]:
    """Apply `step` until its output is accepted (at least once)."""
    current = step(numerals)
    for _ in range(_MAX_WALK):
        if accept is None or accept(current):
            return current
        current = step(current)
    raise RuntimeError(f"cycle walk did not end in {_MAX_WALK} steps")


def _permutation(
    key: KeyVersion, domain: Domain, tweak: bytes, *, decrypt: bool, cipher: str
) -> Callable[[Sequence[int]], list[int]]:
    """Return one cipher step on the domain, direct or by binary cycle walking."""
    if domain.is_small:
        raise InvalidValueError(
            f"the value's domain has {domain.size} possible values, below the "
            f"FF1 minimum of {MIN_DOMAIN_SIZE}",
            reason="mask.domain_too_small",
        )
    if cipher == "ff3-1":
        tweak = ff3_1_tweak(tweak)
    radixes = set(domain.radixes)
    length = len(domain.radixes)
    if len(radixes) == 1 and length > 1:
        radix = radixes.pop()
        if radix <= MAX_FF1_RADIX and _fits(cipher, radix, length):
            run = _run(_numeral_cipher(key, cipher, radix), decrypt=decrypt)
            return lambda numerals: run(numerals, tweak)
    return _binary_permutation(key, domain, tweak, decrypt=decrypt, cipher=cipher)


def _numeral_cipher(key: KeyVersion, cipher: str, radix: int) -> NumeralCipher:
    """Return the FF1 or FF3-1 cipher of a key version for one radix."""
    if cipher == "ff3-1":
        return ff3_1_cipher(key, radix)
    return key.ff1(radix)


def _run(
    fpe: NumeralCipher, *, decrypt: bool
) -> Callable[[Sequence[int], bytes], list[int]]:
    """Return the cipher's decrypt or encrypt method."""
    return fpe.decrypt if decrypt else fpe.encrypt


def _fits(cipher: str, radix: int, length: int) -> bool:
    """Return True when the cipher takes `length` numerals of `radix` at once."""
    return cipher != "ff3-1" or length <= _ff3_1_max_length(radix)


@functools.cache
def _ff3_1_max_length(radix: int) -> int:
    """Return FF3-1's maximum length for a radix, 2 * floor(log_radix(2**96)).

    SP 800-38G Rev. 1, section 5.2. Integer powers avoid the rounding of
    floating-point logarithms.
    """
    exponent = 0
    while radix ** (exponent + 1) <= 2**96:
        exponent += 1
    return 2 * exponent


def _binary_permutation(
    key: KeyVersion, domain: Domain, tweak: bytes, *, decrypt: bool, cipher: str
) -> Callable[[Sequence[int]], list[int]]:
    """Return a radix-2 FF1 or FF3-1 permutation of range(domain.size)."""
    size = domain.size
    bits = max((size - 1).bit_length(), 20)
    if not _fits(cipher, 2, bits):
        raise InvalidValueError(
            f"the value's domain needs {bits} bits, more than FF3-1 takes in "
            "one call: use cipher 'ff1' for this field",
            reason="mask.domain_too_large",
        )
    run = _run(_numeral_cipher(key, cipher, 2), decrypt=decrypt)

    def step(numerals: Sequence[int]) -> list[int]:
        value = domain.to_int(numerals)
        # Cycle walking: stay in range(size) inside the 2**bits domain.
        while True:
            binary = [(value >> (bits - 1 - i)) & 1 for i in range(bits)]
            out = run(binary, tweak)
            value = 0
            for bit in out:
                value = (value << 1) | bit
            if value < size:
                return domain.from_int(value)

    return step
