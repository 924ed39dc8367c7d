"""The benchmark's city: generated once with ``paicha simulate`` and reused, then decoded untimed.

A city folder is reused only when a previous generation finished (a marker file is written last),
so an interrupted run never benchmarks half a trajectories file.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from paicha.batch import FILE_ORDER
from paicha.feeds import decode
from paicha.matching.model import Case, FeedRecord, Ping

PingTuple = tuple[str, str, float, float, int]
"""``(event_id, person_id, lat, lon, observed_at_micros)``, what ``Engine.submit_pings`` takes."""

_DONE = ".generated"


@dataclass(frozen=True, slots=True)
class CitySpec:
    """Which synthetic city: ``paicha simulate``'s options."""

    persons: int
    days: int
    seed: int

    def folder(self, root: Path) -> Path:
        return root / f"city-{self.persons}-{self.days}-{self.seed}"


@dataclass(slots=True)
class City:
    """A city's feeds decoded: the pings as tuples, everything else as core records."""

    folder: Path
    pings: list[PingTuple]
    others: list[FeedRecord]  # persons, risk areas, cases, itineraries, in batch.py's order
    cases: list[Case]
    first_ping: int
    last_ping: int


def ensure_city(spec: CitySpec, root: Path) -> tuple[Path, bool]:
    """The city's folder, generating it unless a finished one is there; True when generated."""
    folder = spec.folder(root)
    if (folder / _DONE).is_file():
        return folder, False
    command = [
        sys.executable,
        "-m",
        "paicha.cli",
        "simulate",
        str(folder),
        "--persons",
        str(spec.persons),
        "--days",
        str(spec.days),
        "--seed",
        str(spec.seed),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    (folder / _DONE).write_text(" ".join(command[2:]) + "\n", encoding="utf-8")
    return folder, True


def load_city(folder: Path) -> City:
    """Decode every feed file with the project's own decoder (``paicha.feeds.decode``)."""
    others: list[FeedRecord] = []
    for topic in FILE_ORDER:
        path = folder / f"{topic}.jsonl"
        if topic == "trajectories" or not path.is_file():
            continue
        with path.open("rb") as lines:
            others.extend(decode(topic, line) for line in lines if line.strip())
    pings = decode_pings(folder / "trajectories.jsonl")
    if not pings:
        raise ValueError(f"{folder} holds no pings")
    return City(
        folder=folder,
        pings=pings,
        others=others,
        cases=[r for r in others if isinstance(r, Case)],
        first_ping=min(p[4] for p in pings),
        last_ping=max(p[4] for p in pings),
    )


def decode_pings(path: Path) -> list[PingTuple]:
    """Every ping of a trajectories file as a tuple, in file order."""
    pings: list[PingTuple] = []
    append = pings.append
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                p = decode("trajectories", line)
                assert isinstance(p, Ping)
                append((p.event_id, p.person_id, p.lat, p.lon, p.observed_at))
    return pings
