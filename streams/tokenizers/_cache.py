"""A bounded least-recently-used cache of one transformer's outputs.

Repeated values are common in a stream (the same customer in many orders),
and `tokenize` and `pseudonymize` give equal outputs for equal inputs under
one key version. The cache maps an input value to its `Transformed` output,
so a repeated value skips FF1 or HMAC.

Entries are kept per key version, found by identity, so two key versions
with the same id and number (two keyrings) never share entries. The cache
is not thread-safe: the worker masks on one event loop thread.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from streams.tokenizers.base import Transformed

if TYPE_CHECKING:
    from streams.keys import KeyVersion

DEFAULT_CACHE_SIZE = 65_536
"""Entries per transformer and key version unless the option ``cache_size``
sets another number."""

MAX_CACHE_SIZE = 1_048_576
"""The largest accepted ``cache_size``."""

MAX_KEY_VERSIONS = 2
"""Key versions with entries per transformer: the active one and one more,
such as the previous version during a rotation."""

_Entries = OrderedDict[Any, Transformed]


class TokenCache:
    """Outputs of one transformer by input value, per key version.

    Args:
        max_entries: Entries per key version; 0 disables the cache.
    """

    __slots__ = ("_max_entries", "_versions")

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._versions: list[tuple[KeyVersion, _Entries]] = []

    @property
    def max_entries(self) -> int:
        """The number of entries kept per key version."""
        return self._max_entries

    def get(self, key: KeyVersion, value: Any) -> Transformed | None:
        """Return the cached output of `value` under `key`, or None."""
        if not self._max_entries or not _cacheable(value):
            return None
        entries = self._entries(key)
        found = entries.get(value)
        if found is not None:
            entries.move_to_end(value)
        return found

    def put(self, key: KeyVersion, value: Any, output: Transformed) -> None:
        """Store the output of `value`, evicting the least recently used entry."""
        if not self._max_entries or not _cacheable(value):
            return
        entries = self._entries(key)
        entries[value] = output
        if len(entries) > self._max_entries:
            entries.popitem(last=False)

    def __len__(self) -> int:
        return sum(len(entries) for _, entries in self._versions)

    def __repr__(self) -> str:
        # Entries hold personal data and its tokens, so only counts are shown.
        return f"TokenCache({len(self)} entries, max {self._max_entries} per version)"

    __str__ = __repr__

    def _entries(self, key: KeyVersion) -> _Entries:
        """Return the entries of `key`, most recently used version first."""
        versions = self._versions
        if versions and versions[0][0] is key:
            return versions[0][1]
        for index, (version, entries) in enumerate(versions):
            if version is key:
                versions.insert(0, versions.pop(index))
                return entries
        entries = OrderedDict()
        versions.insert(0, (key, entries))
        del versions[MAX_KEY_VERSIONS:]
        return entries


def _cacheable(value: Any) -> bool:
    """Return True for the value types the cache takes: str and int.

    Exact types only, because ``True == 1`` and a bool must still reach the
    codec, which rejects it.
    """
    return type(value) is str or type(value) is int
