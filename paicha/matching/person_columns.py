"""A slice's pings grouped by person as a few numpy columns: ``person_pings.by_person`` on whole
columns.

``paicha match`` decodes the trajectories file in slices in other processes (``ping_slices``).
Once a slice is parsed, computing cells, grouping the pings by person, sorting each person's and
cutting them into stays cost those processes as much again, one Python step per ping; and the
result crossed back as objects per person. Here the grouping and the cuts are numpy steps over the
whole slice, and the result crosses back as a handful of buffers, unpacked into
``PersonPings`` by the engine's process. ``Engine.submit_pings`` groups its pings here too.

The result is exactly ``person_pings.by_person``'s (a property test holds the two equal). The only
choice ``by_person`` makes that columns of times and cells cannot see is the order of ties, by
event id: a person's two pings at the same moment in the same cell, or an event id sent twice.
A slice with either is grouped by ``person_pings.by_person`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from operator import ne
from typing import Any

import numpy as np
import numpy.typing as npt

from paicha.matching.person_pings import PersonPings, by_person
from paicha.matching.stays import cell_of

Ints = npt.NDArray[np.int64]

_ID_SEPARATOR = "\x00"


def cells_of(lats: Sequence[float], lons: Sequence[float], resolution: int) -> Ints:
    """Each ping's H3 cell at ``resolution`` (rule 1), as ``stays.cell_of`` gives it."""
    count = len(lats)
    return np.fromiter(map(cell_of, lats, lons, repeat(resolution, count)), np.int64, count)


@dataclass(slots=True, eq=False)
class PeopleColumns:
    """Pings grouped by person (persons in id order), each person's sorted by
    ``(observed_at, cell)``, each event id once, and cut into stays: ``by_person``'s result as
    columns. Person ``p``'s pings are ``person_starts[p]:person_starts[p + 1]``; stay ``s``
    begins at ping ``stay_starts[s]``."""

    person_ids: list[str]
    person_starts: Ints  # one more than persons: the last is the ping count
    event_ids: list[str]
    times: Ints  # each ping's observed_at, UTC microseconds
    stay_cells: Ints
    stay_starts: Ints
    repeats: npt.NDArray[np.bool_]  # per person: two of its pings at the same moment

    @property
    def pings(self) -> int:
        return len(self.event_ids)

    def people(self) -> list[PersonPings]:
        """``PersonPings`` per person, in person id order, as ``by_person`` returns them."""
        times = self.times.tolist()
        ids = self.event_ids
        starts = self.person_starts.tolist()
        stay_cells = self.stay_cells.tolist()
        # Where each person's stays begin among the stays, and each stay's start within its person.
        first_stays = np.searchsorted(self.stay_starts, self.person_starts).tolist()
        owners = np.repeat(self.person_starts[:-1], np.diff(first_stays))
        stay_starts = (self.stay_starts - owners).tolist()
        return [
            PersonPings(
                person_id,
                ids[begin:end],
                times[begin:end],
                stay_cells[first:last],
                stay_starts[first:last],
                bool(repeats),
            )
            for person_id, begin, end, first, last, repeats in zip(
                self.person_ids,
                starts[:-1],
                starts[1:],
                first_stays[:-1],
                first_stays[1:],
                self.repeats.tolist(),
                strict=True,
            )
        ]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PeopleColumns):
            return NotImplemented
        return self.people() == other.people()

    def __getstate__(self) -> tuple[Any, ...]:
        """The event ids as one string on a separator (unless an id holds it), the rest as
        arrays: the slice crosses processes without an object per ping."""
        ids: str | list[str] = _ID_SEPARATOR.join(self.event_ids)
        if ids.count(_ID_SEPARATOR) != len(self.event_ids) - 1:
            ids = self.event_ids
        return (
            self.person_ids,
            self.person_starts,
            ids,
            len(self.event_ids),
            self.times,
            self.stay_cells,
            self.stay_starts,
            self.repeats,
        )

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (self.person_ids, self.person_starts, ids, count, self.times, self.stay_cells,
         self.stay_starts, self.repeats) = state  # fmt: skip
        if type(ids) is str:
            ids = ids.split(_ID_SEPARATOR) if count else []
        self.event_ids = ids


