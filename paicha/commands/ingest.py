"""``paicha ingest FILE --topic T``: play a JSON Lines feed file onto Kafka."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from paicha.ingest import KEY_FIELD, IngestReport, produce_lines

SHOWN_REJECTS = 20


def ingest(
    file: Annotated[Path, typer.Argument(help="A JSON Lines file of one feed, one record a line.")],
    topic: Annotated[
        str, typer.Option(help=f"The feed's topic: {', '.join(KEY_FIELD)}.", show_default=False)
    ],
) -> None:
    """Validate each record and send the valid ones to Kafka, keyed as the feed contract says.

    Bad lines are listed with line number, field and reason, counted, and not sent. The broker is
    PAICHA_KAFKA_BOOTSTRAP_SERVERS (or KAFKA_BOOTSTRAP_SERVERS); PAICHA_TOPIC_PREFIX applies.
    """
    from kafka import KafkaProducer

    from paicha.settings import load_settings

    if topic not in KEY_FIELD:
        raise typer.BadParameter(f"one of {', '.join(KEY_FIELD)}", param_hint="--topic")
    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file", param_hint="FILE")
    settings = load_settings()
    err = Console(stderr=True)
    report = IngestReport()
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=20)
    try:
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
            bar = progress.add_task(f"→ {settings.topic_prefix}{topic}", total=file.stat().st_size)
            produce_lines(
                producer,
                topic,
                lines,
                topic_name=settings.topic_prefix + topic,
                report=report,
                on_line=lambda size: progress.advance(bar, size),
            )
        producer.flush(timeout=120)
    finally:
        producer.close()
    for _topic, line_no, error in report.rejected[:SHOWN_REJECTS]:
        err.print(f"[yellow]rejected[/] {file.name}:{line_no}: {error.field}: {error.reason}")
    if len(report.rejected) > SHOWN_REJECTS:
        err.print(f"… and {len(report.rejected) - SHOWN_REJECTS} more rejected lines")
    err.print(f"{topic}: {report.accepted[topic]} sent, {len(report.rejected)} rejected")
    if report.rejected:
        raise typer.Exit(code=1)
