"""What the routes need, handed to the app once by ``bootstrap`` (never read from globals)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.tracking.db.session import Database
from services.tracking.intake import FeedIntake

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackingService:
    """The tracking service's adapters: database, clock, lease length, the outbox relay, and
    where HTTP ingestion publishes."""

    database: Database
    clock: Callable[[], datetime]
    lease: timedelta
    relay: Callable[[], object] | None = None
    intake: FeedIntake | None = None  # HTTP ingestion's sink and limits; None: answers 503

    def after_commit(self) -> None:
        """Publish what the last transaction put in the outbox. A failure is logged, not raised:
        the change is committed, and the background relay will publish it later."""
        if self.relay is None:
            return
        try:
            self.relay()
        except Exception:
            log.exception("outbox relay failed; the background relay will retry")
