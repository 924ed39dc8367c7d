"""The runs behind ``bench.streams``: a broker, topics filled with a city, worker processes
and the raw loop, each timed from its first record to the last task out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from paicha.batch import FILE_ORDER, run_match
from paicha.ingest import KEY_FIELD
from paicha.matching.params import MatchParams
from paicha.task_records import task_record
from streams.topics import TopicNames, ensure_topics

E2E_TARGET = 20_000  # pings/s, issue 4
DRAIN_GRACE_S = 20.0
SENTINEL_CITY = "650100"  # a city the generated city's itineraries never go to
RAW_RATIO_TARGET = 0.5
PARTITIONS = 8  # the settings' default: what an operator gets
CHECKOUT = Path(__file__).resolve().parent.parent
TaskView = tuple[str, frozenset[str]]


@dataclass(slots=True)
class StreamRun:
    """One way of moving the city's pings through Kafka, and what it took."""

    name: str
    pings: int
    seconds: float
    startup_s: float = 0.0
    cpu_s: float | None = None  # CPU of the worker processes (or this one), start-up included
    fill_rate: float = 0.0
    differences: tuple[int, int, int] | None = None  # missing, extra, other than paicha match
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.pings / self.seconds if self.seconds else 0.0

    @property
    def correct(self) -> bool | None:
        return None if self.differences is None else self.differences == (0, 0, 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pings": self.pings,
            "seconds": self.seconds,
            "pings_per_s": self.rate,
            "startup_s": self.startup_s,
            "cpu_s": self.cpu_s,
            "fill_pings_per_s": self.fill_rate,
            "missing_extra_differ": self.differences,
            **self.notes,
        }


@contextlib.contextmanager
def kafka() -> Iterator[str]:
    """``KAFKA_BOOTSTRAP_SERVERS`` when set, else a broker of our own for this run."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    from infra.kafka import KafkaBroker

    with KafkaBroker() as broker:
        yield broker.bootstrap_servers


def fill(bootstrap: str, folder: Path, prefix: str, feeds: tuple[str, ...] = FILE_ORDER) -> float:
    """Put the city's feed files on the prefixed topics, keyed as the feeds key them; pings/s."""
    from aiokafka import AIOKafkaProducer

    # Topics just made may have no leader for a moment: aiokafka retries, and says so loudly.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)

    async def send_all() -> float:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024
        )
        await producer.start()
        try:
            started, pings = time.perf_counter(), 0
            for feed in feeds:
                path = folder / f"{feed}.jsonl"
                if not path.is_file():
                    continue
                with path.open("rb") as lines:
                    for line in lines:
                        if line.strip():
                            key = str(orjson.loads(line)[KEY_FIELD[feed]]).encode()
                            await producer.send(prefix + feed, line.rstrip(b"\n"), key=key)
                            pings += feed == "trajectories"
            await producer.flush()
            return pings / (time.perf_counter() - started)
        finally:
            await producer.stop()

    return asyncio.run(send_all())


def expected_tasks(folder: Path) -> dict[str, TaskView]:
    run = run_match(folder, params=MatchParams(), clock=lambda: 0, on_reject=lambda r: None)
    return {pid: task_view(task_record(t)) for pid, t in run.tasks.items()}


def task_view(task: dict[str, Any]) -> TaskView:
    """What must agree with ``paicha match``: kind and evidence, without the detection clock."""
    evidence = frozenset(
        orjson.dumps(
            {k: v for k, v in e.items() if k != "detected_at"}, option=orjson.OPT_SORT_KEYS
        ).decode()
        for e in task["evidence"]
    )
    return task["kind"], evidence


