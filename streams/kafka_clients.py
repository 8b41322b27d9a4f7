"""Kafka client settings from the configuration's ``kafka`` section.

Every Kafka client that Seawall creates takes its connection settings from
here: the faust app (aiokafka) of the worker and the confluent-kafka admin
clients, producers and consumers of the topic check, the lag monitor, the
demo, re-identification and ``seawall sample produce``. Secrets are read
from their file or environment variable when a client is built. They are
held in `Secret`, whose ``repr`` and ``str`` are masked, and never appear in
a log line or an error message.
"""

from __future__ import annotations

import logging
import os
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from streams.config import KafkaSettings, SecretSource
from streams.errors import ConfigError, SeawallError

logger = logging.getLogger(__name__)

# Backoff between connection attempts at start: doubles from the first value
# up to the maximum, with up to 20 % random jitter.
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 15.0
_ATTEMPT_TIMEOUT_SECONDS = 10.0


class KafkaConnectionError(SeawallError):
    """The Kafka cluster cannot be reached or rejects Seawall's credentials."""


class Secret:
    """A password or key passphrase whose ``repr`` and ``str`` are masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret, for handing to a Kafka client only."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"


def read_secret(source: SecretSource, key: str) -> Secret:
    """Read a secret from its file or environment variable.

    Args:
        source: Where the secret is.
        key: The configuration key, named in error messages.

    Raises:
        ConfigError: The file cannot be read, the variable is not set, or
            the secret is empty.
    """
    if source.file is not None:
        try:
            text = source.file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"{key}_file: cannot read {source.file}: {exc.strerror}"
            ) from exc
        value, where = text.rstrip("\r\n"), f"file {source.file}"
    elif source.env is not None:
        value, where = os.environ.get(source.env, ""), f"variable {source.env}"
    else:
        raise ConfigError(f"{key}: set {key}_file or {key}_env")
    if not value:
        raise ConfigError(f"{key}: {where} is empty or not set")
    return Secret(value)


@dataclass(frozen=True)
class KafkaClients:
    """Connection settings of every Kafka client, built from `KafkaSettings`.

    Args:
        settings: The validated ``kafka`` section.
    """

    settings: KafkaSettings

    @property
    def bootstrap_servers(self) -> str:
        """The comma-separated ``host:port`` list."""
        return self.settings.bootstrap_servers

    def describe(self) -> str:
        """Describe the connection without secrets, for logs and errors."""
        text = (
            f"{self.settings.bootstrap_servers} "
            f"(security protocol {self.settings.security_protocol}"
        )
        sasl = self.settings.sasl
        if sasl is not None:
            text += f", SASL mechanism {sasl.mechanism}, user {sasl.username!r}"
        return text + ")"

    def confluent_config(self, **extra: Any) -> dict[str, Any]:
        """Return a confluent-kafka client configuration, with `extra` keys added.

        Keys use librdkafka's dotted names; pass them in a mapping with
        ``**{"group.id": ...}``.
        """
        settings = self.settings
        config: dict[str, Any] = {
            "bootstrap.servers": settings.bootstrap_servers,
            "security.protocol": settings.security_protocol,
        }
        if settings.security_protocol != "PLAINTEXT":
            config.update(self._confluent_ssl())
        if settings.sasl is not None:
            password = read_secret(settings.sasl.password, "kafka.sasl.password")
            config["sasl.mechanism"] = settings.sasl.mechanism
            config["sasl.username"] = settings.sasl.username
            config["sasl.password"] = password.reveal()
        config.update(extra)
        return config

    def _confluent_ssl(self) -> dict[str, Any]:
        tls = self.settings.ssl
        config: dict[str, Any] = {}
        if tls.ca_file is not None:
            config["ssl.ca.location"] = str(tls.ca_file)
        if tls.cert_file is not None and tls.key_file is not None:
            config["ssl.certificate.location"] = str(tls.cert_file)
            config["ssl.key.location"] = str(tls.key_file)
        if tls.key_password is not None:
            secret = read_secret(tls.key_password, "kafka.ssl.key_password")
            config["ssl.key.password"] = secret.reveal()
        return config

    def ssl_context(self) -> ssl.SSLContext:
        """Build the TLS context of the aiokafka clients.

        The context verifies the broker certificate and its host name
        against `SslSettings.ca_file`, or the system CAs when it is not set.

        Raises:
            ConfigError: A certificate or key file is not valid PEM, or the
                key password is wrong.
        """
        tls = self.settings.ssl
        try:
            context = ssl.create_default_context(
                cafile=str(tls.ca_file) if tls.ca_file is not None else None
            )
        except ssl.SSLError as exc:
            raise ConfigError(
                f"kafka.ssl.ca_file: {tls.ca_file} is not a PEM CA certificate "
                f"({exc.reason})"
            ) from exc
        if tls.cert_file is not None and tls.key_file is not None:
            password = (
                read_secret(tls.key_password, "kafka.ssl.key_password").reveal()
                if tls.key_password is not None
                else None
            )
            try:
                context.load_cert_chain(tls.cert_file, tls.key_file, password)
            except ssl.SSLError as exc:
                raise ConfigError(
                    f"kafka.ssl: cannot load cert_file {tls.cert_file} with "
                    f"key_file {tls.key_file} ({exc.reason}); check that the "
                    "key matches the certificate and the key password"
                ) from exc
        return context

    def faust_settings(self) -> dict[str, Any]:
        """Return the keyword arguments of `faust.App` for this connection."""
        # Imported here: only the worker needs faust, and it loads slowly.
        import faust

        protocol = self.settings.security_protocol
        if protocol == "PLAINTEXT":
            return {}
        context = self.ssl_context()
        sasl = self.settings.sasl
        if sasl is None:
            return {"broker_credentials": faust.SSLCredentials(context)}
        password = read_secret(sasl.password, "kafka.sasl.password")
        # faust 0.15.3 passes mechanism, user name, password and context to
        # aiokafka, which implements PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512.
        # With a context, faust sets the protocol to SASL_SSL.
        credentials = faust.SASLCredentials(
            username=sasl.username,
            password=password.reveal(),
            ssl_context=context,
            mechanism=sasl.mechanism,
        )
        return {"broker_credentials": credentials}

    def wait_until_reachable(
        self,
        timeout: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Retry a metadata request with backoff until the cluster responds.

        Each failed attempt is logged at warning level with the bootstrap
        address and the error. A failed authentication is not retried.

        Args:
            timeout: Seconds to keep retrying.
            sleep: Waits between attempts; injectable for tests.
            clock: Monotonic clock in seconds; injectable for tests.

        Raises:
            KafkaConnectionError: Authentication failed, or the cluster did
                not answer within `timeout`. The message names the bootstrap
                address, the security protocol and the SASL mechanism.
        """
        deadline = clock() + timeout
        wait = FIRST_RETRY_SECONDS
        attempt = 1
        # One client for every attempt: librdkafka reconnects on its own, and
        # a client per attempt would leave several background threads running.
        errors: list[KafkaError] = []
        admin = AdminClient(self.confluent_config(error_cb=errors.append))
        while True:
            errors.clear()
            error = _try_metadata(admin, errors, min(_ATTEMPT_TIMEOUT_SECONDS, timeout))
            if error is None:
                if attempt > 1:
                    logger.info("Kafka reachable: %s", self.describe())
                return
            if _is_authentication_error(error):
                raise KafkaConnectionError(self._authentication_message(error))
            remaining = deadline - clock()
            if remaining <= 0:
                raise KafkaConnectionError(
                    f"Kafka at {self.describe()} did not respond within "
                    f"{timeout:g} seconds (worker.startup_timeout); last "
                    f"error: {self._scrub(error.str())}. Check that the "
                    "brokers run and that the address and listener are right"
                )
            delay = min(wait * random.uniform(1.0, 1.2), remaining)
            logger.warning(
                "Kafka not reachable, retrying in %.1f s: bootstrap=%s "
                "security_protocol=%s attempt=%d error=%s",
                delay,
                self.settings.bootstrap_servers,
                self.settings.security_protocol,
                attempt,
                self._scrub(error.str()),
            )
            sleep(delay)
            wait = min(wait * 2, MAX_RETRY_SECONDS)
            attempt += 1

    def _authentication_message(self, error: KafkaError) -> str:
        sasl = self.settings.sasl
        what = (
            f"SASL {sasl.mechanism} authentication of user {sasl.username!r}"
            if sasl is not None
            else "TLS authentication"
        )
        fix = (
            "check kafka.sasl.username, the password in kafka.sasl.password_file "
            "or kafka.sasl.password_env, and the mechanism"
            if sasl is not None
            else "check kafka.ssl.ca_file, cert_file and key_file"
        )
        return (
            f"{what} failed on the {self.settings.security_protocol} listener "
            f"at {self.settings.bootstrap_servers}: {self._scrub(error.str())}. "
            f"Fix: {fix}"
        )

    def _scrub(self, text: str) -> str:
        """Replace every configured secret in a client's error text with ***."""
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text

    def _secrets(self) -> list[str]:
        sources = [self.settings.ssl.key_password]
        if self.settings.sasl is not None:
            sources.append(self.settings.sasl.password)
        secrets: list[str] = []
        for source in sources:
            if source is None:
                continue
            try:
                secrets.append(read_secret(source, "secret").reveal())
            except ConfigError:
                continue
        return secrets


def _try_metadata(
    admin: AdminClient, errors: list[KafkaError], timeout: float
) -> KafkaError | None:
    """Request cluster metadata once; return the error, or None on success."""
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        # The client reports an authentication failure only through error_cb,
        # which runs inside poll().
        admin.poll(0)
        auth = [e for e in errors if _is_authentication_error(e)]
        error: KafkaError = auth[0] if auth else exc.args[0]
        return error
    return None


def _is_authentication_error(error: KafkaError) -> bool:
    """Tell whether a client error is a failed TLS or SASL authentication."""
    code = error.code()
    return code in {
        KafkaError._AUTHENTICATION,
        KafkaError._SSL,
        KafkaError.SASL_AUTHENTICATION_FAILED,
    }


def confluent_config(settings: KafkaSettings, **extra: Any) -> dict[str, Any]:
    """Return a confluent-kafka client configuration; see `KafkaClients`."""
    return KafkaClients(settings).confluent_config(**extra)


def plaintext(bootstrap_servers: str) -> KafkaSettings:
    """Return the settings of a PLAINTEXT connection, for command-line tools."""
    return KafkaSettings(bootstrap_servers=bootstrap_servers)
