"""The embedded runtime: the stream processors over the in-process bus give the tasks the
matching engine gives, resume after a stop where they left off, and a replayed feed changes
nothing. (SQLite state in a temporary file; no broker, no database server.)"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from paicha.batch import run_match
from paicha.embedded.feeder import fed_completely, feed_city
from paicha.embedded.runtime import Runtime
from paicha.embedded.store import StateStore
from paicha.embedded.topology import build_bus
from paicha.feeds import decode
from paicha.matching.engine import Engine
from paicha.matching.params import MatchParams
from paicha.matching.timeutil import isoformat, to_micros
from paicha.simulate import SimulationConfig, simulate_city
from paicha.task_records import task_record
from streams.processors import Record
from streams.topics import TopicNames

NAMES = TopicNames("")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    simulate_city(SimulationConfig(out_dir=folder, persons=150, days=1, seed=11))
    return folder


class TaskSink:
    """Collects screening-tasks records, as the tracking service would receive them."""

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []
        self.offsets: list[tuple[int, int]] = []

    def __call__(self, records: list[Record]) -> Counter[str]:
        self.records.extend(orjson.loads(r.value) for r in records)
        self.offsets.extend((r.partition, r.offset) for r in records)
        return Counter(tasks=len(records))

    def latest(self) -> dict[str, dict[str, object]]:
        """The newest version of each task: what the tracking service keeps."""
        latest: dict[str, dict[str, object]] = {}
        for record in self.records:
            known = latest.get(str(record["task_id"]))
            if known is None or int(str(record["version"])) > int(str(known["version"])):
                latest[str(record["task_id"])] = record
        return latest


def runtime_on(store_path: Path, sink: TaskSink) -> Runtime:
    store = StateStore(store_path)
    bus = build_bus(
        names=NAMES,
        params=MatchParams(),
        partitions=4,
        store=store,
        sinks={NAMES.screening_tasks: sink},
    )
    runtime = Runtime(bus=bus, store=store)
    runtime.start()
    return runtime


def open_kinds(tasks: dict[str, dict[str, object]]) -> dict[str, object]:
    return {task_id: t["kind"] for task_id, t in tasks.items() if t["status"] == "open"}


def engine_kinds(city: Path) -> dict[str, object]:
    run = run_match(city, params=MatchParams(), clock=lambda: 0, on_reject=lambda r: None)
    return {task.task_id: task.kind for task in run.tasks.values()}


def test_the_bus_gives_the_tasks_the_matching_engine_gives(city: Path, tmp_path: Path) -> None:
    sink = TaskSink()
    runtime = runtime_on(tmp_path / "streams.sqlite3", sink)
    try:
        report = feed_city(runtime, city, names=NAMES, rate=0, chunk_records=2_000)
    finally:
        runtime.stop()
    assert report.rejected == []
    expected = engine_kinds(city)
    assert expected, "the city has companions to find"
    assert open_kinds(sink.latest()) == expected


def test_a_stopped_run_resumes_where_it_stopped_and_ends_with_the_same_tasks(
    city: Path, tmp_path: Path
) -> None:
    sink = TaskSink()
    first = runtime_on(tmp_path / "streams.sqlite3", sink)
    seen = Counter[str]()

    def stop_halfway(topic: str, size: int) -> None:
        seen[topic] += size
        if seen["trajectories"] > (city / "trajectories.jsonl").stat().st_size // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        feed_city(first, city, names=NAMES, rate=0, on_progress=stop_halfway, chunk_records=500)
    first.stop()
    assert not fed_completely(first, city)
    first.store.close()

    second = runtime_on(tmp_path / "streams.sqlite3", sink)
    try:
        report = feed_city(second, city, names=NAMES, rate=0, chunk_records=500)
        assert fed_completely(second, city)
    finally:
        second.stop()
    assert report.skipped_bytes > 0, "the second run skipped what the first one fed"
    assert open_kinds(sink.latest()) == engine_kinds(city)
    assert len(set(sink.offsets)) == len(sink.offsets), "offsets go on, never reused"


def test_feeding_the_city_again_publishes_no_task(city: Path, tmp_path: Path) -> None:
    sink = TaskSink()
    runtime = runtime_on(tmp_path / "streams.sqlite3", sink)
    try:
        feed_city(runtime, city, names=NAMES, rate=0, chunk_records=5_000)
        first = len(sink.records)
        runtime.submit([], position=("feed", {})).result()  # forget the position: replay
        feed_city(runtime, city, names=NAMES, rate=0, chunk_records=5_000)
    finally:
        runtime.stop()
    assert first > 0
    assert len(sink.records) == first, "every record was a re-send: no task changed"


def test_a_topic_nothing_reads_goes_to_its_unread_sink_not_nowhere(tmp_path: Path) -> None:
    unread: dict[str, list[bytes]] = {}

    def sink_for(topic: str) -> Callable[[list[Record]], Counter[str]]:
        def sink(records: list[Record]) -> Counter[str]:
            unread.setdefault(topic, []).extend(r.value for r in records)
            return Counter(kept=len(records))

        return sink

    store = StateStore(tmp_path / "streams.sqlite3")
    bus = build_bus(
        names=NAMES, params=MatchParams(), partitions=2, store=store, sinks={}, unread=sink_for
    )
    bad = orjson.dumps(
        {"event_id": "x", "person_id": "p", "lat": 137, "lon": 1, "observed_at": "2021-12-01"}
    )
    bus.run([(NAMES.trajectories, b"p", bad), (NAMES.name("escalations"), b"t", b"{}")])

    assert set(unread) == {NAMES.dead_letters, "escalations"}
    assert orjson.loads(unread[NAMES.dead_letters][0])["field"] == "lat"


def test_a_person_gone_quiet_is_swept_from_the_stored_state(tmp_path: Path) -> None:
    """Retention reaches keys no record touches any more, in what is saved as well as live."""

    def ping(event_id: str, person: str, at: str) -> tuple[str, bytes, bytes]:
        body = {"event_id": event_id, "person_id": person, "lat": 37.87, "lon": 112.55}
        return (NAMES.trajectories, person.encode(), orjson.dumps(body | {"observed_at": at}))

    store = StateStore(tmp_path / "streams.sqlite3")
    bus = build_bus(names=NAMES, params=MatchParams(), partitions=2, store=store, sinks={})
    bus.run(
        [ping("p1", "p", "2021-12-01T08:00:00+08:00"), ping("p2", "p", "2021-12-01T08:20:00+08:00")]
    )
    bus.save_state()
    store.commit()
    # A fresh bus on the same store: p is in the saved state only, not live.
    bus = build_bus(names=NAMES, params=MatchParams(), partitions=2, store=store, sinks={})
    bus.run([ping("q1", "q", "2021-12-31T08:00:00+08:00")])
    bus.save_state()
    store.commit()

    saved = store.read("tracks", b"p")
    assert saved is not None and pickle.loads(saved).stays == []


T0 = datetime(2021, 12, 1, tzinfo=UTC)
Outgoing = tuple[str, bytes, bytes]


def at(days: float, hours: float = 0) -> str:
    return (T0 + timedelta(days=days, hours=hours)).isoformat()


def stamp(days: float) -> str:
    """A moment as task records spell it."""
    return isoformat(to_micros(T0 + timedelta(days=days)))


def pings(person: str, days: float, lat: float = 37.87) -> list[Outgoing]:
    """An hour in one cell, a ping every ten minutes, from 08:00 on day ``days``."""
    return [
        (
            NAMES.trajectories,
            person.encode(),
            orjson.dumps(
                {
                    "event_id": f"{person}-{days}-{m}",
                    "person_id": person,
                    "lat": lat,
                    "lon": 112.55,
                    "observed_at": at(days, 8 + m / 60),
                }
            ),
        )
        for m in range(0, 70, 10)
    ]


def case(case_id: str, person: str, days: float) -> Outgoing:
    body = {"event_id": f"e-{case_id}", "case_id": case_id, "person_id": person}
    body |= {"classification": "confirmed", "reported_at": at(days), "city_code": "140100"}
    return (NAMES.cases, person.encode(), orjson.dumps(body))


def trip(person: str, days: float) -> Outgoing:
    body = {"event_id": f"t-{person}-{days}", "person_id": person, "city_code": "140100"}
    body |= {"arrived_at": at(days), "departed_at": at(days, 2)}
    return (NAMES.itineraries, person.encode(), orjson.dumps(body))


def by_task(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return sorted(records, key=lambda r: (str(r["person_id"]), int(str(r["version"]))))


def bus_and_engine(
    store_path: Path, steps: list[list[Outgoing]], days: list[float]
) -> tuple[TaskSink, list[dict[str, object]]]:
    """Each step fed to the processors on the bus and to the engine (as ``paicha match
    --retention-days`` and ``paicha run`` drive them), the clock at ``days`` after T0; the
    bus's records, and the engine's."""
    now = [0]
    sink = TaskSink()
    bus = build_bus(
        names=NAMES,
        params=MatchParams(),
        partitions=2,
        store=StateStore(store_path),
        sinks={NAMES.screening_tasks: sink},
        clock=lambda: now[0],
    )
    engine = Engine(params=MatchParams(), clock=lambda: now[0])
    from_engine: list[dict[str, object]] = []
    for step, day in zip(steps, days, strict=True):
        now[0] = to_micros(T0 + timedelta(days=day))
        bus.run(step)
        for topic, _, value in step:
            engine.submit(decode(topic, value))
        from_engine += [task_record(task) for task in engine.flush()]
    return sink, from_engine


def test_the_bus_and_the_engine_send_the_same_records_across_more_than_the_retention(
    tmp_path: Path,
) -> None:
    """Four weeks of event time in four steps: p's only contact ages out and p is exposed
    again; q's contact ages out while a trip is kept, then q travels again. Every record
    agrees, and each is what retention promises."""
    steps = [
        pings("c1", 0) + pings("p", 0) + pings("q", 0) + [case("K1", "c1", 1)],
        [trip("q", 10)],
        pings("c2", 25) + pings("r", 25) + [case("K2", "c2", 25.5)],  # the horizon passes day 4
        [*pings("p", 25), trip("q", 12)],
    ]
    sink, from_engine = bus_and_engine(tmp_path / "streams.sqlite3", steps, [1, 11, 26, 27])

    assert by_task(sink.records) == by_task(from_engine)
    latest = {str(t["person_id"]): t for t in sink.latest().values()}
    p, q = latest["p"], latest["q"]
    assert (p["version"], p["detected_at"]) == (2, stamp(27)), "p: a new round"
    assert [e["case_id"] for e in p["evidence"]] == ["K2"]  # type: ignore[attr-defined]
    assert (q["version"], q["kind"], q["due_at"]) == (3, "co_located", stamp(2)), (
        "q: the contact aged out, and the task is as strong and as due as it was"
    )
    assert {e["kind"] for e in q["evidence"]} == {"city_visit"}  # type: ignore[attr-defined]


def test_a_contact_partly_aged_out_in_the_cell_join_sends_no_record_when_the_person_returns(
    tmp_path: Path,
) -> None:
    """q met the case twice in one cell, days apart; the cell join forgets the first stay before
    the task policy (whose horizon moves only with the exposures it gets) forgets that overlap.
    q coming back to the cell, where no case is any more, is no news to the task."""
    steps = [
        pings("c1", 0) + pings("q", 0) + pings("c1", 10) + pings("q", 10) + [case("K1", "c1", 11)],
        pings("z", 28, lat=38.5),  # elsewhere: the cell join's horizon passes day 7
        pings("q", 28),
    ]
    sink, from_engine = bus_and_engine(tmp_path / "streams.sqlite3", steps, [11, 28, 29])

    assert [r["version"] for r in by_task(sink.records)] == [1]
    assert by_task(sink.records) == by_task(from_engine)