def write_sentinels(city: Path, folder: Path) -> Path:
    """Per partition of ``trajectories``, a case and a companion both keyed to it, together in a
    cell of their own for half an hour of the city's first day: feed files for after the city."""
    from kafka.partitioner.default import murmur2

    first = orjson.loads((city / "trajectories.jsonl").open("rb").readline())["observed_at"]
    day, zone = first[:10], first[19:]
    ids: dict[int, list[str]] = {p: [] for p in range(PARTITIONS)}
    for n in range(100_000):
        person = f"SENTINEL-{n}"
        partition = (murmur2(person.encode()) & 0x7FFFFFFF) % PARTITIONS
        if len(ids[partition]) < 2:
            ids[partition].append(person)
        if all(len(pair) == 2 for pair in ids.values()):
            break
    cases, pings = [], []
    for partition, (case_person, companion) in ids.items():
        cases.append(
            {
                "event_id": f"{case_person}-case",
                "case_id": case_person,
                "person_id": case_person,
                "classification": "confirmed",
                "reported_at": f"{day}T23:00:00{zone}",
                "city_code": SENTINEL_CITY,
            }
        )
        for minute in range(0, 35, 5):
            for person in (case_person, companion):
                pings.append(
                    {
                        "event_id": f"{person}-{minute}",
                        "person_id": person,
                        "lat": 1.0 + 0.1 * partition,
                        "lon": 1.0,
                        "observed_at": f"{day}T10:{minute:02d}:00{zone}",
                    }
                )
    folder.mkdir(parents=True, exist_ok=True)
    for feed, records in (("cases", cases), ("trajectories", pings)):
        (folder / f"{feed}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return folder


def raw_loop(bootstrap: str, folder: Path, pings: int) -> StreamRun:
    """aiokafka consume-and-produce of every ping: the least a Kafka pass-through can cost."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    prefix = f"bench-raw-{uuid.uuid4().hex[:8]}-"
    ensure_topics(bootstrap, TopicNames(prefix), PARTITIONS)
    fill_rate = fill(bootstrap, folder, prefix, feeds=("trajectories",))
    source, sink = prefix + "trajectories", prefix + "paicha-exposures"

    async def loop() -> tuple[float, float]:
        consumer = AIOKafkaConsumer(
            source, bootstrap_servers=bootstrap, group_id=prefix, auto_offset_reset="earliest"
        )
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await consumer.start()
        await producer.start()
        try:
            seen, started, cpu = 0, 0.0, 0.0
            while seen < pings:
                batch = await consumer.getmany(timeout_ms=1000)
                if batch and not started:
                    started, cpu = time.perf_counter(), time.process_time()
                pending = [
                    await producer.send(sink, r.value, key=r.key)
                    for records in batch.values()
                    for r in records
                ]
                seen += len(pending)
                await asyncio.gather(*pending)
            return time.perf_counter() - started, time.process_time() - cpu
        finally:
            await consumer.stop()
            await producer.stop()

    seconds, cpu = asyncio.run(loop())
    return StreamRun("raw aiokafka loop", pings, seconds, cpu_s=cpu, fill_rate=fill_rate)


class WorkerGroup:
    """``python -m streams worker`` processes on one prefix, their logs in ``folder``."""

    def __init__(self, bootstrap: str, prefix: str, folder: Path, *, store: str) -> None:
        # Absolute: the workers run in that folder, and their paths must not be relative to it.
        self.bootstrap, self.prefix, self.folder = bootstrap, prefix, folder.resolve()
        self.group = f"{prefix}paicha-streams"  # faust's group is the app's id (streams.app)
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(CHECKOUT), os.getenv("PYTHONPATH")])),
            "PAICHA_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "PAICHA_TOPIC_PREFIX": prefix,
            "PAICHA_PARTITIONS": str(PARTITIONS),
            "PAICHA_STATE_STORE": store,
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int, *, profile_to: Path | None = None) -> None:
        for index in range(count):
            python = [sys.executable]
            if profile_to is not None:
                python += ["-m", "cProfile", "-o", str(profile_to.resolve())]
            env = {**self.env, "PAICHA_WORKER_DATADIR": str(self.folder / f"w{index}")}
            with (self.folder / f"w{index}.log").open("ab") as log:
                self.processes.append(
                    subprocess.Popen(
                        [*python, "-m", "streams", "worker", "--without-web"],
                        cwd=self.folder,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

    def joined(self, admin: KafkaAdminClient) -> bool:
        """Whether a worker has joined the group: from then on the group's assignment, the
        workers' work and a later worker's joining are all part of the measure.

        Not "the group is Stable": a worker that joins a moment after the first makes the group
        rebalance before this sees it Stable, while the first works on until its next heartbeat,
        and the clock would start seconds late (74,000 pings/s for two workers, once)."""
        with contextlib.suppress(Exception):  # the group may not exist yet
            group = admin.describe_groups([self.group])[self.group]
            return bool(group["members"]) and group["group_state"] not in ("Empty", "Dead")
        return False

    def check_running(self) -> None:
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                log = self.folder / f"w{index}.log"
                raise RuntimeError(f"worker {index} exited ({process.returncode}); see {log}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __len__(self) -> int:
        return len(self.processes)


def paicha_run(
    bootstrap: str,
    folder: Path,
    sentinels: Path,
    expected: dict[str, TaskView],
    pings: int,
    *,
    workers: int,
    store: str,
    workdir: Path,
    profile_to: Path | None = None,
    timeout: float | None = None,
) -> StreamRun:
    """``workers`` worker processes through the whole city, from a backlog."""
    prefix = f"bench-{workers}w-{uuid.uuid4().hex[:8]}-"
    names = TopicNames(prefix)
    ensure_topics(bootstrap, names, PARTITIONS)
    fill_rate = fill(bootstrap, folder, prefix)
    fill(bootstrap, sentinels, prefix, feeds=("cases", "trajectories"))
    workdir.mkdir(parents=True, exist_ok=True)
    group = WorkerGroup(bootstrap, prefix, workdir, store=store)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    tasks = KafkaConsumer(names.screening_tasks, bootstrap_servers=bootstrap,
                          auto_offset_reset="earliest",
                          isolation_level="read_committed")  # fmt: skip
    ping_tps = [TopicPartition(names.trajectories, p) for p in range(PARTITIONS)]
    ends = tasks.end_offsets(ping_tps)
    cpu_before = _children_cpu()
    latest: dict[str, dict[str, Any]] = {}
    got: dict[str, TaskView] = {}
    records, drained = 0, False
    deadline = time.monotonic() + (timeout or max(300.0, pings / 1000))
    try:
        launched = time.perf_counter()
        group.start(workers, profile_to=profile_to)
        while not group.joined(admin):
            group.check_running()
            if time.monotonic() > deadline:
                raise RuntimeError(f"no worker ever joined {group.group}; logs in {workdir}")
            time.sleep(0.05)
        ready = time.perf_counter()
        done = None
        while time.monotonic() < deadline:
            group.check_running()
            for batch in tasks.poll(timeout_ms=200).values():
                for record in batch:
                    latest[record.key.decode()] = orjson.loads(record.value)
                records += len(batch)
            got = {p: task_view(t) for p, t in latest.items() if t["status"] == "open"}
            if got == expected and done is None:
                done = time.perf_counter()
                deadline = min(deadline, time.monotonic() + DRAIN_GRACE_S)
            if done is not None and _committed(admin, group.group, ping_tps) == ends:
                drained = True
                break
        if done is None:
            done = time.perf_counter()
    finally:
        group.stop()
        tasks.close()
        admin.close()
    common = set(got) & set(expected)
    differences = (
        len(set(expected) - set(got)),
        len(set(got) - set(expected)),
        sum(got[p] != expected[p] for p in common),
    )
    name = f"paicha, {workers} worker{'s' if workers > 1 else ''}"
    return StreamRun(
        name,
        pings,
        done - ready,
        startup_s=ready - launched,
        cpu_s=_children_cpu() - cpu_before,
        fill_rate=fill_rate,
        differences=differences,
        notes={"task_records": records, "store": store, "drained": drained},
    )


def _committed(admin: KafkaAdminClient, group: str, tps: list[TopicPartition]) -> dict[Any, int]:
    offsets = admin.list_group_offsets(group).get(group, {})
    return {tp: offsets[tp].offset if tp in offsets else 0 for tp in tps}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
