"""Start, find and stop detached local server processes, and probe their ports.

Linux-specific where it reads ``/proc`` to tell a live server from a reused
process id or a zombie. On other systems a process counts as alive when
``kill(pid, 0)`` succeeds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

POLL_INTERVAL_SECONDS = 0.2
"""Pause between two checks while waiting for a process or a port."""

# Popen handles of the servers this Python process started. Polling them reaps
# an exited child at once, so that it never lingers as a zombie that
# kill(pid, 0) would report as alive.
_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn_detached(
    command: Sequence[str], output: Path, cwd: Path | None = None
) -> int:
    """Start `command` in its own session with stdout and stderr appended to `output`.

    The process keeps running after this Python process exits, and terminal
    signals such as Ctrl-C do not reach it.

    Returns:
        The process id.
    """
    with output.open("ab") as log:
        child = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )
    _children[child.pid] = child
    return child.pid


def is_alive(pid: int, cmdline_marker: str = "") -> bool:
    """Return whether process `pid` runs and its command line contains the marker.

    The marker guards against a process id that the system gave to another
    program after the server exited.
    """
    # A child of this process is alive exactly while Popen.poll() finds no
    # exit status. Its command line is not checked, because between fork and
    # exec it is still the command line of this Python process.
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _children[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # Another user's process: it exists, but it cannot be ours.
        return False
    cmdline = _read_cmdline(pid)
    if cmdline is None:
        return True
    return bool(cmdline) and cmdline_marker in cmdline


def _read_cmdline(pid: int) -> str | None:
    """Return the command line of `pid`, "" for a zombie, None without /proc."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return "" if Path("/proc/self").exists() else None
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def terminate(pid: int, timeout: float, cmdline_marker: str = "") -> bool:
    """Stop `pid` with SIGTERM, then SIGKILL if it outlives `timeout` seconds.

    Returns:
        True if SIGTERM was enough, False if SIGKILL was needed.

    Raises:
        TimeoutError: The process still runs 10 seconds after SIGKILL.
    """
    _send_signal(pid, signal.SIGTERM)
    if wait_until(lambda: not is_alive(pid, cmdline_marker), timeout):
        return True
    _send_signal(pid, signal.SIGKILL)
    if wait_until(lambda: not is_alive(pid, cmdline_marker), 10.0):
        return False
    raise TimeoutError(f"process {pid} still runs 10 seconds after SIGKILL")


def stop(pid: int, timeout: float, cmdline_marker: str = "") -> str:
    """Stop `pid` as `terminate` does if it is alive, and describe the outcome.

    Returns:
        "not running", "stopped", or "killed after SIGTERM timed out".

    Raises:
        TimeoutError: The process still runs 10 seconds after SIGKILL.
    """
    if not is_alive(pid, cmdline_marker):
        return "not running"
    if terminate(pid, timeout, cmdline_marker):
        return "stopped"
    return "killed after SIGTERM timed out"


def _send_signal(pid: int, signum: signal.Signals) -> None:
    """Send `signum` to `pid`, ignoring a process that has already exited."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` until it is true or `timeout` seconds pass.

    Returns:
        The last value of `condition`.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL_SECONDS)
    return True


def wait_until_ready(
    pid: int, ready: Callable[[], bool], timeout: float, cmdline_marker: str = ""
) -> Literal["ready", "exited", "timed out"]:
    """Poll `ready` while process `pid` runs, for at most `timeout` seconds.

    Returns:
        "ready" once `ready` returns True, "exited" if the process exits
        first, or "timed out" if neither happens within `timeout` seconds.
        The process keeps running after a time-out.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid, cmdline_marker):
            return "exited"
        if ready():
            return "ready"
        time.sleep(POLL_INTERVAL_SECONDS)
    return "timed out"


@contextlib.contextmanager
def lock_folder(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder`, through its ``.lock`` file."""
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def write_state(path: Path, state: Mapping[str, object]) -> None:
    """Write a server's state, such as its pid and ports, to `path` as JSON."""
    path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def is_port_free(host: str, port: int) -> bool:
    """Return whether a server could listen on `host`:`port` now.

    SO_REUSEADDR matches what Java's server sockets set on Linux, so a port
    held only by connections in TIME_WAIT counts as free.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen(1)
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def accepts_connections(host: str, port: int, timeout: float = 1.0) -> bool:
    """Return whether a TCP connection to `host`:`port` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pick_free_port(host: str = "127.0.0.1") -> int:
    """Return a port that the system reports free on `host`.

    Another process may take the port before the caller binds it, so callers
    that start a server should handle a port conflict.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def tail(path: Path, lines: int) -> str:
    """Return the last `lines` lines of a text file, or "" if it is missing."""
    try:
        with path.open("rb") as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - 64 * 1024))
            text = stream.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
