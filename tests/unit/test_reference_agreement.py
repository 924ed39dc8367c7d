"""The engine and the brute-force reference agree on whole simulated cities.

The generated cities of ``test_matching_properties`` are small on purpose; these are the
simulator's, with realistic movement, outbreaks and itineraries, read back through the feed
decoder exactly as ``paicha simulate`` wrote them. The command-line runs (a real subprocess, and a
larger city) are marked ``e2e`` so that the unit run stays fast.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `tests.reference`, under any runner

from tests.reference import engine_runner
from tests.reference.brute_force import ExpectedTask, expected_tasks

simulate = pytest.importorskip("paicha.simulate", reason="the simulator is not written yet")
feeds = pytest.importorskip("paicha.feeds", reason="the feed decoder is not written yet")

TOPIC_ORDER = ("persons", "risk-areas", "cases", "itineraries", "trajectories")


def read_city(folder: Path) -> dict[str, list[object]]:
    """Every feed file of a simulated city, decoded, in file order; a refused line fails."""
    city: dict[str, list[object]] = {}
    for topic in TOPIC_ORDER:
        city[topic] = []
        for number, record in feeds.read_jsonl(folder / f"{topic}.jsonl", topic):
            assert not isinstance(record, Exception), f"{topic}.jsonl:{number}: {record}"
            city[topic].append(record)
    return city


def in_topic_order(city: dict[str, list[object]]) -> list[object]:
    return [record for topic in TOPIC_ORDER for record in city[topic]]


def interleaved(city: dict[str, list[object]], rng: random.Random) -> list[object]:
    """The topics merged at random, each topic's records keeping their file order (one Kafka
    consumer reading five topics sees them so)."""
    slots = [topic for topic in TOPIC_ORDER for _ in city[topic]]
    rng.shuffle(slots)
    readers = {topic: iter(records) for topic, records in city.items()}
    return [next(readers[topic]) for topic in slots]


def simulated(folder: Path, **options: object) -> dict[str, list[object]]:
    simulate.simulate_city(simulate.SimulationConfig(out_dir=folder, **options))
    return read_city(folder)


def assert_worth_comparing(tasks: dict[str, ExpectedTask]) -> None:
    """A city in which nobody is matched, or only one way, would prove little."""
    kinds = {task.kind for task in tasks.values()}
    assert {"co_located", "area_stay", "city_visit"} <= kinds, kinds


CITY = {"persons": 200, "days": 1, "seed": 3}


@pytest.fixture(scope="module")
def ordered_city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[object]]:
    return simulated(tmp_path_factory.mktemp("ordered"), **CITY)


@pytest.fixture(scope="module")
def reference_tasks(ordered_city: dict[str, list[object]]) -> dict[str, ExpectedTask]:
    tasks = expected_tasks(in_topic_order(ordered_city))
    assert_worth_comparing(tasks)
    return tasks


def test_engine_agrees_with_the_reference_on_a_simulated_city(
    ordered_city: dict[str, list[object]], reference_tasks: dict[str, ExpectedTask]
) -> None:
    engine_runner.engine_class()
    assert engine_runner.engine_tasks(in_topic_order(ordered_city)) == reference_tasks


def test_topics_interleaved_and_flushed_at_random_give_the_same_tasks(
    ordered_city: dict[str, list[object]], reference_tasks: dict[str, ExpectedTask]
) -> None:
    engine_runner.engine_class()
    rng = random.Random(5)
    records = interleaved(ordered_city, rng)
    flush_after = set(rng.sample(range(len(records)), 50))
    assert engine_runner.engine_tasks(records, flush_after=flush_after) == reference_tasks


def test_a_shuffled_city_with_resends_gives_the_same_tasks(
    tmp_path: Path, reference_tasks: dict[str, ExpectedTask]
) -> None:
    engine_runner.engine_class()
    city = simulated(tmp_path, **CITY, shuffle=True, resend=0.2)
    records = interleaved(city, random.Random(11))
    assert expected_tasks(records) == reference_tasks, "the reference itself is order-dependent"
    assert engine_runner.engine_tasks(records) == reference_tasks


def run_cli(out_dir: Path, *options: str) -> dict[str, list[object]]:
    paicha = Path(sys.executable).with_name("paicha")
    command = [str(paicha), "simulate", str(out_dir), *options]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return read_city(out_dir)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("persons", "days", "seed"), [(200, 1, 1), (250, 2, 7)], ids=["small", "larger"]
)
def test_engine_agrees_with_the_reference_on_cities_from_the_command_line(
    tmp_path: Path, persons: int, days: int, seed: int
) -> None:
    engine_runner.engine_class()
    size = ["--persons", str(persons), "--days", str(days), "--seed", str(seed)]
    ordered = run_cli(tmp_path / "ordered", *size)
    expected = expected_tasks(in_topic_order(ordered))
    assert_worth_comparing(expected)
    assert engine_runner.engine_tasks(in_topic_order(ordered)) == expected

    shuffled = run_cli(tmp_path / "shuffled", *size, "--shuffle", "--resend", "0.3")
    assert engine_runner.engine_tasks(interleaved(shuffled, random.Random(seed))) == expected
