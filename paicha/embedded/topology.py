"""The stream processors wired onto the bus: the same processors and state as ``streams/app.py``
builds for faust, with SQLite-backed tables and no broker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paicha.embedded.bus import Bus, Node, Sink
from paicha.embedded.store import StateStore
from paicha.matching import cell_join, city_join, hazards, policy, stays
from paicha.matching.params import MatchParams
from streams import processors
from streams.state import KeyedState
from streams.topics import TopicNames


def build_bus(
    *,
    names: TopicNames,
    params: MatchParams,
    partitions: int,
    store: StateStore,
    sinks: dict[str, Sink],
    unread: Callable[[str], Sink] | None = None,
    clock: Callable[[], int] = processors.wall_clock,
) -> Bus:
    """The six processors in dependency order (feeds first, task policy last), their state in
    ``store``, their offsets and watermarks where the last checkpoint left them."""
    common: dict[str, Any] = {"topics": names, "params": params}

    def keyed(name: str, factory: Callable[[str], Any]) -> KeyedState[Any]:
        return KeyedState(store.table(name), factory)

    tracks = keyed("tracks", stays.PersonTrack)
    areas = keyed("areas", hazards.AreaState)
    cells = keyed("cells", lambda key: cell_join.CellState(int(key)))
    cities = keyed("cities", city_join.CityState)
    policies = keyed("policies", policy.PersonPolicy)
    nodes = [
        Node("people", (names.trajectories, names.cases),
             processors.PeopleProcessor(tracks=tracks, **common), tracks),
        Node("areas", (names.risk_areas,), processors.AreaProcessor(areas=areas, **common), areas),
        Node("itineraries", (names.itineraries,), processors.ItineraryProcessor(**common), None),
        Node("cells", (names.cell_events,), processors.CellProcessor(cells=cells, **common), cells),
        Node("cities", (names.city_events,),
             processors.CityProcessor(cities=cities, **common), cities),
        Node("policy", (names.exposures, names.persons),
             processors.PolicyProcessor(policies=policies, clock=clock, **common), policies),
    ]  # fmt: skip
    bus = Bus(
        nodes=nodes,
        sinks=sinks,
        partitions=partitions,
        offsets=store.meta("offsets"),
        unread=unread,
    )
    bus.restore_watermarks(store.meta("watermarks", {}))
    return bus
