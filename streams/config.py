"""The worker's configuration file: loading and validation.

The file is YAML. The smallest useful one for the worker:

    kafka: {bootstrap_servers: "127.0.0.1:9092"}
    schemas: {directory: schemas}
    keys: {file: keys.json}
    audit_topic: cn.seawall.audit
    dead_letter_topic: cn.seawall.dlq
    routes:
      - {name: customers, source: cn.crm.customers, destination: xb.crm.customers}

The ``kafka`` section is optional: without it, ``seawall tokenize`` and
``seawall detokenize --type`` still work, and re-identification events go to
the local file ``reidentification_log`` (default ``reidentification.log``
beside the configuration file) instead of ``audit_topic``. The worker needs
the section, and `Config.kafka` raises `ConfigError` without it.

Every key is validated once, when the file is loaded. Unknown keys are
rejected by name, and every problem is reported in one `ConfigError`, one
line per key. Relative paths are resolved against the folder of the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from streams.errors import ConfigError
from streams.schema.tags import TagRule
from streams.tokenizers.base import ACTIONS, FieldPolicy

# Kafka's own rule for topic names: at most 249 characters of these.
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_ROUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

DEFAULT_REIDENTIFICATION_LOG = "reidentification.log"

KEY_ACTIONS = ("pseudonymize", "drop", "pass")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PROCESSING_GUARANTEES = ("at_least_once", "exactly_once")
UNCLASSIFIED_POLICIES = ("block", "pass")


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


@dataclass(frozen=True)
class SecretSource:
    """Source of a secret: a file or an environment variable, never inline.

    Attributes:
        file: File whose content, without the trailing newline, is the secret.
        env: Name of the environment variable that contains the secret.
    """

    file: Path | None = None
    env: str | None = None


@dataclass(frozen=True)
class SslSettings:
    """TLS settings of the Kafka connection (``kafka.ssl``).

    Attributes:
        ca_file: PEM file of the CAs that sign the broker certificates, or
            None for the system's default CAs.
        cert_file: PEM client certificate for mutual TLS, or None.
        key_file: PEM private key of `cert_file`, or None.
        key_password: Source of the password of an encrypted `key_file`,
            or None when the key is not encrypted.
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    key_password: SecretSource | None = None


@dataclass(frozen=True)
class SaslSettings:
    """SASL settings of the Kafka connection (``kafka.sasl``).

    Attributes:
        mechanism: ``SCRAM-SHA-512``, ``SCRAM-SHA-256`` or ``PLAIN``.
        username: SASL user name.
        password: Source of the password.
    """

    mechanism: str
    username: str
    password: SecretSource


@dataclass(frozen=True)
class KafkaSettings:
    """Connection settings for the Kafka cluster.

    Attributes:
        bootstrap_servers: Comma-separated ``host:port`` list.
        group_id: Consumer group of the workers; also the faust app id.
        security_protocol: ``PLAINTEXT``, ``SSL`` or ``SASL_SSL``.
        ssl: TLS settings; used with ``SSL`` and ``SASL_SSL``.
        sasl: SASL settings; required with ``SASL_SSL``.
    """

    bootstrap_servers: str
    group_id: str = "seawall"
    security_protocol: str = "PLAINTEXT"
    ssl: SslSettings = field(default_factory=SslSettings)
    sasl: SaslSettings | None = None


@dataclass(frozen=True)
class Route:
    """One domestic topic masked into one cross-border topic.

    Attributes:
        name: Route name, used in agent names, metrics and audit events.
        source: Domestic topic to consume.
        destination: Cross-border topic to produce to.
        allowed_headers: Source header names copied to the output. Every
            other header is dropped, because headers can carry personal data.
        key_action: What happens to the record key: ``pseudonymize`` (keyed
            HMAC, the default, so partitioning by key still works), ``drop``
            or ``pass``.
    """

    name: str
    source: str
    destination: str
    allowed_headers: tuple[str, ...] = ()
    key_action: str = "pseudonymize"


