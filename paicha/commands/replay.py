"""``paicha replay TOPIC --from TIME``: re-read a Kafka topic from a moment and publish it again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn


def replay(
    topic: Annotated[
        str, typer.Argument(help="The topic to re-read (PAICHA_TOPIC_PREFIX applies).")
    ],
    since: Annotated[
        str,
        typer.Option(
            "--from",
            help="RFC 3339 time with an offset: records from this moment on.",
            show_default=False,
        ),
    ],
    to: Annotated[
        str | None,
        typer.Option(help="Publish to this topic instead (as given, no prefix added)."),
    ] = None,
) -> None:
    """Re-read a Kafka topic from a moment and publish its records again (same or --to topic).

    From the first record at or after --from to the end as it stood when the replay began.
    By default onto the same topic, so every consumer processes them again: safe, since every
    effect is idempotent (a re-sent event_id changes nothing; a task version already recorded
    is skipped). E.g. after restoring the tracking database from a backup:
    paicha replay screening-tasks --from 2021-12-03T00:00:00+08:00
    """
    from paicha.replay import ReplayError
    from paicha.replay import replay as run_replay
    from paicha.settings import load_settings

    try:
        moment = datetime.fromisoformat(since)
    except ValueError as error:
        raise typer.BadParameter(f"not RFC 3339: {since!r}", param_hint="--from") from error
    if moment.tzinfo is None:
        raise typer.BadParameter("needs a UTC offset, e.g. +08:00", param_hint="--from")
    settings = load_settings()
    source = settings.topic_prefix + topic
    err = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        bar = progress.add_task(f"{source} → {to or source}", total=None)
        try:
            report = run_replay(
                settings.kafka_bootstrap_servers,
                source,
                moment,
                target=to,
                on_plan=lambda total: progress.update(bar, total=total),
                on_record=lambda: progress.advance(bar),
            )
        except ReplayError as error:
            err.print(f"[red]error:[/] {error}")
            raise typer.Exit(2) from None
    per_partition = ", ".join(f"p{p}: {n}" for p, n in sorted(report.copied.items()) if n)
    err.print(
        f"replayed {report.total} records of {source} from {moment.isoformat()} to "
        f"{to or source}" + (f" ({per_partition})" if per_partition else "")
    )
