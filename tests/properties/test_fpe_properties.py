"""Properties of FF1 and FF3-1 on random keys, tweaks and inputs.

Radix 10 and 36 cover digits and alphanumerics. Radix 8105 is the size of the
Table of General Standard Chinese Characters, and its alphabet here mixes
Basic Multilingual Plane code points with code points beyond U+FFFF.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.fpe import FF1, FF3_1, AlphabetFF1, AlphabetFF3_1

# 7,909 code points from U+4E00 and 196 from U+20000: 8,105 in all.
CJK_ALPHABET = "".join(chr(code) for code in range(0x4E00, 0x4E00 + 7909)) + "".join(
    chr(code) for code in range(0x20000, 0x20000 + 196)
)
ALPHABETS = {
    10: "0123456789",
    36: "0123456789abcdefghijklmnopqrstuvwxyz",
    8105: CJK_ALPHABET,
}
# Maximum input length drawn per radix, long enough to reach the multi-block
# paths of FF1 (b > 12).
LONGEST = {10: 80, 36: 50, 8105: 24}

keys = st.sampled_from([16, 24, 32]).flatmap(
    lambda size: st.binary(min_size=size, max_size=size)
)
tweaks = st.binary(max_size=48)
radixes = st.sampled_from(sorted(ALPHABETS))


@st.composite
def ff1_cases(draw: st.DrawFn) -> tuple[int, list[int]]:
    """Draw a radix and a numeral string of an allowed length."""
    radix = draw(radixes)
    shortest = FF1(bytes(16), radix).min_length()
    length = draw(st.integers(min_value=shortest, max_value=LONGEST[radix]))
    numerals = draw(
        st.lists(st.integers(0, radix - 1), min_size=length, max_size=length)
    )
    return radix, numerals


@st.composite
def alphabet_cases(draw: st.DrawFn) -> tuple[str, str]:
    """Draw an alphabet and a text of an allowed length over it."""
    radix, numerals = draw(ff1_cases())
    alphabet = ALPHABETS[radix]
    return alphabet, "".join(alphabet[numeral] for numeral in numerals)


@settings(deadline=None)
@given(keys, tweaks, ff1_cases())
def test_ff1_round_trip(key: bytes, tweak: bytes, case: tuple[int, list[int]]) -> None:
    radix, plaintext = case
    cipher = FF1(key, radix)
    assert cipher.decrypt(cipher.encrypt(plaintext, tweak), tweak) == plaintext


@settings(deadline=None)
@given(keys, tweaks, ff1_cases())
def test_ff1_keeps_length_and_radix(
    key: bytes, tweak: bytes, case: tuple[int, list[int]]
) -> None:
    radix, plaintext = case
    ciphertext = FF1(key, radix).encrypt(plaintext, tweak)
    assert len(ciphertext) == len(plaintext)
    assert all(0 <= numeral < radix for numeral in ciphertext)


@settings(deadline=None)
@given(keys, tweaks, alphabet_cases())
def test_alphabet_ff1_round_trip_keeps_alphabet(
    key: bytes, tweak: bytes, case: tuple[str, str]
) -> None:
    alphabet, plaintext = case
    cipher = AlphabetFF1(key, alphabet)
    ciphertext = cipher.encrypt(plaintext, tweak)
    assert len(ciphertext) == len(plaintext)
    assert set(ciphertext) <= set(alphabet)
    assert cipher.decrypt(ciphertext, tweak) == plaintext


@settings(deadline=None)
@given(keys, tweaks, alphabet_cases())
def test_alphabet_ff1_is_deterministic(
    key: bytes, tweak: bytes, case: tuple[str, str]
) -> None:
    alphabet, plaintext = case
    first = AlphabetFF1(key, alphabet).encrypt(plaintext, tweak)
    # A second instance rebuilds every cache from the key.
    second = AlphabetFF1(key, alphabet).encrypt(plaintext, tweak)
    repeated = AlphabetFF1(key, alphabet)
    repeated.encrypt(plaintext, tweak)
    assert first == second
    assert repeated.encrypt(plaintext, tweak) == first


@settings(deadline=None, max_examples=40)
@given(keys, alphabet_cases())
def test_alphabet_ff1_separates_tweaks(key: bytes, case: tuple[str, str]) -> None:
    alphabet, plaintext = case
    cipher = AlphabetFF1(key, alphabet)
    ciphertexts = {
        cipher.encrypt(plaintext, b"field-%d" % index) for index in range(50)
    }
    # The domain has at least 10**6 values, so 50 tweaks collide with
    # probability about 0.001. Two collisions are allowed.
    assert len(ciphertexts) >= 48


@settings(deadline=None, max_examples=40)
@given(tweaks, alphabet_cases())
def test_alphabet_ff1_separates_keys(tweak: bytes, case: tuple[str, str]) -> None:
    alphabet, plaintext = case
    ciphertexts = {
        AlphabetFF1(bytes([index]) * 16, alphabet).encrypt(plaintext, tweak)
        for index in range(30)
    }
    assert len(ciphertexts) >= 28


@st.composite
def ff3_1_cases(draw: st.DrawFn) -> tuple[str, str]:
    """Draw an alphabet and a text of a length FF3-1 allows."""
    radix = draw(radixes)
    alphabet = ALPHABETS[radix]
    cipher = FF3_1(bytes(16), radix)
    length = draw(st.integers(cipher.min_length(), cipher.max_length()))
    text = draw(
        st.text(alphabet=st.sampled_from(alphabet), min_size=length, max_size=length)
    )
    return alphabet, text


@settings(deadline=None)
@given(keys, st.binary(min_size=7, max_size=7), ff3_1_cases())
def test_ff3_1_round_trip_keeps_alphabet(
    key: bytes, tweak: bytes, case: tuple[str, str]
) -> None:
    alphabet, plaintext = case
    cipher = AlphabetFF3_1(key, alphabet)
    ciphertext = cipher.encrypt(plaintext, tweak)
    assert len(ciphertext) == len(plaintext)
    assert set(ciphertext) <= set(alphabet)
    assert cipher.decrypt(ciphertext, tweak) == plaintext
