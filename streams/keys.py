"""Keyrings: versioned AES keys for tokens and HMAC pseudonyms.

A `Keyring` has one key id and one or more `KeyVersion` entries, one of them
active. New tokens use the active version, and each audit event records the
version, so older tokens stay reversible after a rotation.

Each version contains 32 random bytes. Two subkeys are derived from them with
HKDF-SHA256 (RFC 5869), one per purpose, so that a token key never doubles
as a pseudonym key:

- ``info = b"seawall ff1 v1"``: the AES-256 key for FF1.
- ``info = b"seawall pseudonym v1"``: the HMAC-SHA256 key for pseudonyms.

The salt of both is ``"<key_id>/<version>"`` in UTF-8.

The keyring file is JSON::

    {"key_id": "pii-main", "active_version": 2,
     "versions": [{"version": 1, "material": "<base64>",
                   "created": "2026-01-05T08:00:00Z"}, ...]}

It must be readable by its owner only (mode 0600 or stricter).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from streams.errors import KeyringError

if TYPE_CHECKING:
    from streams.fpe import FF1, AlphabetFF1

MATERIAL_BYTES = 32
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_FF1_INFO = b"seawall ff1 v1"
_PSEUDONYM_INFO = b"seawall pseudonym v1"
# Cipher instances kept per key version. Types use a handful of radixes and
# alphabets, so 32 entries never evict in practice but still bound memory.
_CIPHER_CACHE_SIZE = 32

_T = TypeVar("_T")


class SecretBytes:
    """Key material whose `repr` and `str` never show the bytes."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = bytes(value)

    def reveal(self) -> bytes:
        """Return the raw bytes. Callers must not log or print them."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretBytes):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(hashlib.sha256(self._value).digest())

    def __repr__(self) -> str:
        return f"SecretBytes(<{len(self._value)} bytes masked>)"

    __str__ = __repr__


class _BoundedCache:
    """A small least-recently-used map from a cache key to a cipher."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._entries: OrderedDict[object, object] = OrderedDict()

    def get(self, cache_key: object, build: Callable[[], _T]) -> _T:
        """Return the cached entry for `cache_key`, building it when absent."""
        if cache_key in self._entries:
            self._entries.move_to_end(cache_key)
            return self._entries[cache_key]  # type: ignore[return-value]  # build() stored a _T under this key
        value = build()
        self._entries[cache_key] = value
        if len(self._entries) > self._max_size:
            self._entries.popitem(last=False)
        return value

    def __repr__(self) -> str:
        return f"_BoundedCache({len(self._entries)} entries)"


