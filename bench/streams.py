"""End to end on Kafka: pings per second from the input topics to ``screening-tasks``, with one
and with two worker processes, beside a raw consume-and-produce loop on the same client, same run.

    python -m bench.streams [--persons 1000] [--store memory] [--profile]
    python -m bench            (runs it after the other parts, unless --quick or --no-streams)

How it measures, wall time (it spans processes), one run of each, on one broker (the one named by
``KAFKA_BOOTSTRAP_SERVERS``, else one started here from ``infra/``):

- Each run gets topics of its own, filled with the whole city first (untimed; the filler's own
  rate is shown). A backlog, so that no producer sets the pace.
- paicha: ``python -m streams worker`` processes, as an operator starts them. The clock starts
  when the first worker has joined the consumer group (faust's own start-up before that, a few
  seconds, is shown apart; the group's assignment, a second worker's joining and the rebalance
  it causes are inside the measure) and stops when the open tasks on ``screening-tasks`` are exactly
  ``paicha match``'s on the same files. So that this means "every ping is through", each
  partition's backlog ends with sentinels: a case and a companion keyed to that partition,
  somewhere no one else goes, whose co_located task can only come out once the pings before
  them in the partition have been taken. Whether the group also committed every ping's offset
  is shown beside.
- raw: one aiokafka consumer (the client faust uses) reads the same pings and an aiokafka
  producer (acks=all, like the workers') sends each on to another topic, awaited per batch as
  the workers do. Clock from its first record to the last send acknowledged.

The workers commit the processors' offsets at their checkpoints, about once a second
(``streams/agents.py``), so the offsets trail the tasks by up to a second; a run waits at most
``DRAIN_GRACE_S`` for them, and the table says when they were not all committed by then.

Targets (issue 4): at least 20,000 pings/s end to end, and at least 0.5x the raw loop.
``--profile`` adds where a worker's time goes: one worker under cProfile on the same backlog,
and the stream processors alone, in process, on the same pings.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench.city import CitySpec, ensure_city
from bench.report import Row, facts_table, figure, summary_table, verdict
from bench.streams_profile import processors_alone, profile_spent, profile_table
from bench.streams_runs import (
    E2E_TARGET,
    PARTITIONS,
    RAW_RATIO_TARGET,
    StreamRun,
    expected_tasks,
    kafka,
    paicha_run,
    raw_loop,
    write_sentinels,
)
from bench.timing import load_average, machine_facts


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
    console.print(summary_table(rows, title="paicha bench: streams on Kafka"))
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
