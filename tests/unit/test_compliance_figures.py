"""The compliance arithmetic against figures worked out by hand (tests/reference/
compliance_fixture.py), and the deadline standings it rests on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.tracking.codes import ancestry
from services.tracking.compliance import figures as calc
from services.tracking.deadlines import at_risk_from, check_fraction, standing
from tests.reference import compliance_fixture as fx


def fixture_tasks() -> list[calc.TaskTimes]:
    return [
        calc.TaskTimes(
            task_id=case.name,
            kind=case.kind,
            team=case.team,
            jurisdiction=fx.COMMUNITY[case.team],
            status="completed" if case.completed else "withdrawn" if case.withdrawn else "open",
            detected_at=fx.at(case.detected),
            due_at=fx.at(case.due),
            created_at=fx.at(case.queued),
            completed_at=fx.at(case.completed) if case.completed else None,
            closed_at=fx.at(case.withdrawn) if case.withdrawn else None,
        )
        for case in fx.TASKS
    ]


WINDOW = calc.Window(start=fx.at(fx.START), end=fx.at(fx.END), as_of=fx.at(fx.AS_OF))


def test_totals_match_the_hand_computed_figures() -> None:
    assert calc.figures(fixture_tasks(), WINDOW) == pytest.approx(fx.TOTALS)


def test_figures_per_team_jurisdiction_and_kind_match_by_hand() -> None:
    tasks = fixture_tasks()

    by_team = calc.grouped(tasks, lambda t: t.team, WINDOW)
    by_district = calc.grouped(tasks, lambda t: ancestry(t.jurisdiction or "")["district"], WINDOW)
    by_kind = calc.grouped(tasks, lambda t: t.kind, WINDOW)

    for got, expected in (
        (by_team, fx.BY_TEAM),
        (by_district, fx.BY_DISTRICT),
        (by_kind, fx.BY_KIND),
    ):
        assert list(got) == list(expected)
        for key, figures in expected.items():
            assert got[key] == pytest.approx(figures), key


def test_time_to_complete_and_push_latency_percentiles_match_by_hand() -> None:
    tasks = fixture_tasks()

    assert calc.time_to_complete(tasks, WINDOW) == fx.TIME_TO_COMPLETE
    assert calc.push_latency(tasks, WINDOW) == fx.PUSH_LATENCY


def test_hourly_buckets_match_by_hand() -> None:
    rows = calc.hourly(fixture_tasks(), WINDOW)

    assert len(rows) == 24
    assert rows[0]["hour"] == fx.at(24)
    by_hour = {int((row["hour"] - fx.T0) / timedelta(hours=1)): row for row in rows}
    for hour, expected in fx.HOURLY.items():
        row = by_hour[hour]
        got = tuple(
            row[name]
            for name in (
                "pushed",
                "completed_on_time",
                "completed_late",
                "missed",
                "on_time_rate",
                "backlog",
                "backlog_overdue",
            )
        )
        assert got == expected, f"hour {hour}"


def test_hourly_at_risk_backlog_and_medians_match_by_hand() -> None:
    rows = calc.hourly(fixture_tasks(), WINDOW)

    by_hour = {int((row["hour"] - fx.T0) / timedelta(hours=1)): row for row in rows}
    for hour, expected in fx.HOURLY_MORE.items():
        row = by_hour[hour]
        got = (row["backlog_at_risk"], row["time_to_complete_p50"], row["push_latency_p50"])
        assert got == expected, f"hour {hour}"


def test_the_last_hours_backlog_agrees_with_the_snapshot() -> None:
    last = calc.hourly(fixture_tasks(), WINDOW)[-1]
    totals = calc.figures(fixture_tasks(), WINDOW)

    assert (last["backlog"], last["backlog_at_risk"], last["backlog_overdue"]) == (
        totals["open"],
        totals["at_risk"],
        totals["overdue"],
    )


def test_hourly_event_counts_add_up_to_the_window_totals() -> None:
    rows = calc.hourly(fixture_tasks(), WINDOW)

    for name in ("completed_on_time", "completed_late", "missed"):
        assert sum(row[name] for row in rows) == fx.TOTALS[name]


def test_nearest_rank_percentiles_pick_values_that_occurred() -> None:
    assert calc.percentiles([4, 1, 3, 2], (50, 90)) == {"count": 4, "p50": 2, "p90": 4, "max": 4}
    assert calc.percentiles([7], (50, 99)) == {"count": 1, "p50": 7, "p99": 7, "max": 7}
    assert calc.percentiles([], (50,)) == {"count": 0, "p50": None, "max": None}


def test_nothing_decided_gives_no_rate_rather_than_zero() -> None:
    untouched = [t for t in fixture_tasks() if t.task_id in ("E", "F")]

    assert calc.figures(untouched, WINDOW)["on_time_rate"] is None


def test_a_task_is_at_risk_from_75_percent_of_its_time_and_overdue_at_its_deadline() -> None:
    detected, due = fx.at(0), fx.at(24)

    assert at_risk_from(detected, due) == fx.at(18)
    assert standing(detected, due, fx.at(18) - timedelta(microseconds=1)) == "on_track"
    assert standing(detected, due, fx.at(18)) == "at_risk"
    assert standing(detected, due, fx.at(24) - timedelta(microseconds=1)) == "at_risk"
    assert standing(detected, due, fx.at(24)) == "overdue"
    assert standing(detected, fx.at(48), fx.at(36)) == "at_risk"
    assert standing(detected, due, fx.at(12), fraction=0.5) == "at_risk"


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_an_at_risk_fraction_outside_0_and_1_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        check_fraction(fraction)
