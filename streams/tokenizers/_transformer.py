"""The field transformer shared by every PII type.

A PII type supplies a `Codec` that splits a value into its kept parts and
secret `Segment` values. The `Transformer` runs the configured action on
those segments: FF1 (or FF3-1 where the policy opts in) for ``tokenize``,
HMAC for ``pseudonymize``. The actions ``mask``, ``redact``, ``pass`` and
``block`` work the same for every type.

The outputs of ``tokenize`` and ``pseudonymize`` go through a bounded
`TokenCache`, so a repeated value skips the cipher.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from streams.errors import BlockedRecordError, InvalidValueError, NotReversibleError
from streams.tokenizers import _engine
from streams.tokenizers._cache import DEFAULT_CACHE_SIZE, TokenCache
from streams.tokenizers.base import LeafType, Transformed

if TYPE_CHECKING:
    from streams.keys import KeyVersion

SMALL_DOMAIN_CHOICES = ("pseudonymize", "reject")
KEYED_ACTIONS = frozenset({"tokenize", "pseudonymize"})


@dataclass(frozen=True)
class Segment:
    """One secret part of a value, as FF1 numerals.

    Attributes:
        part: A short name such as ``body``, used in the tweak.
        domain: The radix of each numeral.
        numerals: The numerals of the value (or token).
        tweak: The FF1 tweak, built with `_engine.make_tweak`.
        accept: A cycle-walking predicate, or None for the whole domain.
    """

    part: str
    domain: _engine.Domain
    numerals: Sequence[int]
    tweak: bytes
    accept: _engine.Accept | None = None


@dataclass(frozen=True)
class Split:
    """A value cut into secret segments and a function to put it together.

    Attributes:
        segments: The secret segments, in a fixed order.
        rebuild: Builds a value from new numerals, one list per segment.
        canonical: The whole value as bytes, the HMAC input of pseudonyms.
    """

    segments: tuple[Segment, ...]
    rebuild: Callable[[list[list[int]]], Any]
    canonical: bytes


class Codec(Protocol):
    """The format of one PII type."""

    def split(self, value: Any) -> Split:
        """Cut a value (or a token of this codec) into segments.

        Raises:
            InvalidValueError: The value does not match the format.
        """


Generalizer = Callable[[Any], Any]


@dataclass(frozen=True)
class Transformer:
    """A `FieldTransformer` built by `streams.tokenizers.resolve`.

    Attributes:
        pii_type: The PII type.
        action: The configured action.
        leaf: The Avro type of the field.
        codec: The format, for ``tokenize`` and ``pseudonymize``.
        small_domain: What to do when a value's domain is below 1,000,000:
            ``pseudonymize`` or ``reject``.
        keep_first: Characters kept at the start by ``mask``.
        keep_last: Characters kept at the end by ``mask``.
        mask_char: The replacement character of ``mask``.
        generalizer: The function of ``generalize``.
        cipher: The cipher of ``tokenize``: ``ff1`` or ``ff3-1``. FF3-1 is
            for compatibility only, because NIST's 2025 draft revision of
            SP 800-38G withdraws it.
        cache_size: Outputs of keyed actions cached per key version; 0
            disables the cache.

    NOTE: the token cache is not thread-safe. A transformer may be shared
    between records, but not between threads.
    """

    pii_type: str
    action: str
    leaf: LeafType
    codec: Codec | None = None
    small_domain: str = "pseudonymize"
    keep_first: int = 0
    keep_last: int = 0
    mask_char: str = "*"
    generalizer: Generalizer | None = None
    cipher: str = "ff1"
    cache_size: int = DEFAULT_CACHE_SIZE
    _cache: TokenCache = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The dataclass is frozen, so the cache is set once here.
        object.__setattr__(self, "_cache", TokenCache(self.cache_size))

    @property
    def uses_key(self) -> bool:
        """True when the output depends on key material."""
        return self.action in KEYED_ACTIONS

    @property
    def token_cache(self) -> TokenCache:
        """The cache of ``tokenize`` and ``pseudonymize`` outputs."""
        return self._cache

    def apply(self, value: Any, key: KeyVersion) -> Transformed:
        """Transform one non-null value with the configured action."""
        if self.action in KEYED_ACTIONS:
            return self._keyed(value, key)
        if self.action == "generalize":
            return Transformed(self._generalizer()(value), "generalize")
        if self.action == "mask":
            return Transformed(self._mask(value), "mask")
        if self.action == "redact":
            return Transformed(self._redacted(), "redact")
        if self.action == "block":
            raise BlockedRecordError(
                "mask.blocked",
                f"the policy blocks records with a {self.pii_type} value",
            )
        return Transformed(value, "pass")

    def reverse(self, token: Any, key: KeyVersion) -> Any:
        """Return the original of a token made by `apply`."""
        if self.action == "pass":
            return token
        if self.action != "tokenize":
            raise NotReversibleError(
                f"{self.pii_type} values under action {self.action!r} cannot be "
                "reversed; only 'tokenize' and 'pass' can"
            )
        split = self._codec().split(token)
        if any(segment.domain.is_small for segment in split.segments):
            raise NotReversibleError(
                f"this {self.pii_type} token is shorter than the FF1 minimum, "
                "so it was pseudonymized and cannot be reversed"
            )
        plain = [
            _engine.decrypt(key, s.domain, s.numerals, s.tweak, s.accept, self.cipher)
            for s in split.segments
        ]
        return split.rebuild(plain)

    def _keyed(self, value: Any, key: KeyVersion) -> Transformed:
        """Run ``tokenize`` or ``pseudonymize`` through the token cache."""
        cached = self._cache.get(key, value)
        if cached is not None:
            return cached
        if self.action == "tokenize":
            result = self._tokenize(value, key)
        else:
            split = self._codec().split(value)
            result = Transformed(_pseudonymize(split, key), "pseudonymize")
        self._cache.put(key, value, result)
        return result

    def _tokenize(self, value: Any, key: KeyVersion) -> Transformed:
        """Encrypt every segment, or apply the small-domain fallback."""
        split = self._codec().split(value)
        if any(segment.domain.is_small for segment in split.segments):
            if self.small_domain == "reject":
                raise InvalidValueError(
                    f"the {self.pii_type} value is too short for FF1 (fewer than "
                    f"{_engine.MIN_DOMAIN_SIZE} possible values) and the "
                    "small_domain option is 'reject'",
                    reason="mask.domain_too_small",
                )
            return Transformed(_pseudonymize(split, key), "pseudonymize")
        tokens = [
            _engine.encrypt(key, s.domain, s.numerals, s.tweak, s.accept, self.cipher)
            for s in split.segments
        ]
        return Transformed(split.rebuild(tokens), "tokenize")

    def _mask(self, value: Any) -> str:
        """Replace all but the first and last characters kept by the policy."""
        if not isinstance(value, str):
            raise InvalidValueError(
                f"mask needs a string for {self.pii_type}, got {type(value).__name__}"
            )
        length = len(value)
        head = min(self.keep_first, length)
        tail = min(self.keep_last, length - head)
        middle = self.mask_char * (length - head - tail)
        return value[:head] + middle + value[length - tail :]

    def _redacted(self) -> Any:
        """Return null, or the empty value of a non-nullable field."""
        if self.leaf.nullable:
            return None
        return b"" if self.leaf.avro_type == "bytes" else ""

    def _codec(self) -> Codec:
        """Return the codec, which `resolve` sets for keyed actions."""
        if self.codec is None:
            raise NotReversibleError(f"{self.pii_type} has no format codec")
        return self.codec

    def _generalizer(self) -> Generalizer:
        """Return the generalizer, which `resolve` sets for ``generalize``."""
        if self.generalizer is None:
            raise NotReversibleError(f"{self.pii_type} cannot be generalized")
        return self.generalizer


def _pseudonymize(split: Split, key: KeyVersion) -> Any:
    """Replace each segment with HMAC-derived numerals of the same domain."""
    numerals = [
        _engine.pseudonymize(key, s.domain, split.canonical, s.tweak.hex(), s.accept)
        for s in split.segments
    ]
    return split.rebuild(numerals)
