"""Routing (分派): which team screens a task, and under which jurisdiction it is filed.

A task goes to the team covering the person's residence community. When the residence is unknown,
or lies where no team of this deployment covers it (a visitor from another province), it goes to
the city where the exposure happened (CONTRACTS.md: "unknown residence routes to the jurisdiction
of the city where the exposure happened"). Coverage is looked up from the most specific code up:
community, street, district, city, so a city's duty team that covers only the city code catches
whatever no street team covers.

Pure: the coverage map comes in as a plain mapping, and the caller stores the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.tracking.codes import ancestry, is_code


@dataclass(frozen=True, slots=True)
class Route:
    """Where a task is filed (``jurisdiction``, a code) and who works it (``team``, or None)."""

    jurisdiction: str | None
    team: str | None


def route(candidates: Iterable[str | None], coverage: Mapping[str, str]) -> Route:
    """The first candidate code that some team covers, at its most specific covered level.

    ``candidates`` are tried in order (residence first, then the exposure cities); ``coverage``
    maps a jurisdiction code to the team that covers it. When no candidate is covered the task is
    filed under the first valid candidate with no team: supervisors above it still see it.
    """
    valid = [code for code in candidates if code is not None and is_code(code)]
    for code in valid:
        for level_code in reversed(list(ancestry(code).values())):
            team = coverage.get(level_code)
            if team is not None:
                return Route(jurisdiction=code, team=team)
    return Route(jurisdiction=valid[0] if valid else None, team=None)


def routing_candidates(
    residence_code: str | None, task_jurisdiction: str | None, exposure_cities: Iterable[str]
) -> list[str | None]:
    """Residence (the tracking service's own, else what the task carried), then exposure cities."""
    first = residence_code if residence_code is not None else task_jurisdiction
    return [first, task_jurisdiction, *exposure_cities]


def exposure_cities(evidence: Iterable[Mapping[str, object]]) -> list[str]:
    """The cities of a task's exposures, strongest first (the order the task carries them)."""
    cities: list[str] = []
    for item in evidence:
        city = item.get("exposure_city") or item.get("city_code")
        if isinstance(city, str) and city not in cities:
            cities.append(city)
    return cities
