"""Rule 1 in bulk: a batch of pings grouped by person, each person's sorted and cut into the
stays they make on their own (``by_person``), for ``stays.add_pings`` to join to what the person
already has. ``person_columns`` does the same on numpy columns for large batches.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress, count, groupby, islice, repeat
from operator import eq, ge, gt, ne, or_, sub

from paicha.matching.stays import Stay, cell_of, ints_from_bytes

__all__ = ["PersonPings", "by_person", "located_by_person"]

_ID_SEPARATOR = "\x00"


@dataclass(slots=True)
class PersonPings:
    """One person's pings in bulk, sorted by ``(observed_at, cell)``, each event id once, and cut
    into the stays they make on their own (rule 1 over just these pings): what ``by_person``
    makes of a slice of a file, for ``add_pings``. Columns of plain values, cheap to pickle."""

    person_id: str
    event_ids: list[str]
    times: list[int]  # each ping's observed_at, ascending
    stay_cells: list[int]
    stay_starts: list[int]  # where each stay's pings begin in the columns above
    repeats: bool  # whether a stay has two pings at the same moment (its times hold it once)

    def __getstate__(self) -> tuple[object, ...]:
        """Columns of machine integers and one string of ids: a slice's pings cross from the
        decoding process at a fraction of the cost of a list of objects per ping."""
        ids = _ID_SEPARATOR.join(self.event_ids)
        whole = ids.count(_ID_SEPARATOR) == len(self.event_ids) - 1  # no id holds it
        return (
            self.person_id,
            ids if whole else self.event_ids,
            array("q", self.times).tobytes(),
            array("q", self.stay_cells).tobytes(),
            array("q", self.stay_starts).tobytes(),
            self.repeats,
        )

    def __setstate__(self, state: tuple[object, ...]) -> None:
        person_id, ids, times, stay_cells, stay_starts, repeats = state
        self.person_id = person_id  # type: ignore[assignment]
        self.event_ids = ids.split(_ID_SEPARATOR) if type(ids) is str else ids  # type: ignore[assignment]
        self.times = ints_from_bytes(times)
        self.stay_cells = ints_from_bytes(stay_cells)
        self.stay_starts = ints_from_bytes(stay_starts)
        self.repeats = repeats  # type: ignore[assignment]

    def _spans(self) -> Iterator[tuple[int, int, int]]:
        """Each stay's cell, and where its pings begin and end in the columns."""
        ends = [*self.stay_starts[1:], len(self.times)]
        return zip(self.stay_cells, self.stay_starts, ends, strict=True)

    def cells(self) -> list[int]:
        """Each ping's cell."""
        return [cell for cell, start, end in self._spans() for _ in range(end - start)]

    def stays(self) -> list[Stay]:
        """The stays, each with its distinct times."""
        times = self.times
        if not self.repeats:
            return [Stay(cell, times[start:end]) for cell, start, end in self._spans()]
        out = []
        for cell, start, end in self._spans():
            run = times[start:end]
            out.append(Stay(cell, [t for i, t in enumerate(run) if i == 0 or t != run[i - 1]]))
        return out


def by_person(
    event_ids: list[str], person_ids: list[str], times: list[int], cells: list[int], max_gap: int
) -> tuple[list[PersonPings], int]:
    """Pings (columns, any order) grouped by person, each person's sorted and cut into stays;
    and how many were dropped as re-sent: an event id a person already has, after its first
    copy in ``(observed_at, cell)`` order, so which copy stays does not depend on the order.

    Column by column where it can (grouping runs of a person, gathering, the order and re-send
    checks run in C), so that the one loop in Python is the stay boundaries'; a person's pings
    are sorted only when they are not in order already."""
    positions: dict[str, list[int]] = {}
    for person_id, run in groupby(range(len(person_ids)), key=person_ids.__getitem__):
        held = positions.get(person_id)
        if held is None:
            positions[person_id] = list(run)
        else:
            held.extend(run)
    people: list[PersonPings] = []
    dropped = 0
    for person_id in sorted(positions):
        at = positions[person_id]
        person_times = list(map(times.__getitem__, at))
        person_cells = list(map(cells.__getitem__, at))
        ids = list(map(event_ids.__getitem__, at))
        later = person_times[1:]
        if any(map(ge, person_times, later)):  # out of order, or two pings at one moment
            rows = sorted(zip(person_times, person_cells, ids, strict=True))
            person_times, person_cells, ids = (list(column) for column in zip(*rows, strict=True))
            later = person_times[1:]
        if len(set(ids)) < len(ids):
            kept = _first_copies(ids)
            dropped += len(ids) - len(kept)
            person_times = [person_times[i] for i in kept]
            person_cells = [person_cells[i] for i in kept]
            ids = [ids[i] for i in kept]
            later = person_times[1:]
        # A stay begins where the cell changes or the gap is longer than max_gap.
        breaks = map(
            or_,
            map(ne, person_cells, islice(person_cells, 1, None)),
            map(gt, map(sub, later, person_times), repeat(max_gap)),
        )
        starts = [0, *compress(count(1), breaks)]
        people.append(
            PersonPings(
                person_id,
                ids,
                person_times,
                [person_cells[i] for i in starts],
                starts,
                # Two pings at one moment (in one stay or two): the stays' times hold it once.
                any(map(eq, person_times, later)),
            )
        )
    return people, dropped


def located_by_person(
    event_ids: list[str],
    person_ids: list[str],
    lats: list[float],
    lons: list[float],
    times: list[int],
    resolution: int,
    max_gap: int,
) -> tuple[list[PersonPings], int]:
    """``by_person`` for pings given by their coordinates: each one's cell at ``resolution``
    first (rule 1)."""
    cells = list(map(cell_of, lats, lons, repeat(resolution, len(times))))
    return by_person(event_ids, person_ids, times, cells, max_gap)


def _first_copies(ids: list[str]) -> list[int]:
    """Positions of each id's first copy."""
    seen: set[str] = set()
    kept = []
    for i, event_id in enumerate(ids):
        if event_id not in seen:
            seen.add(event_id)
            kept.append(i)
    return kept
