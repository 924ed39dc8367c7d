"""Running one worker: settings read once, the app built, faust's own worker command started."""

from __future__ import annotations

import sys
from pathlib import Path

from paicha.settings import load_settings
from streams.app import build_app
from streams.topics import TopicNames, ensure_topics


def main(argv: list[str] | None = None, *, datadir: Path | None = None) -> None:
    """Start a worker (``argv`` as faust's command line, default ``worker``)."""
    settings = load_settings()
    ensure_topics(
        settings.kafka_bootstrap_servers,
        TopicNames(settings.topic_prefix),
        settings.partitions,
        replication=settings.topic_replication,
    )
    folder = datadir or settings.worker_datadir
    folder.mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    app = build_app(settings, datadir=folder)
    args = argv if argv is not None else sys.argv[1:] or ["worker"]
    sys.argv = ["paicha-streams", *args, "--loglevel", settings.log_level.lower()]
    app.main()
