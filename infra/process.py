"""Shared pieces for the local server processes that `infra` starts.

Both the Kafka broker and the PostgreSQL cluster need a free loopback port, a way to stop a child
politely and then firmly, and the tail of a log file to show when a start fails. They live here so
each service module reads as the story of its own service.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from collections import deque
from pathlib import Path


class InfraError(RuntimeError):
    """A local service could not be installed, started or stopped; the message says why."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now.

    The kernel picks it; there is a small race until the server binds it, which is acceptable for
    throwaway test services (a clash shows up as a clear start failure, not a wrong result).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int) -> list[int]:
    """Return `count` distinct free ports (sockets held open together so none repeats)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def log_tail(path: Path, lines: int = 60) -> str:
    """The last `lines` lines of a log file, or a note that it does not exist (yet)."""
    if not path.exists():
        return f"(no log at {path})"
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        return "".join(deque(handle, maxlen=lines))


def terminate(process: subprocess.Popen[bytes], *, timeout: float) -> int:
    """Stop a child with SIGTERM, then SIGKILL if it has not exited within `timeout` seconds.

    SIGTERM first because both Kafka and PostgreSQL shut down cleanly on it; SIGKILL only so a
    hung child can never hang the test session. Returns the exit code.
    """
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=10)
