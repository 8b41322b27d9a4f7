"""FF1 format-preserving encryption (NIST SP 800-38G Rev. 1) on AES.

`FF1` encrypts a string of numerals in a radix from 2 to 65536 to another
string of the same length and radix. `AlphabetFF1` does the same for text
whose characters come from a given alphabet.

The implementation follows Algorithm 7 (FF1.Encrypt) and Algorithm 8
(FF1.Decrypt) of SP 800-38G Rev. 1, with these choices for speed:

- One AES-ECB encryptor is created per key and reused for every block. The
  CBC-MAC of the PRF is chained block by block on Python ints.
- The first block of the PRF input, P, is the same in all ten rounds, so its
  encryption is cached per (length, tweak length). The CBC-MAC work that
  depends only on the tweak is cached per (length, tweak).
- Numeral strings are handled as integers (NUM_radix). The byte count b is
  computed exactly with integers, because a floating-point logarithm could
  round v * log2(radix) across an integer.

This module does no I/O and no logging.
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
    int_to_numerals,
    min_length,
    numerals_to_int,
)

# P encodes the length n in four bytes (Algorithm 7, step 5), so SP 800-38G
# requires maxlen < 2**32. The tweak length t is encoded the same way.
MAX_LENGTH = 2**32 - 1
MAX_TWEAK_LENGTH = 2**32 - 1

_ROUNDS = 10
_BLOCK = 16
_BLOCK_BITS = 128

# Layouts are cached per (length, tweak length) and prepared rounds per
# (length, tweak). Both caches are emptied when full, which bounds memory when
# lengths or tweaks vary without end. Inputs of one field share both.
_LAYOUT_CACHE_SIZE = 256
_PREPARED_CACHE_SIZE = 1024

# Python refuses int() and str() on more than 4,300 decimal digits by default,
# so the decimal shortcut of AlphabetFF1 stops well below that.
_DECIMAL_SHORTCUT_MAX_LENGTH = 4000


class _Layout:
    """The values of Algorithm 7, steps 1 to 5, for one (length, tweak length)."""

    __slots__ = (
        "b",
        "d",
        "extra_blocks",
        "one_block",
        "p_state",
        "pad",
        "rounds",
        "tail_length",
        "u",
        "v",
        "y_shift",
    )

    def __init__(self, radix: int, length: int, tweak_length: int, p_state: int):
        # Algorithm 7, steps 1 and 3: split point and byte count b, with b
        # computed as ceil(ceil(v * log2(radix)) / 8) in integers.
        u = length // 2
        v = length - u
        b = ((radix**v - 1).bit_length() + 7) // 8
        self.u = u
        self.v = v
        self.b = b

        # Step 4: d bytes of S are used, d = 4 * ceil(b / 4) + 4. S needs
        # extra_blocks more AES blocks after R when d > 16.
        self.d = 4 * ((b + 3) // 4) + 4
        self.y_shift = _BLOCK_BITS - 8 * self.d if self.d <= _BLOCK else 0
        self.extra_blocks = (self.d + _BLOCK - 1) // _BLOCK - 1

        # Step 6.i: Q = T || [0]^pad || [i]^1 || [NUM(B)]^b fills whole blocks.
        # The bytes before [i] are the same in all rounds, and the blocks made
        # only of them are chained once per tweak. The tail is the last
        # tail_length bytes, which hold [i] and NUM(B).
        self.pad = (-tweak_length - b - 1) % _BLOCK
        constant_length = tweak_length + self.pad
        self.tail_length = constant_length % _BLOCK + 1 + b
        self.one_block = self.tail_length == _BLOCK and self.extra_blocks == 0

        # Step 6.v: m alternates between u (even i) and v (odd i). Each round
        # also carries [i] shifted to its place in the tail.
        moduli = (radix**u, radix**v)
        self.rounds = tuple((i << (8 * b), moduli[i % 2]) for i in range(_ROUNDS))

        # Step 5: the encrypted P block starts every CBC-MAC chain.
        self.p_state = p_state


class _Prepared:
    """A layout with the CBC-MAC work that depends only on the tweak done."""

    __slots__ = ("layout", "one_block_rounds", "state", "tail")

    def __init__(self, layout: _Layout, state: int, tail: int) -> None:
        self.layout = layout
        # The CBC-MAC state after P and the whole constant blocks of Q.
        self.state = state
        # The constant bytes of Q's tail, shifted to their place.
        self.tail = tail
        # When the tail is one block and d <= 16, each round's AES input is
        # state ^ tail ^ [i] ^ NUM(B), so the first three are combined here.
        self.one_block_rounds: tuple[tuple[int, int], ...] = ()
        if layout.one_block:
            self.one_block_rounds = tuple(
                (state ^ tail ^ const, modulus) for const, modulus in layout.rounds
            )


class FF1:
    """FF1 on AES over numeral strings in one radix.

    An instance keeps an AES encryptor for its key and never stores or shows
    the key itself.

    NOTE: Instances share one `cryptography` encryptor across calls. They are
    meant for one thread, such as an asyncio event loop. Give each thread its
    own instance.
    """

    __slots__ = (
        "_ecb",
        "_layouts",
        "_max_tweak_length",
        "_min_length",
        "_prepared",
        "_radix",
    )

    def __init__(self, key: bytes, radix: int, *, max_tweak_length: int = 256) -> None:
        """Create an FF1 cipher.

        Args:
            key: The AES key: 16, 24 or 32 bytes.
            radix: The number of distinct numerals, 2 to 65536.
            max_tweak_length: The maximum tweak length, in bytes (maxTlen in
                SP 800-38G), 0 to 2**32 - 1.

        Raises:
            ValueError: The key length, radix or max_tweak_length is invalid.
            TypeError: The key is not bytes or the radix is not an int.
        """
        check_key(key)
        check_radix(radix)
        _check_max_tweak_length(max_tweak_length)
        self._radix = radix
        self._min_length = min_length(radix)
        self._max_tweak_length = max_tweak_length
        self._ecb = aes_ecb_encryptor(key)
        self._layouts: dict[tuple[int, int], _Layout] = {}
        self._prepared: dict[tuple[int, bytes], _Prepared] = {}

    @property
    def radix(self) -> int:
        """The radix of the numerals."""
        return self._radix

    def min_length(self) -> int:
        """Return the smallest length n >= 2 with radix**n >= 1,000,000."""
        return self._min_length

    def encrypt(self, numerals: Sequence[int], tweak: bytes = b"") -> list[int]:
        """Encrypt a numeral string (SP 800-38G, Algorithm 7).

        Args:
            numerals: The plaintext, each numeral in 0..radix-1.
            tweak: The tweak, at most `max_tweak_length` bytes.

        Returns:
            The ciphertext: as many numerals as the plaintext, in the same radix.

        Raises:
            ValueError: The length, a numeral or the tweak length is invalid.
                The message names the position, never the numeral.
            TypeError: A numeral is not an int or the tweak is not bytes.
        """
        prepared, a, b = self._split(numerals, tweak)
        a, b = self._encrypt_int(prepared, a, b)
        return self._join(prepared.layout, a, b)

    def decrypt(self, numerals: Sequence[int], tweak: bytes = b"") -> list[int]:
        """Decrypt a numeral string (SP 800-38G, Algorithm 8).

        Args:
            numerals: The ciphertext, each numeral in 0..radix-1.
            tweak: The tweak used to encrypt.

        Returns:
            The plaintext numerals.

        Raises:
            ValueError: The length, a numeral or the tweak length is invalid.
            TypeError: A numeral is not an int or the tweak is not bytes.
        """
        prepared, a, b = self._split(numerals, tweak)
        a, b = self._decrypt_int(prepared, a, b)
        return self._join(prepared.layout, a, b)

    def __repr__(self) -> str:
        return f"FF1(radix={self._radix})"

    __str__ = __repr__

    def _prepare(self, length: int, tweak: bytes, parameter: str) -> _Prepared:
        """Return the cached rounds for this length and tweak, checking both.

        `parameter` names the input in error messages.
        """
        check_tweak(tweak)
        prepared = self._prepared.get((length, tweak))
        if prepared is None:
            prepared = self._new_prepared(length, tweak, parameter)
        return prepared

    def _encrypt_int(self, prepared: _Prepared, a: int, b: int) -> tuple[int, int]:
        """Run the ten rounds of Algorithm 7 on NUM(A) and NUM(B)."""
        layout = prepared.layout
        if layout.one_block:
            return self._encrypt_one_block(prepared, a, b)
        for const, modulus in layout.rounds:
            # Step 6, i-iv: y = NUM(S), with NUM(B) in the tail of Q.
            y = self._round_value(layout, prepared.state, prepared.tail | const | b)
            # Step 6, vi-ix: C = (NUM(A) + y) mod radix**m, A = B, B = C.
            a, b = b, (a + y) % modulus
        return a, b

    def _decrypt_int(self, prepared: _Prepared, a: int, b: int) -> tuple[int, int]:
        """Run the ten rounds of Algorithm 8 on NUM(A) and NUM(B)."""
        layout = prepared.layout
        if layout.one_block:
            return self._decrypt_one_block(prepared, a, b)
        for const, modulus in reversed(layout.rounds):
            # Algorithm 8, step 6, i-iv: as in encryption, but Q contains NUM(A).
            y = self._round_value(layout, prepared.state, prepared.tail | const | a)
            # Step 6, vi-ix: C = (NUM(B) - y) mod radix**m, B = A, A = C.
            a, b = (b - y) % modulus, a
        return a, b

    def _split(
        self, numerals: Sequence[int], tweak: bytes
    ) -> tuple[_Prepared, int, int]:
        """Check a numeral string and return its rounds, NUM(A) and NUM(B)."""
        prepared = self._prepare(len(numerals), tweak, "numerals")
        check_numerals(numerals, self._radix, "numerals")

        # Algorithm 7, step 2: A is the first u numerals, B the rest.
        u = prepared.layout.u
        a = numerals_to_int(numerals[:u], self._radix)
        b = numerals_to_int(numerals[u:], self._radix)
        if type(a) is not int or type(b) is not int:
            check_each_numeral(numerals, self._radix, "numerals")
        return prepared, a, b

    def _join(self, layout: _Layout, a: int, b: int) -> list[int]:
        """Return STR^u(A) || STR^v(B) (Algorithm 7, step 7)."""
        numerals = int_to_numerals(a, self._radix, layout.u)
        numerals += int_to_numerals(b, self._radix, layout.v)
        return numerals

    def _new_prepared(self, length: int, tweak: bytes, parameter: str) -> _Prepared:
        """Chain the tweak's constant blocks for a length, and cache the result."""
        layout = self._layouts.get((length, len(tweak)))
        if layout is None:
            layout = self._new_layout(length, len(tweak), parameter)

        state, tail = self._chain_constant_blocks(layout, tweak)
        prepared = _Prepared(layout, state, tail)
        if len(self._prepared) >= _PREPARED_CACHE_SIZE:
            self._prepared.clear()
        self._prepared[(length, tweak)] = prepared
        return prepared

    def _new_layout(self, length: int, tweak_length: int, parameter: str) -> _Layout:
        """Check the length and tweak length, then build and cache their layout."""
        check_length(length, self._radix, MAX_LENGTH, parameter, "FF1")
        if tweak_length > self._max_tweak_length:
            raise ValueError(
                f"tweak: length {tweak_length} bytes exceeds max_tweak_length "
                f"{self._max_tweak_length}"
            )

        # Algorithm 7, step 5: P = [1]^1 || [2]^1 || [1]^1 || [radix]^3 ||
        # [10]^1 || [u mod 256]^1 || [n]^4 || [t]^4.
        p_block = (
            bytes((1, 2, 1))
            + self._radix.to_bytes(3, "big")
            + bytes((_ROUNDS, (length // 2) % 256))
            + length.to_bytes(4, "big")
            + tweak_length.to_bytes(4, "big")
        )
        p_state = int.from_bytes(self._ecb.update(p_block), "big")

        if len(self._layouts) >= _LAYOUT_CACHE_SIZE:
            self._layouts.clear()
        layout = _Layout(self._radix, length, tweak_length, p_state)
        self._layouts[(length, tweak_length)] = layout
        return layout

    def _encrypt_one_block(
        self, prepared: _Prepared, a: int, b: int
    ) -> tuple[int, int]:
        """Run Algorithm 7, step 6 when Q's tail is one block and d <= 16."""
        update = self._ecb.update
        from_bytes = int.from_bytes
        y_shift = prepared.layout.y_shift
        for base, modulus in prepared.one_block_rounds:
            # Step 6, i-iv: R = PRF(P || Q) and y = NUM(first d bytes of R).
            y = from_bytes(update((base ^ b).to_bytes(_BLOCK, "big")), "big") >> y_shift
            # Step 6, vi-ix: C = (NUM(A) + y) mod radix**m, A = B, B = C.
            a, b = b, (a + y) % modulus
        return a, b

    def _decrypt_one_block(
        self, prepared: _Prepared, a: int, b: int
    ) -> tuple[int, int]:
        """Run Algorithm 8, step 6 when Q's tail is one block and d <= 16."""
        update = self._ecb.update
        from_bytes = int.from_bytes
        y_shift = prepared.layout.y_shift
        for base, modulus in reversed(prepared.one_block_rounds):
            # Algorithm 8, step 6, i-iv: Q contains NUM(A).
            y = from_bytes(update((base ^ a).to_bytes(_BLOCK, "big")), "big") >> y_shift
            # Step 6, vi-ix: C = (NUM(B) - y) mod radix**m, B = A, A = C.
            a, b = (b - y) % modulus, a
        return a, b

    def _chain_constant_blocks(self, layout: _Layout, tweak: bytes) -> tuple[int, int]:
        """Chain the whole blocks of T || [0]^pad after P.

        Returns the CBC-MAC state and the remaining constant bytes of Q,
        shifted to their place in the tail.
        """
        constant = tweak + bytes(layout.pad)
        whole = len(constant) - len(constant) % _BLOCK
        state = layout.p_state
        for offset in range(0, whole, _BLOCK):
            block = int.from_bytes(constant[offset : offset + _BLOCK], "big")
            state = self._cipher_int(state ^ block)
        rest = int.from_bytes(constant[whole:], "big")
        return state, rest << (8 * (layout.b + 1))

    def _round_value(self, layout: _Layout, state: int, tail: int) -> int:
        """Return y = NUM(S) for one round (Algorithm 7, step 6, ii-iv)."""
        # Step 6.ii: R = PRF(P || Q), continuing the CBC-MAC over the tail.
        tail_bytes = tail.to_bytes(layout.tail_length, "big")
        for offset in range(0, layout.tail_length, _BLOCK):
            block = int.from_bytes(tail_bytes[offset : offset + _BLOCK], "big")
            state = self._cipher_int(state ^ block)
        if layout.extra_blocks == 0:
            return state >> layout.y_shift

        # Step 6.iii: S = R || CIPH(R xor [1]^16) || ... , cut to d bytes.
        extension = b"".join(
            (state ^ j).to_bytes(_BLOCK, "big")
            for j in range(1, layout.extra_blocks + 1)
        )
        s = state.to_bytes(_BLOCK, "big") + self._ecb.update(extension)
        return int.from_bytes(s[: layout.d], "big")

    def _cipher_int(self, block: int) -> int:
        """Return CIPH_K of one block given and returned as an int."""
        return int.from_bytes(self._ecb.update(block.to_bytes(_BLOCK, "big")), "big")


class AlphabetFF1(AlphabetCipher):
    """FF1 over strings whose characters come from `alphabet` (radix = len).

    Each alphabet entry is one code point, and characters outside the Basic
    Multilingual Plane are allowed. The numeral of a character is its
    position in the alphabet.
    """

    __slots__ = ("_ff1",)

    def __init__(self, key: bytes, alphabet: str | Sequence[str]) -> None:
        """Create an FF1 cipher over an alphabet.

        Args:
            key: The AES key: 16, 24 or 32 bytes.
            alphabet: 2 to 65536 distinct characters, each one code point,
                as a str or a sequence of one-character strs.

        Raises:
            ValueError: The key length is invalid, or the alphabet has a bad
                size, a duplicate character or an entry longer than one code
                point.
            TypeError: The key is not bytes or an entry is not a str.
        """
        self._alphabet = Alphabet(alphabet)
        self._ff1 = FF1(key, self._alphabet.radix)

    def min_length(self) -> int:
        """Return the smallest length n >= 2 with radix**n >= 1,000,000."""
        return self._ff1.min_length()

    def encrypt(self, text: str, tweak: bytes = b"") -> str:
        """Encrypt `text` to a string of the same length and alphabet.

        Raises:
            ValueError: The length, a character or the tweak length is
                invalid. The message names the position and the alphabet
                size, never the character.
            TypeError: The text is not a str or the tweak is not bytes.
        """
        prepared, a, b = self._split(text, tweak)
        a, b = self._ff1._encrypt_int(prepared, a, b)
        return self._join(prepared.layout, a, b)

    def decrypt(self, text: str, tweak: bytes = b"") -> str:
        """Decrypt `text` that `encrypt` produced with the same key and tweak.

        Raises:
            ValueError: The length, a character or the tweak length is invalid.
            TypeError: The text is not a str or the tweak is not bytes.
        """
        prepared, a, b = self._split(text, tweak)
        a, b = self._ff1._decrypt_int(prepared, a, b)
        return self._join(prepared.layout, a, b)

    def _split(self, text: str, tweak: bytes) -> tuple[_Prepared, int, int]:
        """Check `text` and return its rounds, NUM(A) and NUM(B)."""
        check_text(text, "text")
        prepared = self._ff1._prepare(len(text), tweak, "text")
        u = prepared.layout.u
        if self._alphabet.is_decimal and _is_ascii_digits(text):
            return prepared, int(text[:u]), int(text[u:])
        numerals = self._alphabet.to_numerals(text, "text")
        radix = self._alphabet.radix
        a = numerals_to_int(numerals[:u], radix)
        b = numerals_to_int(numerals[u:], radix)
        return prepared, a, b

    def _join(self, layout: _Layout, a: int, b: int) -> str:
        """Return STR^u(A) || STR^v(B) as characters of the alphabet."""
        if self._alphabet.is_decimal and layout.v <= _DECIMAL_SHORTCUT_MAX_LENGTH:
            return "%0*d%0*d" % (layout.u, a, layout.v, b)  # noqa: UP031 - faster than an f-string
        radix = self._alphabet.radix
        numerals = int_to_numerals(a, radix, layout.u)
        numerals += int_to_numerals(b, radix, layout.v)
        return self._alphabet.to_text(numerals)


def _is_ascii_digits(text: str) -> bool:
    """Return True when `text` is short enough for int() and only has 0-9."""
    # isdigit() alone also accepts other scripts' digits and superscripts.
    return (
        len(text) <= _DECIMAL_SHORTCUT_MAX_LENGTH and text.isascii() and text.isdigit()
    )


def _check_max_tweak_length(max_tweak_length: int) -> None:
    """Raise unless `max_tweak_length` fits the four bytes that encode it in P."""
    if not isinstance(max_tweak_length, int) or isinstance(max_tweak_length, bool):
        raise TypeError(
            f"max_tweak_length: must be an int, got {type(max_tweak_length).__name__}"
        )
    if not 0 <= max_tweak_length <= MAX_TWEAK_LENGTH:
        raise ValueError(
            f"max_tweak_length: must be between 0 and {MAX_TWEAK_LENGTH} bytes "
            f"(SP 800-38G encodes the tweak length in four bytes), "
            f"got {max_tweak_length}"
        )
