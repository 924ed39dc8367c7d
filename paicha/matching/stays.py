"""Rule 1 and 2: a person's pings become stays; a case's stays become case stays (state by person).

A stay is a maximal run of consecutive pings in the same H3 cell with no gap between neighbours
longer than ``max_gap``; its interval is ``[first observed_at, last observed_at]``. Pings are
ordered by ``(observed_at, cell)``, so two pings at the same moment in different cells have one
order whatever order they arrive in.

The state keeps each stay's ping times, because a late ping inside a stay of another cell splits
it, and a late ping in a gap can merge two stays. Either way only the stay the ping falls in (or
follows) and the next one can change: boundaries further away keep their two neighbouring pings.

Downstream sees the stays as ``StayChange`` messages keyed by ``(person, cell, start)``; a flush
emits, for every key touched since the previous flush, its end now (None when the stay is gone).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

try:  # h3's compiled function under the public one, which only passes the result through
    from h3._cy import latlng_to_cell as cell_of
except ImportError:  # pragma: no cover - another h3 layout: the public function, a bit slower
    from h3.api.basic_int import latlng_to_cell as cell_of

from paicha.matching.model import Case, CaseStayChange, StayChange

if TYPE_CHECKING:  # it builds on Stay, so it imports this module
    from paicha.matching.person_pings import PersonPings

__all__ = [
    "PersonTrack",
    "Stay",
    "add_case",
    "add_ping",
    "add_pings",
    "cell_of",
    "flush",
    "ints_from_bytes",
    "prune",
    "runs",
]

StayKey = tuple[int, int]  # (cell, start)


class Stay:
    """One stay: its cell and the times of its pings, ascending."""

    __slots__ = ("cell", "times")

    def __init__(self, cell: int, times: list[int]) -> None:
        self.cell = cell
        self.times = times

    @property
    def start(self) -> int:
        return self.times[0]

    @property
    def end(self) -> int:
        return self.times[-1]

    @property
    def key(self) -> StayKey:
        return (self.cell, self.times[0])

    def __repr__(self) -> str:
        return f"Stay(cell={self.cell:x}, start={self.start}, end={self.end}, n={len(self.times)})"


@dataclass(slots=True)
class PersonTrack:
    """Everything the stay builder keeps for one person."""

    person_id: str
    stays: list[Stay] = field(default_factory=list)
    by_key: dict[StayKey, Stay] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # ping event_id -> observed_at
    cases: dict[str, Case] = field(default_factory=dict)  # own case records, by event_id
    dirty: set[StayKey] = field(default_factory=set)
    emitted: dict[StayKey, int] = field(default_factory=dict)  # what downstream holds
    emitted_case: dict[tuple[str, StayKey], tuple[int, int]] = field(default_factory=dict)
    pruned_to: int = 0
    # The newest stay, cached: nearly every ping lands after it, and this is the hot path.
    tail: list[int] = field(default_factory=list)  # the newest stay's ping times
    last_t: int = -(2**62)
    last_cell: int = -1
    tail_dirty: bool = False

    def __getstate__(self) -> tuple[object, ...]:
        """A compact picklable form: columns of machine integers, not objects per ping.

        The stream processors write a person's state to a changelog once per batch; object-per-ping
        pickles were five times larger and slower. Only flushed state is written (``dirty`` empty).
        """
        stays = self.stays
        ids = list(self.seen)
        return (
            self.person_id,
            array("q", [s.cell for s in stays]).tobytes(),
            array("q", [len(s.times) for s in stays]).tobytes(),
            array("q", [t for s in stays for t in s.times]).tobytes(),
            "\x00".join(ids).encode(),
            len(ids),
            array("q", self.seen.values()).tobytes(),
            self.cases,
            array("q", [v for k, end in self.emitted.items() for v in (*k, end)]).tobytes(),
            self.emitted_case,
            self.pruned_to,
        )

    def __setstate__(self, state: tuple[object, ...]) -> None:
        (person_id, cells, lengths, times, ids, id_count, seen_at, cases, emitted,
         emitted_case, pruned_to) = state  # fmt: skip
        self.person_id = person_id  # type: ignore[assignment]
        all_times = ints_from_bytes(times)
        self.stays, at = [], 0
        for cell, n in zip(ints_from_bytes(cells), ints_from_bytes(lengths), strict=True):
            self.stays.append(Stay(cell, all_times[at : at + n]))
            at += n
        self.by_key = {s.key: s for s in self.stays}
        names = ids.decode().split("\x00") if id_count else []  # type: ignore[attr-defined]
        self.seen = dict(zip(names, ints_from_bytes(seen_at), strict=True))
        self.cases = cases  # type: ignore[assignment]
        flat = ints_from_bytes(emitted)
        self.emitted = {(flat[i], flat[i + 1]): flat[i + 2] for i in range(0, len(flat), 3)}
        self.emitted_case = emitted_case  # type: ignore[assignment]
        self.pruned_to = pruned_to  # type: ignore[assignment]
        self.dirty = set()
        self.tail_dirty = False
        _cache_tail(self)


def ints_from_bytes(raw: object) -> list[int]:
    """A column of machine integers, as ``array('q').tobytes()`` wrote it."""
    column = array("q")
    column.frombytes(raw)  # type: ignore[arg-type]
    return column.tolist()


def add_ping(track: PersonTrack, event_id: str, observed_at: int, cell: int, max_gap: int) -> bool:
    """Add one ping; False when its ``event_id`` was already seen (a re-send changes nothing)."""
    seen = track.seen
    if event_id in seen:
        return False
    seen[event_id] = observed_at
    last_t = track.last_t
    if observed_at > last_t or (observed_at == last_t and cell >= track.last_cell):
        if cell == track.last_cell and observed_at - last_t <= max_gap:
            if observed_at != last_t:
                track.tail.append(observed_at)
                track.last_t = observed_at
                track.tail_dirty = True
            return True
        _append_stay(track, Stay(cell, [observed_at]))
        return True
    _insert_late(track, observed_at, cell, max_gap)
    return True


def add_pings(
    track: PersonTrack, pings: PersonPings, max_gap: int, horizon: int
) -> tuple[int, int]:
    """Add a person's pings: the same as ``add_ping`` for each in turn (a property test holds the
    two equal), those before ``horizon`` left out. When they all come after the track's newest
    ping, none was seen before and none is before the horizon (a person's next slice of a time-
    ordered file), at the cost of their stays rather than of their pings. Returns how many were
    re-sent and how many were before the horizon."""
    times, event_ids, seen = pings.times, pings.event_ids, track.seen
    first_t, first_cell, last_t = times[0], pings.stay_cells[0], track.last_t
    if (
        first_t >= horizon
        and (first_t > last_t or (first_t == last_t and first_cell >= track.last_cell))
        and seen.keys().isdisjoint(event_ids)
    ):
        seen.update(zip(event_ids, times, strict=True))
        new = pings.stays()
        first = new[0]
        if first.cell == track.last_cell and first.times[0] - track.last_t <= max_gap:
            # The first stay goes on from the newest one. Only the first can: the stays of
            # ``pings`` were cut where the cell changes or the gap is too long.
            tail = first.times[1:] if first.times[0] == track.last_t else first.times
            if tail:
                track.tail.extend(tail)
                track.last_t = tail[-1]
                track.tail_dirty = True
            del new[0]
        _append_stays(track, new)
        return 0, 0
    resent = expired = 0
    for event_id, t, cell in zip(event_ids, times, pings.cells(), strict=True):
        if t < horizon:
            expired += 1
        elif not add_ping(track, event_id, t, cell, max_gap):
            resent += 1
    return resent, expired


def _settle_tail(track: PersonTrack) -> None:
    """Record that the newest stay grew, before anything else becomes the newest stay."""
    if track.tail_dirty:
        track.tail_dirty = False
        if track.tail:
            track.dirty.add((track.last_cell, track.tail[0]))


def _append_stay(track: PersonTrack, stay: Stay) -> None:
    _settle_tail(track)
    track.stays.append(stay)
    key = stay.key
    track.by_key[key] = stay
    track.dirty.add(key)
    _cache_tail(track)


def _append_stays(track: PersonTrack, new: list[Stay]) -> None:
    """``_append_stay`` for each of ``new`` in turn, each after the newest."""
    if not new:
        return
    _settle_tail(track)
    track.stays.extend(new)
    keys = [(stay.cell, stay.times[0]) for stay in new]
    track.by_key.update(zip(keys, new, strict=True))
    track.dirty.update(keys)
    _cache_tail(track)


def _cache_tail(track: PersonTrack) -> None:
    if track.stays:
        last = track.stays[-1]
        track.tail, track.last_t, track.last_cell = last.times, last.times[-1], last.cell
    else:
        track.tail, track.last_t, track.last_cell = [], -(2**62), -1


def _insert_late(track: PersonTrack, t: int, cell: int, max_gap: int) -> None:
    """Insert a ping that sorts before the newest one, rebuilding the two stays it can touch."""
    _settle_tail(track)
    stays = track.stays
    p = bisect_right(stays, (t, cell), key=lambda s: (s.times[0], s.cell)) - 1
    lo = max(p, 0)
    hi = min(p + 2, len(stays))
    pings = [(ts, s.cell) for s in stays[lo:hi] for ts in s.times]
    if (t, cell) in pings:
        return  # the same moment in the same cell again: no stay changes
    pings.append((t, cell))
    pings.sort()
    rebuilt = runs(pings, max_gap)
    for old in stays[lo:hi]:
        key = old.key
        del track.by_key[key]
        track.dirty.add(key)
    stays[lo:hi] = rebuilt
    for new in rebuilt:
        key = new.key
        track.by_key[key] = new
        track.dirty.add(key)
    _cache_tail(track)


def runs(pings: list[tuple[int, int]], max_gap: int) -> list[Stay]:
    """Stays from pings sorted by ``(time, cell)``: the definition of rule 1, in one pass."""
    out: list[Stay] = []
    for t, cell in pings:
        if out:
            last = out[-1]
            if last.cell == cell and t - last.times[-1] <= max_gap:
                if t != last.times[-1]:
                    last.times.append(t)
                continue
        out.append(Stay(cell, [t]))
    return out


def case_window(case: Case, lookback: int) -> tuple[int, int]:
    """Rule 2: the part of a case's history that is a hazard."""
    end = case.isolated_at if case.isolated_at is not None else case.reported_at
    return (case.reported_at - lookback, end)


