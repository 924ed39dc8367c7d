"""Rules 4 and 6: where and when risk areas and cases are hazards (state by area).

A risk area covers every H3 cell its polygon overlaps even in part: centre containment would give
no cell at all for a compound smaller than a cell, and miss everyone in it. A later record for the
same ``area_id`` replaces the earlier one (that is how an area is lifted or redrawn), so the area's
state remembers which cells and city it announced, to retract what the new version no longer holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import h3
import h3.api.basic_int as h3int

from paicha.matching.model import (
    AreaCellChange,
    Case,
    CaseStayChange,
    CityHazardChange,
    RiskArea,
)
from paicha.matching.timeutil import FOREVER


@dataclass(slots=True)
class AreaState:
    """What the area processor keeps for one ``area_id``."""

    area_id: str
    seen: set[str] = field(default_factory=set)
    city_code: str | None = None
    cells: frozenset[int] = frozenset()
    interval: tuple[int, int] | None = None


def area_interval(area: RiskArea) -> tuple[int, int]:
    """The time an area is in force for matching: from its look-back start until its lift."""
    return (area.lookback_from, area.lifted_at if area.lifted_at is not None else FOREVER)


def area_cells(polygon: dict[str, object], resolution: int) -> frozenset[int]:
    """Rule 4: every cell the polygon overlaps, even in part."""
    key = _freeze(polygon.get("coordinates"))
    return _cells(key, resolution)


@lru_cache(maxsize=4096)
def _cells(coordinates: tuple[object, ...], resolution: int) -> frozenset[int]:
    shape = h3.geo_to_h3shape({"type": "Polygon", "coordinates": _thaw(coordinates)})
    cells = h3.h3shape_to_cells_experimental(shape, resolution, contain="overlap")
    return frozenset(h3.str_to_int(c) for c in cells)


def _freeze(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: object) -> object:
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def apply_area(
    state: AreaState, area: RiskArea, resolution: int
) -> tuple[list[AreaCellChange], list[CityHazardChange]]:
    """Take a new version of an area; the messages that bring cells and cities up to date."""
    if area.event_id in state.seen:
        return [], []
    state.seen.add(area.event_id)
    interval: tuple[int, int] | None = area_interval(area)
    # Lifted before its look-back start: in force over no time at all, so it covers nothing.
    if interval is not None and interval[1] < interval[0]:
        interval = None
    cells = area_cells(area.polygon, resolution) if interval is not None else frozenset()
    cell_changes = [
        AreaCellChange(state.area_id, state.city_code or area.city_code, c, None)
        for c in sorted(state.cells - cells)
    ]
    if interval is None:
        renewed = []
    elif interval != state.interval or area.city_code != state.city_code:
        renewed = sorted(cells)
    else:
        renewed = sorted(cells - state.cells)
    cell_changes += [
        AreaCellChange(state.area_id, area.city_code, c, interval)
        for c in renewed
        if interval is not None
    ]
    source = ("area", state.area_id)
    city_changes: list[CityHazardChange] = []
    if state.city_code is not None and state.city_code != area.city_code:
        city_changes.append(CityHazardChange(state.city_code, source, None))
    if (state.city_code != area.city_code or state.interval != interval) and (
        interval is not None or state.city_code == area.city_code
    ):
        city_changes.append(CityHazardChange(area.city_code, source, interval))
    state.city_code, state.cells, state.interval = area.city_code, cells, interval
    return cell_changes, city_changes


def case_city_hazard(case: Case, lookback: int) -> CityHazardChange:
    """Rule 6: a case makes its city a hazard from ``lookback`` before its report to as long
    after."""
    interval = (case.reported_at - lookback, case.reported_at + lookback)
    return CityHazardChange(case.city_code, ("case", case.case_id), interval, case.event_id)


def fan_out(change: CaseStayChange, rings: int) -> list[CaseStayChange]:
    """With a neighbour-cell tolerance of k rings, a case stay is a hazard in every cell within k
    steps of its own; each copy keeps its ``origin_cell``."""
    if rings == 0:
        return [change]
    return [
        CaseStayChange(
            change.case_id,
            change.case_person_id,
            change.case_city,
            cell,
            change.origin_cell,
            change.start,
            change.interval,
            change.record_id,
        )
        for cell in h3int.grid_disk(change.origin_cell, rings)
    ]
