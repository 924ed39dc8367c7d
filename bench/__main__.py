"""``python -m bench`` (``make bench``): the command line of the benchmark.

    python -m bench                      10,000 persons over one day, with PostgreSQL, then
                                         the streams on Kafka (bench/streams.py)
    python -m bench --quick --no-postgres   a small smoke run (the unit test's; no streams)

Exit status: 0 when every result matches its baseline, 1 when one differs, 2 on bad options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson
from rich.console import Console

from bench import streams
from bench.city import CitySpec
from bench.report import write_json
from bench.run import Options, run

FULL = CitySpec(persons=10_000, days=1, seed=1)
QUICK = CitySpec(persons=300, days=1, seed=1)


def parse(argv: list[str] | None = None) -> tuple[Options, CitySpec | None]:
    """The run's options, and the streams part's city (None: no streams part)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="paicha's matching beside its baselines, same run."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a small city ({QUICK.persons} persons) for a smoke run",
    )
    parser.add_argument("--persons", type=int, help=f"default {FULL.persons:,}")
    parser.add_argument("--days", type=int, help=f"default {FULL.days}")
    parser.add_argument("--seed", type=int, help=f"default {FULL.seed}")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each measurement, best taken; the end-to-end ones by turns (default 3)",
    )
    parser.add_argument(
        "--no-postgres", dest="postgres", action="store_false", help="skip the PostgreSQL baseline"
    )
    parser.add_argument(
        "--database-url",
        help="use this PostgreSQL server (SQLAlchemy URL) instead of starting "
        "a throwaway one; the benchmark works in a schema it drops afterwards",
    )
    parser.add_argument(
        "--case-person", help="the person who becomes item 3's new case (default: picked)"
    )
    parser.add_argument(
        "--streams",
        action=argparse.BooleanOptionalAction,
        help="the streams on Kafka end to end (default: on, off with --quick)",
    )
    parser.add_argument(
        "--streams-persons", type=int, default=1000, help="its city's persons (default 1,000)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("var/bench"),
        help="where cities and results.json go (default var/bench)",
    )
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    city = CitySpec(
        persons=base.persons if args.persons is None else args.persons,
        days=base.days if args.days is None else args.days,
        seed=base.seed if args.seed is None else args.seed,
    )
    if city.persons < 1 or city.days < 1:
        parser.error("--persons and --days must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    with_streams = not args.quick if args.streams is None else args.streams
    streams_city = CitySpec(args.streams_persons, 1, city.seed) if with_streams else None
    options = Options(
        city=city,
        out=args.out,
        repeat=args.repeat,
        postgres=args.postgres,
        database_url=args.database_url,
        case_person=args.case_person,
    )
    return options, streams_city


def main(argv: list[str] | None = None) -> int:
    options, streams_city = parse(argv)
    out = Console(width=None if sys.stdout.isatty() else 132)
    log = Console(stderr=True, log_path=False)
    status = run(options, out, log)
    if streams_city is not None:
        streams_status, document = streams.run_part(streams_city, options.out, out, log)
        results = options.out / "results.json"
        merged = orjson.loads(results.read_bytes()) | {"streams": document}
        merged["ok"] = merged.get("ok", True) and document["ok"]
        write_json(results, merged)
        out.print(f"streams results added to {results}")
        status = max(status, streams_status)
    return status


if __name__ == "__main__":
    sys.exit(main())
