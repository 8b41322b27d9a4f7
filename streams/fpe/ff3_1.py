"""FF3-1 format-preserving encryption (NIST SP 800-38G Rev. 1) on AES.

Kept for compatibility with data tokenized by other FF3-1 systems only. NIST's
2025 draft revision of SP 800-38G withdraws FF3 and FF3-1 after published
attacks (Durak and Vaudenay, 2017, on FF3; Beyne, 2021, on FF3-1). Use FF1
for new data. Callers that enable FF3-1 are expected to warn about it, and
this module does no I/O and no logging itself.

The implementation follows Algorithm 9 (FF3-1.Encrypt) and Algorithm 10
(FF3-1.Decrypt) with a 56-bit (7-byte) tweak. Like FF1 here, it reuses one
AES-ECB encryptor per key and works on Python ints.
"""

from __future__ import annotations

from collections.abc import Sequence

from streams.fpe._alphabet import Alphabet, AlphabetCipher, check_text
from streams.fpe._params import (
    aes_ecb_encryptor,
    check_each_numeral,
    check_key,
    check_length,
    check_numerals,
    check_radix,
    check_tweak,
    min_length,
)

TWEAK_LENGTH = 7

_ROUNDS = 8
_BLOCK = 16

# Algorithm 9, step 4.ii puts NUM(REV(B)) in 12 bytes, so radix**v <= 2**96.
_HALF_DOMAIN_LIMIT = 2**96