def flush(track: PersonTrack, lookback: int) -> tuple[list[StayChange], list[CaseStayChange]]:
    """What changed since the last flush, as replace-by-key messages for the cell join."""
    stay_changes: list[StayChange] = []
    case_changes: list[CaseStayChange] = []
    _settle_tail(track)
    if not track.dirty:
        return stay_changes, case_changes
    person_id = track.person_id
    windows = [(c, case_window(c, lookback)) for c in track.cases.values()]
    by_key, emitted = track.by_key, track.emitted
    for key in track.dirty:
        stay = by_key.get(key)
        end = stay.times[-1] if stay is not None else None
        if emitted.get(key) != end:
            stay_changes.append(StayChange(person_id, key[0], key[1], end))
            if end is None:
                del emitted[key]
            else:
                emitted[key] = end
        for case, window in windows:
            case_changes.extend(_case_stay(track, case, window, key, end))
    track.dirty.clear()
    return stay_changes, case_changes


def add_case(track: PersonTrack, case: Case, lookback: int) -> list[CaseStayChange]:
    """Learn that this person is (or is again) a case; every kept stay becomes a case stay."""
    track.cases[case.event_id] = case
    window = case_window(case, lookback)
    out: list[CaseStayChange] = []
    keys = {k for (rid, k) in track.emitted_case if rid == case.event_id} | set(track.by_key)
    for key in keys:
        stay = track.by_key.get(key)
        out.extend(_case_stay(track, case, window, key, stay.end if stay else None))
    return out


