"""The two matching options that are off by default: neighbour-cell tolerance and cumulative
dwell. The reference does not model them, so these are stated against the engine alone."""

from __future__ import annotations

from paicha.matching.params import MatchParams
from paicha.matching.timeutil import HOUR, MINUTE
from tests.reference.engine_runner import engine_tasks
from tests.reference.factories import TAIYUAN, TAIYUAN_NEXT_DOOR, case, pings

T0 = 1_638_316_800_000_000  # 2021-12-01T00:00:00Z


def at(minute: float) -> int:
    return T0 + int(minute * MINUTE)


def test_a_companion_one_cell_away_is_found_only_with_a_neighbour_tolerance() -> None:
    records = [
        *pings("carrier", at(0), at(60), TAIYUAN),
        *pings("next-door", at(0), at(60), TAIYUAN_NEXT_DOOR),
        case("carrier", reported_at=at(120), case_id="k1"),
    ]
    assert engine_tasks(records) == {}
    found = engine_tasks(records, MatchParams(neighbour_rings=1))
    assert set(found) == {"next-door"}
    task = found["next-door"]
    assert task.kind == "co_located"
    assert {(e[1], e[3], e[4]) for e in task.evidence} == {("k1", at(0), at(60))}


def test_cumulative_dwell_requires_the_person_or_the_case_to_have_stayed_long_enough() -> None:
    brief = [
        *pings("carrier", at(0), at(60)),
        *pings("passer-by", at(0), at(20)),
        case("carrier", reported_at=at(120), case_id="k1"),
    ]
    dwell = MatchParams(min_cumulative_dwell=2 * HOUR)
    assert set(engine_tasks(brief)) == {"passer-by"}
    assert engine_tasks(brief, dwell) == {}
    # The carrier lived in the cell for hours before: the same brief meeting now counts.
    resident_carrier = [*pings("carrier", at(-300), at(-150)), *brief]
    assert set(engine_tasks(resident_carrier, dwell)) == {"passer-by"}
