"""Fixtures for the deployment tests: the repository root and the tools.

Helm and docker-compose are installed by the project's own scripts, once per
session. A tool that cannot be installed fails the tests that need it, with
the script's output, instead of skipping them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _ensure(script: str) -> str:
    """Run an ensure script and return the binary path it prints."""
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / script)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"scripts/{script} failed with exit code {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def helm() -> str:
    """Return the path of the pinned helm binary."""
    return _ensure("ensure-helm.sh")


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """Return the path of docker-compose."""
    return _ensure("ensure-compose.sh")
