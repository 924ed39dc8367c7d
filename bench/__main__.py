"""``python -m bench`` (``make bench``): the command line of the benchmark.

    python -m bench                      10,000 persons over one day, with PostgreSQL
    python -m bench --quick --no-postgres   a small smoke run (the unit test's)

Exit status: 0 when every result matches its baseline, 1 when one differs, 2 on bad options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from bench.city import CitySpec
from bench.run import Options, run

FULL = CitySpec(persons=10_000, days=1, seed=1)
QUICK = CitySpec(persons=300, days=1, seed=1)


def parse(argv: list[str] | None = None) -> Options:
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
        help="runs of each short measurement, best taken (default 3)",
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
    return Options(
        city=city,
        out=args.out,
        repeat=args.repeat,
        postgres=args.postgres,
        database_url=args.database_url,
        case_person=args.case_person,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    out = Console(width=None if sys.stdout.isatty() else 132)
    log = Console(stderr=True, log_path=False)
    return run(options, out, log)


if __name__ == "__main__":
    sys.exit(main())
