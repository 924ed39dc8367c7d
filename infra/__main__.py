"""Run one local service in the foreground for development, or install what it needs.

    python -m infra kafka              # a Kafka broker until Ctrl-C
    python -m infra postgres           # a PostgreSQL cluster until Ctrl-C
    python -m infra kafka-jars         # fetch the broker's jars (Maven) if missing
    python -m infra postgres-install   # apt-get install postgresql if missing

Each service prints the variable to export in another shell, so the tests and the services use
it instead of starting their own (see tests/conftest.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from infra.kafka import KafkaBroker, ensure_kafka_jars
from infra.postgres import PostgresCluster, install_postgres
from infra.process import InfraError


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM, so both end in the same clean stop."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stop.wait()


def run_kafka() -> None:
    print("starting Kafka (first run fetches jars with Maven)...", flush=True)
    with KafkaBroker() as broker:
        print(f"Kafka is up; log: {broker.log_path}")
        print(f"export KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap_servers}")
        print("Ctrl-C stops it.", flush=True)
        _wait_for_interrupt()
        print("stopping Kafka...", flush=True)


def run_postgres() -> None:
    print("starting PostgreSQL...", flush=True)
    with PostgresCluster() as cluster:
        print(f"PostgreSQL is up; log: {cluster.log_path}")
        print(f"export DATABASE_URL={cluster.url}")
        print("Ctrl-C stops it (and deletes its data).", flush=True)
        _wait_for_interrupt()
        print("stopping PostgreSQL...", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__.split("\n")[0])
    parser.add_argument("service", choices=["kafka", "postgres", "kafka-jars", "postgres-install"])
    args = parser.parse_args(argv)
    try:
        if args.service == "kafka":
            run_kafka()
        elif args.service == "postgres":
            run_postgres()
        elif args.service == "kafka-jars":
            print(f"Kafka jars in {ensure_kafka_jars()}")
        else:
            print(f"PostgreSQL server binaries in {install_postgres()}")
    except InfraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
