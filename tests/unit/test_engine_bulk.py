"""The bulk ping path (``Engine.submit_pings``, what ``paicha match`` uses) agrees with the
record-at-a-time path, whatever the chunking."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from paicha import batch, ping_slices
from paicha.feeds import decode
from paicha.matching.engine import Engine
from paicha.matching.params import MatchParams
from paicha.simulate.scenario import SimulationConfig, simulate_city

MAX_GAP = MatchParams().max_gap
TOPICS = ("persons", "risk-areas", "cases", "itineraries", "trajectories")


def view(tasks: dict) -> dict:
    return {
        pid: (
            t.kind,
            sorted(
                (e.kind, e.source_id, e.place, e.overlap_start, e.overlap_end) for e in t.evidence
            ),
        )
        for pid, t in tasks.items()
    }


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    simulate_city(SimulationConfig(out_dir=folder, persons=120, days=1, seed=5, resend=0.05))
    return folder


def one_at_a_time(folder: Path) -> dict:
    engine = Engine(params=MatchParams(), clock=lambda: 0)
    records = [
        decode(topic, line)
        for topic in TOPICS
        for line in (folder / f"{topic}.jsonl").read_bytes().splitlines()
        if line.strip()
    ]
    random.Random(3).shuffle(records)
    for i, record in enumerate(records):
        engine.submit(record)
        if i % 5000 == 0:
            engine.flush()
    engine.flush()
    return view(engine.open_tasks())


@pytest.mark.parametrize(("slice_bytes", "jobs"), [(99_991, 1), (2_000_000, 1), (300_007, 2)])
def test_bulk_pings_in_any_slices_give_the_tasks_of_one_record_at_a_time(
    city: Path, slice_bytes: int, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ping_slices, "SLICE_BYTES", slice_bytes)
    run = batch.run_match(city, params=MatchParams(), clock=lambda: 0, on_reject=print, jobs=jobs)
    expected = one_at_a_time(city)
    assert expected, "the city must produce tasks"
    assert view(run.tasks) == expected


def test_a_batch_keeps_pings_older_than_retention_behind_a_later_feed(tmp_path: Path) -> None:
    # The itineraries file is read before the trajectories; an itinerary 30 days after the pings
    # must not make them "older than retention" on arrival: in time order they would have been
    # matched long before they were forgotten.
    ping = '{{"event_id":"{e}","person_id":"{p}","lat":37.87,"lon":112.55,"observed_at":"{t}"}}'
    lines = [
        ping.format(e=f"{p}{m}", p=p, t=f"2021-12-01T08:{m:02d}:00+08:00")
        for p in ("a", "k")
        for m in range(0, 40, 5)
    ]
    (tmp_path / "trajectories.jsonl").write_text("\n".join(lines))
    (tmp_path / "cases.jsonl").write_text(
        '{"event_id":"c1","case_id":"K1","person_id":"k","classification":"confirmed",'
        '"reported_at":"2021-12-02T08:00:00+08:00","city_code":"140100"}'
    )
    (tmp_path / "itineraries.jsonl").write_text(
        '{"event_id":"i1","person_id":"z","city_code":"330100",'
        '"arrived_at":"2022-01-05T08:00:00+08:00"}'
    )
    run = batch.run_match(tmp_path, params=MatchParams(), clock=lambda: 0, on_reject=print)
    assert set(run.tasks) == {"a"}
    assert run.engine_stats["expired"] == 0


def test_refused_pings_keep_their_line_numbers_across_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = (
        '{"event_id":"e%d","person_id":"p","lat":37.87,"lon":112.55,'
        '"observed_at":"2021-12-01T08:00:%02d+08:00"}'
    )
    lines = [good % (i, i % 60) for i in range(1, 200)]
    lines[41] = (
        '{"event_id":"bad","person_id":"p","lat":137.0,"lon":112.55,"observed_at":"2021-12-01T08:00:00+08:00"}'
    )
    lines[150] = "not json"
    (tmp_path / "trajectories.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(ping_slices, "SLICE_BYTES", 1_000)
    rejected: list[batch.Rejected] = []
    run = batch.run_match(
        tmp_path, params=MatchParams(), clock=lambda: 0, on_reject=rejected.append, jobs=2
    )
    assert [(r.line, r.field) for r in rejected] == [(42, "lat"), (151, "")]
    assert run.accepted["trajectories"] == 197


def test_feed_files_with_a_byte_order_mark_and_crlf_line_ends_are_read_whole(
    tmp_path: Path,
) -> None:
    ping = '{{"event_id":"{p}{m}","person_id":"{p}","lat":37.87,"lon":112.55,"observed_at":"{t}"}}'
    lines = [
        ping.format(p=p, m=m, t=f"2021-12-01T08:{m:02d}:00+08:00")
        for p in ("a", "k")
        for m in range(0, 40, 5)
    ]
    bom = "\ufeff"
    (tmp_path / "trajectories.jsonl").write_text(bom + "\r\n".join(lines) + "\r\n")
    (tmp_path / "cases.jsonl").write_text(
        bom + '{"event_id":"c1","case_id":"K1","person_id":"k","classification":"confirmed",'
        '"reported_at":"2021-12-02T08:00:00+08:00","city_code":"140100"}\r\n'
    )
    rejected: list[batch.Rejected] = []
    run = batch.run_match(
        tmp_path, params=MatchParams(), clock=lambda: 0, on_reject=rejected.append
    )
    assert rejected == []
    assert set(run.tasks) == {"a"}


def test_a_slice_decoded_in_one_pass_equals_its_lines_decoded_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ping = '{{"event_id":"e{i}","person_id":"p{i}","lat":37.87,"lon":112.55,"observed_at":"{t}"}}'
    lines = [ping.format(i=i, t=f"2021-12-01T08:{i:02d}:00+08:00") for i in range(30)]
    lines.insert(7, "   ")  # blank lines are skipped by both ways
    path = tmp_path / "trajectories.jsonl"
    path.write_text("\n".join(lines) + "\n")
    size = path.stat().st_size
    one_pass = ping_slices.decode_slice(path, 0, size, 8, MAX_GAP)
    monkeypatch.setattr(ping_slices, "decode_ping_columns", lambda _data: None)
    by_line = ping_slices.decode_slice(path, 0, size, 8, MAX_GAP)
    assert one_pass == by_line and one_pass.pings == 30
    # One refused line sends the slice line by line, which names it; the rest are kept.
    lines[3] = ping.format(i=3, t="2021-12-01 08:03")
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.undo()
    assert ping_slices.decode_ping_columns(path.read_bytes()) is None
    mixed = ping_slices.decode_slice(path, 0, path.stat().st_size, 8, MAX_GAP)
    assert mixed.grouped.people() == [p for p in by_line.grouped.people() if p.person_id != "p3"]
    assert [(line, field) for line, field, _ in mixed.rejects] == [(4, "observed_at")]