def people_columns(
    event_ids: list[str],
    person_ids: list[str],
    times: Sequence[int] | Ints,
    cells: Ints,
    max_gap: int,
) -> tuple[PeopleColumns, int]:
    """``person_pings.by_person`` of pings given as columns (any order), as ``PeopleColumns``;
    and how many were dropped as re-sent."""
    count = len(event_ids)
    if count == 0:
        return _from_people([]), 0
    if len(set(event_ids)) < count:  # which copy of a re-sent id stays: by_person decides
        return _by_person(event_ids, person_ids, times, cells, max_gap)
    ranks, names = _person_ranks(person_ids)
    moments = np.asarray(times, np.int64)
    same_person = np.diff(ranks) == 0
    later = np.diff(moments)
    ids = event_ids
    # A time-ordered file grouped by person needs no sort; by_person keeps the order then too.
    if not np.all(np.where(same_person, later > 0, np.diff(ranks) > 0)):
        order = np.lexsort((cells, moments, ranks))
        ranks, moments, sorted_cells = ranks[order], moments[order], cells[order]
        same_person = np.diff(ranks) == 0
        later = np.diff(moments)
        if np.any(same_person & (later == 0) & (np.diff(sorted_cells) == 0)):
            # Two pings of one person at one moment in one cell: by_person orders them by id.
            return _by_person(event_ids, person_ids, times, cells, max_gap)
        ids = [event_ids[i] for i in order.tolist()]
        cells = sorted_cells
    new_stay = ~same_person | (np.diff(cells) != 0) | (later > max_gap)
    stay_starts = np.concatenate(([0], np.flatnonzero(new_stay) + 1))
    person_starts = np.concatenate(([0], np.flatnonzero(~same_person) + 1, [count]))
    repeats = np.zeros(len(names), np.bool_)
    repeats[ranks[1:][same_person & (later == 0)]] = True
    columns = PeopleColumns(
        names, person_starts, ids, moments, cells[stay_starts], stay_starts, repeats
    )
    return columns, 0


def _person_ranks(person_ids: list[str]) -> tuple[Ints, list[str]]:
    """Each ping's person as its rank among the slice's person ids, and those ids in order.
    A file is mostly runs of one person's pings: one dictionary look-up per run, not per ping."""
    count = len(person_ids)
    differs = np.fromiter(map(ne, person_ids, islice(person_ids, 1, None)), np.bool_, count - 1)
    heads = np.concatenate(([0], np.flatnonzero(differs) + 1))
    run_people = [person_ids[i] for i in heads.tolist()]
    names = sorted(set(run_people))
    rank_of = {name: rank for rank, name in enumerate(names)}
    run_ranks = np.array([rank_of[name] for name in run_people], np.int64)
    return np.repeat(run_ranks, np.diff(np.append(heads, count))), names


def _by_person(
    event_ids: list[str],
    person_ids: list[str],
    times: Sequence[int] | Ints,
    cells: Ints,
    max_gap: int,
) -> tuple[PeopleColumns, int]:
    moments = np.asarray(times, np.int64).tolist()
    people, resent = by_person(event_ids, person_ids, moments, cells.tolist(), max_gap)
    return _from_people(people), resent


def _from_people(people: list[PersonPings]) -> PeopleColumns:
    """``by_person``'s result as columns."""
    sizes = [len(p.times) for p in people]
    person_starts = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64))).astype(np.int64)
    return PeopleColumns(
        [p.person_id for p in people],
        person_starts,
        [event_id for p in people for event_id in p.event_ids],
        np.array([t for p in people for t in p.times], np.int64),
        np.array([cell for p in people for cell in p.stay_cells], np.int64),
        np.array(
            [
                at + start
                for p, at in zip(people, person_starts[:-1].tolist(), strict=True)
                for start in p.stay_starts
            ],
            np.int64,
        ),
        np.array([p.repeats for p in people], np.bool_),
    )