@dataclass(frozen=True)
class Policy:
    """How tagged and untagged fields are treated.

    Attributes:
        unclassified: ``block`` (strict, the default) sends records with a
            value in an untagged string or bytes field to the dead-letter
            topic; ``pass`` lets such fields through unchanged.
        types: Per PII type overrides of the default action and options.
        fields: Per field path overrides, which win over `types`. A key is
            a field path (``contacts[].mobile``) or a path qualified by the
            schema's full name (``crm.Customer:contacts[].mobile``), which
            wins over the bare path.
        tags: What each Confluent tag name means (``policy.tags``).
        tag_policies: The action and options of fields classified by a
            Confluent tag, by tag name. They win over `types`, and `fields`
            wins over them.
        version: A digest of the policy, recorded in every audit event.
    """

    unclassified: str = "block"
    types: Mapping[str, FieldPolicy] = field(default_factory=dict)
    fields: Mapping[str, FieldPolicy] = field(default_factory=dict)
    version: str = ""
    tags: Mapping[str, TagRule] = field(default_factory=dict)
    tag_policies: Mapping[str, FieldPolicy] = field(default_factory=dict)

    def for_field(
        self, schema_name: str, path: str, pii_type: str, tag: str | None = None
    ) -> FieldPolicy:
        """Return the policy of one field: qualified path, path, tag, type."""
        for candidate in (f"{schema_name}:{path}", path):
            if candidate in self.fields:
                return self.fields[candidate]
        tag_policy = self.tag_policies.get(tag) if tag is not None else None
        if tag_policy is not None and (tag_policy.action or tag_policy.options):
            return tag_policy
        return self.types.get(pii_type, FieldPolicy())


@dataclass(frozen=True)
class RegistrySettings:
    """A Confluent-compatible schema registry that records name by schema id.

    Attributes:
        url: Base URL of the registry API, such as
            ``http://127.0.0.1:8081/apis/ccompat/v7``.
        max_retries: Retries of a failed request (HTTP 408, 429, 5xx or no
            response) before the record goes to the dead-letter topic.
        retry_wait_ms: First backoff between retries, in milliseconds. The
            backoff doubles with each retry, with random jitter.
        retry_max_wait_ms: Maximum backoff between retries, in milliseconds.
        timeout_seconds: Timeout of one request, in seconds.
    """

    url: str
    max_retries: int = 3
    retry_wait_ms: int = 200
    retry_max_wait_ms: int = 2000
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class WorkerSettings:
    """Settings of the worker process.

    Attributes:
        max_in_flight: Records sent but not yet acknowledged by the broker,
            per route. The source offset of a record is committed only after
            its acknowledgement.
        web_port: Port of the faust web server, or None to disable it.
        startup_timeout: Seconds the worker retries an unreachable broker at
            start before it exits with an error.
        shutdown_timeout: Seconds the worker waits on SIGTERM for sent
            records to be acknowledged before it exits without committing them.
        processing_guarantee: ``at_least_once`` (the default) or
            ``exactly_once``, which commits each batch's outputs, audit events
            and source offsets in one Kafka transaction (see
            `streams.transactions`).
    """

    max_in_flight: int = 1000
    web_port: int | None = None
    startup_timeout: float = 300.0
    shutdown_timeout: float = 30.0
    processing_guarantee: str = "at_least_once"


@dataclass(frozen=True)
class MetricsSettings:
    """The worker's HTTP endpoint for ``/metrics``, ``/healthz`` and ``/readyz``.

    Attributes:
        port: TCP port, or None to serve none of the three.
        host: Address to bind; ``0.0.0.0`` lets Prometheus and Kubernetes
            probes reach the worker from outside its pod.
    """

    port: int | None = 9400
    host: str = "0.0.0.0"  # noqa: S104  (reached by scrapes and probes)


