"""Nine tasks and their compliance figures, worked out by hand (the comments show the sums).

Used twice: by the unit tests of the pure arithmetic (``compliance.figures``), and by the
integration test that builds the same tasks through the tracking service on PostgreSQL and reads
``GET /v1/compliance``. Times are hours after ``T0`` (2021-12-07 00:00 UTC). The window is the
second day, ``[24 h, 48 h)``, read at ``AS_OF`` = 40 h.

    task kind        team         detected due  queued   done   what
    A    co_located  T140105001   10       34   10:05    30     on time (20 h to complete)
    B    co_located  T140105001   12       36   12:00    38     late: missed at 36
    C    area_stay   T140105002    0       48    0:01    25     on time (25 h)
    D    co_located  T140105002   14       38   14:00    —      open, overdue: missed at 38
    E    co_located  T140106001   20       44   20:10    —      open, at risk since 38
    F    area_stay   T140106001   30       78   30:02    —      open, on track (at risk at 66)
    G    co_located  T140105001   26       50   26:00    —      withdrawn at 28: not counted
    H    city_visit  T140105001    1       49    1:00    23     done before the window
    I    co_located  T140105002    2       26    2:00    27     late: missed at 26
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

T0 = datetime(2021, 12, 7, tzinfo=UTC)
START, END, AS_OF = 24.0, 48.0, 40.0

COMMUNITY = {
    "T140105001": "140105001001",
    "T140105002": "140105002001",
    "T140106001": "140106001001",
}
TRACER = {"T140105001": "tracer_a", "T140105002": "tracer_b", "T140106001": "tracer_c"}


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    team: str
    detected: float
    deadline_hours: float
    queued: float
    completed: float | None = None
    withdrawn: float | None = None

    @property
    def due(self) -> float:
        return self.detected + self.deadline_hours


TASKS = (
    Case("A", "co_located", "T140105001", 10, 24, 10 + 5 / 60, completed=30),
    Case("B", "co_located", "T140105001", 12, 24, 12, completed=38),
    Case("C", "area_stay", "T140105002", 0, 48, 1 / 60, completed=25),
    Case("D", "co_located", "T140105002", 14, 24, 14),
    Case("E", "co_located", "T140106001", 20, 24, 20 + 10 / 60),
    Case("F", "area_stay", "T140106001", 30, 48, 30 + 2 / 60),
    Case("G", "co_located", "T140105001", 26, 24, 26, withdrawn=28),
    Case("H", "city_visit", "T140105001", 1, 48, 1, completed=23),
    Case("I", "co_located", "T140105002", 2, 24, 2, completed=27),
)


def figures(**counts: object) -> dict[str, object]:
    return counts


TOTALS = figures(
    open=3,  # D, E, F
    at_risk=1,  # E: 40 h is past 20 + 0.75 * 24 = 38 h, before 44 h
    overdue=1,  # D: due 38
    completed_on_time=2,  # A (30 <= 34), C (25 <= 48)
    completed_late=2,  # B (38 > 36), I (27 > 26); H finished before the window
    missed=3,  # B (36), D (38), I (26): due in [24, 40) and not met
    decided=5,  # 2 on time + 3 missed
    on_time_rate=0.4,  # 2 / 5
)
BY_TEAM = {
    "T140105001": figures(  # A, B, G (withdrawn), H
        open=0,
        at_risk=0,
        overdue=0,
        completed_on_time=1,
        completed_late=1,
        missed=1,
        decided=2,
        on_time_rate=0.5,
    ),
    "T140105002": figures(  # C, D, I
        open=1,
        at_risk=0,
        overdue=1,
        completed_on_time=1,
        completed_late=1,
        missed=2,
        decided=3,
        on_time_rate=1 / 3,
    ),
    "T140106001": figures(  # E, F
        open=2,
        at_risk=1,
        overdue=0,
        completed_on_time=0,
        completed_late=0,
        missed=0,
        decided=0,
        on_time_rate=None,
    ),
}
BY_DISTRICT = {  # a city supervisor's figures, one row per district
    "140105": figures(
        open=1,
        at_risk=0,
        overdue=1,
        completed_on_time=2,
        completed_late=2,
        missed=3,
        decided=5,
        on_time_rate=0.4,
    ),
    "140106": BY_TEAM["T140106001"],
}
BY_KIND = {
    "area_stay": figures(  # C, F
        open=1,
        at_risk=0,
        overdue=0,
        completed_on_time=1,
        completed_late=0,
        missed=0,
        decided=1,
        on_time_rate=1.0,
    ),
    "city_visit": figures(  # H, done before the window
        open=0,
        at_risk=0,
        overdue=0,
        completed_on_time=0,
        completed_late=0,
        missed=0,
        decided=0,
        on_time_rate=None,
    ),
    "co_located": figures(  # A, B, D, E, G, I
        open=2,
        at_risk=1,
        overdue=1,
        completed_on_time=1,
        completed_late=2,
        missed=3,
        decided=4,
        on_time_rate=0.25,
    ),
}
# A 20 h, B 26 h, C 25 h, I 25 h → sorted 72000, 90000, 90000, 93600; nearest rank of 4:
# p50 = 2nd, p90 = ceil(3.6) = 4th, p95 = 4th.
TIME_TO_COMPLETE = {"count": 4, "p50": 90000.0, "p90": 93600.0, "p95": 93600.0, "max": 93600.0}
# Queued in the window: G (0 s) and F (120 s).
PUSH_LATENCY = {"count": 2, "p50": 0.0, "p90": 120.0, "p99": 120.0, "max": 120.0}
# Hour (start, h after T0) → (pushed, on time, late, missed, on-time rate, backlog, overdue
# backlog), the backlog counted at the hour's end, or at AS_OF for the hours after it.
HOURLY = {
    24: (0, 0, 0, 0, None, 5, 0),  # at 25: A B D E I (H left at 23, C at 25)
    25: (0, 1, 0, 0, 1.0, 6, 1),  # C on time; at 26: A B D E I G, I due 26
    26: (1, 0, 0, 1, 0.0, 5, 0),  # G queued, I missed; at 27: A B D E G (I done at 27)
    30: (1, 1, 0, 0, 1.0, 4, 0),  # F queued, A on time; at 31: B D E F (G withdrawn at 28)
    35: (0, 0, 0, 0, None, 4, 1),  # at 36: B D E F, B due 36
    36: (0, 0, 0, 1, 0.0, 4, 1),  # B missed
    38: (0, 0, 1, 1, 0.0, 3, 1),  # B done late, D missed; at 39: D E F, D overdue
    47: (0, 0, 0, 0, None, 3, 1),  # after AS_OF: the backlog as of 40 h (E due 44 not yet missed)
}
# Hour → (at-risk backlog, median time to complete, median push latency). At-risk points:
# A 28, B 30, C 36, D 32, E 38, F 66, G 44, H 37, I 20 (detected + 75 % of the deadline).
HOURLY_MORE = {
    24: (1, None, None),  # I (20 ≤ 25 < 26)
    25: (0, 90000.0, None),  # I is overdue at 26, no longer at risk; C took 25 h
    26: (0, None, 0.0),  # A B D E G all before their points; G pushed at once
    30: (1, 72000.0, 120.0),  # B (30 ≤ 31); A took 20 h; F queued 2 min after detection
    35: (1, None, None),  # D (32); B is overdue at 36
    36: (1, None, None),  # D
    38: (1, 93600.0, None),  # E (38 ≤ 39); D overdue; B took 26 h
    47: (1, None, None),  # E, as of 40 h
}
