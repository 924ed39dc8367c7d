"""``paicha ingest FILE --topic T``: play a JSON Lines feed file onto Kafka, or post it to the
tracking service's ``POST /ingest/{topic}`` with ``--url``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from paicha.ingest import KEY_FIELD, IngestReport

SHOWN_REJECTS = 20


def ingest(
    file: Annotated[Path, typer.Argument(help="A JSON Lines file of one feed, one record a line.")],
    topic: Annotated[
        str, typer.Option(help=f"The feed's topic: {', '.join(KEY_FIELD)}.", show_default=False)
    ],
    url: Annotated[
        str | None,
        typer.Option(
            help="Post to this service's POST /ingest/{topic} instead of producing to Kafka, "
            "e.g. http://127.0.0.1:8000 (needs --token of a feed user)."
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="Bearer token of a user with the role feed (with --url).")
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, help="Records per HTTP request (with --url).")
    ] = 1000,
) -> None:
    """Send a JSON Lines feed file to Kafka, or to POST /ingest/{topic} with --url.

    Each record is validated and the valid ones sent, keyed as the feed contract says: to
    Kafka (PAICHA_KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_SERVERS; PAICHA_TOPIC_PREFIX
    applies), or with --url to the HTTP endpoint, which validates with the same rules. Bad
    lines are listed with line number, field and reason, counted, and not sent; the summary
    gives accepted and rejected counts, and the exit code is 1 when any line was refused.
    """
    if topic not in KEY_FIELD:
        raise typer.BadParameter(f"one of {', '.join(KEY_FIELD)}", param_hint="--topic")
    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file", param_hint="FILE")
    if url is not None and not token:
        raise typer.BadParameter("--url needs --token (a feed user's)", param_hint="--token")
    err = Console(stderr=True)
    report = IngestReport()
    with (
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as progress,
        file.open("rb") as lines,
    ):
        bar = progress.add_task(f"→ {topic}", total=file.stat().st_size)

        def advance(size: int) -> None:
            progress.advance(bar, size)

        if url is None:
            _to_kafka(topic, lines, report, advance)
        else:
            _to_http(url, token or "", topic, lines, report, advance, batch, err)
    for _topic, line_no, error in report.rejected[:SHOWN_REJECTS]:
        err.print(f"[yellow]rejected[/] {file.name}:{line_no}: {error.field}: {error.reason}")
    if len(report.rejected) > SHOWN_REJECTS:
        err.print(f"… and {len(report.rejected) - SHOWN_REJECTS} more rejected lines")
    err.print(f"{topic}: {report.accepted[topic]} accepted, {len(report.rejected)} rejected")
    if report.rejected:
        raise typer.Exit(code=1)


def _to_kafka(
    topic: str, lines: Iterable[bytes], report: IngestReport, advance: Callable[[int], None]
) -> None:
    from kafka import KafkaProducer

    from paicha.ingest import produce_lines
    from paicha.settings import load_settings

    settings = load_settings()
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=20)
    try:
        produce_lines(
            producer,
            topic,
            lines,
            topic_name=settings.topic_prefix + topic,
            report=report,
            on_line=advance,
        )
        producer.flush(timeout=120)
    finally:
        producer.close()


def _to_http(
    url: str,
    token: str,
    topic: str,
    lines: Iterable[bytes],
    report: IngestReport,
    advance: Callable[[int], None],
    batch: int,
    err: Console,
) -> None:
    from paicha.ingest_http import IngestHTTPError, post_lines

    try:
        post_lines(
            url,
            token,
            topic,
            lines,
            report=report,
            max_records=batch,
            on_line=advance,
        )
    except IngestHTTPError as error:
        err.print(f"[red]error:[/] {error}")
        err.print(f"{topic}: {report.accepted[topic]} accepted before the error")
        raise typer.Exit(code=2) from None
