"""``paicha worker``: one faust worker of the stream processors (production mode)."""

from __future__ import annotations

from typing import Annotated

import typer


def worker(
    faust_args: Annotated[
        list[str] | None,
        typer.Argument(help="Extra arguments for faust's worker command, e.g. --without-web."),
    ] = None,
) -> None:
    """Run the stream processors on Kafka: start as many as there are partitions to share.

    Settings come from PAICHA_* environment variables (PAICHA_KAFKA_BOOTSTRAP_SERVERS,
    PAICHA_PARTITIONS, PAICHA_TOPIC_PREFIX…); missing topics are created first.
    """
    from streams.worker import main

    main(["worker", *(faust_args or [])])
