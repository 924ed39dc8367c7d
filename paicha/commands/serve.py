"""``paicha serve``: the tracking service's HTTP API under uvicorn, with Kafka ingestion when a
broker is configured (``KAFKA_BOOTSTRAP_SERVERS``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer


def serve(
    host: Annotated[
        str | None, typer.Option(help="address to listen on [default: PAICHA_HTTP_HOST]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="port to listen on [default: PAICHA_HTTP_PORT]")
    ] = None,
    lease_minutes: Annotated[
        float | None,
        typer.Option(
            help="how long a claim holds before the task returns to the queue "
            "[default: PAICHA_CLAIM_LEASE_MINUTES]"
        ),
    ] = None,
) -> None:
    """The tracking service under uvicorn: API at /v1, /ingest, docs at /docs (production).

    With a broker configured (KAFKA_BOOTSTRAP_SERVERS) it consumes screening-tasks and persons,
    publishes its outbox, and POST /ingest/{topic} produces to Kafka. The database is
    PAICHA_DATABASE_URL, migrated at start. Run several behind a load balancer as needed.
    """
    from paicha.settings import load_settings
    from services.tracking.bootstrap import serve as run

    if lease_minutes is not None and lease_minutes <= 0:
        raise typer.BadParameter("must be positive", param_hint="--lease-minutes")
    settings = load_settings()
    run(
        settings,
        host=host or settings.http_host,
        port=port or settings.http_port,
        lease=timedelta(minutes=lease_minutes or settings.claim_lease_minutes),
    )