@dataclass(frozen=True)
class LoggingSettings:
    """Format and level of the worker's log.

    Attributes:
        format: ``text`` (one readable line per message) or ``json`` (one
            JSON object per line).
        level: Lowest level written, such as ``INFO``.
    """

    format: str = "text"
    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    """A validated configuration file.

    Attributes:
        kafka_settings: The ``kafka`` section, or None when the file has none.
            Read it through `kafka` where Kafka is required.
        reidentification_log: The JSON Lines file that receives
            re-identification events when there is no ``kafka`` section.
        source: The file the configuration came from, for error messages.
        schemas_directory: The schema folder (``schemas.directory``), or None
            when records name their schemas by registry id.
        registry: The schema registry (``schemas.registry_url``), or None
            when records use single-object encoding and the schema folder.
    """

    kafka_settings: KafkaSettings | None
    schemas_directory: Path | None
    keys_file: Path | None
    keys_env: str | None
    audit_topic: str
    dead_letter_topic: str
    routes: tuple[Route, ...]
    policy: Policy = field(default_factory=Policy)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    reidentification_log: Path = Path(DEFAULT_REIDENTIFICATION_LOG)
    source: str = "<config>"
    registry: RegistrySettings | None = None

    @property
    def kafka(self) -> KafkaSettings:
        """The ``kafka`` section.

        Raises:
            ConfigError: The file has no ``kafka`` section.
        """
        if self.kafka_settings is None:
            raise ConfigError(
                f"configuration {self.source} has no 'kafka' section, which "
                "this command needs: add kafka.bootstrap_servers"
            )
        return self.kafka_settings


