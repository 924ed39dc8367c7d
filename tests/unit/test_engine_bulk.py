"""The bulk ping path (``Engine.submit_pings``, what ``paicha match`` uses) agrees with the
record-at-a-time path, whatever the chunking."""

from __future__ import annotations

import random
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from paicha import batch, ping_slices
from paicha.errors import FeedError
from paicha.feeds import decode, decode_ping_columns, decode_ping_row
from paicha.matching import person_pings
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


@pytest.mark.parametrize("chunk", [13, 997, 1_000_000])
def test_engine_submit_pings_in_any_chunks_gives_the_tasks_of_one_record_at_a_time(
    city: Path, chunk: int
) -> None:
    # Shuffled, with the city's re-sent pings: chunks hold ties, re-sends and out-of-order pings.
    engine = Engine(params=MatchParams(), clock=lambda: 0)
    pings = []
    for topic in TOPICS:
        for line in (city / f"{topic}.jsonl").read_bytes().splitlines():
            if not line.strip():
                continue
            if topic == "trajectories":
                pings.append(decode_ping_row(line))
            else:
                engine.submit(decode(topic, line))
    engine.flush()
    random.Random(4).shuffle(pings)
    for start in range(0, len(pings), chunk):
        engine.submit_pings(pings[start : start + chunk])
        if start // chunk % 50 == 0:
            engine.flush()
    engine.flush()
    assert view(engine.open_tasks()) == one_at_a_time(city)


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


def test_tricky_slices_group_as_their_lines_decoded_one_by_one(tmp_path: Path) -> None:
    # Refused lines among good ones, times with offsets and fractions, re-sent ids (same and other
    # content), persons interleaved, pings out of order and at one moment: each slice, whichever
    # way it is parsed (in one pass, or line by line when one is refused or odd) and grouped (on
    # columns, or by by_person for re-sent ids and ties), gives what decoding each of its lines
    # and grouping them with person_pings.by_person gives.
    ping = '{{"event_id":"{e}","person_id":"{p}","lat":{lat},"lon":112.55,"observed_at":"{t}"}}'
    rng = random.Random(11)
    times = [
        "2021-12-01T08:{m:02d}:00+08:00",
        "2021-12-01T00:{m:02d}:00Z",
        "2021-11-30T19:{m:02d}:00.5-05:30",
        "2021-12-01T08:{m:02d}:00.123456+08:00",
    ]
    lines = []
    for i in range(600):
        event_id = f"n{rng.randrange(max(i - 9, 0), i + 1)}" if rng.random() < 0.05 else f"n{i}"
        spelling = rng.choice(times) if rng.random() > 0.01 else "2021-12-01t08:{m:02d}:00+08:00"
        lines.append(
            ping.format(
                e=event_id,
                p=rng.choice("abc") if i % 200 < 100 else "d",
                lat=rng.choice([37.87, 37.8712, 37.95, 37]),
                t=spelling.format(m=rng.randrange(60) if i % 3 else i % 60),
            )
        )
    bad = {
        17: "{}",
        120: ping.format(e="x", p="a", lat=91, t="2021-12-01T08:00:00+08:00"),
        250: "not json",
        333: ping.format(e="y", p="b", lat=37, t="yesterday"),
    }
    for at, line in bad.items():
        lines[at] = line
    path = tmp_path / "trajectories.jsonl"
    path.write_text("\n".join(lines) + "\n")

    ways = Counter()
    refused = []
    first_line = 0
    for start, end in ping_slices.cut(path, 2_000):
        piece = ping_slices.decode_slice(path, start, end, 8, MAX_GAP)
        data = path.read_bytes()[start:end]
        rows = []
        for number, line in enumerate(data.splitlines(), start=1):
            try:
                rows.append(decode_ping_row(line))
            except FeedError as error:
                refused.append((first_line + number, error.field))
        ids, persons, lats, lons, moments = (list(c) for c in zip(*rows, strict=True))
        assert (piece.grouped.people(), piece.resent) == person_pings.located_by_person(
            ids, persons, lats, lons, moments, 8, MAX_GAP
        )
        assert [r for r, _, _ in piece.rejects] == [
            r - first_line for r, _ in refused if r > first_line
        ]
        first_line += piece.lines
        ways["one pass" if decode_ping_columns(data) else "line by line"] += 1
        ways["re-sent" if len(set(ids)) < len(ids) else "each id once"] += 1
    assert refused == [(18, "event_id"), (121, "lat"), (251, ""), (334, "observed_at")]
    assert all(ways[way] >= 3 for way in ("one pass", "line by line", "re-sent", "each id once"))