def _case_stay(
    track: PersonTrack, case: Case, window: tuple[int, int], key: StayKey, end: int | None
) -> list[CaseStayChange]:
    clipped: tuple[int, int] | None = None
    if end is not None:
        lo, hi = max(key[1], window[0]), min(end, window[1])
        if lo <= hi:
            clipped = (lo, hi)
    ckey = (case.event_id, key)
    if track.emitted_case.get(ckey) == clipped:
        return []
    if clipped is None:
        del track.emitted_case[ckey]
    else:
        track.emitted_case[ckey] = clipped
    return [
        CaseStayChange(
            case.case_id,
            track.person_id,
            case.city_code,
            key[0],
            key[0],
            key[1],
            clipped,
            case.event_id,
        )
    ]


def prune(track: PersonTrack, horizon: int) -> None:
    """Drop what ended before the retention horizon. Downstream prunes its own copy the same way,
    so nothing is retracted: retention forgets, it does not un-find."""
    if horizon <= track.pruned_to:
        return
    track.pruned_to = horizon
    _settle_tail(track)
    stays = track.stays
    cut = 0
    while cut < len(stays) and stays[cut].times[-1] < horizon:
        track.by_key.pop(stays[cut].key, None)
        cut += 1
    if cut:
        del stays[:cut]
        _cache_tail(track)
    track.seen = {e: t for e, t in track.seen.items() if t >= horizon}
    track.emitted = {k: end for k, end in track.emitted.items() if end >= horizon}
    track.emitted_case = {k: iv for k, iv in track.emitted_case.items() if iv[1] >= horizon}
    track.dirty = {k for k in track.dirty if k in track.by_key or k in track.emitted}
