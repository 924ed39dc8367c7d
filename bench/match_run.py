"""Item 2, paicha's side: ``paicha match DIR`` as a user runs it, JSON in and tasks out, wall time.

The subprocess is timed whole (interpreter start, imports, reading, matching, writing the tasks),
because that is what "end to end" costs whoever runs it. The detection clock is fixed so that
two runs write the same bytes.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.companions import Companion, from_task_lines
from paicha.matching.timeutil import isoformat


@dataclass(frozen=True, slots=True)
class MatchResult:
    wall_s: float
    cpu_s: float  # user + system of the subprocess: what it cost, whatever else ran
    tasks: int
    companions: set[Companion]
    output: Path


def run_paicha_match(city_folder: Path, output: Path, detected_at: int) -> MatchResult:
    """Run ``paicha match`` on the folder, writing its tasks to ``output``; raise if it fails."""
    command = [
        sys.executable,
        "-m",
        "paicha.cli",
        "match",
        str(city_folder),
        "--output",
        str(output),
        "--quiet",
        "--detected-at",
        str(isoformat(detected_at)),
    ]
    cpu_began = _children_cpu()
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    cpu = _children_cpu() - cpu_began
    if done.returncode != 0:
        raise RuntimeError(f"paicha match failed ({done.returncode}):\n{done.stderr}")
    with output.open("rb") as lines:
        tasks = sum(1 for line in lines if line.strip())
    return MatchResult(wall, cpu, tasks, from_task_lines(output), output)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
