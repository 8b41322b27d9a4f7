"""Re-identification events: who re-identified what, and why, never a value.

One ``seawall.audit.ReidentificationEvent`` per ``seawall detokenize`` call
records the OS user and host, the purpose given with ``--reason``, the PII
type or schema name and a record's coordinates, the number of values, the
key version, and how many values were reversed. The schema ships with the
package (``streams/data/reidentification_event.avsc``) and is linked from
``schemas/seawall/``.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.codec import SchemaEntry, single_object
from streams.errors import ConfigError, SeawallError
from streams.masking import Reversal

SCHEMA_PATH = Path(__file__).parents[1] / "data" / "reidentification_event.avsc"
MAX_REASON_LENGTH = 500


class ReidentificationError(SeawallError):
    """A re-identification request failed before any value was shown."""


class AuditWriteError(ReidentificationError):
    """The re-identification event could not be written."""


@dataclass(frozen=True)
class Operator:
    """The person running a re-identification request.

    Attributes:
        user: The operating-system user, or ``uid=N`` when it has no name.
        host: The host name.
    """

    user: str
    host: str

    @classmethod
    def current(cls) -> Operator:
        """Return the user and host running this process."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            # No login name in the environment and no passwd entry, as in
            # some containers.
            user = f"uid={os.getuid()}"
        return cls(user=user, host=socket.gethostname())


@dataclass(frozen=True)
class RecordCoordinates:
    """The position of a record: ``topic:partition:offset``."""

    topic: str
    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> RecordCoordinates:
        """Parse ``TOPIC:PARTITION:OFFSET``, as the ``seawall.source`` header has.

        Kafka topic names cannot contain a colon, so the first colon ends the
        topic.

        Raises:
            ConfigError: The text is not in that form.
        """
        topic, _, numbers = text.partition(":")
        partition, _, offset = numbers.partition(":")
        if not topic or not partition.isdigit() or not offset.isdigit():
            raise ConfigError(
                f"--record {text!r} is invalid: expected TOPIC:PARTITION:OFFSET "
                "with a non-negative partition and offset, such as xb.crm.orders:0:42"
            )
        return cls(topic, int(partition), int(offset))

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def check_reason(text: str) -> str:
    """Return the stripped purpose of a request.

    Raises:
        ConfigError: The text is empty, only white space, longer than
            `MAX_REASON_LENGTH` characters, or contains a line break.
    """
    reason = text.strip()
    if not reason:
        raise ConfigError(
            "--reason must not be empty: PIPL requires a purpose for processing "
            "personal information, so state why the values are needed"
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise ConfigError(
            f"--reason has {len(reason)} characters; the maximum is "
            f"{MAX_REASON_LENGTH}: give a short purpose and a ticket reference"
        )
    if any(char in reason for char in "\r\n"):
        raise ConfigError("--reason must be one line: remove the line breaks")
    return reason


@dataclass(frozen=True)
class Request:
    """A re-identification request, as its audit event describes it.

    Attributes:
        operator: Who runs it.
        reason: The purpose the operator gave.
        pii_type: The PII type of the tokens of a values request.
        source: The coordinates of a record request.
    """

    operator: Operator
    reason: str
    pii_type: str | None = None
    source: RecordCoordinates | None = None

    @property
    def kind(self) -> str:
        """``record`` for a record request, ``values`` otherwise."""
        return "values" if self.source is None else "record"


@dataclass(frozen=True)
class Result:
    """The outcome of a request, in counts and ids only.

    Attributes:
        value_count: The values asked for.
        succeeded: The values reversed to their originals.
        failed: The values not reversed.
        key_id: The key id used, when one was chosen.
        key_version: The key version used, when one was chosen.
        schema_name: The writer schema of a record request.
        fields: Per field path of a record request, what was reversed.
        error: Why the request failed before any value was shown.
    """

    value_count: int = 0
    succeeded: int = 0
    failed: int = 0
    key_id: str | None = None
    key_version: int | None = None
    schema_name: str | None = None
    fields: tuple[Reversal, ...] = ()
    error: str | None = None


class Reidentified:
    """The output of a request and its `Result`, masked in repr and str.

    Attributes:
        result: The counts and ids for the audit event.
        lines: The lines to print on standard output: original values, or
            the restored record as JSON.
        problems: Messages for standard error, such as a token that does not
            match its format. They never hold a value.
    """

    __slots__ = ("lines", "problems", "result")

    def __init__(
        self, result: Result, lines: Sequence[str], problems: Sequence[str] = ()
    ) -> None:
        self.result = result
        self.lines = tuple(lines)
        self.problems = tuple(problems)

    def __repr__(self) -> str:
        return f"Reidentified({self.result!r}, <{len(self.lines)} lines masked>)"

    __str__ = __repr__


def build_event(
    request: Request, result: Result, *, now_ms: int, event_id: str | None = None
) -> dict[str, Any]:
    """Build the re-identification event of a request.

    Args:
        request: Who asked, why, and for what.
        result: What the request did.
        now_ms: The event time in milliseconds since the Unix epoch.
        event_id: The event id; a random UUID when None.
    """
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_time": now_ms,
        "user": request.operator.user,
        "host": request.operator.host,
        "request": request.kind,
        "pii_type": request.pii_type,
        "schema_name": result.schema_name,
        "source": None if request.source is None else str(request.source),
        "value_count": result.value_count,
        "key_id": result.key_id,
        "key_version": result.key_version,
        "succeeded": result.succeeded,
        "failed": result.failed,
        "fields": [_field_record(entry) for entry in result.fields],
        "reason": request.reason,
        "error": result.error,
    }


def _field_record(entry: Reversal) -> dict[str, Any]:
    """Return one entry of the event's ``fields`` array."""
    return {
        "path": entry.path,
        "pii_type": entry.pii_type,
        "action": entry.action,
        "count": entry.count,
        "restored": entry.restored,
    }


@functools.cache
def event_schema() -> SchemaEntry:
    """Return the ``seawall.audit.ReidentificationEvent`` schema."""
    return SchemaEntry.from_schema(json.loads(SCHEMA_PATH.read_text("utf-8")))


def encode_event(event: Mapping[str, Any]) -> bytes:
    """Encode an event in Avro single-object encoding."""
    return single_object.encode(event_schema(), event)
