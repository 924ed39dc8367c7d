"""End to end on Kafka: pings per second from the input topics to ``screening-tasks``, with one
and with two worker processes, beside a raw consume-and-produce loop on the same client, same run.

    python -m bench.streams [--persons 1000] [--store memory] [--profile]
    python -m bench            (runs it after the other parts, unless --quick or --no-streams)

How it measures, wall time (it spans processes), one run of each, on one broker (the one named by
``KAFKA_BOOTSTRAP_SERVERS``, else one started here from ``infra/``):

- Each run gets topics of its own, filled with the whole city first (untimed; the filler's own
  rate is shown). A backlog, so that no producer sets the pace.
- paicha: ``python -m streams worker`` processes, as an operator starts them. The clock starts
  when the consumer group first has its partitions assigned (faust's own start-up before that,
  a few seconds, is shown apart; a second worker's joining and the rebalance it causes are
  inside the measure) and stops when the open tasks on ``screening-tasks`` are exactly
  ``paicha match``'s on the same files. So that this means "every ping is through", each
  partition's backlog ends with sentinels: a case and a companion keyed to that partition,
  somewhere no one else goes, whose co_located task can only come out once the pings before
  them in the partition have been taken. Whether the group also committed every ping's offset
  is shown beside.
- raw: one aiokafka consumer (the client faust uses) reads the same pings and an aiokafka
  producer (acks=all, like the workers') sends each on to another topic, awaited per batch as
  the workers do. Clock from its first record to the last send acknowledged.

After the rebalance that a second worker's joining causes, faust's offset bookkeeping can hold a
message's offset twice, and the group's commits then advance one offset per commit interval:
the tasks are right, but the offsets are not all committed long after (RocksDB store more often
than memory). The table says so; a run waits at most ``DRAIN_GRACE_S`` for them.

Targets (issue 4): at least 20,000 pings/s end to end, and at least 0.5x the raw loop.
``--profile`` adds where a worker's time goes: one worker under cProfile on the same backlog,
and the stream processors alone, in process, on the same pings.
"""

from __future__ import annotations

import argparse
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
from rich.console import Console
from rich.table import Table

from bench.city import CitySpec, ensure_city
from bench.report import Row, facts_table, figure, verdict
from bench.timing import load_average, machine_facts
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

    def assigned(self, admin: KafkaAdminClient) -> bool:
        """Whether the group has assigned the partitions (to the first worker in, at least): from
        then on the workers are at work, so a later worker's joining is part of the measure."""
        with contextlib.suppress(Exception):  # the group may not exist yet
            group = admin.describe_groups([self.group])[self.group]
            return bool(group["group_state"] == "Stable" and group["members"])
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
                          auto_offset_reset="earliest")  # fmt: skip
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
        while not group.assigned(admin):
            group.check_running()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{group.group} never assigned partitions; logs in {workdir}")
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


def summary(runs: dict[str, StreamRun]) -> tuple[list[Row], Table]:
    """The summary rows (figure, baseline, target) and the detail table of every run."""
    raw = runs["raw"]
    rows = []
    for key in ("paicha_1", "paicha_2"):
        if key not in runs:
            continue
        run = runs[key]
        rows.append(
            Row(
                measure=f"streams end to end: {run.name} vs raw loop",
                how="backlog on Kafka → screening-tasks; wall time, 1 run each",
                paicha=run.rate,
                baseline=raw.rate,
                unit="pings/s",
                target=f"≥ {E2E_TARGET:,} pings/s and ≥ {RAW_RATIO_TARGET:g}× raw",
                met=run.rate >= E2E_TARGET and run.rate >= RAW_RATIO_TARGET * raw.rate,
            )
        )
    detail = Table(title="streams on Kafka: the runs", title_justify="left")
    for column in ("run", "pings/s", "wall", "start-up", "CPU", "CPU µs/ping", "fill", "tasks"):
        detail.add_column(column, justify="left" if column == "run" else "right")
    for run in runs.values():
        per_ping = None if run.cpu_s is None else run.cpu_s / run.pings * 1e6
        drained = "" if run.notes.get("drained", True) else " [red](offsets not all committed)[/]"
        detail.add_row(
            run.name,
            figure(run.rate, ""),
            figure(run.seconds, "s"),
            figure(run.startup_s, "s") if run.startup_s else "—",
            figure(run.cpu_s, "s"),
            figure(per_ping, ""),
            figure(run.fill_rate, "/s"),
            "—" if run.correct is None else verdict(run.correct) + drained,
        )
    return rows, detail


