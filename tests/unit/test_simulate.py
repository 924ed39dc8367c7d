"""The synthetic city: reproducible, every record within the feed contracts, awkward where real
feeds are awkward, and rich enough that all three exposure kinds happen."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from random import Random
from typing import Any

import h3
import orjson
import pytest
import typer
from typer.testing import CliRunner

from paicha.batch import run_match
from paicha.commands.simulate import simulate
from paicha.feeds import decode
from paicha.matching.params import MatchParams
from paicha.simulate import FEED_FILES, SimulationConfig, SimulationError, simulate_city
from paicha.simulate.geography import CITIES
from paicha.simulate.writer import JsonlWriter

SMALL_PERSONS = 300  # the smallest city in which every exposure kind reliably happens


def _run(out_dir: Path, **options: Any) -> Path:
    config = SimulationConfig(out_dir=out_dir, persons=SMALL_PERSONS, days=1, seed=7)
    simulate_city(replace(config, **options))
    return out_dir


def _lines(out_dir: Path, topic: str) -> list[bytes]:
    return (out_dir / f"{topic}.jsonl").read_bytes().splitlines()


def _records(out_dir: Path, topic: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in _lines(out_dir, topic)]


def _digest(out_dir: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out_dir.iterdir())
    }


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("plain"))


def test_the_same_seed_writes_the_same_bytes(city: Path, tmp_path: Path) -> None:
    assert _digest(_run(tmp_path / "again")) == _digest(city)
    assert _digest(_run(tmp_path / "other", seed=8)) != _digest(city)


def test_every_record_passes_the_feed_decoder(city: Path) -> None:
    for topic in FEED_FILES:
        lines = _lines(city, topic)
        assert lines, topic
        for line in lines:
            decode(topic, line)  # raises FeedError on any breach of CONTRACTS.md


def test_times_are_local_with_an_offset_and_event_ids_unique(city: Path) -> None:
    for topic in ("trajectories", "itineraries", "cases", "risk-areas"):
        records = _records(city, topic)
        assert len({r["event_id"] for r in records}) == len(records), topic
        for record in records:
            for key, value in record.items():
                if key.endswith("_at") or key == "lookback_from":
                    assert value is None or value.endswith("+08:00"), (topic, key, value)


def test_pings_come_every_few_minutes_with_noise_and_some_long_gaps(city: Path) -> None:
    by_person: dict[str, list[float]] = {}
    for ping in _records(city, "trajectories"):
        by_person.setdefault(ping["person_id"], []).append(
            datetime.fromisoformat(ping["observed_at"]).timestamp()
        )
        assert 0 < ping["accuracy_m"] < 100
    gaps = [b - a for times in by_person.values() for a, b in pairwise(times)]
    assert all(gap > 0 for gap in gaps)  # per person in time order
    typical = sorted(gaps)[len(gaps) // 2]
    assert 240 <= typical <= 360
    assert len(set(gaps)) > 100  # jittered, not a metronome
    assert sum(gap > 30 * 60 for gap in gaps) >= 10  # splits stays (max_gap)
    assert len(by_person) == SMALL_PERSONS


def test_people_live_in_communities_the_jurisdictions_file_routes(city: Path) -> None:
    document = orjson.loads((city / "jurisdictions.json").read_bytes())
    province = document["province"]
    assert province["code"] == "140000"
    (home,) = province["cities"]
    assert home["code"] == "140100"
    communities = {
        c["code"]: c
        for d in home["districts"]
        for c in d["communities"]
        if c["code"][:6] == d["code"]
    }
    assert {d["code"] for d in home["districts"]} == {d.code for d in CITIES["140100"].districts}
    teams = {t["team_id"]: t for t in document["teams"]}
    assert all(c["team_id"] in teams for c in communities.values())
    assert any(t["jurisdiction"] == "140100" and not t["communities"] for t in teams.values())

    persons = _records(city, "persons")
    residences = [p["residence_code"] for p in persons]
    assert all(len(code) == 12 and code.isdigit() for code in residences)
    at_home = [code for code in residences if code.startswith("1401")]
    assert set(at_home) <= set(communities)
    elsewhere = {code[:4] + "00" for code in residences} - {"140100"}
    assert elsewhere and elsewhere <= set(CITIES)
    assert all(p["phone"].isdigit() and len(p["phone"]) == 11 and p["name"] for p in persons)
    pinged = {p["person_id"] for p in _records(city, "trajectories")}
    assert pinged - {p["person_id"] for p in persons}, "some phones have no registry entry"


def test_itineraries_bring_travellers_back_and_visitors_in(city: Path) -> None:
    records = _records(city, "itineraries")
    cities = Counter(r["city_code"] for r in records)
    assert cities["140100"] > 0 and len(cities) >= 3
    assert any("departed_at" not in r for r in records)
    assert all(r.get("departed_at", r["arrived_at"]) >= r["arrived_at"] for r in records)


def test_cases_at_home_and_elsewhere_of_both_kinds(city: Path) -> None:
    cases = _records(city, "cases")
    assert {c["classification"] for c in cases} == {"confirmed", "asymptomatic"}
    pinged = {p["person_id"] for p in _records(city, "trajectories")}
    home = [c for c in cases if c["city_code"] == "140100"]
    assert home and all(c["person_id"] in pinged for c in home)
    away = [c for c in cases if c["city_code"] != "140100"]
    assert away and not any(c["person_id"] in pinged for c in away)
    assert sum("isolated_at" in c for c in cases) >= len(cases) / 2


def test_risk_areas_include_a_compound_smaller_than_a_cell_and_a_lift(city: Path) -> None:
    areas = _records(city, "risk-areas")
    cell_km2 = h3.average_hexagon_area(8, unit="km^2")
    home = [a for a in areas if a["city_code"] == "140100"]
    assert home and any(a["city_code"] != "140100" for a in areas)

    def area_km2(polygon: dict[str, Any]) -> float:
        ring = polygon["coordinates"][0]
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        return (max(lats) - min(lats)) * 111.32 * (max(lons) - min(lons)) * 111.32 * 0.79

    small = [a for a in home if area_km2(a["polygon"]) < cell_km2 / 10]
    assert small
    cells = h3.h3shape_to_cells_experimental(
        h3.geo_to_h3shape(small[0]["polygon"]), 8, contain="overlap"
    )
    assert 1 <= len(cells) <= 4
    per_area = Counter(a["area_id"] for a in areas)
    (lifted_id,) = [area_id for area_id, n in per_area.items() if n == 2]
    first, second = [a for a in areas if a["area_id"] == lifted_id]
    assert first["lifted_at"] is None and second["lifted_at"] > first["designated_at"]


def test_all_three_exposure_kinds_happen(city: Path) -> None:
    run = run_match(
        city,
        params=MatchParams(),
        clock=lambda: 1_638_500_000_000_000,
        on_reject=lambda rejected: pytest.fail(str(rejected)),
    )
    kinds = Counter(e.kind for task in run.tasks.values() for e in task.evidence)
    assert set(kinds) == {"co_located", "area_stay", "city_visit"}


def test_shuffle_and_resend_keep_the_records_of_a_plain_run(city: Path, tmp_path: Path) -> None:
    messy = _run(tmp_path, shuffle=True, resend=0.1)
    for topic in FEED_FILES:
        plain, mixed = _lines(city, topic), _lines(messy, topic)
        assert set(mixed) == set(plain), topic
        if topic != "persons" and len(plain) > 100:
            assert mixed[: len(plain)] != plain, topic
            resent = len(mixed) - len(plain)
            assert 0.05 * len(plain) < resent < 0.15 * len(plain), topic
    order = [r["event_id"] for r in _records(messy, "risk-areas")]
    for area_id in {r["area_id"] for r in _records(city, "risk-areas")}:
        ids = [r["event_id"] for r in _records(city, "risk-areas") if r["area_id"] == area_id]
        seen = [e for e in dict.fromkeys(order) if e in ids]
        assert seen == ids, area_id


def test_a_shuffle_bigger_than_memory_goes_through_buckets(tmp_path: Path) -> None:
    records = [{"event_id": str(i), "area_id": str(i % 3)} for i in range(1000)]
    writer = JsonlWriter(tmp_path / "big.jsonl", shuffle=Random(1), memory_lines=50)
    writer.write_all(records[:600])
    writer.write_all(records[600:])
    summary = writer.close()
    written = [orjson.loads(line) for line in (tmp_path / "big.jsonl").read_bytes().splitlines()]
    assert summary.records == 1000 and sorted(written, key=lambda r: int(r["event_id"])) == records
    assert written != records
    assert [p.name for p in tmp_path.iterdir()] == ["big.jsonl"]  # buckets cleaned up


def test_options_for_start_interval_cases_and_areas(tmp_path: Path) -> None:
    out = _run(
        tmp_path,
        persons=60,
        start=datetime.fromisoformat("2021-12-05T06:30:00+08:00"),
        ping_interval_minutes=10,
        cases=3,
        areas=2,
    )
    pings = _records(out, "trajectories")
    times = sorted(p["observed_at"] for p in pings)
    assert times[0] >= "2021-12-05T06:30:00+08:00" and times[-1] < "2021-12-06T06:30:00+08:00"
    assert 60 * 100 < len(pings) < 60 * 150  # every ten minutes, less dropouts
    assert len(_records(out, "cases")) == 3
    assert len({a["area_id"] for a in _records(out, "risk-areas")}) == 2


def test_cli_writes_the_files_and_rejects_bad_options(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("simulate")(simulate)
    app.command("noop")(lambda: None)  # with two commands, typer keeps the command name
    runner = CliRunner()
    result = runner.invoke(
        app, ["simulate", str(tmp_path), "--persons", "40", "--days", "1", "--shuffle"]
    )
    assert result.exit_code == 0, result.output
    assert {f"{topic}.jsonl" for topic in FEED_FILES} | {"jurisdictions.json"} == {
        p.name for p in tmp_path.iterdir()
    }
    assert "trajectories.jsonl" in result.output  # the summary table
    bad = runner.invoke(app, ["simulate", str(tmp_path), "--resend", "1.5"])
    assert bad.exit_code == 2 and "resend" in bad.output
    naive = runner.invoke(app, ["simulate", str(tmp_path), "--start", "2021-12-01T00:00:00"])
    assert naive.exit_code == 2 and "offset" in naive.output


def test_config_names_the_option_that_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(SimulationError) as error:
        SimulationConfig(out_dir=tmp_path, persons=0)
    assert error.value.field == "persons"
