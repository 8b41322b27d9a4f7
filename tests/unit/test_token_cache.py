"""The bounded token cache: hits, eviction, key separation and the option."""

from __future__ import annotations

import pytest

from streams.errors import InvalidValueError, SchemaError
from streams.keys import KeyVersion
from streams.tokenizers import resolve
from streams.tokenizers._cache import (
    DEFAULT_CACHE_SIZE,
    MAX_CACHE_SIZE,
    MAX_KEY_VERSIONS,
    TokenCache,
)
from streams.tokenizers._transformer import Transformer
from streams.tokenizers.base import FieldPolicy, LeafType, Transformed

KEY = KeyVersion.generate("cache-test", 1)
MOBILES = [f"1391234{n:04d}" for n in range(40)]


def mobile(cache_size: int | None = None, action: str | None = None) -> Transformer:
    """Resolve a cn_mobile transformer with an optional cache size."""
    options = {} if cache_size is None else {"cache_size": cache_size}
    transformer = resolve(
        "cn_mobile", LeafType("string"), FieldPolicy(action=action, options=options)
    )
    assert isinstance(transformer, Transformer)
    return transformer


def test_cache_default_size() -> None:
    assert mobile().token_cache.max_entries == DEFAULT_CACHE_SIZE


def test_cache_hit_returns_stored_output() -> None:
    transformer = mobile()
    first = transformer.apply(MOBILES[0], KEY)
    assert transformer.apply(MOBILES[0], KEY) is first


def test_cache_disabled_computes_again() -> None:
    transformer = mobile(cache_size=0)
    first = transformer.apply(MOBILES[0], KEY)
    second = transformer.apply(MOBILES[0], KEY)
    assert second == first
    assert second is not first
    assert len(transformer.token_cache) == 0


def test_cached_outputs_equal_uncached() -> None:
    cached, uncached = mobile(), mobile(cache_size=0)
    for value in MOBILES + MOBILES:
        assert cached.apply(value, KEY) == uncached.apply(value, KEY)


def test_cache_is_bounded() -> None:
    transformer = mobile(cache_size=16)
    for value in MOBILES:
        transformer.apply(value, KEY)
    assert len(transformer.token_cache) == 16


def test_cache_evicts_least_recently_used() -> None:
    transformer = mobile(cache_size=2)
    first = transformer.apply(MOBILES[0], KEY)
    transformer.apply(MOBILES[1], KEY)
    assert transformer.apply(MOBILES[0], KEY) is first  # now most recent
    transformer.apply(MOBILES[2], KEY)  # evicts MOBILES[1]
    assert transformer.apply(MOBILES[0], KEY) is first
    second = transformer.token_cache.get(KEY, MOBILES[1])
    assert second is None


def test_cache_separates_equal_key_labels() -> None:
    # Two keyrings can hold a version with the same id and number.
    other = KeyVersion.generate("cache-test", 1)
    transformer = mobile()
    ours = transformer.apply(MOBILES[0], KEY)
    theirs = transformer.apply(MOBILES[0], other)
    assert theirs == mobile(cache_size=0).apply(MOBILES[0], other)
    assert theirs != ours


def test_cache_keeps_few_key_versions() -> None:
    transformer = mobile(cache_size=8)
    versions = [KeyVersion.generate("cache-test", n) for n in range(1, 5)]
    for version in versions:
        for value in MOBILES[:8]:
            transformer.apply(value, version)
    assert len(transformer.token_cache) == 8 * MAX_KEY_VERSIONS
    assert transformer.token_cache.get(versions[0], MOBILES[0]) is None
    assert transformer.token_cache.get(versions[-1], MOBILES[0]) is not None


def test_cache_skips_invalid_values() -> None:
    transformer = mobile()
    for _ in range(2):
        with pytest.raises(InvalidValueError):
            transformer.apply("2391234000", KEY)
    assert len(transformer.token_cache) == 0


def test_cache_keeps_bool_apart_from_int() -> None:
    transformer = resolve("identifier", LeafType("long"), FieldPolicy())
    transformer.apply(1234567, KEY)
    transformer.apply(1, KEY)
    with pytest.raises(InvalidValueError):
        transformer.apply(True, KEY)


def test_cache_holds_pseudonyms() -> None:
    transformer = mobile(action="pseudonymize")
    first = transformer.apply(MOBILES[0], KEY)
    assert first.action == "pseudonymize"
    assert transformer.apply(MOBILES[0], KEY) is first


def test_cache_ignores_unkeyed_actions() -> None:
    transformer = mobile(action="mask")
    transformer.apply(MOBILES[0], KEY)
    assert len(transformer.token_cache) == 0


def test_cache_repr_hides_values() -> None:
    cache = TokenCache(4)
    cache.put(KEY, MOBILES[0], Transformed("13900000000", "tokenize"))
    for text in (repr(cache), str(cache)):
        assert MOBILES[0] not in text
        assert "13900000000" not in text
        assert "1 entries" in text


@pytest.mark.parametrize("size", [-1, MAX_CACHE_SIZE + 1, "1000", True, 1.5], ids=repr)
def test_cache_size_option_rejected(size: object) -> None:
    with pytest.raises(SchemaError, match="cache_size"):
        mobile(cache_size=size)  # type: ignore[arg-type]  # invalid on purpose