def summary_table(rows: list[Row]) -> Table:
    table = Table(title="paicha bench: streams on Kafka", title_justify="left", show_lines=True)
    for name in ("measure", "paicha", "baseline", "ratio", "target", "met?"):
        table.add_column(name, justify="left" if name in {"measure", "target"} else "right")
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:,.2f}×"
        table.add_row(
            f"{row.measure}\n[dim]{row.how}[/]",
            figure(row.paicha, row.unit),
            figure(row.baseline, row.unit),
            ratio,
            row.target,
            verdict(row.met),
        )
    return table


def run_part(
    spec: CitySpec, out: Path, console: Console, log: Console, *, store: str = "memory",
    profile: bool = False,
) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """Run the streams part; exit status (1: tasks differ from ``paicha match``) and its JSON."""
    folder, _ = ensure_city(spec, out)
    with (folder / "trajectories.jsonl").open("rb") as lines:
        pings = sum(1 for line in lines if line.strip())
    log.log(f"streams: {pings:,} pings ({spec}); paicha match for the expected tasks (untimed)")
    workdir = out / f"streams-{uuid.uuid4().hex[:8]}"
    sentinels = write_sentinels(folder, workdir / "sentinels")
    expected = expected_tasks(folder)
    with_sentinels = expected | expected_tasks(sentinels)
    assert len(with_sentinels) == len(expected) + PARTITIONS, "a sentinel task is missing"
    runs: dict[str, StreamRun] = {}
    with kafka() as bootstrap:
        log.log(f"streams: broker {bootstrap}; the raw aiokafka loop")
        runs["raw"] = raw_loop(bootstrap, folder, pings)
        for workers in (1, 2):
            log.log(f"streams: paicha with {workers} worker(s), store {store}")
            runs[f"paicha_{workers}"] = paicha_run(
                bootstrap, folder, sentinels, with_sentinels, pings,
                workers=workers, store=store, workdir=workdir / f"{workers}w",
            )  # fmt: skip
        profiled = None
        if profile:
            log.log("streams: one worker again, under cProfile")
            profiled = workdir / "worker.prof"
            paicha_run(bootstrap, folder, sentinels, with_sentinels, pings, workers=1, store=store,
                       workdir=workdir / "profiled", profile_to=profiled)  # fmt: skip
    rows, detail = summary(runs)
    console.print(facts_table("streams: city and set-up", [
        ("city", f"{spec.persons:,} persons × {spec.days} day(s), seed {spec.seed}: "
                 f"{pings:,} pings, {len(expected):,} open tasks expected"),
        ("topics", f"{PARTITIONS} partitions each; state store {store}; worker logs {workdir}"),
        ("load average at end", " ".join(str(x) for x in load_average())),
    ]))  # fmt: skip
    console.print(detail)
    console.print(summary_table(rows))
    profile_json: dict[str, Any] = {}
    if profiled is not None:
        spent = profile_spent(profiled)
        alone = processors_alone(folder)
        console.print(profile_table(spent))
        console.print(f"stream processors alone, in process: {alone:.1f} µs CPU per ping")
        profile_json = {"worker_own_seconds_by_code": spent, "processors_alone_us_per_ping": alone}
    wrong = [r.name for r in runs.values() if r.correct is False]
    for name in wrong:
        console.print(f"[bold red]{name}: open tasks differ from paicha match's[/]")
    document = {
        "city": {"persons": spec.persons, "days": spec.days, "seed": spec.seed, "pings": pings},
        "partitions": PARTITIONS,
        "store": store,
        "runs": {key: run.as_json() for key, run in runs.items()},
        "summary": [row.as_json() for row in rows],
        "profile": profile_json,
        "ok": not wrong,
    }
    return (1 if wrong else 0), document


