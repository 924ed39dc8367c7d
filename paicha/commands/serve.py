"""``paicha serve``: the tracking service's HTTP API under uvicorn, with Kafka ingestion when a
broker is configured (``KAFKA_BOOTSTRAP_SERVERS``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    lease_minutes: Annotated[
        float, typer.Option(help="how long a claim holds before the task returns to the queue")
    ] = 30,
) -> None:
    """Run the tracking service (API at /v1, docs at /docs); ingest from Kafka if configured."""
    from paicha.settings import load_settings
    from services.tracking.bootstrap import serve as run

    if lease_minutes <= 0:
        raise typer.BadParameter("must be positive", param_hint="--lease-minutes")
    run(load_settings(), host=host, port=port, lease=timedelta(minutes=lease_minutes))
