"""A single-node Apache Kafka broker in KRaft mode, for the demo and the tests.

`LocalKafka` runs one JVM that is both broker and controller, listens on
127.0.0.1 only, and keeps everything in one data folder::

    server.properties  broker configuration, rewritten on every start
    log4j2.xml         logging configuration, rewritten on every start
    state.json         pid and ports of the running broker
    kafka.out          JVM stdout and stderr, with log records at WARN and above
    logs/server.log    all broker log records at INFO and above
    kraft/             topic partitions and the metadata log

The broker jars come from Maven Central through `streams.ops.maven`.
Transactions work on the single node because the internal topics use
replication factor 1 and minimum in-sync replicas 1.

Automatic topic creation is off. The demo creates its topics with an admin
client, and a misspelt topic name then fails instead of silently creating a
topic that nobody reads.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import subprocess
import time
import uuid
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    NewTopic,  # confluent-kafka 2.16 leaves NewTopic out of its typed exports.
)

from streams.errors import SeawallError
from streams.ops import maven, process

HOST = "127.0.0.1"
"""Address of both listeners. The broker never listens on other interfaces."""

DEFAULT_PORT = 9092
"""Default broker (client) port. The controller port defaults to one above."""

DEFAULT_DATA_DIR = Path("var/kafka")
"""Default data folder, relative to the current directory."""

NODE_ID = 1
"""KRaft node id of the single broker-and-controller."""

_STATE_FILE = "state.json"
_OUTPUT_FILE = "kafka.out"
_LOG_LINES_IN_ERRORS = 25
_HEAP_PATTERN = re.compile(r"[1-9][0-9]*[kKmMgG]?")


class LocalKafkaError(SeawallError):
    """The local broker failed to start or stop, or its data folder is unusable."""


class PortInUseError(LocalKafkaError):
    """A port that the local broker needs is taken by another process."""


SCRAM_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")


@dataclasses.dataclass(frozen=True)
class ScramUser:
    """A SCRAM user that the broker's storage is formatted with.

    Attributes:
        name: User name.
        password: Password; masked in ``repr``.
        mechanism: ``SCRAM-SHA-512`` or ``SCRAM-SHA-256``.
    """

    name: str
    password: str = dataclasses.field(repr=False)
    mechanism: str = "SCRAM-SHA-512"


@dataclasses.dataclass(frozen=True)
class BrokerTls:
    """An SSL listener and a SASL_SSL listener, both on 127.0.0.1.

    The SSL listener requires a client certificate signed by a CA in
    `truststore` (mutual TLS). The SASL_SSL listener takes no client
    certificate and authenticates SCRAM-SHA-512 and SCRAM-SHA-256 users.

    Attributes:
        keystore: PEM file with the broker's unencrypted PKCS#8 private key
            followed by its certificate chain.
        truststore: PEM file with the CA certificates of client certificates.
        ssl_port: Port of the SSL listener; 0 lets `start_on_free_ports` pick.
        sasl_ssl_port: Port of the SASL_SSL listener; 0 as for `ssl_port`.
        scram_users: Users added when the storage is formatted, which happens
            only on the first start of a data folder.
    """

    keystore: Path
    truststore: Path
    ssl_port: int = 0
    sasl_ssl_port: int = 0
    scram_users: tuple[ScramUser, ...] = ()


@dataclasses.dataclass(frozen=True)
class KafkaStatus:
    """Status of the local broker on one data folder.

    Attributes:
        running: True when the process is alive and responds to a metadata request.
        data_dir: The broker's data folder.
        pid: The broker's process id, if a state file names one.
        bootstrap: The ``host:port`` address for clients, if known.
        started: True when the call that returned this status launched the
            broker, False when it found one already running.
        detail: Why the broker counts as stopped, or "".
    """

    running: bool
    data_dir: Path
    pid: int | None = None
    bootstrap: str | None = None
    started: bool = False
    detail: str = ""


class LocalKafka:
    """A single-node KRaft Kafka broker running as a detached ``java`` process.

    The process outlives the Python process that started it. Any later
    `LocalKafka` on the same data folder finds it through the state file, so
    ``seawall kafka stop`` can stop a broker that ``seawall kafka start``
    launched.

    Args:
        data_dir: Folder for configuration, logs, topic data and state.
        port: Broker port for clients, on 127.0.0.1.
        controller_port: KRaft controller port. Defaults to ``port + 1``.
        heap_max: Maximum JVM heap, as for ``java -Xmx`` (such as ``512m``).
        cache: Folder of the jar cache. Defaults to `maven.cache_dir()`.
        java: The ``java`` executable.
        start_timeout: Seconds to wait for the broker to respond after launch.
        stop_timeout: Seconds to wait after SIGTERM before sending SIGKILL.
        tls: Settings of an added SSL and SASL_SSL listener, or None for
            the PLAINTEXT listener only.

    Raises:
        ValueError: A port is outside 1-65535, two ports are equal, a SCRAM
            mechanism is unknown, or `heap_max` is not a ``-Xmx`` size.
    """

    def __init__(
        self,
        data_dir: Path | str = DEFAULT_DATA_DIR,
        *,
        port: int = DEFAULT_PORT,
        controller_port: int | None = None,
        heap_max: str = "512m",
        cache: Path | None = None,
        java: str = "java",
        start_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        tls: BrokerTls | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = _validate_port("port", port)
        self.controller_port = _validate_port(
            "controller_port", port + 1 if controller_port is None else controller_port
        )
        if self.port == self.controller_port:
            raise ValueError(
                f"port and controller_port must differ, both are {self.port}"
            )
        if tls is not None:
            _validate_tls(tls, {self.port, self.controller_port})
        self.tls = tls
        if not _HEAP_PATTERN.fullmatch(heap_max):
            raise ValueError(
                f"heap_max must be a java -Xmx size such as 512m, got {heap_max!r}"
            )
        self.heap_max = heap_max
        self.cache = cache
        self.java = java
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout

    @property
    def bootstrap(self) -> str:
        """The configured ``host:port`` address for clients."""
        return f"{HOST}:{self.port}"

    @property
    def ssl_bootstrap(self) -> str:
        """The ``host:port`` address of the SSL listener.

        Raises:
            LocalKafkaError: The broker has no TLS listeners.
        """
        return f"{HOST}:{self._require_tls().ssl_port}"

    @property
    def sasl_ssl_bootstrap(self) -> str:
        """The ``host:port`` address of the SASL_SSL listener.

        Raises:
            LocalKafkaError: The broker has no TLS listeners.
        """
        return f"{HOST}:{self._require_tls().sasl_ssl_port}"

    def _require_tls(self) -> BrokerTls:
        if self.tls is None:
            raise LocalKafkaError("this broker has no SSL or SASL_SSL listener")
        return self.tls

    @property
    def output_file(self) -> Path:
        """The file that receives the JVM's stdout and stderr."""
        return self.data_dir / _OUTPUT_FILE

    def start(self) -> KafkaStatus:
        """Start the broker and wait until it responds to a metadata request.

        If a broker already runs on this data folder, return its status with
        ``started=False`` instead of starting a second one. Its address may
        differ from the configured port.

        Raises:
            PortInUseError: The broker or controller port is taken.
            LocalKafkaError: The broker exited during start, did not respond
                within `start_timeout`, or a broker process on this data
                folder is alive but does not respond.
            maven.ToolchainError: Java or Maven is missing or too old, or
                the jars cannot be downloaded.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with process.lock_folder(self.data_dir):
            existing = self._existing_broker()
            if existing is not None:
                return existing
            self._check_ports_free()
            maven.require_java(self.java)
            libs = maven.resolve_kafka_libs(cache=self.cache)
            self._write_config()
            self._format_storage_once(libs)
            pid = self._launch(libs)
            self._wait_until_ready(pid)
        return KafkaStatus(
            running=True,
            data_dir=self.data_dir,
            pid=pid,
            bootstrap=self.bootstrap,
            started=True,
        )

    def status(self) -> KafkaStatus:
        """Report whether the broker process is alive and responds on its port."""
        state = self._read_state()
        if state is None:
            return KafkaStatus(
                running=False, data_dir=self.data_dir, detail="not running"
            )
        pid, bootstrap = state["pid"], f"{HOST}:{state['port']}"
        if not process.is_alive(pid, self._cmdline_marker()):
            return KafkaStatus(
                running=False,
                data_dir=self.data_dir,
                pid=pid,
                bootstrap=bootstrap,
                detail=f"process {pid} is not running",
            )
        if not _responds_to_metadata(bootstrap, timeout=5.0):
            return KafkaStatus(
                running=False,
                data_dir=self.data_dir,
                pid=pid,
                bootstrap=bootstrap,
                detail=f"process {pid} is alive but {bootstrap} does not respond",
            )
        return KafkaStatus(
            running=True, data_dir=self.data_dir, pid=pid, bootstrap=bootstrap
        )

    def stop(self) -> KafkaStatus:
        """Stop the broker: SIGTERM, then SIGKILL after `stop_timeout` seconds.

        Stopping a broker that does not run only removes a stale state file.

        Returns:
            The stopped status. Its ``detail`` states whether SIGKILL was needed.

        Raises:
            LocalKafkaError: The process still runs after SIGKILL.
        """
        with process.lock_folder(self.data_dir):
            state = self._read_state()
            if state is None:
                return KafkaStatus(
                    running=False, data_dir=self.data_dir, detail="not running"
                )
            pid = state["pid"]
            try:
                detail = process.stop(pid, self.stop_timeout, self._cmdline_marker())
            except TimeoutError as error:
                raise LocalKafkaError(
                    f"Kafka process {pid} on {self.data_dir} did not exit: "
                    f"{error}. Check it with 'ps -p {pid}'"
                ) from error
            (self.data_dir / _STATE_FILE).unlink(missing_ok=True)
        return KafkaStatus(
            running=False,
            data_dir=self.data_dir,
            pid=pid,
            bootstrap=f"{HOST}:{state['port']}",
            detail=detail,
        )

    def _existing_broker(self) -> KafkaStatus | None:
        """Return the status of a broker already running here, or None.

        A broker process that is alive but still starting gets `start_timeout`
        seconds to respond. A stale state file is removed.
        """
        state = self._read_state()
        if state is None:
            return None
        pid = state["pid"]
        if not process.is_alive(pid, self._cmdline_marker()):
            (self.data_dir / _STATE_FILE).unlink()
            return None
        bootstrap = f"{HOST}:{state['port']}"
        if not process.wait_until(
            lambda: _responds_to_metadata(bootstrap, timeout=5.0), self.start_timeout
        ):
            raise LocalKafkaError(
                f"Kafka process {pid} on {self.data_dir} is alive but does not "
                f"respond on {bootstrap}: run 'seawall kafka stop --data-dir "
                f"{self.data_dir}' and start it again. See {self.output_file}"
            )
        return KafkaStatus(
            running=True,
            data_dir=self.data_dir,
            pid=pid,
            bootstrap=bootstrap,
            started=False,
        )

    def _check_ports_free(self) -> None:
        """Raise `PortInUseError` if the broker or controller port is taken."""
        ports = [("broker port", self.port), ("controller port", self.controller_port)]
        if self.tls is not None:
            ports += [
                ("SSL port", self.tls.ssl_port),
                ("SASL_SSL port", self.tls.sasl_ssl_port),
            ]
        for name, port in ports:
            if not process.is_port_free(HOST, port):
                raise PortInUseError(
                    f"{name} {HOST}:{port} is already in use by another "
                    "process: stop that process or choose another port "
                    "(--port for the broker, --controller-port for the "
                    "controller)"
                )

    def _write_config(self) -> None:
        """Write server.properties and log4j2.xml for the configured ports."""
        (self.data_dir / "logs").mkdir(exist_ok=True)
        properties = render_server_properties(
            port=self.port,
            controller_port=self.controller_port,
            log_dir=self._kraft_dir(),
            tls=self.tls,
        )
        self._server_properties().write_text(properties, encoding="utf-8")
        self._log4j_config().write_text(LOG4J2_XML, encoding="utf-8")

    def _format_storage_once(self, libs: Path) -> None:
        """Format the KRaft log folder with a new cluster id unless it has one.

        Kafka writes the cluster id to ``kraft/meta.properties``, so the id
        stays the same across restarts.
        """
        if (self._kraft_dir() / "meta.properties").is_file():
            return
        command = [
            *self._java_command(libs, heap_max="256m"),
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            new_cluster_id(),
            "--config",
            str(self._server_properties()),
        ]
        # The SCRAM credentials go into the metadata log at format time, so
        # the broker accepts the users from its first start.
        for user in self.tls.scram_users if self.tls is not None else ():
            command += [
                "--add-scram",
                f"{user.mechanism}=[name={user.name},password={user.password}]",
            ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=300, check=False
        )
        if result.returncode != 0:
            output = "\n".join(
                (result.stdout + result.stderr).splitlines()[-_LOG_LINES_IN_ERRORS:]
            )
            raise LocalKafkaError(
                f"formatting the Kafka storage in {self._kraft_dir()} failed "
                f"with exit code {result.returncode}:\n{output}"
            )

    def _launch(self, libs: Path) -> int:
        """Start the broker JVM in its own session and record it in the state file."""
        command = [
            *self._java_command(libs, heap_max=self.heap_max),
            "kafka.Kafka",
            str(self._server_properties()),
        ]
        pid = process.spawn_detached(command, self.output_file, cwd=self.data_dir)
        state = {
            "pid": pid,
            "port": self.port,
            "controller_port": self.controller_port,
            "kafka_version": maven.KAFKA_VERSION,
            "started_at": time.time(),
        }
        process.write_state(self.data_dir / _STATE_FILE, state)
        return pid

    def _wait_until_ready(self, pid: int) -> None:
        """Wait until the broker responds, raising with its log if it exits or hangs."""
        marker = self._cmdline_marker()
        outcome = process.wait_until_ready(
            pid,
            lambda: _responds_to_metadata(self.bootstrap, timeout=2.0),
            self.start_timeout,
            marker,
        )
        if outcome == "ready":
            return
        if outcome == "exited":
            (self.data_dir / _STATE_FILE).unlink(missing_ok=True)
            raise LocalKafkaError(
                f"Kafka exited during start. Last lines of {self.output_file}:"
                f"\n{self._log_tail()}"
            )

        # Timed out: stop the half-started broker so that a retry starts clean.
        process.terminate(pid, self.stop_timeout, marker)
        (self.data_dir / _STATE_FILE).unlink(missing_ok=True)
        raise LocalKafkaError(
            f"Kafka did not respond on {self.bootstrap} within "
            f"{self.start_timeout:g} seconds and was stopped. Last lines of "
            f"{self.output_file}:\n{self._log_tail()}"
        )

    def _java_command(self, libs: Path, heap_max: str) -> list[str]:
        """Return the ``java`` command line up to, not including, the main class."""
        return [
            self.java,
            f"-Xmx{heap_max}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self._log4j_config()}",
            f"-Dkafka.logs.dir={self.data_dir / 'logs'}",
            "-cp",
            str(libs / "*"),
        ]

    def _log_tail(self) -> str:
        """Return the end of kafka.out, or of server.log if kafka.out is empty.

        Tab-indented lines are left out: they are stack frames and the
        configuration dumps that Kafka logs, which would crowd out the error.
        """
        for path in (self.output_file, self.data_dir / "logs" / "server.log"):
            lines = [
                line
                for line in process.tail(path, 2000).splitlines()
                if line.strip() and not line.startswith("\t")
            ]
            if lines:
                return "\n".join(lines[-_LOG_LINES_IN_ERRORS:])
        return "(no log output)"

    def _read_state(self) -> dict[str, int] | None:
        """Return the pid and ports from the state file, or None if there is none."""
        path = self.data_dir / _STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise LocalKafkaError(
                f"state file {path} is unreadable ({error}): stop any Kafka "
                "process that uses this data folder, delete the file and retry"
            ) from error
        fields = ("pid", "port", "controller_port")
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(name), int) for name in fields
        ):
            raise LocalKafkaError(
                f"state file {path} lacks integer fields {', '.join(fields)}: "
                "stop any Kafka process that uses this data folder, delete the "
                "file and retry"
            )
        return {name: int(raw[name]) for name in fields}

    def _cmdline_marker(self) -> str:
        """Return text that only this data folder's broker has in its command line."""
        return str(self._server_properties())

    def _server_properties(self) -> Path:
        return self.data_dir / "server.properties"

    def _log4j_config(self) -> Path:
        return self.data_dir / "log4j2.xml"

    def _kraft_dir(self) -> Path:
        return self.data_dir / "kraft"