PROFILE_BUCKETS = (
    ("/streams/", "streams (the agents and processors)"),
    ("/paicha/", "paicha (the matching core, decoding)"),
    ("/faust/", "faust"),
    ("/mode/", "mode (faust's service and queue library)"),
    ("/aiokafka/", "aiokafka"),
    ("/asyncio/", "asyncio (the event loop)"),
    ("/kafka/", "kafka-python (topic set-up)"),
)


def profile_spent(path: Path) -> dict[str, float]:
    """A worker's own CPU seconds (cProfile's tottime) by the code they were spent in."""
    import pstats

    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    spent: dict[str, float] = {}
    for (file, _, function), (_, _, own, *_rest) in stats.items():
        bucket = next((name for part, name in PROFILE_BUCKETS if part in file), None)
        if bucket is None:
            bucket = f"C: {function}" if file == "~" else "other Python"
        spent[bucket] = spent.get(bucket, 0.0) + own
    return dict(sorted(spent.items(), key=lambda kv: -kv[1]))


def profile_table(spent: dict[str, float]) -> Table:
    total = sum(spent.values())
    table = Table(title="one worker under cProfile: own time by code", title_justify="left")
    table.add_column("code")
    table.add_column("seconds", justify="right")
    table.add_column("share", justify="right")
    for bucket, seconds in list(spent.items())[:14]:
        table.add_row(bucket, f"{seconds:,.2f}", f"{seconds / total:.0%}")
    return table


def processors_alone(folder: Path, batch_size: int = 2000) -> float:
    """Microseconds per ping of the stream processors without faust or Kafka: pings and cases
    through the stay builder, its cell messages through the cell join, exposures through the
    task policy, touched state pickled as the agents do."""
    import pickle

    from paicha.matching import cell_join, policy, stays
    from streams import processors
    from streams.processors import Record
    from streams.state import KeyedState

    names, params = TopicNames(), MatchParams()
    state: dict[str, KeyedState[Any]] = {
        "tracks": KeyedState({}, stays.PersonTrack),
        "cells": KeyedState({}, lambda key: cell_join.CellState(int(key))),
        "policies": KeyedState({}, policy.PersonPolicy),
    }
    common: dict[str, Any] = {"topics": names, "params": params}
    chain: list[tuple[Any, KeyedState[Any]]] = [
        (processors.PeopleProcessor(tracks=state["tracks"], **common), state["tracks"]),
        (processors.CellProcessor(cells=state["cells"], **common), state["cells"]),
        (processors.PolicyProcessor(policies=state["policies"], clock=processors.wall_clock,
                                    **common), state["policies"]),
    ]  # fmt: skip
    feed = []
    for topic in ("cases", "trajectories"):
        with (folder / f"{topic}.jsonl").open("rb") as lines:
            feed += [
                Record(topic, 0, i, None, line) for i, line in enumerate(lines) if line.strip()
            ]
    started = time.process_time()
    for start in range(0, len(feed), batch_size):
        records = feed[start : start + batch_size]
        for processor, keyed in chain:
            batch = processor.process(records)
            for key in batch.touched:
                pickle.dumps(keyed.get(key), protocol=5)
            records = [Record(t, 0, 0, k, v) for t, k, v in batch.out]
    pings = sum(r.topic == "trajectories" for r in feed)
    return (time.process_time() - started) / pings * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streams", description=__doc__)
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--store", choices=["auto", "memory", "rocksdb"], default="memory")
    parser.add_argument("--profile", action="store_true", help="where a worker's time goes")
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 132)
    console.print(facts_table("machine", [(k, str(v)) for k, v in machine_facts().items()]))
    status, document = run_part(
        CitySpec(args.persons, args.days, args.seed), args.out, console,
        Console(stderr=True, log_path=False), store=args.store, profile=args.profile,
    )  # fmt: skip
    path = args.out / "streams.json"
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    console.print(f"results written to {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
