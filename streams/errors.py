"""Exceptions raised by Seawall.

Every exception derives from `SeawallError`:

- `ConfigError`: the configuration file or a command-line option is invalid.
  Raised once, at start, naming each bad key.
- `SchemaError`: a schema cannot be masked as tagged (unknown PII type, a tag
  on an Avro type the action cannot handle, a malformed schema). Raised when
  the worker starts or when `seawall schema check` runs.
- `KeyringError`: a keyring file or key source is missing, unreadable or
  invalid. Never carries key material.
- `RecordError`: one record cannot be handled safely. The worker sends the
  record to the dead-letter topic with `reason` as a header and goes on.
  Subclasses:
  - `DecodeError`: the value is not a decodable Avro record.
  - `InvalidValueError`: a tagged value does not match its type's format.
  - `BlockedRecordError`: the policy blocks the record.
- `NotReversibleError`: detokenization was requested for an action that
  cannot be reversed.

Messages name field paths, positions, rules and ids. They never contain a
record value or key material.
"""

from __future__ import annotations


class SeawallError(Exception):
    """Base class of every error Seawall raises."""


class ConfigError(SeawallError):
    """The configuration is invalid."""


class SchemaError(SeawallError):
    """A schema cannot be masked as tagged."""


class KeyringError(SeawallError):
    """A keyring or key source is missing or invalid."""


class NotReversibleError(SeawallError):
    """The transformation of a value cannot be reversed."""


class RecordError(SeawallError):
    """One record cannot be handled safely.

    Attributes:
        reason: A short machine-readable code, such as ``decode.bad_marker``.
            It goes into the dead-letter header, the audit event and metric
            labels, so it must come from a bounded set and hold no data.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class DecodeError(RecordError):
    """The record value cannot be decoded."""


class InvalidValueError(RecordError):
    """A tagged value does not match the format of its PII type.

    Attributes:
        path: The field path, such as ``contacts[].mobile``, when known.
        rule: The format rule that failed, in words.
    """

    def __init__(self, rule: str, *, path: str = "", reason: str = "") -> None:
        self.path = path
        self.rule = rule
        where = f"field {path!r}: " if path else ""
        super().__init__(
            reason or "mask.invalid_value",
            f"{where}{rule}",
        )

    def at(self, path: str) -> InvalidValueError:
        """Return a copy of this error that names the field path."""
        return InvalidValueError(self.rule, path=path, reason=self.reason)


class BlockedRecordError(RecordError):
    """The policy blocks records with a value in this field."""
