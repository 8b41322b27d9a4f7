"""Transformers for each PII type, chosen by `resolve`.

Each PII type names the format of a tagged value. `resolve` checks the
configured action and options against the type and the Avro type of the
field, and returns a `FieldTransformer` that is safe to share between
records.

Actions:
    tokenize: FF1 format-preserving encryption, reversible with the key.
    pseudonymize: HMAC-SHA256 fitted to the format, irreversible.
    mask: Keep ``keep_first`` and ``keep_last`` characters, replace the rest
        with ``mask_char`` (default ``*``).
    redact: Null when the field is nullable, else an empty string or bytes.
    pass: Leave the value as it is.
    block: Raise BlockedRecordError, so the record goes to the dead-letter
        topic.

Options shared by the keyed actions:
    small_domain: ``pseudonymize`` (default) or ``reject``. It applies when a
        value has fewer than 1,000,000 possible values of its format, such as
        a two-letter name, because FF1 is not secure on such a domain.
        ``Transformed.action`` is then ``pseudonymize``.
    cache_size: Outputs kept per key version in the transformer's
        least-recently-used cache, 0 to 1,048,576 (default 65,536; 0
        disables it). A repeated value then skips FF1 or HMAC.

Option of ``tokenize`` for the digit types (`FF3_1_TYPES`):
    cipher: ``ff1`` (default) or ``ff3-1``. FF3-1 is for compatibility with
        existing FF3-1 tokens only: NIST's 2025 draft revision of SP 800-38G
        withdraws FF3 and FF3-1. The transformer's ``cipher`` attribute
        names the cipher, so that the caller can warn about it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from streams.errors import SchemaError
from streams.tokenizers._cache import DEFAULT_CACHE_SIZE, MAX_CACHE_SIZE
from streams.tokenizers._engine import CIPHERS
from streams.tokenizers._transformer import (
    SMALL_DOMAIN_CHOICES,
    Codec,
    Transformer,
)
from streams.tokenizers.address import AddressCodec
from streams.tokenizers.base import ACTIONS, FieldPolicy, FieldTransformer, LeafType
from streams.tokenizers.cards import BankCardCodec
from streams.tokenizers.dates import DAY_UNITS, BirthDateCodec
from streams.tokenizers.documents import (
    DOCUMENT_FORMATS,
    DocumentCodec,
    ImeiCodec,
    PhoneCodec,
    UsccCodec,
)
from streams.tokenizers.email import EmailCodec
from streams.tokenizers.identifiers import IdentifierCodec
from streams.tokenizers.names import NameCodec
from streams.tokenizers.network import IpCodec
from streams.tokenizers.phones import CnMobileCodec
from streams.tokenizers.resident_id import DEFAULT_MAX, DEFAULT_MIN, ResidentIdCodec

__all__ = [
    "CIPHERS",
    "DEFAULT_ACTIONS",
    "FF3_1_TYPES",
    "PII_TYPES",
    "SUPPORTED_ACTIONS",
    "resolve",
]

_STRING = frozenset({"string"})
_FORMATTED_ACTIONS = frozenset(
    {"tokenize", "pseudonymize", "mask", "redact", "pass", "block"}
)
_GENERALIZED_ACTIONS = _FORMATTED_ACTIONS | {"generalize"}
_COMMON_OPTIONS = frozenset(
    {"small_domain", "keep_first", "keep_last", "mask_char", "cache_size"}
)

DEFAULT_ACTIONS: dict[str, str] = {
    "person_name": "tokenize",
    "cn_resident_id": "tokenize",
    "cn_mobile": "tokenize",
    "email": "tokenize",
    "bank_card": "tokenize",
    "identifier": "tokenize",
    "phone": "tokenize",
    "cn_uscc": "tokenize",
    "passport": "tokenize",
    "hk_macau_permit": "tokenize",
    "mainland_travel_permit": "tokenize",
    "device_id": "tokenize",
    "ip_address": "tokenize",
    "birth_date": "generalize",
    "address": "generalize",
    "free_text": "redact",
    "none": "pass",
}

SUPPORTED_ACTIONS: dict[str, frozenset[str]] = {
    "person_name": _FORMATTED_ACTIONS,
    "cn_resident_id": _FORMATTED_ACTIONS,
    "cn_mobile": _FORMATTED_ACTIONS,
    "email": _FORMATTED_ACTIONS,
    "bank_card": _FORMATTED_ACTIONS,
    "identifier": _FORMATTED_ACTIONS,
    "phone": _FORMATTED_ACTIONS,
    "cn_uscc": _FORMATTED_ACTIONS,
    "passport": _FORMATTED_ACTIONS,
    "hk_macau_permit": _FORMATTED_ACTIONS,
    "mainland_travel_permit": _FORMATTED_ACTIONS,
    "device_id": _FORMATTED_ACTIONS,
    "ip_address": _GENERALIZED_ACTIONS,
    "birth_date": _GENERALIZED_ACTIONS,
    "address": _GENERALIZED_ACTIONS,
    "free_text": frozenset({"redact", "mask", "pass", "block"}),
    "none": frozenset({"pass", "redact", "block"}),
}

PII_TYPES = frozenset(DEFAULT_ACTIONS)

# The Avro types each PII type accepts for the keyed actions.
_AVRO_TYPES: dict[str, frozenset[str]] = {
    "person_name": _STRING,
    "cn_resident_id": _STRING,
    "cn_mobile": _STRING,
    "email": _STRING,
    "bank_card": _STRING,
    "identifier": frozenset({"string", "int", "long"}),
    "phone": _STRING,
    "cn_uscc": _STRING,
    "passport": _STRING,
    "hk_macau_permit": _STRING,
    "mainland_travel_permit": _STRING,
    "device_id": _STRING,
    "ip_address": _STRING,
    "birth_date": frozenset({"string", "int", "long"}),
    "address": _STRING,
    "free_text": frozenset({"string", "bytes"}),
    "none": frozenset(
        {"string", "bytes", "int", "long", "float", "double", "boolean", "enum",
         "fixed"}
    ),
}  # fmt: skip

# The types whose secret part is digits (a resident ID's region, date and
# sequence count as one number), where ``cipher: ff3-1`` may replace FF1.
FF3_1_TYPES = frozenset(
    {"cn_mobile", "bank_card", "identifier", "cn_resident_id", "phone"}
)

_TYPE_OPTIONS: dict[str, frozenset[str]] = {
    "person_name": frozenset({"keep_surname"}),
    "cn_resident_id": frozenset(
        {
            "birth_date_min",
            "birth_date_max",
            "keep_birth_year",
            "keep_gender",
            "cipher",
        }
    ),
    "cn_mobile": frozenset({"cipher"}),
    "bank_card": frozenset({"cipher"}),
    "identifier": frozenset({"cipher"}),
    "phone": frozenset({"cipher"}),
    "email": frozenset({"tokenize_domain"}),
    "ip_address": frozenset({"ipv4_prefix", "ipv6_prefix"}),
    "birth_date": frozenset({"date_min", "date_max", "max_shift_days", "to"}),
    "address": frozenset({"level"}),
}


def resolve(pii_type: str, leaf: LeafType, policy: FieldPolicy) -> FieldTransformer:
    """Build the transformer for one tagged field.

    Args:
        pii_type: The value of the field's ``pii`` tag, one of `PII_TYPES`.
        leaf: The field's Avro type, with a null union unwrapped.
        policy: The configured action (None for the type's default) and
            options.

    Returns:
        A transformer whose `apply` runs the action on one value.

    Raises:
        SchemaError: The type or action is unknown, the action is not
            supported for the type, the Avro type cannot take the action, or
            an option is unknown or invalid. The message names the type, the
            action, the Avro type and what is allowed.
    """
    if pii_type not in PII_TYPES:
        raise SchemaError(
            f"unknown PII type {pii_type!r}; known types: {sorted(PII_TYPES)}"
        )
    action = policy.action or DEFAULT_ACTIONS[pii_type]
    _check_action(pii_type, action, leaf)
    options = dict(policy.options)
    _check_option_names(pii_type, action, options)
    where = f"PII type {pii_type!r} with action {action!r}"
    codec = None
    if _keyed(action) or action == "generalize":
        codec = _build_codec(pii_type, leaf, options, where, action)
    return Transformer(
        pii_type=pii_type,
        action=action,
        leaf=leaf,
        codec=codec,
        small_domain=_choice(options, "small_domain", SMALL_DOMAIN_CHOICES, where),
        keep_first=_count(options, "keep_first", where),
        keep_last=_count(options, "keep_last", where),
        mask_char=_mask_char(options, where),
        generalizer=getattr(codec, "generalize", None),
        cipher=_cipher(options, action, where),
        cache_size=_count(
            options,
            "cache_size",
            where,
            maximum=MAX_CACHE_SIZE,
            default=DEFAULT_CACHE_SIZE,
        ),
    )


def _cipher(options: Mapping[str, Any], action: str, where: str) -> str:
    """Return the cipher option, checking that only ``tokenize`` sets FF3-1."""
    cipher = _choice(options, "cipher", CIPHERS, where)
    if cipher != "ff1" and action != "tokenize":
        raise SchemaError(
            f"{where}: option cipher {cipher!r} applies only to action "
            "'tokenize'; remove the option or set action: tokenize"
        )
    return cipher


def _keyed(action: str) -> bool:
    """Return True for the actions that need a codec."""
    return action in {"tokenize", "pseudonymize"}


def _check_action(pii_type: str, action: str, leaf: LeafType) -> None:
    """Raise SchemaError unless the type and Avro type support the action."""
    allowed = SUPPORTED_ACTIONS[pii_type]
    if action not in ACTIONS:
        raise SchemaError(
            f"PII type {pii_type!r}: unknown action {action!r}; "
            f"actions for this type: {sorted(allowed)}"
        )
    if action not in allowed:
        raise SchemaError(
            f"PII type {pii_type!r} does not support action {action!r} "
            f"(Avro type {leaf.avro_type}); supported: {sorted(allowed)}"
        )
    avro_types = _avro_types_for(pii_type, action)
    if leaf.avro_type not in avro_types:
        raise SchemaError(
            f"PII type {pii_type!r} with action {action!r} cannot apply to Avro "
            f"type {leaf.avro_type!r}; allowed Avro types: {sorted(avro_types)}"
        )
    if (
        action == "redact"
        and not leaf.nullable
        and leaf.avro_type
        not in {
            "string",
            "bytes",
        }
    ):
        raise SchemaError(
            f"PII type {pii_type!r} with action 'redact' needs a nullable field "
            f"or a string or bytes field, but the field is a non-nullable "
            f"{leaf.avro_type}; make the field nullable or choose another action"
        )


def _avro_types_for(pii_type: str, action: str) -> frozenset[str]:
    """Return the Avro types the action accepts for this type."""
    if action in {"pass", "block", "redact"}:
        return _AVRO_TYPES["none"]
    if action == "mask":
        return _STRING
    return _AVRO_TYPES[pii_type]


def _check_option_names(pii_type: str, action: str, options: Mapping[str, Any]) -> None:
    """Raise SchemaError naming each unknown option."""
    allowed = _COMMON_OPTIONS | _TYPE_OPTIONS.get(pii_type, frozenset())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise SchemaError(
            f"PII type {pii_type!r} with action {action!r}: unknown options "
            f"{unknown}; allowed options: {sorted(allowed)}"
        )


def _build_codec(
    pii_type: str,
    leaf: LeafType,
    options: Mapping[str, Any],
    where: str,
    action: str,
) -> Codec:
    """Build the format codec of a keyed action."""
    builders: dict[str, Callable[[], Codec]] = {
        "person_name": lambda: NameCodec(
            keep_surname=_flag(options, "keep_surname", where)
        ),
        "cn_resident_id": lambda: _resident_codec(options, where),
        "cn_mobile": CnMobileCodec,
        "email": lambda: EmailCodec(
            tokenize_domain=_flag(options, "tokenize_domain", where)
        ),
        "bank_card": BankCardCodec,
        "identifier": lambda: IdentifierCodec(avro_type=leaf.avro_type),
        "phone": PhoneCodec,
        "cn_uscc": UsccCodec,
        "device_id": ImeiCodec,
        "ip_address": lambda: IpCodec(
            ipv4_prefix=_count(options, "ipv4_prefix", where, maximum=32),
            ipv6_prefix=_count(options, "ipv6_prefix", where, maximum=128),
        ),
        "birth_date": lambda: _birth_date_codec(leaf, options, where, action),
        "address": lambda: AddressCodec(
            level=_choice(options, "level", ("city", "province", "county"), where)
        ),
    }
    if pii_type in DOCUMENT_FORMATS:
        return DocumentCodec(pii_type)
    return builders[pii_type]()


def _birth_date_codec(
    leaf: LeafType, options: Mapping[str, Any], where: str, action: str
) -> BirthDateCodec:
    """Build the birth date codec, checking the Avro logical type."""
    logical = leaf.logical_type
    expected: dict[str, set[str | None]] = {
        "string": {None},
        "int": {"date"},
        "long": set(DAY_UNITS) - {None, "date"},
    }
    if logical not in expected[leaf.avro_type]:
        allowed = sorted(str(t) for t in expected[leaf.avro_type])
        raise SchemaError(
            f"{where}: Avro type {leaf.avro_type!r} with logical type {logical!r} "
            f"cannot hold a birth date; allowed logical types: {allowed}"
        )
    first = _date_option(options, "date_min", date(1900, 1, 1), where)
    last = _date_option(options, "date_max", date(2099, 12, 31), where)
    if first > last:
        raise SchemaError(f"{where}: option date_min is after date_max")
    shift = _count(options, "max_shift_days", where, maximum=3650)
    if shift and action != "pseudonymize":
        raise SchemaError(
            f"{where}: option max_shift_days applies only to action 'pseudonymize'"
        )
    return BirthDateCodec(
        avro_type=leaf.avro_type,
        logical_type=logical,
        first=first,
        last=last,
        max_shift_days=shift,
        to=_choice(options, "to", ("year", "month"), where),
    )


def _resident_codec(options: Mapping[str, Any], where: str) -> ResidentIdCodec:
    """Build the resident ID codec from its options."""
    first = _date_option(options, "birth_date_min", DEFAULT_MIN, where)
    last = _date_option(options, "birth_date_max", DEFAULT_MAX, where)
    if first > last:
        raise SchemaError(
            f"{where}: option birth_date_min {first.isoformat()} is after "
            f"birth_date_max {last.isoformat()}"
        )
    return ResidentIdCodec(
        first=first,
        last=last,
        keep_birth_year=_flag(options, "keep_birth_year", where),
        keep_gender=_flag(options, "keep_gender", where),
    )


def _flag(options: Mapping[str, Any], name: str, where: str) -> bool:
    """Return a boolean option, False when absent."""
    value = options.get(name, False)
    if not isinstance(value, bool):
        raise SchemaError(
            f"{where}: option {name} must be true or false, got {value!r}"
        )
    return value


def _count(
    options: Mapping[str, Any],
    name: str,
    where: str,
    maximum: int = 10_000,
    default: int = 0,
) -> int:
    """Return an integer option from 0 to `maximum`, `default` when absent."""
    value = options.get(name, default)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 0 <= value <= maximum
    ):
        raise SchemaError(
            f"{where}: option {name} must be an integer from 0 to {maximum}, "
            f"got {value!r}"
        )
    return value


def _choice(
    options: Mapping[str, Any], name: str, choices: tuple[str, ...], where: str
) -> str:
    """Return a string option from `choices`, the first one when absent."""
    value = options.get(name, choices[0])
    if value not in choices:
        raise SchemaError(
            f"{where}: option {name} must be one of {list(choices)}, got {value!r}"
        )
    return str(value)


def _mask_char(options: Mapping[str, Any], where: str) -> str:
    """Return the mask character option, ``*`` when absent."""
    value = options.get("mask_char", "*")
    if not isinstance(value, str) or len(value) != 1:
        raise SchemaError(
            f"{where}: option mask_char must be one character, got {value!r}"
        )
    return value


def _date_option(
    options: Mapping[str, Any], name: str, default: date, where: str
) -> date:
    """Return an ISO date option."""
    value = options.get(name)
    if value is None:
        return default
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise SchemaError(
            f"{where}: option {name} must be an ISO date YYYY-MM-DD, got {value!r}"
        ) from None