def _derive(material: bytes, salt: bytes, info: bytes) -> bytes:
    """Derive a 32-byte subkey with HKDF-SHA256."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info)
    return hkdf.derive(material)


@dataclass(frozen=True)
class KeyVersion:
    """One version of a key, with its derived subkeys and cipher caches.

    Attributes:
        key_id: The keyring's key id, such as ``pii-main``.
        version: The version number, 1 or more.
        material: The 32 random bytes, masked in `repr` and `str`.
        created: When the version was generated, in UTC.
    """

    key_id: str
    version: int
    material: SecretBytes
    created: datetime
    _ff1_key: SecretBytes = field(init=False, repr=False, compare=False)
    _pseudonym_key: SecretBytes = field(init=False, repr=False, compare=False)
    _ciphers: _BoundedCache = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.material) != MATERIAL_BYTES:
            raise KeyringError(
                f"key {self.key_id!r} version {self.version}: material must be "
                f"{MATERIAL_BYTES} bytes, got {len(self.material)}"
            )
        salt = f"{self.key_id}/{self.version}".encode()
        raw = self.material.reveal()
        ff1_key = SecretBytes(_derive(raw, salt, _FF1_INFO))
        pseudonym_key = SecretBytes(_derive(raw, salt, _PSEUDONYM_INFO))
        # The dataclass is frozen, so derived fields are set once here.
        object.__setattr__(self, "_ff1_key", ff1_key)
        object.__setattr__(self, "_pseudonym_key", pseudonym_key)
        object.__setattr__(self, "_ciphers", _BoundedCache(_CIPHER_CACHE_SIZE))

    @classmethod
    def generate(
        cls, key_id: str, version: int, *, created: datetime | None = None
    ) -> KeyVersion:
        """Create a version with fresh random material from `secrets`."""
        return cls(
            key_id=key_id,
            version=version,
            material=SecretBytes(secrets.token_bytes(MATERIAL_BYTES)),
            created=created or datetime.now(UTC).replace(microsecond=0),
        )

    @property
    def label(self) -> str:
        """The id and version, such as ``pii-main/v2``, safe to log."""
        return f"{self.key_id}/v{self.version}"

    def ff1(self, radix: int) -> FF1:
        """Return the FF1 cipher for `radix` under the FF1 subkey, cached."""
        from streams.fpe import FF1

        return self._ciphers.get(
            ("ff1", radix), lambda: FF1(self._ff1_key.reveal(), radix)
        )

    def alphabet_ff1(self, alphabet: str | Sequence[str]) -> AlphabetFF1:
        """Return the FF1 cipher over `alphabet` under the FF1 subkey, cached."""
        from streams.fpe import AlphabetFF1

        symbols = tuple(alphabet)
        return self._ciphers.get(
            ("alphabet", symbols),
            lambda: AlphabetFF1(self._ff1_key.reveal(), symbols),
        )

    def pseudonym(self, data: bytes, context: str) -> bytes:
        """Compute HMAC-SHA256 of `data` under the pseudonym subkey.

        Args:
            data: The bytes to pseudonymize.
            context: Separates uses, such as ``"record-key"`` or
                ``"cn_mobile/body"``. Equal data under different contexts
                gives unrelated outputs.

        Returns:
            The 32-byte MAC.
        """
        label = context.encode()
        message = len(label).to_bytes(2, "big") + label + data
        return hmac.digest(self._pseudonym_key.reveal(), message, "sha256")

    def __str__(self) -> str:
        return f"KeyVersion({self.label})"


@dataclass(frozen=True)
class Keyring:
    """A key id with its versions, one of them active.

    A keyring is immutable: `rotate` returns a new keyring and leaves the
    original unchanged, so a worker can swap rings between records.

    Attributes:
        key_id: The key id, 1 to 64 characters of ``A-Z a-z 0-9 . _ -``.
        versions: The versions, in increasing version order.
        active_version: The version that new tokens use.
    """

    key_id: str
    versions: tuple[KeyVersion, ...]
    active_version: int

    def __post_init__(self) -> None:
        _check_key_id(self.key_id)
        numbers = [v.version for v in self.versions]
        if not numbers:
            raise KeyringError(f"keyring {self.key_id!r} has no versions")
        if len(set(numbers)) != len(numbers):
            raise KeyringError(
                f"keyring {self.key_id!r} lists a version twice: {numbers}"
            )
        for entry in self.versions:
            if entry.key_id != self.key_id:
                raise KeyringError(
                    f"keyring {self.key_id!r} contains version {entry.version} "
                    f"of another key id {entry.key_id!r}; a keyring has one key id"
                )
        if self.active_version not in numbers:
            raise KeyringError(
                f"keyring {self.key_id!r}: active_version {self.active_version} "
                f"is not one of the versions present {sorted(numbers)}"
            )
        object.__setattr__(
            self, "versions", tuple(sorted(self.versions, key=lambda v: v.version))
        )

    @classmethod
    def generate(cls, key_id: str, *, now: datetime | None = None) -> Keyring:
        """Create a keyring with one fresh version, version 1, active."""
        _check_key_id(key_id)
        first = KeyVersion.generate(key_id, 1, created=now)
        return cls(key_id=key_id, versions=(first,), active_version=1)

    @property
    def active(self) -> KeyVersion:
        """The active version."""
        return self.get(self.active_version)

    def get(self, version: int) -> KeyVersion:
        """Return one version.

        Raises:
            KeyringError: The version is not in the keyring. The message
                names the requested version and the versions present.
        """
        for entry in self.versions:
            if entry.version == version:
                return entry
        present = [v.version for v in self.versions]
        raise KeyringError(
            f"keyring {self.key_id!r} has no version {version}; "
            f"versions present: {present}"
        )

    def rotate(self, *, now: datetime | None = None) -> Keyring:
        """Return a new keyring with version n+1 added and active.

        Args:
            now: The creation time of the new version, for tests. Defaults
                to the current UTC time.
        """
        next_version = max(v.version for v in self.versions) + 1
        added = KeyVersion.generate(self.key_id, next_version, created=now)
        return Keyring(
            key_id=self.key_id,
            versions=(*self.versions, added),
            active_version=next_version,
        )

    def to_json(self) -> str:
        """Serialize the keyring, key material included, as JSON text."""
        document = {
            "key_id": self.key_id,
            "active_version": self.active_version,
            "versions": [
                {
                    "version": v.version,
                    "material": base64.b64encode(v.material.reveal()).decode(),
                    "created": _format_time(v.created),
                }
                for v in self.versions
            ],
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "keyring") -> Keyring:
        """Parse keyring JSON text.

        Args:
            text: The JSON document.
            source: Names the origin in error messages, such as a path.

        Raises:
            KeyringError: The text is not valid JSON or a field is missing or
                invalid. The message names the field, never the material.
        """
        try:
            document = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise KeyringError(
                f"{source}: not valid JSON (line {getattr(exc, 'lineno', '?')}); "
                "expected an object with key_id, active_version and versions"
            ) from None
        return _parse_document(document, source)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the keyring to `path` atomically, with mode 0600.

        The JSON goes to a temporary file in the same folder, which is
        flushed to disk and then renamed over `path`.
        """
        target = Path(path)
        fd, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Keyring:
        """Read a keyring file.

        Raises:
            KeyringError: The file is missing, can be read or written by the
                group or others, or is malformed.
        """
        target = Path(path)
        try:
            info = target.stat()
        except FileNotFoundError:
            raise KeyringError(
                f"keyring file {str(target)!r} not found; create one with "
                f"`seawall keys generate --out {target}`"
            ) from None
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyringError(
                f"keyring file {str(target)!r} has mode {mode:04o}, which lets "
                f"the group or other users access it; run `chmod 600 {target}`"
            )
        try:
            text = target.read_bytes()
        except OSError as exc:
            raise KeyringError(
                f"keyring file {str(target)!r} cannot be read: {exc.strerror}"
            ) from None
        return cls.from_json(text, source=str(target))

    @classmethod
    def from_env(cls, var: str, *, environ: Mapping[str, str] | None = None) -> Keyring:
        """Read a keyring from an environment variable.

        The variable contains the keyring JSON itself (text starting with
        ``{``) or the standard base64 encoding of that JSON.

        Raises:
            KeyringError: The variable is unset or empty, or its content is
                not a valid keyring.
        """
        env = os.environ if environ is None else environ
        raw = env.get(var, "").strip()
        if not raw:
            raise KeyringError(
                f"environment variable {var} is unset or empty; set it to the "
                "keyring JSON or its base64 encoding"
            )
        source = f"environment variable {var}"
        if raw.startswith("{"):
            return cls.from_json(raw, source=source)
        try:
            decoded = base64.b64decode(raw, validate=True)
        except binascii.Error:
            raise KeyringError(
                f"{source}: neither JSON nor valid base64 of the keyring JSON"
            ) from None
        return cls.from_json(decoded, source=source)

    def __str__(self) -> str:
        present = [v.version for v in self.versions]
        return (
            f"Keyring({self.key_id!r}, active_version={self.active_version}, "
            f"versions={present})"
        )