def render_server_properties(
    port: int, controller_port: int, log_dir: Path, tls: BrokerTls | None = None
) -> str:
    """Render the server.properties of a one-node broker-and-controller.

    Args:
        port: Broker port for clients, on 127.0.0.1.
        controller_port: KRaft controller port, on 127.0.0.1.
        log_dir: Folder for topic partitions and the metadata log.
        tls: An SSL and a SASL_SSL listener to add, or None. The broker and
            controller talk to each other over PLAINTEXT in either case.
    """
    # A static voter set means the storage can be formatted without
    # --standalone, and the controller port may change between restarts.
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        # One replica is all a single node can hold. Transactions need the
        # transaction-state topic to accept writes with min ISR 1.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Fewer partitions than the defaults (50) make the first consumer
        # group and the first transaction start faster on a small machine.
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.num.partitions": "10",
        "group.initial.rebalance.delay.ms": "0",
    }
    if tls is not None:
        settings.update(_tls_properties(port, controller_port, tls))
    lines = [f"{key}={value}" for key, value in settings.items()]
    return "# Written by seawall kafka start; edits are overwritten.\n" + (
        "\n".join(lines) + "\n"
    )


LOG4J2_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by seawall kafka start; edits are overwritten. -->
<Configuration status="WARN">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <ThresholdFilter level="WARN"/>
    </Console>
    <RollingFile name="server" fileName="${sys:kafka.logs.dir}/server.log"
                 filePattern="${sys:kafka.logs.dir}/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="10 MB"/>
      <DefaultRolloverStrategy max="5"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO">
      <AppenderRef ref="stdout"/>
      <AppenderRef ref="server"/>
    </Root>
    <Logger name="kafka.request.logger" level="WARN"/>
  </Loggers>
