"""Worker processes on a real broker: two of them, and one killed with SIGKILL and restarted,
give on ``screening-tasks`` the open tasks ``paicha match`` gives on the same files.

Each worker is what an operator runs, ``python -m streams worker``, a process of its own with its
own data folder; its log goes to a file whose tail is printed when a test fails. Nothing waits a
fixed time: every wait polls the outcome (the tasks on the topic) until a deadline.

faust's own environment variables shorten how long the group takes to notice a killed member
(``BROKER_SESSION_TIMEOUT``, default 60 s): the rebalance after a kill is the same, only sooner.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer

from infra.process import log_tail
from paicha.ingest import IngestReport, produce_folder
from paicha.matching.policy import task_id_for
from paicha.simulate.scenario import SimulationConfig, simulate_city
from streams.topics import TopicLayoutError, TopicNames, ensure_topics

from .test_streams import expected_tasks, task_view

pytestmark = pytest.mark.integration

PARTITIONS = 4
CHECKOUT = Path(__file__).resolve().parents[2]
Tasks = dict[str, tuple[str, frozenset[str]]]


class Workers:
    """Worker processes of one test: same topics and group, each its own folder and log."""

    def __init__(self, bootstrap: str, prefix: str, folder: Path, *, store: str) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            # The workers run this checkout's code, whatever is installed.
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")])
            ),
            "PAICHA_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "PAICHA_TOPIC_PREFIX": prefix,
            "PAICHA_PARTITIONS": str(PARTITIONS),
            "PAICHA_STATE_STORE": store,
            "PAICHA_WORKER_BATCH": "500",
            "PAICHA_LOG_LEVEL": "INFO",
            "BROKER_SESSION_TIMEOUT": "10",
            "BROKER_HEARTBEAT_INTERVAL": "1",
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: dict[str, int] = {}

    def start(self, name: str) -> None:
        """Start worker ``name``; a restart keeps its data folder and appends to its log."""
        self.starts[name] = self.starts.get(name, 0) + 1
        env = {**self.env, "PAICHA_WORKER_DATADIR": str(self.folder / name)}
        with self.log(name).open("ab") as log:
            log.write(f"\n===== start {self.starts[name]} of {name} =====\n".encode())
            log.flush()
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "streams", "worker", "--without-web"],
                cwd=self.folder,  # no .env of the checkout
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no last commit, no flush."""
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def check_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"worker {name} exited ({process.returncode})\n{self.tails()}")

    def tails(self) -> str:
        return "\n".join(
            f"--- tail of {self.log(name)} ---\n{log_tail(self.log(name), 40)}"
            for name in self.processes
        )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