def _check_key_id(key_id: object) -> None:
    """Raise KeyringError unless `key_id` matches KEY_ID_PATTERN."""
    if not isinstance(key_id, str) or not KEY_ID_PATTERN.fullmatch(key_id):
        raise KeyringError(
            f"key_id {key_id!r} is invalid: use 1 to 64 characters of "
            "A-Z, a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
        )


def _format_time(moment: datetime) -> str:
    """Format a time as ISO 8601 UTC with a Z suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_document(document: Any, source: str) -> Keyring:
    """Build a Keyring from parsed JSON, naming the first invalid field."""
    if not isinstance(document, dict):
        raise KeyringError(f"{source}: the top level must be a JSON object")
    key_id = _require(document, "key_id", str, source)
    _check_key_id(key_id)
    active = _require(document, "active_version", int, source)
    entries = _require(document, "versions", list, source)
    versions = tuple(
        _parse_version(entry, key_id, f"{source}: versions[{index}]")
        for index, entry in enumerate(entries)
    )
    return Keyring(key_id=key_id, versions=versions, active_version=active)


def _parse_version(entry: Any, key_id: str, where: str) -> KeyVersion:
    """Build one KeyVersion from its JSON object."""
    if not isinstance(entry, dict):
        raise KeyringError(f"{where} must be a JSON object")
    version = _require(entry, "version", int, where)
    if version < 1:
        raise KeyringError(f"{where}.version must be 1 or more, got {version}")
    encoded = _require(entry, "material", str, where)
    try:
        material = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise KeyringError(f"{where}.material is not valid base64") from None
    if len(material) != MATERIAL_BYTES:
        raise KeyringError(
            f"{where}.material must decode to {MATERIAL_BYTES} bytes, "
            f"got {len(material)}"
        )
    created_text = _require(entry, "created", str, where)
    try:
        created = datetime.fromisoformat(created_text)
    except ValueError:
        raise KeyringError(
            f"{where}.created {created_text!r} is not an ISO 8601 time"
        ) from None
    if created.tzinfo is None:
        raise KeyringError(f"{where}.created must carry a UTC offset, such as Z")
    return KeyVersion(key_id, version, SecretBytes(material), created)


def _require(document: dict[str, Any], name: str, kind: type[_T], where: str) -> _T:
    """Return document[name], raising KeyringError if missing or mistyped."""
    if name not in document:
        raise KeyringError(f"{where}: field {name!r} is missing")
    value = document[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KeyringError(
            f"{where}: field {name!r} must be a JSON {_JSON_NAMES[kind]}"
        )
    return value


_JSON_NAMES: dict[type, str] = {
    str: "string",
    int: "integer",
    list: "array",
    dict: "object",
}