</Configuration>
"""
"""Log4j 2 configuration: INFO to logs/server.log, WARN and above to kafka.out."""


def _tls_properties(port: int, controller_port: int, tls: BrokerTls) -> dict[str, str]:
    """Return the settings that add the SSL and SASL_SSL listeners."""
    listeners = {
        "PLAINTEXT": port,
        "SSL": tls.ssl_port,
        "SASL_SSL": tls.sasl_ssl_port,
    }
    advertised = ",".join(f"{name}://{HOST}:{p}" for name, p in listeners.items())
    jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    return {
        "listeners": f"{advertised},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": advertised,
        "listener.security.protocol.map": (
            "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
        ),
        # PEM key stores need Kafka 2.7 or later (KIP-651).
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(tls.keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(tls.truststore),
        "listener.name.ssl.ssl.client.auth": "required",
        "listener.name.sasl_ssl.ssl.client.auth": "none",
        "sasl.enabled.mechanisms": ",".join(SCRAM_MECHANISMS),
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": jaas,
        "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": jaas,
    }


def _validate_tls(tls: BrokerTls, taken: set[int]) -> None:
    """Raise ValueError if the TLS ports or SCRAM users are invalid."""
    _validate_port("tls.ssl_port", tls.ssl_port)
    _validate_port("tls.sasl_ssl_port", tls.sasl_ssl_port)
    if len(taken | {tls.ssl_port, tls.sasl_ssl_port}) != len(taken) + 2:
        raise ValueError("the SSL, SASL_SSL, broker and controller ports must differ")
    for user in tls.scram_users:
        if user.mechanism not in SCRAM_MECHANISMS:
            raise ValueError(
                f"SCRAM user {user.name!r}: mechanism must be one of "
                f"{', '.join(SCRAM_MECHANISMS)}, got {user.mechanism!r}"
            )


def new_cluster_id() -> str:
    """Return a random KRaft cluster id: a UUID in unpadded URL-safe base64.

    Like Kafka's own ``Uuid.randomUuid``, it never starts with "-", which a
    command-line parser would read as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def start_on_free_ports(
    data_dir: Path | str,
    *,
    attempts: int = 3,
    heap_max: str = "512m",
    tls: BrokerTls | None = None,
) -> LocalKafka:
    """Start a `LocalKafka` on ports picked free, retrying after a port conflict.

    Another process may take a free port between the check and the bind, so
    each retry picks new ports. With `tls`, the ports of the SSL and
    SASL_SSL listeners are picked as well.

    Raises:
        PortInUseError: Every attempt hit a taken port.
        LocalKafkaError: As for `LocalKafka.start`.
    """
    for attempt in range(1, attempts + 1):
        broker = LocalKafka(
            data_dir,
            port=process.pick_free_port(HOST),
            controller_port=process.pick_free_port(HOST),
            heap_max=heap_max,
            tls=_with_free_ports(tls),
        )
        try:
            broker.start()
        except PortInUseError:
            if attempt == attempts:
                raise
            continue
        return broker
    raise ValueError(f"attempts must be at least 1, got {attempts}")


