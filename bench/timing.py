"""How the benchmark measures: CPU time for single-process work, wall time for anything that
spans processes (a subprocess, a database server), best of N for short measurements, and the
facts about the machine that a figure is meaningless without."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, TypeVar

T = TypeVar("T")
Clock = Literal["cpu", "wall"]

CLOCKS: dict[Clock, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


@dataclass(frozen=True, slots=True)
class Timing:
    """Repeated measurements of one thing; the figure reported is the best (least disturbed)."""

    clock: Clock
    samples: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def how(self) -> str:
        """How a reader should take the figure, e.g. ``cpu, best of 3``."""
        clock = "CPU time" if self.clock == "cpu" else "wall time"
        n = len(self.samples)
        return f"{clock}, best of {n}" if n > 1 else f"{clock}, 1 run"

    def as_json(self) -> dict[str, Any]:
        return {"clock": self.clock, "best_s": self.best, "samples_s": list(self.samples)}


def timed(clock: Clock, work: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``work`` took on ``clock``, and what it returned."""
    now = CLOCKS[clock]
    started = now()
    result = work()
    return now() - started, result


def machine_facts() -> dict[str, Any]:
    """Cores, CPU, Python, load: read at the start, before the benchmark adds its own load."""
    one, five, fifteen = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average_at_start": [round(one, 2), round(five, 2), round(fifteen, 2)],
        "h3": metadata.version("h3"),
        "paicha_commit": code_version(Path(__file__).resolve().parent.parent),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def code_version(checkout: Path) -> str:
    """The commit measured, and whether ``paicha/`` differed from it (others edit it too)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(checkout), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--", "paicha").splitlines()
    return commit + (f" + uncommitted changes in {len(dirty)} paicha/ file(s)" if dirty else "")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class ServerCpu:
    """CPU seconds used so far by every process of a local PostgreSQL server (None if remote).

    The postmaster's children are summed from ``/proc``, plus what its exited children (parallel
    workers, earlier backends) left in its ``cutime``/``cstime``: wall time alone would hide
    that other processes share this machine.
    """

    def __init__(self, conn: Any) -> None:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        # A remote server's pid may be some local process's: only a local postgres counts.
        fields = _proc_stat(backend)
        local = fields is not None and _proc_name(backend) == "postgres"
        self._postmaster = int(fields[1]) if fields is not None and local else None
        self._tick = os.sysconf("SC_CLK_TCK")

    def __call__(self) -> float | None:
        if self._postmaster is None:
            return None
        own = _proc_stat(self._postmaster)
        if own is None:
            return None
        ticks = sum(int(f) for f in own[11:15])  # utime, stime, cutime, cstime
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                fields = _proc_stat(int(entry.name))
                if fields is not None and int(fields[1]) == self._postmaster:
                    ticks += int(fields[11]) + int(fields[12])
        return ticks / self._tick


def _proc_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as comm:
            return comm.read().strip()
    except OSError:
        return ""


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name: [0] state, [1] ppid, ..."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()
