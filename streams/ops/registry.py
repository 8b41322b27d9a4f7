"""A local Apicurio Registry with its Confluent-compatible API, for demo and tests.

Apicurio Registry is published to Maven Central as one archive,
``io.apicurio:apicurio-registry-app:<version>:tar.gz:all``, that contains a
Quarkus fast-jar. `resolve_registry_app` fetches it with Maven's
``dependency:copy`` into the Seawall cache (the ``m2`` repository of
`streams.ops.maven`) and unpacks it once::

    apicurio-registry-<version>/app/quarkus-run.jar

`LocalRegistry` runs ``java -jar quarkus-run.jar`` as a detached process on
127.0.0.1 with in-memory storage, so every start begins empty. The
Confluent-compatible API is under ``/apis/ccompat/v7``. The data folder
holds ``state.json`` (pid and port) and ``registry.out`` (the JVM output).

Apicurio Registry 3.3.3 is compiled for Java 21 (class file version 65), so
`find_java` looks for Java 21 or later: ``$SEAWALL_REGISTRY_JAVA``, then
``$JAVA_HOME``, the ``java`` on the PATH, and the JDKs under
``/usr/lib/jvm``.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from streams.errors import SeawallError
from streams.ops import maven, process

APICURIO_VERSION = "3.3.3"
"""Apicurio Registry version run by `LocalRegistry`."""

MIN_JAVA_VERSION = 21
"""Oldest Java feature release that runs Apicurio Registry 3.3.3."""

JAVA_ENV = "SEAWALL_REGISTRY_JAVA"
"""Environment variable naming the ``java`` executable for the registry."""

HOST = "127.0.0.1"
"""The only address the registry listens on."""

DEFAULT_PORT = 8081
"""Default HTTP port, the one Confluent Schema Registry uses."""

DEFAULT_DATA_DIR = Path("var/registry")
"""Default data folder, relative to the current directory."""

CCOMPAT_PATH = "/apis/ccompat/v7"
"""Path of Apicurio's Confluent-compatible API."""

_STATE_FILE = "state.json"
_OUTPUT_FILE = "registry.out"
_COMPLETE_MARKER = ".complete"
_LOG_LINES_IN_ERRORS = 25


class LocalRegistryError(SeawallError):
    """The local registry failed to start or stop."""


@dataclasses.dataclass(frozen=True)
class RegistryStatus:
    """Status of the local registry on one data folder.

    Attributes:
        running: True when the process is alive and its API responds.
        data_dir: The registry's data folder.
        pid: The process id, if a state file names one.
        url: The Confluent-compatible API URL, if known.
        started: True when the call that returned this status launched it.
        detail: Why the registry counts as stopped, or "".
    """

    running: bool
    data_dir: Path
    pid: int | None = None
    url: str | None = None
    started: bool = False
    detail: str = ""


def find_java() -> str:
    """Return a ``java`` executable of version 21 or later.

    Raises:
        maven.ToolchainError: No candidate is Java 21 or later.
    """
    candidates: list[str] = []
    configured = os.environ.get(JAVA_ENV, "").strip()
    if configured:
        candidates.append(configured)
    java_home = os.environ.get("JAVA_HOME", "").strip()
    if java_home:
        candidates.append(str(Path(java_home) / "bin" / "java"))
    candidates.append("java")
    candidates += sorted(str(p) for p in Path("/usr/lib/jvm").glob("*/bin/java"))
    seen: list[str] = []
    for candidate in candidates:
        if shutil.which(candidate) is None or candidate in seen:
            continue
        seen.append(candidate)
        try:
            if maven.java_major_version(candidate) >= MIN_JAVA_VERSION:
                return candidate
        except maven.ToolchainError:
            continue
    raise maven.ToolchainError(
        f"Apicurio Registry {APICURIO_VERSION} needs Java {MIN_JAVA_VERSION} or "
        f"later, and none was found (tried: {', '.join(seen) or 'none'}): "
        f"install one, or set {JAVA_ENV} to its java executable"
    )


def resolve_registry_app(
    version: str = APICURIO_VERSION, cache: Path | None = None
) -> Path:
    """Return the path of ``quarkus-run.jar``, fetching the archive first if needed.

    Raises:
        maven.ToolchainError: Maven is missing or failed to fetch the archive.
    """
    root = (cache or maven.cache_dir()).resolve()
    home = root / f"apicurio-registry-{version}"
    app = home / "app"
    if (app / _COMPLETE_MARKER).is_file():
        return app / "quarkus-run.jar"
    home.mkdir(parents=True, exist_ok=True)
    # Hold a lock so that two processes sharing the cache fetch only once.
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (app / _COMPLETE_MARKER).is_file():
            archive = _fetch_archive(version, home, root / "m2")
            _unpack(archive, app)
    return app / "quarkus-run.jar"