class TaskTopic:
    """The latest record per person on ``screening-tasks``, read from the start."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self.latest: dict[str, dict[str, Any]] = {}
        self.other_ids: list[tuple[str, str]] = []  # (person, task id) not the person's one id

    def open_tasks(self) -> Tasks:
        for records in self.consumer.poll(timeout_ms=500).values():
            for record in records:
                person, task = record.key.decode(), orjson.loads(record.value)
                self.latest[person] = task
                if task["task_id"] != task_id_for(person):
                    self.other_ids.append((person, task["task_id"]))
        return {pid: task_view(t) for pid, t in self.latest.items() if t["status"] == "open"}

    def wait_for(self, workers: Workers, done: Any, seconds: float) -> Tasks:
        """Poll until ``done(open tasks)`` or the deadline; the open tasks either way."""
        deadline = time.monotonic() + seconds
        tasks = self.open_tasks()
        while not done(tasks) and time.monotonic() < deadline:
            workers.check_running()
            tasks = self.open_tasks()
        return tasks

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    simulate_city(SimulationConfig(out_dir=folder, persons=150, days=1, seed=11))
    return folder


@pytest.fixture(scope="module")
def expected(city: Path) -> Tasks:
    tasks = expected_tasks(city)
    assert tasks, "the generated city must produce tasks"
    return tasks


@pytest.fixture(params=["memory", "rocksdb"])
def store(request: pytest.FixtureRequest) -> str:
    if request.param == "rocksdb":
        pytest.importorskip("rocksdict")
    return str(request.param)


@pytest.fixture
def prefix(topic_suffix: str) -> str:
    return f"w{topic_suffix}-"


@pytest.fixture
def workers(kafka_bootstrap: str, prefix: str, store: str, tmp_path: Path) -> Iterator[Workers]:
    ensure_topics(kafka_bootstrap, TopicNames(prefix), PARTITIONS)
    pool = Workers(kafka_bootstrap, prefix, tmp_path, store=store)
    try:
        yield pool
    finally:
        pool.stop()
        print(pool.tails())  # pytest shows it only when the test failed


@pytest.fixture
def tasks_topic(kafka_bootstrap: str, prefix: str) -> Iterator[TaskTopic]:
    topic = TaskTopic(kafka_bootstrap, TopicNames(prefix).screening_tasks)
    try:
        yield topic
    finally:
        topic.close()


def split_city(city: Path, into: Path) -> tuple[Path, Path]:
    """The city as two folders: every feed and the first half of the pings (whole persons, as
    the file groups them), then the other half of the pings."""
    first, second = into / "first", into / "second"
    first.mkdir()
    second.mkdir()
    for feed in city.glob("*.jsonl"):
        if feed.name != "trajectories.jsonl":
            (first / feed.name).write_bytes(feed.read_bytes())
    pings = (city / "trajectories.jsonl").read_bytes().splitlines(keepends=True)
    (first / "trajectories.jsonl").write_bytes(b"".join(pings[: len(pings) // 2]))
    (second / "trajectories.jsonl").write_bytes(b"".join(pings[len(pings) // 2 :]))
    return first, second


def differences(got: Tasks, expected: Tasks) -> tuple[set[str], set[str], set[str]]:
    """Persons missing, extra, and with another kind or evidence than ``paicha match``."""
    common = set(got) & set(expected)
    return (
        set(expected) - set(got),
        set(got) - set(expected),
        {p for p in common if got[p] != expected[p]},
    )


def test_a_worker_finds_the_topics_others_made_and_refuses_a_wrong_layout(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    names = TopicNames(f"l{topic_suffix}-")
    assert set(ensure_topics(kafka_bootstrap, names, PARTITIONS)) == set(names.all())
    assert ensure_topics(kafka_bootstrap, names, PARTITIONS) == []  # the second worker's start
    with pytest.raises(TopicLayoutError, match=names.trajectories):
        ensure_topics(kafka_bootstrap, names, PARTITIONS * 2)


def test_two_workers_give_the_tasks_of_paicha_match(
    kafka_bootstrap: str,
    prefix: str,
    city: Path,
    expected: Tasks,
    workers: Workers,
    tasks_topic: TaskTopic,
) -> None:
    workers.start("w0")
    workers.start("w1")
    report = produce_folder(kafka_bootstrap, city, prefix=prefix)
    assert not report.rejected

    got = tasks_topic.wait_for(workers, lambda tasks: tasks == expected, seconds=75)

    assert differences(got, expected) == (set(), set(), set()), workers.tails()
    assert tasks_topic.other_ids == []


def test_a_worker_killed_mid_stream_and_restarted_loses_no_task(
    kafka_bootstrap: str,
    prefix: str,
    city: Path,
    expected: Tasks,
    workers: Workers,
    tasks_topic: TaskTopic,
    tmp_path: Path,
) -> None:
    first, second = split_city(city, tmp_path)
    workers.start("w0")
    workers.start("w1")
    assert not produce_folder(kafka_bootstrap, first, prefix=prefix).rejected
    some = tasks_topic.wait_for(workers, lambda tasks: len(tasks) >= 5, seconds=45)
    assert len(some) >= 5, f"no tasks before the kill\n{workers.tails()}"

    reports: list[IngestReport] = []
    producing = threading.Thread(
        target=lambda: reports.append(produce_folder(kafka_bootstrap, second, prefix=prefix))
    )
    producing.start()
    try:
        workers.kill("w0")
        killed_while_producing = producing.is_alive()
        workers.start("w0")
    finally:
        producing.join(timeout=120)
    assert killed_while_producing, "the second half was produced before the kill: too fast"
    assert len(reports) == 1 and not reports[0].rejected

    got = tasks_topic.wait_for(workers, lambda tasks: tasks == expected, seconds=90)

    assert differences(got, expected) == (set(), set(), set()), workers.tails()
    assert tasks_topic.other_ids == []  # what was sent twice is the same task twice
