"""The benchmark's own logic, without running it: ratios point the right way, a difference
between result sets is reported, and the PostgreSQL load writes the rows matching needs."""

from __future__ import annotations

import time
from pathlib import Path

import h3.api.basic_int as h3int
import orjson

from bench.companions import compare, from_rows, from_task_lines
from bench.postgres import _copy_text, _ping_rows
from bench.report import Row
from paicha.matching.timeutil import MINUTE


def test_ratio_is_how_many_times_better_paicha_is_for_rates_and_durations() -> None:
    rate = Row(
        measure="r", how="", paicha=600.0, baseline=200.0, unit="pings/s", target="", met=None
    )
    duration = Row(
        measure="d",
        how="",
        paicha=2.0,
        baseline=10.0,
        unit="ms",
        target="",
        met=None,
        higher_is_better=False,
    )
    missing = Row(measure="m", how="", paicha=2.0, baseline=None, unit="ms", target="", met=None)

    assert rate.ratio == 3.0
    assert duration.ratio == 5.0
    assert missing.ratio is None


def test_a_companion_on_one_side_only_makes_the_comparison_fail() -> None:
    shared = ("P1", "C1", "88283082a1fffff", 0, 10 * MINUTE)
    extra = ("P2", "C1", "88283082a1fffff", 0, 10 * MINUTE)

    same = compare("x", "left", {shared}, "right", {shared})
    different = compare("x", "left", {shared, extra}, "right", {shared})

    assert same.identical
    assert "identical: yes" in same.summary()
    assert not different.identical
    assert different.only_left == (extra,) and different.only_right == ()
    assert "identical: NO" in different.summary()


def test_task_lines_and_sql_rows_become_the_same_companion(tmp_path: Path) -> None:
    cell = h3int.latlng_to_cell(37.87, 112.55, 8)
    task = {
        "person_id": "P1",
        "status": "open",
        "evidence": [
            {
                "kind": "co_located",
                "case_id": "C1",
                "cell": h3int.int_to_str(cell),
                "overlap_start": "2021-12-01T01:00:00Z",
                "overlap_end": "2021-12-01T01:10:00Z",
            },
            {
                "kind": "area_stay",
                "area_id": "A1",
                "cell": h3int.int_to_str(cell),
                "overlap_start": "2021-12-01T01:00:00Z",
                "overlap_end": "2021-12-01T01:10:00Z",
            },
        ],
    }
    closed = {**task, "person_id": "P2", "status": "closed"}
    path = tmp_path / "tasks.jsonl"
    path.write_bytes(orjson.dumps(task) + b"\n" + orjson.dumps(closed) + b"\n")
    start = 1_638_320_400_000_000  # 2021-12-01T01:00:00Z

    from_output = from_task_lines(path)
    from_sql = from_rows([("P1", "C1", cell, start, start + 10 * MINUTE)])

    assert from_output == from_sql
    assert len(from_output) == 1


def test_copy_rows_carry_person_time_and_cell_with_text_format_escapes(tmp_path: Path) -> None:
    path = tmp_path / "trajectories.jsonl"
    ping = {
        "event_id": "e1",
        "person_id": "a\tb\\c",
        "lat": 37.87,
        "lon": 112.55,
        "observed_at": "2021-12-01T09:00:00+08:00",
    }
    path.write_bytes(orjson.dumps(ping) + b"\n\n")

    rows = list(_ping_rows(path, 8))

    cell = h3int.latlng_to_cell(37.87, 112.55, 8)
    assert rows == [f"a\\tb\\\\c\t1638320400000000\t{cell}\n".encode()]
    assert _copy_text("x\ny\r") == "x\\ny\\r"


def test_paced_claimers_count_latency_from_the_scheduled_start() -> None:
    """A stall delays the claims scheduled behind it, and the figure must show that."""
    from bench.tracking_claims import run_claimers

    left = [4]

    def claim(_index: int) -> bool:
        left[0] -= 1
        if left[0] == 2:
            time.sleep(0.2)  # the second claim stalls past the third's scheduled start
        return left[0] >= 0

    result = run_claimers("stalling", 1, claim, interval=0.05)
    assert result.claims == 4
    # The third claim was due 0.05 s after the second began, and ran only after its 0.2 s stall.
    assert result.latencies_ms[2] >= 100


def test_claimers_spread_over_processes_count_every_process_s_claims() -> None:
    """Each process opens claims for its own tracers, and every tracer's claims reach the result."""
    from collections.abc import Iterator, Sequence
    from contextlib import contextmanager

    from bench.tracking_claims import Claim, spread_claimers

    @contextmanager
    def three_tasks_each(_url: str, indices: Sequence[int]) -> Iterator[Claim]:
        left = dict.fromkeys(indices, 3)

        def claim(index: int) -> bool:
            left[index] -= 1
            return left[index] >= 0

        yield claim

    result = spread_claimers("spread", "no-database", 6, three_tasks_each, processes=3)
    assert result.claims == 18
    assert len(result.latencies_ms) == 18