@pytest.mark.parametrize("lines", [1, 7, 400, 2_000])
def test_slices_cover_the_file_at_line_ends_and_the_last_ones_taper_off(
    tmp_path: Path, lines: int
) -> None:
    path = tmp_path / "trajectories.jsonl"
    rng = random.Random(lines)
    path.write_bytes(b"".join(b"x" * rng.randrange(20, 60) + b"\n" for _ in range(lines)))
    data = path.read_bytes()

    ranges = ping_slices.cut(path, 1_600)

    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    assert all(end == start for (_, end), (start, _) in pairwise(ranges))
    assert all(data[end - 1 : end] == b"\n" for _, end in ranges)
    sizes = [end - start for start, end in ranges]
    if len(data) > 4 * 1_600:
        full = [size for size in sizes if size >= 1_600]
        assert sizes[: len(full)] == full  # full slices first, then ever smaller ones
        tail = sizes[len(full) :]
        assert len(tail) >= 3
        assert max(tail[-2:]) <= 1_600 // 4 + 60  # a quarter of a slice, to the line's end


PING = '{{"event_id":"e{i}","person_id":"p{p}","lat":37.8{i},"lon":112.5,"observed_at":"{t}"}}'


def test_a_slice_parsed_in_pieces_gives_what_its_lines_give_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spellings = ["2021-12-01T08:{m:02d}:00+08:00", "2021-12-01T00:{m:02d}:00.25Z"]
    lines = [
        PING.format(i=i, p=i % 7, t=spellings[i % 11 == 0].format(m=i % 60)) for i in range(500)
    ]
    path = tmp_path / "trajectories.jsonl"
    path.write_text("\n".join(lines) + "\n\n")
    monkeypatch.setattr(ping_slices, "PIECE_BYTES", 300)  # a few lines a piece

    piece = ping_slices.decode_slice(path, 0, path.stat().st_size, 8, MAX_GAP)

    rows = [decode_ping_row(line) for line in lines]
    ids, persons, lats, lons, moments = (list(c) for c in zip(*rows, strict=True))
    assert piece.rejects == []
    assert (piece.grouped.people(), piece.resent) == person_pings.located_by_person(
        ids, persons, lats, lons, moments, 8, MAX_GAP
    )


@pytest.mark.parametrize("bad_line", [0, 250, 499])
@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ('{"event_id":"x"}', "person_id"),
        (PING.format(i=1, p=1, t="2021-02-30T00:00:00Z"), "observed_at"),
        (PING.format(i=1, p=1, t="2021-12-01T08:00:00+08:00\\u0000"), "observed_at"),
    ],
)
def test_a_refused_line_in_any_piece_is_named_and_the_others_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad_line: int, bad: str, field: str
) -> None:
    lines = [PING.format(i=i, p=1, t="2021-12-01T08:00:00+08:00") for i in range(500)]
    lines[bad_line] = bad
    path = tmp_path / "trajectories.jsonl"
    path.write_text("\n".join(lines))
    monkeypatch.setattr(ping_slices, "PIECE_BYTES", 300)

    piece = ping_slices.decode_slice(path, 0, path.stat().st_size, 8, MAX_GAP)

    assert [(line, where) for line, where, _ in piece.rejects] == [(bad_line + 1, field)]
    assert piece.pings == 499