def _fetch_archive(version: str, home: Path, repository: Path) -> Path:
    """Copy the registry archive from Maven Central into `home`."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise maven.ToolchainError(
            "'mvn' not found on PATH: install Apache Maven 3.6 or later to "
            "download Apicurio Registry"
        )
    coordinates = f"io.apicurio:apicurio-registry-app:{version}:tar.gz:all"
    result = subprocess.run(
        [
            mvn,
            "--batch-mode",
            "--no-transfer-progress",
            f"-Dmaven.repo.local={repository}",
            "dependency:copy",
            f"-Dartifact={coordinates}",
            f"-DoutputDirectory={home}",
        ],
        capture_output=True,
        text=True,
        timeout=maven.MAVEN_TIMEOUT_SECONDS,
        check=False,
        cwd=home,
    )
    archive = home / f"apicurio-registry-app-{version}-all.tar.gz"
    if result.returncode != 0 or not archive.is_file():
        errors = [line for line in result.stdout.splitlines() if "[ERROR]" in line]
        raise maven.ToolchainError(
            f"Maven failed to fetch {coordinates} from Maven Central: "
            + ("\n".join(errors[:15]) or result.stdout[-2000:])
        )
    return archive


def _unpack(archive: Path, app: Path) -> None:
    """Unpack the archive into `app` through a staging folder."""
    staging = app.with_name("app.partial")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    if not (staging / "quarkus-run.jar").is_file():
        raise maven.ToolchainError(
            f"{archive} contains no quarkus-run.jar at its top level"
        )
    (staging / _COMPLETE_MARKER).write_text("", encoding="utf-8")
    shutil.rmtree(app, ignore_errors=True)
    staging.rename(app)
    archive.unlink()


class LocalRegistry:
    """Apicurio Registry as a detached ``java`` process on 127.0.0.1.

    Args:
        data_dir: Folder for the state file and the JVM output.
        port: HTTP port on 127.0.0.1.
        heap_max: Maximum JVM heap, as for ``java -Xmx``.
        cache: Folder of the artifact cache. Defaults to `maven.cache_dir()`.
        start_timeout: Seconds to wait for the API after launch.
        stop_timeout: Seconds to wait after SIGTERM before SIGKILL.
    """

    def __init__(
        self,
        data_dir: Path | str = DEFAULT_DATA_DIR,
        *,
        port: int = DEFAULT_PORT,
        heap_max: str = "256m",
        cache: Path | None = None,
        start_timeout: float = 120.0,
        stop_timeout: float = 30.0,
    ) -> None:
        if not 1 <= port <= 65535:
            raise ValueError(f"port must be between 1 and 65535, got {port}")
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.heap_max = heap_max
        self.cache = cache
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout

    @property
    def url(self) -> str:
        """The Confluent-compatible API URL on the configured port."""
        return _api_url(self.port)

    @property
    def output_file(self) -> Path:
        """The file that receives the JVM's stdout and stderr."""
        return self.data_dir / _OUTPUT_FILE

    def start(self) -> RegistryStatus:
        """Start the registry and wait until its API responds.

        If one already runs on this data folder, return its status with
        ``started=False``.

        Raises:
            LocalRegistryError: The port is taken, or the registry exited or
                did not respond within `start_timeout`.
            maven.ToolchainError: Java 21 or Maven is missing, or the archive
                cannot be fetched.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with process.lock_folder(self.data_dir):
            existing = self.status()
            if existing.running:
                return existing
            (self.data_dir / _STATE_FILE).unlink(missing_ok=True)
            if not process.is_port_free(HOST, self.port):
                raise LocalRegistryError(
                    f"port {HOST}:{self.port} is already in use: stop that "
                    "process or choose another port with --port"
                )
            java = find_java()
            jar = resolve_registry_app(cache=self.cache)
            pid = self._launch(java, jar)
            self._wait_until_ready(pid)
        return RegistryStatus(True, self.data_dir, pid, self.url, started=True)

    def status(self) -> RegistryStatus:
        """Report whether the registry process is alive and its API responds."""
        state = self._read_state()
        if state is None:
            return RegistryStatus(False, self.data_dir, detail="not running")
        pid, url = state["pid"], _api_url(state["port"])
        if not process.is_alive(pid, self._cmdline_marker()):
            return RegistryStatus(
                False, self.data_dir, pid, url, detail=f"process {pid} is not running"
            )
        if not _responds(url):
            return RegistryStatus(
                False,
                self.data_dir,
                pid,
                url,
                detail=f"process {pid} is alive but {url} does not respond",
            )
        return RegistryStatus(True, self.data_dir, pid, url)

    def stop(self) -> RegistryStatus:
        """Stop the registry: SIGTERM, then SIGKILL after `stop_timeout` seconds.

        Raises:
            LocalRegistryError: The process still runs after SIGKILL.
        """
        with process.lock_folder(self.data_dir):
            state = self._read_state()
            if state is None:
                return RegistryStatus(False, self.data_dir, detail="not running")
            pid = state["pid"]
            try:
                detail = process.stop(pid, self.stop_timeout, self._cmdline_marker())
            except TimeoutError as error:
                raise LocalRegistryError(
                    f"registry process {pid} did not exit: {error}"
                ) from error
            (self.data_dir / _STATE_FILE).unlink(missing_ok=True)
        return RegistryStatus(
            False, self.data_dir, pid, _api_url(state["port"]), detail=detail
        )

    def _launch(self, java: str, jar: Path) -> int:
        """Start the registry JVM and record it in the state file."""
        command = [
            java,
            f"-Xmx{self.heap_max}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError",
            f"-Dquarkus.http.port={self.port}",
            f"-Dquarkus.http.host={HOST}",
            # Apicurio's default storage is in memory. The marker below
            # distinguishes this data folder's process from any other registry.
            f"-Dseawall.registry.dir={self.data_dir}",
            "-jar",
            str(jar),
        ]
        pid = process.spawn_detached(command, self.output_file, cwd=self.data_dir)
        state = {"pid": pid, "port": self.port, "started_at": time.time()}
        process.write_state(self.data_dir / _STATE_FILE, state)
        return pid

    def _wait_until_ready(self, pid: int) -> None:
        """Wait until the API responds, raising with the log if it exits or hangs."""
        marker = self._cmdline_marker()
        outcome = process.wait_until_ready(
            pid, lambda: _responds(self.url), self.start_timeout, marker
        )
        if outcome == "ready":
            return
        if outcome == "exited":
            (self.data_dir / _STATE_FILE).unlink(missing_ok=True)
            raise LocalRegistryError(
                f"the registry exited during start. Last lines of "
                f"{self.output_file}:\n{self._log_tail()}"
            )
        process.terminate(pid, self.stop_timeout, marker)
        (self.data_dir / _STATE_FILE).unlink(missing_ok=True)
        raise LocalRegistryError(
            f"the registry did not respond on {self.url} within "
            f"{self.start_timeout:g} seconds and was stopped. Last lines of "
            f"{self.output_file}:\n{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        lines = [
            line
            for line in process.tail(self.output_file, 500).splitlines()
            if line.strip() and not line.startswith("\t")
        ]
        return "\n".join(lines[-_LOG_LINES_IN_ERRORS:]) or "(no log output)"

    def _read_state(self) -> dict[str, int] | None:
        """Return the pid and port from the state file, or None."""
        path = self.data_dir / _STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise LocalRegistryError(
                f"state file {path} is unreadable ({error}): stop any registry "
                "using this data folder, delete the file and retry"
            ) from error
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(name), int) for name in ("pid", "port")
        ):
            raise LocalRegistryError(f"state file {path} lacks integer pid and port")
        return {"pid": int(raw["pid"]), "port": int(raw["port"])}

    def _cmdline_marker(self) -> str:
        return f"-Dseawall.registry.dir={self.data_dir}"


def start_on_free_port(
    data_dir: Path | str, *, attempts: int = 3, heap_max: str = "256m"
) -> LocalRegistry:
    """Start a `LocalRegistry` on a port picked free, retrying after a conflict.

    Raises:
        LocalRegistryError: Every attempt failed; the last error is raised.
    """
    for attempt in range(1, attempts + 1):
        registry = LocalRegistry(
            data_dir, port=process.pick_free_port(HOST), heap_max=heap_max
        )
        try:
            registry.start()
        except LocalRegistryError:
            if attempt == attempts:
                raise
            continue
        return registry
    raise ValueError(f"attempts must be at least 1, got {attempts}")


def _api_url(port: int) -> str:
    return f"http://{HOST}:{port}{CCOMPAT_PATH}"


def _responds(url: str) -> bool:
    """Return whether ``GET <url>/subjects`` returns HTTP 200."""
    try:
        with urllib.request.urlopen(f"{url}/subjects", timeout=2.0) as response:  # noqa: S310 (the URL is http://127.0.0.1)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
