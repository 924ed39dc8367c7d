"""What the routes need, handed to the app once by ``bootstrap`` (never read from globals)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.tracking.db.session import Database
from services.tracking.deadlines import DEFAULT_AT_RISK_FRACTION
from services.tracking.intake import FeedIntake
from services.tracking.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackingService:
    """The tracking service's adapters: database, clock, lease length, the outbox relay, the
    at-risk threshold, where the Kafka consumer's lag can be read (metrics), and where HTTP
    ingestion publishes."""

    database: Database
    clock: Callable[[], datetime]
    lease: timedelta
    relay: Callable[[], object] | None = None
    at_risk_fraction: float = DEFAULT_AT_RISK_FRACTION
    ingestion_lag: Callable[[], dict[tuple[str, int], int]] | None = None
    metrics: Metrics = field(default_factory=Metrics)
    intake: FeedIntake | None = None  # HTTP ingestion's sink and limits; None: answers 503

    def __post_init__(self) -> None:
        self.metrics.watch(
            self.database, self.clock, fraction=self.at_risk_fraction, lag=self.ingestion_lag
        )

    def after_commit(self) -> None:
        """Publish what the last transaction put in the outbox. A failure is logged, not raised:
        the change is committed, and the background relay will publish it later."""
        if self.relay is None:
            return
        try:
            self.relay()
        except Exception:
            log.exception("outbox relay failed; the background relay will retry")
