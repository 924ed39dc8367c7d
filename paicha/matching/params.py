"""The matching parameters of CONTRACTS.md, every number a setting with the contract's default."""

from __future__ import annotations

from dataclasses import dataclass

from paicha.matching.timeutil import DAY, HOUR, MINUTE


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchParams:
    """Every number the matching rules use; durations in integer microseconds (``timeutil``)."""

    h3_resolution: int = 8
    max_gap: int = 30 * MINUTE
    min_overlap: int = 10 * MINUTE
    lookback: int = 14 * DAY
    retention: int = 21 * DAY
    deadline_co_located: int = 24 * HOUR
    deadline_area_stay: int = 48 * HOUR
    deadline_city_visit: int = 48 * HOUR
    # Off by default. ``neighbour_rings`` = k also matches a person stay in any cell within k grid
    # steps of a case stay's cell.
    neighbour_rings: int = 0
    # Off by default (None). Some cities also required, for 时空伴随, that the person or the case
    # had dwelt at least this long in the cell over the look-back window before the overlap.
    min_cumulative_dwell: int | None = None

    def __post_init__(self) -> None:
        checks = {
            "h3_resolution": 0 <= self.h3_resolution <= 15,
            "max_gap": self.max_gap >= 0,
            "min_overlap": self.min_overlap >= 0,
            "lookback": self.lookback >= 0,
            "retention": self.retention > 0,
            "deadline_co_located": self.deadline_co_located > 0,
            "deadline_area_stay": self.deadline_area_stay > 0,
            "deadline_city_visit": self.deadline_city_visit > 0,
            "neighbour_rings": 0 <= self.neighbour_rings <= 3,
            "min_cumulative_dwell": self.min_cumulative_dwell is None
            or self.min_cumulative_dwell > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid matching parameter(s): {', '.join(bad)}")

    def deadline(self, kind: str) -> int:
        """The screening deadline of an exposure kind, counted from detection."""
        return {
            "co_located": self.deadline_co_located,
            "area_stay": self.deadline_area_stay,
            "city_visit": self.deadline_city_visit,
        }[kind]
