"""Resolve the Apache Kafka broker jars from Maven Central into a local cache.

The broker runs from plain jars, without Docker or a Kafka distribution
archive. `resolve_kafka_libs` writes a small POM that depends on the broker
artifact and a log4j2 SLF4J binding, then runs Maven's
``dependency:copy-dependencies`` once. Later calls reuse the copied jars.

Cache layout under `cache_dir()`::

    m2/                      Maven's local repository
    kafka-<version>/pom.xml  the generated POM
    kafka-<version>/libs/    the runtime class path, present only when complete

Set ``SEAWALL_CACHE`` to move the cache, for example to a folder that a CI
system keeps between runs.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from streams.errors import SeawallError

KAFKA_VERSION = "4.4.0"
"""Apache Kafka broker version. Kafka 4.4 requires Java 17 or later."""

SCALA_VERSION = "2.13"
"""Scala binary version of the ``kafka_<scala>`` broker artifact."""

LOG4J_VERSION = "2.25.5"
"""Log4j 2 version, the one that ``kafka-server`` 4.4.0 depends on."""

MIN_JAVA_VERSION = 17
"""Oldest Java feature release that runs a Kafka 4.x broker."""

CACHE_ENV = "SEAWALL_CACHE"
"""Environment variable that overrides the default cache folder."""

MAVEN_TIMEOUT_SECONDS = 900.0
"""Upper bound on one Maven run, which downloads about 45 MB on first use."""

_COMPLETE_MARKER = ".complete"


class ToolchainError(SeawallError):
    """Java or Maven is missing, too old, or failed to resolve an artifact."""


def cache_dir() -> Path:
    """Return the cache folder: ``$SEAWALL_CACHE`` or ``~/.cache/seawall``."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "seawall"


def kafka_artifacts(version: str = KAFKA_VERSION) -> list[tuple[str, str, str]]:
    """Return the (group, artifact, version) triples that the broker needs.

    The broker artifact brings log4j-core at runtime but no binding for the
    SLF4J 1.7 API that Kafka logs through, so the binding is added here.
    """
    return [
        ("org.apache.kafka", f"kafka_{SCALA_VERSION}", version),
        ("org.apache.logging.log4j", "log4j-slf4j-impl", LOG4J_VERSION),
    ]


def render_pom(artifacts: list[tuple[str, str, str]]) -> str:
    """Render a POM whose runtime dependencies are `artifacts`."""
    dependencies = "\n".join(
        "    <dependency>\n"
        f"      <groupId>{escape(group)}</groupId>\n"
        f"      <artifactId>{escape(artifact)}</artifactId>\n"
        f"      <version>{escape(version)}</version>\n"
        "    </dependency>"
        for group, artifact, version in artifacts
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>local.seawall</groupId>\n"
        "  <artifactId>seawall-kafka-libs</artifactId>\n"
        "  <version>1</version>\n"
        "  <packaging>pom</packaging>\n"
        "  <dependencies>\n"
        f"{dependencies}\n"
        "  </dependencies>\n"
        "</project>\n"
    )


def java_major_version(java: str = "java") -> int:
    """Return the feature release number of `java`, such as 17.

    Raises:
        ToolchainError: `java` is not on the PATH or prints no version.
    """
    if shutil.which(java) is None:
        raise ToolchainError(
            f"{java!r} not found on PATH: install Java {MIN_JAVA_VERSION} or "
            "later (for example the openjdk-17-jre-headless package)"
        )
    result = subprocess.run(
        [java, "-version"], capture_output=True, text=True, timeout=60, check=False
    )
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        raise ToolchainError(f"'{java} -version' printed no version number")
    major = int(match.group(1))
    # Java 8 and older report themselves as "1.<major>".
    if major == 1 and match.group(2) is not None:
        major = int(match.group(2))
    return major


def require_java(java: str = "java") -> None:
    """Raise `ToolchainError` unless `java` is Java 17 or later."""
    major = java_major_version(java)
    if major < MIN_JAVA_VERSION:
        raise ToolchainError(
            f"Java {major} found, but Kafka {KAFKA_VERSION} needs Java "
            f"{MIN_JAVA_VERSION} or later: install it and put it first on PATH"
        )


def resolve_kafka_libs(version: str = KAFKA_VERSION, cache: Path | None = None) -> Path:
    """Return the folder of broker jars, running Maven first if it is missing.

    Args:
        version: The ``org.apache.kafka:kafka_2.13`` version.
        cache: The cache folder. Defaults to `cache_dir()`.

    Returns:
        A folder whose ``*`` glob is the broker's class path.

    Raises:
        ToolchainError: Maven is not installed, or it failed to resolve an
            artifact. The message contains Maven's error lines.
    """
    root = (cache or cache_dir()).resolve()
    home = root / f"kafka-{version}"
    libs = home / "libs"
    if (libs / _COMPLETE_MARKER).is_file():
        return libs

    home.mkdir(parents=True, exist_ok=True)
    # Hold a lock so that two processes sharing the cache run Maven only once.
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (libs / _COMPLETE_MARKER).is_file():
            _copy_dependencies(kafka_artifacts(version), home, root / "m2")
    return libs


def _copy_dependencies(
    artifacts: list[tuple[str, str, str]], home: Path, repository: Path
) -> None:
    """Run Maven to copy `artifacts` and their runtime dependencies to home/libs."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolchainError(
            "'mvn' not found on PATH: install Apache Maven 3.6 or later (for "
            "example the maven package) to download the Kafka broker jars"
        )
    pom = home / "pom.xml"
    pom.write_text(render_pom(artifacts), encoding="utf-8")

    # Copy into a staging folder and rename it, so that an interrupted run
    # never leaves a partial class path that looks complete.
    staging = home / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        mvn,
        "--batch-mode",
        "--no-transfer-progress",
        "-f",
        str(pom),
        f"-Dmaven.repo.local={repository}",
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=MAVEN_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise ToolchainError(_describe_maven_failure(artifacts, result.stdout))

    (staging / _COMPLETE_MARKER).write_text("", encoding="utf-8")
    libs = home / "libs"
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)


def _describe_maven_failure(artifacts: list[tuple[str, str, str]], output: str) -> str:
    """Build an error message from Maven's ``[ERROR]`` lines."""
    coordinates = ", ".join(":".join(triple) for triple in artifacts)
    errors = []
    for line in output.splitlines():
        if not line.startswith("[ERROR]"):
            continue
        # Maven follows the real errors with a blank [ERROR] line and advice
        # about -e and -X switches, which does not apply here.
        if not line.removeprefix("[ERROR]").strip():
            break
        errors.append(line)
    details = "\n".join(errors[:15]) or output[-2000:]
    return (
        f"Maven failed to resolve {coordinates} from Maven Central. Check the "
        "version, network access to https://repo.maven.apache.org and any "
        "proxy in ~/.m2/settings.xml, then run the command again. Maven "
        f"reported:\n{details}"
    )