class _Problems:
    """Collects one message per invalid key, so the user sees all at once."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.lines.append(f"{key}: {message}")

    def unknown_keys(self, key: str, value: Mapping[str, Any], known: set[str]) -> None:
        for name in sorted(set(value) - known):
            prefix = f"{key}." if key else ""
            self.add(f"{prefix}{name}", f"unknown key; expected one of {sorted(known)}")

    def mapping(self, key: str, value: Any) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.add(key, f"must be a mapping, got {type(value).__name__}")
        return {}

    def string(
        self, key: str, value: Any, pattern: re.Pattern[str] | None = None
    ) -> str:
        if not isinstance(value, str) or not value:
            self.add(key, "must be a non-empty string")
            return ""
        if pattern is not None and not pattern.match(value):
            self.add(key, f"invalid value {value!r}: must match {pattern.pattern}")
        return value

    def choice(self, key: str, value: Any, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.add(key, f"invalid value {value!r}; expected one of {list(choices)}")
            return choices[0]
        return str(value)

    def raise_if_any(self, source: str) -> None:
        if self.lines:
            detail = "\n  ".join(self.lines)
            raise ConfigError(f"invalid configuration in {source}:\n  {detail}")


def load_config(path: str | Path) -> Config:
    """Load and validate a configuration file.

    Raises:
        ConfigError: The file is missing, is not YAML, or has invalid keys.
            The message lists every problem, one line per key.
    """
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read configuration file {path}: {exc.strerror}"
        ) from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"configuration file {path} is not valid YAML: {exc}"
        ) from exc
    return parse_config(document, base_dir=config_path.parent, source=str(path))


def parse_config(document: Any, *, base_dir: Path, source: str = "<config>") -> Config:
    """Validate a parsed configuration document; see `load_config`."""
    problems = _Problems()
    root = problems.mapping("(top level)", document)
    problems.unknown_keys(
        "",
        root,
        {
            "kafka",
            "schemas",
            "keys",
            "audit_topic",
            "dead_letter_topic",
            "routes",
            "policy",
            "worker",
            "metrics",
            "logging",
            "reidentification_log",
        },
    )
    for required in (
        "schemas",
        "keys",
        "audit_topic",
        "dead_letter_topic",
        "routes",
    ):
        if required not in root:
            problems.add(required, "missing; this key is required")

    kafka = _parse_kafka(problems, root["kafka"], base_dir) if "kafka" in root else None
    schemas_directory, registry = _parse_schemas(
        problems, root.get("schemas", {}), base_dir
    )
    keys_file, keys_env = _parse_keys(problems, root.get("keys", {}), base_dir)
    audit_topic = problems.string("audit_topic", root.get("audit_topic"), _TOPIC_NAME)
    dead_letter_topic = problems.string(
        "dead_letter_topic", root.get("dead_letter_topic"), _TOPIC_NAME
    )
    routes = _parse_routes(problems, root.get("routes", []))
    _check_topics_distinct(problems, routes, audit_topic, dead_letter_topic)
    policy = _parse_policy(problems, root.get("policy", {}))
    worker = _parse_worker(problems, root.get("worker", {}))
    metrics = _parse_metrics(problems, root.get("metrics", {}))
    logging_settings = _parse_logging(problems, root.get("logging", {}))
    reidentification_log = _parse_path(
        problems,
        "reidentification_log",
        root.get("reidentification_log", DEFAULT_REIDENTIFICATION_LOG),
        base_dir,
    )

    problems.raise_if_any(source)
    return Config(
        kafka_settings=kafka,
        schemas_directory=schemas_directory,
        keys_file=keys_file,
        keys_env=keys_env,
        audit_topic=audit_topic,
        dead_letter_topic=dead_letter_topic,
        routes=routes,
        policy=policy,
        worker=worker,
        metrics=metrics,
        logging=logging_settings,
        reidentification_log=reidentification_log,
        source=source,
        registry=registry,
    )


_KAFKA_KEYS = {"bootstrap_servers", "group_id", "security_protocol", "ssl", "sasl"}


def _parse_kafka(problems: _Problems, value: Any, base_dir: Path) -> KafkaSettings:
    kafka = problems.mapping("kafka", value)
    problems.unknown_keys("kafka", kafka, _KAFKA_KEYS)
    servers = problems.string("kafka.bootstrap_servers", kafka.get("bootstrap_servers"))
    group_id = problems.string("kafka.group_id", kafka.get("group_id", "seawall"))
    protocol = problems.choice(
        "kafka.security_protocol",
        kafka.get("security_protocol", "PLAINTEXT"),
        SECURITY_PROTOCOLS,
    )
    ssl = _parse_ssl(problems, kafka.get("ssl", {}), base_dir)
    sasl = _parse_sasl(problems, kafka["sasl"], base_dir) if "sasl" in kafka else None
    if protocol == "PLAINTEXT" and ("ssl" in kafka or "sasl" in kafka):
        problems.add(
            "kafka.security_protocol",
            "is PLAINTEXT, but kafka.ssl or kafka.sasl is set: set SSL or SASL_SSL",
        )
    if protocol == "SSL" and sasl is not None:
        problems.add("kafka.sasl", "only applies with security_protocol SASL_SSL")
    if protocol == "SASL_SSL" and sasl is None:
        problems.add("kafka.sasl", "missing; security_protocol SASL_SSL needs it")
    return KafkaSettings(
        bootstrap_servers=servers,
        group_id=group_id,
        security_protocol=protocol,
        ssl=ssl,
        sasl=sasl,
    )


def _parse_ssl(problems: _Problems, value: Any, base_dir: Path) -> SslSettings:
    ssl = problems.mapping("kafka.ssl", value)
    problems.unknown_keys(
        "kafka.ssl",
        ssl,
        {"ca_file", "cert_file", "key_file", "key_password_file", "key_password_env"},
    )
    files = {
        name: _parse_existing_file(problems, f"kafka.ssl.{name}", ssl[name], base_dir)
        for name in ("ca_file", "cert_file", "key_file")
        if name in ssl
    }
    if ("cert_file" in ssl) != ("key_file" in ssl):
        problems.add("kafka.ssl", "set both cert_file and key_file, or neither")
    key_password = _parse_secret(problems, "kafka.ssl", "key_password", ssl, base_dir)
    if key_password is not None and "key_file" not in ssl:
        problems.add("kafka.ssl", "a key password needs key_file")
    return SslSettings(
        ca_file=files.get("ca_file"),
        cert_file=files.get("cert_file"),
        key_file=files.get("key_file"),
        key_password=key_password,
    )


def _parse_sasl(problems: _Problems, value: Any, base_dir: Path) -> SaslSettings:
    sasl = problems.mapping("kafka.sasl", value)
    problems.unknown_keys(
        "kafka.sasl", sasl, {"mechanism", "username", "password_file", "password_env"}
    )
    mechanism = problems.choice(
        "kafka.sasl.mechanism", sasl.get("mechanism", "SCRAM-SHA-512"), SASL_MECHANISMS
    )
    username = problems.string("kafka.sasl.username", sasl.get("username"))
    password = _parse_secret(problems, "kafka.sasl", "password", sasl, base_dir)
    if password is None:
        problems.add(
            "kafka.sasl",
            "set password_file or password_env; an inline password is not accepted",
        )
        password = SecretSource()
    return SaslSettings(mechanism=mechanism, username=username, password=password)


def _parse_secret(
    problems: _Problems, key: str, name: str, section: Mapping[str, Any], base_dir: Path
) -> SecretSource | None:
    """Parse ``<name>_file`` or ``<name>_env``; at most one may be set."""
    file_key, env_key = f"{name}_file", f"{name}_env"
    if file_key in section and env_key in section:
        problems.add(key, f"set {file_key} or {env_key}, not both")
        return None
    if file_key in section:
        path = _parse_existing_file(
            problems, f"{key}.{file_key}", section[file_key], base_dir
        )
        return SecretSource(file=path)
    if env_key in section:
        env = problems.string(
            f"{key}.{env_key}",
            section[env_key],
            re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$"),
        )
        return SecretSource(env=env)
    return None


def _parse_existing_file(
    problems: _Problems, key: str, value: Any, base_dir: Path
) -> Path:
    text = problems.string(key, value)
    path = (base_dir / text).resolve()
    if text and not path.is_file():
        problems.add(key, f"{path} is not a file")
    return path


def _parse_path(problems: _Problems, key: str, value: Any, base_dir: Path) -> Path:
    text = problems.string(key, value)
    path = (base_dir / text).resolve()
    if text and path.is_dir():
        problems.add(key, f"{path} is a directory; name a file")
    return path


_REGISTRY_KEYS = {
    "registry_url",
    "registry_max_retries",
    "registry_retry_wait_ms",
    "registry_retry_max_wait_ms",
    "registry_timeout_seconds",
}


def _parse_schemas(
    problems: _Problems, value: Any, base_dir: Path
) -> tuple[Path | None, RegistrySettings | None]:
    schemas = problems.mapping("schemas", value)
    problems.unknown_keys("schemas", schemas, {"directory"} | _REGISTRY_KEYS)
    if ("directory" in schemas) == ("registry_url" in schemas):
        problems.add(
            "schemas",
            "set exactly one of 'directory' (a folder of .avsc files) or "
            "'registry_url' (a Confluent-compatible schema registry)",
        )
        return None, None
    if "registry_url" in schemas:
        return None, _parse_registry(problems, schemas)
    for key in sorted(_REGISTRY_KEYS & set(schemas)):
        problems.add(f"schemas.{key}", "only applies with schemas.registry_url")
    directory = problems.string("schemas.directory", schemas.get("directory"))
    resolved = (base_dir / directory).resolve()
    if directory and not resolved.is_dir():
        problems.add("schemas.directory", f"{resolved} is not a directory")
    return resolved, None


def _parse_registry(
    problems: _Problems, schemas: Mapping[str, Any]
) -> RegistrySettings:
    url = problems.string("schemas.registry_url", schemas.get("registry_url"))
    if url and not re.match(r"^https?://[^/\s]+", url):
        problems.add("schemas.registry_url", f"invalid URL {url!r}: use http(s)://")
    limits = {
        "registry_max_retries": (3, 0, 20),
        "registry_retry_wait_ms": (200, 1, 60_000),
        "registry_retry_max_wait_ms": (2000, 1, 600_000),
    }
    numbers: dict[str, int] = {}
    for key, (default, low, high) in limits.items():
        number = schemas.get(key, default)
        if (
            not isinstance(number, int)
            or isinstance(number, bool)
            or not (low <= number <= high)
        ):
            problems.add(f"schemas.{key}", f"must be an integer from {low} to {high}")
            number = default
        numbers[key] = number
    timeout = schemas.get("registry_timeout_seconds", 10.0)
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 300:
        problems.add(
            "schemas.registry_timeout_seconds", "must be a number of seconds, 0 to 300"
        )
        timeout = 10.0
    return RegistrySettings(
        url=url,
        max_retries=numbers["registry_max_retries"],
        retry_wait_ms=numbers["registry_retry_wait_ms"],
        retry_max_wait_ms=numbers["registry_retry_max_wait_ms"],
        timeout_seconds=float(timeout),
    )


def _parse_keys(
    problems: _Problems, value: Any, base_dir: Path
) -> tuple[Path | None, str | None]:
    keys = problems.mapping("keys", value)
    problems.unknown_keys("keys", keys, {"file", "env"})
    if ("file" in keys) == ("env" in keys):
        problems.add(
            "keys",
            "set exactly one of 'file' (a keyring path) or 'env' (a variable name)",
        )
        return None, None
    if "file" in keys:
        return (base_dir / problems.string("keys.file", keys["file"])).resolve(), None
    return None, problems.string(
        "keys.env", keys["env"], re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
    )


def _parse_routes(problems: _Problems, value: Any) -> tuple[Route, ...]:
    if not isinstance(value, list) or not value:
        problems.add("routes", "must be a non-empty list of routes")
        return ()
    routes = tuple(
        _parse_route(problems, f"routes[{i}]", item) for i, item in enumerate(value)
    )
    names = [route.name for route in routes]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.add("routes", f"route name {name!r} is used more than once")
    sources = [route.source for route in routes]
    for source in sorted({s for s in sources if sources.count(s) > 1}):
        problems.add(
            "routes", f"source topic {source!r} is consumed by more than one route"
        )
    return routes


def _parse_route(problems: _Problems, key: str, value: Any) -> Route:
    route = problems.mapping(key, value)
    problems.unknown_keys(
        key, route, {"name", "source", "destination", "allowed_headers", "key"}
    )
    headers = route.get("allowed_headers", [])
    if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
        problems.add(f"{key}.allowed_headers", "must be a list of header names")
        headers = []
    return Route(
        name=problems.string(f"{key}.name", route.get("name"), _ROUTE_NAME),
        source=problems.string(f"{key}.source", route.get("source"), _TOPIC_NAME),
        destination=problems.string(
            f"{key}.destination", route.get("destination"), _TOPIC_NAME
        ),
        allowed_headers=tuple(headers),
        key_action=problems.choice(
            f"{key}.key", route.get("key", "pseudonymize"), KEY_ACTIONS
        ),
    )


def _check_topics_distinct(
    problems: _Problems, routes: tuple[Route, ...], audit: str, dead_letter: str
) -> None:
    # A destination that is also a domestic topic would send masked records
    # back into the stream, or clear records abroad. Both are configuration
    # mistakes that must stop the worker before it starts.
    domestic = {route.source for route in routes} | {audit, dead_letter}
    for route in routes:
        if route.destination in domestic:
            problems.add(
                f"routes[{route.name}].destination",
                f"topic {route.destination!r} is also a source, audit or "
                "dead-letter topic",
            )
    if audit and audit == dead_letter:
        problems.add("dead_letter_topic", "must differ from audit_topic")


def _parse_policy(problems: _Problems, value: Any) -> Policy:
    policy = problems.mapping("policy", value)
    problems.unknown_keys("policy", policy, {"unclassified", "types", "fields", "tags"})
    unclassified = problems.choice(
        "policy.unclassified",
        policy.get("unclassified", "block"),
        UNCLASSIFIED_POLICIES,
    )
    types = _parse_field_policies(problems, "policy.types", policy.get("types", {}))
    fields = _parse_field_policies(problems, "policy.fields", policy.get("fields", {}))
    tags, tag_policies = _parse_tags(problems, policy.get("tags", {}))
    digest = hashlib.sha256(
        json.dumps(policy, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    return Policy(
        unclassified=unclassified,
        types=types,
        fields=fields,
        version=digest[:16],
        tags=tags,
        tag_policies=tag_policies,
    )


def _parse_tags(
    problems: _Problems, value: Any
) -> tuple[dict[str, TagRule], dict[str, FieldPolicy]]:
    """Parse ``policy.tags``: Confluent tag name to PII type, action, options."""
    policies = _parse_field_policies(problems, "policy.tags", value)
    rules: dict[str, TagRule] = {}
    for name, entry in policies.items():
        options = dict(entry.options)
        pii_type = options.pop("pii_type", None)
        sensitive = options.pop("sensitive", False)
        if not isinstance(pii_type, str) or not re.match(
            r"^[a-z][a-z0-9_]*$", pii_type
        ):
            problems.add(
                f"policy.tags.{name}.pii_type",
                "missing or invalid: name the PII type of fields with this tag, "
                "such as cn_mobile",
            )
            continue
        if not isinstance(sensitive, bool):
            problems.add(f"policy.tags.{name}.sensitive", "must be true or false")
            sensitive = False
        rules[name] = TagRule(pii_type, sensitive)
        policies[name] = FieldPolicy(action=entry.action, options=options)
    return rules, policies


def _parse_field_policies(
    problems: _Problems, key: str, value: Any
) -> dict[str, FieldPolicy]:
    entries = problems.mapping(key, value)
    parsed: dict[str, FieldPolicy] = {}
    for name, entry in entries.items():
        entry_key = f"{key}.{name}"
        options = dict(problems.mapping(entry_key, entry))
        action = options.pop("action", None)
        if action is not None and action not in ACTIONS:
            problems.add(
                f"{entry_key}.action",
                f"invalid action {action!r}; expected one of {sorted(ACTIONS)}",
            )
        parsed[str(name)] = FieldPolicy(action=action, options=options)
    return parsed


def _parse_worker(problems: _Problems, value: Any) -> WorkerSettings:
    worker = problems.mapping("worker", value)
    problems.unknown_keys(
        "worker",
        worker,
        {
            "max_in_flight",
            "web_port",
            "startup_timeout",
            "shutdown_timeout",
            "processing_guarantee",
        },
    )
    max_in_flight = worker.get("max_in_flight", 1000)
    if not isinstance(max_in_flight, int) or not 1 <= max_in_flight <= 100_000:
        problems.add("worker.max_in_flight", "must be an integer from 1 to 100000")
        max_in_flight = 1000
    web_port = worker.get("web_port")
    if web_port is not None and (
        not isinstance(web_port, int) or not 1 <= web_port <= 65535
    ):
        problems.add("worker.web_port", "must be a port number from 1 to 65535")
        web_port = None
    return WorkerSettings(
        max_in_flight=max_in_flight,
        web_port=web_port,
        startup_timeout=_parse_seconds(problems, "worker.startup_timeout", worker),
        shutdown_timeout=_parse_seconds(problems, "worker.shutdown_timeout", worker),
        processing_guarantee=problems.choice(
            "worker.processing_guarantee",
            worker.get("processing_guarantee", WorkerSettings.processing_guarantee),
            PROCESSING_GUARANTEES,
        ),
    )


def _parse_seconds(problems: _Problems, key: str, section: Mapping[str, Any]) -> float:
    """Parse a timeout in seconds, from 1 to 3600, defaulting to WorkerSettings."""
    name = key.rpartition(".")[2]
    default: float = getattr(WorkerSettings, name)
    value = section.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.add(key, "must be a number of seconds from 1 to 3600")
        return default
    if not 1 <= value <= 3600:
        problems.add(key, "must be a number of seconds from 1 to 3600")
        return default
    return float(value)


def _parse_metrics(problems: _Problems, value: Any) -> MetricsSettings:
    metrics = problems.mapping("metrics", value)
    problems.unknown_keys("metrics", metrics, {"port", "host"})
    port = metrics.get("port", MetricsSettings.port)
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
    ):
        problems.add(
            "metrics.port", "must be a port number from 1 to 65535, or null to disable"
        )
        port = None
    host = problems.string("metrics.host", metrics.get("host", MetricsSettings.host))
    return MetricsSettings(port=port, host=host)


def _parse_logging(problems: _Problems, value: Any) -> LoggingSettings:
    settings = problems.mapping("logging", value)
    problems.unknown_keys("logging", settings, {"format", "level"})
    log_format = problems.choice(
        "logging.format", settings.get("format", "text"), LOG_FORMATS
    )
    level = settings.get("level", "INFO")
    level = problems.choice(
        "logging.level", level.upper() if isinstance(level, str) else level, LOG_LEVELS
    )
    return LoggingSettings(format=log_format, level=level)