class FF3_1:  # noqa: N801 - the name of the NIST algorithm
    """FF3-1 on AES over numeral strings in one radix.

    For compatibility only: NIST's 2025 draft revision of SP 800-38G
    withdraws FF3-1. An instance never stores or shows the key.

    NOTE: Instances share one `cryptography` encryptor across calls. They are
    meant for one thread. Give each thread its own instance.
    """

    __slots__ = ("_ecb", "_max_length", "_min_length", "_radix")

    def __init__(self, key: bytes, radix: int) -> None:
        """Create an FF3-1 cipher.

        Args:
            key: The AES key: 16, 24 or 32 bytes.
            radix: The number of distinct numerals, 2 to 65536.

        Raises:
            ValueError: The key length or radix is invalid.
            TypeError: The key is not bytes or the radix is not an int.
        """
        check_key(key)
        check_radix(radix)
        self._radix = radix
        self._min_length = min_length(radix)
        self._max_length = _max_length(radix)
        # Algorithm 9, step 4.iii: FF3-1 uses the key with its bytes reversed.
        self._ecb = aes_ecb_encryptor(key[::-1])

    @property
    def radix(self) -> int:
        """The radix of the numerals."""
        return self._radix

    def min_length(self) -> int:
        """Return the smallest length n >= 2 with radix**n >= 1,000,000."""
        return self._min_length

    def max_length(self) -> int:
        """Return maxlen = 2 * floor(log_radix(2**96))."""
        return self._max_length

    def encrypt(self, numerals: Sequence[int], tweak: bytes) -> list[int]:
        """Encrypt a numeral string (SP 800-38G Rev. 1, Algorithm 9).

        Args:
            numerals: The plaintext, each numeral in 0..radix-1.
            tweak: The 7-byte (56-bit) tweak.

        Returns:
            The ciphertext: as many numerals as the plaintext, in the same radix.

        Raises:
            ValueError: The length, a numeral or the tweak length is invalid.
                The message names the position, never the numeral.
            TypeError: A numeral is not an int or the tweak is not bytes.
        """
        u, a, b = self._split(numerals, tweak, "numerals")
        a, b = self._encrypt_int(tweak, len(numerals), a, b)
        return _to_reversed_numerals(a, self._radix, u) + _to_reversed_numerals(
            b, self._radix, len(numerals) - u
        )

    def decrypt(self, numerals: Sequence[int], tweak: bytes) -> list[int]:
        """Decrypt a numeral string (SP 800-38G Rev. 1, Algorithm 10).

        Raises:
            ValueError: The length, a numeral or the tweak length is invalid.
            TypeError: A numeral is not an int or the tweak is not bytes.
        """
        u, a, b = self._split(numerals, tweak, "numerals")
        a, b = self._decrypt_int(tweak, len(numerals), a, b)
        return _to_reversed_numerals(a, self._radix, u) + _to_reversed_numerals(
            b, self._radix, len(numerals) - u
        )

    def __repr__(self) -> str:
        return f"FF3_1(radix={self._radix})"

    __str__ = __repr__

    def _check(self, length: int, tweak: bytes, parameter: str) -> None:
        """Raise unless the length and tweak are valid for FF3-1."""
        check_tweak(tweak)
        if len(tweak) != TWEAK_LENGTH:
            raise ValueError(
                f"tweak: must be {TWEAK_LENGTH} bytes (56 bits) for FF3-1, "
                f"got {len(tweak)} bytes"
            )
        check_length(length, self._radix, self._max_length, parameter, "FF3-1")

    def _split(
        self, numerals: Sequence[int], tweak: bytes, parameter: str
    ) -> tuple[int, int, int]:
        """Check a numeral string and return u, NUM(REV(A)) and NUM(REV(B))."""
        self._check(len(numerals), tweak, parameter)
        check_numerals(numerals, self._radix, parameter)

        # Algorithm 9, steps 1 and 2: u = ceil(n / 2), A = X[1..u], B = the rest.
        u = (len(numerals) + 1) // 2
        a = _from_reversed_numerals(numerals[:u], self._radix)
        b = _from_reversed_numerals(numerals[u:], self._radix)
        if type(a) is not int or type(b) is not int:
            check_each_numeral(numerals, self._radix, parameter)
        return u, a, b

    def _encrypt_int(
        self, tweak: bytes, length: int, a: int, b: int
    ) -> tuple[int, int]:
        """Run the eight rounds of Algorithm 9 on NUM(REV(A)) and NUM(REV(B))."""
        update = self._ecb.update
        for i, (w, modulus) in enumerate(self._round_parameters(tweak, length)):
            # Step 4.ii: P = (W xor [i]^4) || [NUM(REV(B))]^12.
            p = ((w ^ i) << 96) | b
            # Steps 4.iii and 4.iv: S = REVB(CIPH_REVB(K)(REVB(P))), y = NUM(S).
            y = int.from_bytes(update(p.to_bytes(_BLOCK, "little")), "little")
            # Steps 4.v to 4.viii: C = (NUM(REV(A)) + y) mod radix**m, A = B, B = C.
            a, b = b, (a + y) % modulus
        return a, b

    def _decrypt_int(
        self, tweak: bytes, length: int, a: int, b: int
    ) -> tuple[int, int]:
        """Run the eight rounds of Algorithm 10 on NUM(REV(A)) and NUM(REV(B))."""
        update = self._ecb.update
        parameters = self._round_parameters(tweak, length)
        for i in range(_ROUNDS - 1, -1, -1):
            w, modulus = parameters[i]
            # Algorithm 10, step 4.ii: P = (W xor [i]^4) || [NUM(REV(A))]^12.
            p = ((w ^ i) << 96) | a
            y = int.from_bytes(update(p.to_bytes(_BLOCK, "little")), "little")
            # Steps 4.v to 4.viii: C = (NUM(REV(B)) - y) mod radix**m, B = A, A = C.
            a, b = (b - y) % modulus, a
        return a, b

    def _round_parameters(self, tweak: bytes, length: int) -> list[tuple[int, int]]:
        """Return (W, radix**m) for each of the eight rounds."""
        # Algorithm 9, step 3: T_L = T[0..27] || 0^4 and
        # T_R = T[32..55] || T[28..31] || 0^4, as 32-bit integers.
        t_left = int.from_bytes(tweak[:3] + bytes((tweak[3] & 0xF0,)), "big")
        t_right = int.from_bytes(tweak[4:] + bytes(((tweak[3] & 0x0F) << 4,)), "big")

        # Step 4.i: even rounds use m = u and W = T_R, odd rounds m = v and T_L.
        u = (length + 1) // 2
        even = (t_right, self._radix**u)
        odd = (t_left, self._radix ** (length - u))
        return [even, odd] * (_ROUNDS // 2)


class AlphabetFF3_1(AlphabetCipher):  # noqa: N801 - the name of the NIST algorithm
    """FF3-1 over strings whose characters come from `alphabet` (radix = len).

    For compatibility only, like `FF3_1`. Each alphabet entry is one code
    point, and the numeral of a character is its position in the alphabet.
    """

    __slots__ = ("_ff3_1",)

    def __init__(self, key: bytes, alphabet: str | Sequence[str]) -> None:
        """Create an FF3-1 cipher over an alphabet.

        Raises:
            ValueError: The key length is invalid, or the alphabet has a bad
                size, a duplicate character or an entry longer than one code
                point.
            TypeError: The key is not bytes or an entry is not a str.
        """
        self._alphabet = Alphabet(alphabet)
        self._ff3_1 = FF3_1(key, self._alphabet.radix)

    def min_length(self) -> int:
        """Return the smallest length n >= 2 with radix**n >= 1,000,000."""
        return self._ff3_1.min_length()

    def max_length(self) -> int:
        """Return maxlen = 2 * floor(log_radix(2**96))."""
        return self._ff3_1.max_length()

    def encrypt(self, text: str, tweak: bytes) -> str:
        """Encrypt `text` to a string of the same length and alphabet.

        Raises:
            ValueError: The length, a character or the tweak length is
                invalid. The message names the position and the alphabet
                size, never the character.
            TypeError: The text is not a str or the tweak is not bytes.
        """
        check_text(text, "text")
        self._ff3_1._check(len(text), tweak, "text")
        numerals = self._alphabet.to_numerals(text, "text")
        return self._alphabet.to_text(self._ff3_1.encrypt(numerals, tweak))

    def decrypt(self, text: str, tweak: bytes) -> str:
        """Decrypt `text` that `encrypt` produced with the same key and tweak.

        Raises:
            ValueError: The length, a character or the tweak length is invalid.
            TypeError: The text is not a str or the tweak is not bytes.
        """
        check_text(text, "text")
        self._ff3_1._check(len(text), tweak, "text")
        numerals = self._alphabet.to_numerals(text, "text")
        return self._alphabet.to_text(self._ff3_1.decrypt(numerals, tweak))


def _max_length(radix: int) -> int:
    """Return maxlen = 2 * floor(log_radix(2**96)), computed with integers."""
    half = 0
    while radix ** (half + 1) <= _HALF_DOMAIN_LIMIT:
        half += 1
    return 2 * half


def _from_reversed_numerals(numerals: Sequence[int], radix: int) -> int:
    """Return NUM_radix(REV(X)): the numerals read with the last most significant."""
    value = 0
    for numeral in reversed(numerals):
        value = value * radix + numeral
    return value


def _to_reversed_numerals(value: int, radix: int, length: int) -> list[int]:
    """Return REV(STR^length_radix(value)): the least significant numeral first."""
    numerals = [0] * length
    for position in range(length):
        value, numerals[position] = divmod(value, radix)
    return numerals
