"""Where a stream worker's time goes: its cProfile output by library, and the processors alone.

``python -m bench.streams --profile`` shows both beside the end-to-end figures, so a miss of the
throughput target says whether the matching or the machinery around it is to blame.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.table import Table

from paicha.matching.params import MatchParams
from streams.topics import TopicNames

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