def _with_free_ports(tls: BrokerTls | None) -> BrokerTls | None:
    if tls is None:
        return None
    return dataclasses.replace(
        tls,
        ssl_port=process.pick_free_port(HOST),
        sasl_ssl_port=process.pick_free_port(HOST),
    )


def create_topics(
    bootstrap: str,
    names: list[str],
    *,
    partitions: int = 1,
    timeout: float = 30.0,
) -> None:
    """Create topics and wait until every partition has a leader.

    Args:
        bootstrap: The broker's ``host:port`` address.
        names: Names of topics that must not exist yet.
        partitions: Partition count of each topic.
        timeout: Seconds to wait for creation and leaders, in total.

    Raises:
        LocalKafkaError: A topic exists already, creation failed, or a
            partition has no leader within `timeout`.
    """
    deadline = time.monotonic() + timeout
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [
            NewTopic(name, num_partitions=partitions, replication_factor=1)
            for name in names
        ],
        operation_timeout=timeout,
    )
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.1, deadline - time.monotonic()))
        except KafkaException as error:
            raise LocalKafkaError(f"creating topic {name!r} failed: {error}") from error

    def all_have_leaders() -> bool:
        metadata = admin.list_topics(timeout=max(0.1, deadline - time.monotonic()))
        for name in names:
            topic = metadata.topics.get(name)
            if topic is None or topic.error is not None:
                return False
            if len(topic.partitions) != partitions:
                return False
            if any(part.leader < 0 for part in topic.partitions.values()):
                return False
        return True

    if not process.wait_until(all_have_leaders, max(0.0, deadline - time.monotonic())):
        raise LocalKafkaError(
            f"topics {', '.join(names)} have no leader for every partition after "
            f"{timeout:g} seconds: check the broker log"
        )


def _responds_to_metadata(bootstrap: str, timeout: float) -> bool:
    """Return whether the broker at `bootstrap` lists itself in a metadata response."""
    host, _, port = bootstrap.rpartition(":")
    if not process.accepts_connections(host, int(port), timeout=min(timeout, 1.0)):
        return False
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException:
        return False
    return NODE_ID in metadata.brokers


def _validate_port(name: str, port: int) -> int:
    """Return `port` if it is a valid TCP port number, else raise ValueError."""
    if not 1 <= port <= 65535:
        raise ValueError(f"{name} must be between 1 and 65535, got {port}")
    return port
