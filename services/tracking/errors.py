"""The tracking service's deliberate errors, so the HTTP adapter can map each to one status.

    PaichaError (paicha.errors)
    ├── InvalidInput            422: a field and the reason (also raised by pydantic at the edge)
    └── TrackingError           the tracking service's own refusals
        ├── Unauthenticated     401: no token, an unknown one, or a revoked one
        ├── Forbidden           403: the caller's role may not do this at all
        ├── NotFound            404: missing, or outside the caller's jurisdiction (the same answer)
        └── Conflict            409: the task's state does not allow it (reason says why)

The ingestion consumer never sees the last four: it only raises InvalidInput (a bad record).
"""

from __future__ import annotations

from paicha.errors import PaichaError


class TrackingError(PaichaError):
    """A refusal by the tracking service; ``reason`` is what a caller can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unauthenticated(TrackingError):
    """No usable bearer token."""


class Forbidden(TrackingError):
    """The caller is known, but the role may not use this endpoint."""


class NotFound(TrackingError):
    """Nothing the caller may see goes by that id. Never says which of the two it is."""


class Conflict(TrackingError):
    """The request is well formed but the task's state forbids it (claiming a closed task...)."""
