"""Re-identification: reverse tokens for an operator, and audit every call.

Tokens are still personal information under PIPL (art. 4, art. 73), and
reversing them needs a purpose. Each ``seawall detokenize`` call therefore
writes one ``seawall.audit.ReidentificationEvent`` (`streams.reidentify.events`)
before it shows anything. The event never contains a value or a token.
`streams.reidentify.sinks` writes it to the audit topic or to a local log
file, and `streams.reidentify.records` reverses the tokens.
"""

from streams.reidentify.events import (
    AuditWriteError,
    Operator,
    RecordCoordinates,
    ReidentificationError,
    Reidentified,
    Request,
    Result,
    build_event,
    check_reason,
    encode_event,
    event_schema,
)
from streams.reidentify.records import (
    FetchedRecord,
    fetch_record,
    record_json,
    restore_record,
    reverse_values,
)
from streams.reidentify.sinks import (
    DEFAULT_TIMEOUT_SECONDS,
    EventSink,
    FileEventSink,
    KafkaEventSink,
    run_audited,
    sink_for,
)

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "AuditWriteError",
    "EventSink",
    "FetchedRecord",
    "FileEventSink",
    "KafkaEventSink",
    "Operator",
    "RecordCoordinates",
    "ReidentificationError",
    "Reidentified",
    "Request",
    "Result",
    "build_event",
    "check_reason",
    "encode_event",
    "event_schema",
    "fetch_record",
    "record_json",
    "restore_record",
    "reverse_values",
    "run_audited",
    "sink_for",
]
