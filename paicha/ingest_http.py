"""Posting a JSON Lines feed file to ``POST /ingest/{topic}``: what ``paicha ingest --url`` does.

The service validates (so a file is judged by the same rules whichever door it takes); this side
cuts the file into batches under the service's limits, and turns each refused record's index back
into the file's line number. Standard library only: no HTTP client to install for a feed host.

    IngestHTTPError   the service refused a whole batch (401, 403, 404, 413, 503…): stop there
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from paicha.errors import FeedError, PaichaError, Problem
from paicha.feeds import feed_lines
from paicha.ingest import IngestReport

DEFAULT_BATCH_RECORDS = 1_000
DEFAULT_BATCH_BYTES = 4 * 1024 * 1024


class IngestHTTPError(PaichaError):
    """A batch the service refused as a whole; ``status`` and the service's ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(f"HTTP {status}: {reason}")


def endpoint(url: str, topic: str) -> str:
    """``http://host:8000`` or ``http://host:8000/ingest`` → ``…/ingest/<topic>``."""
    base = url.rstrip("/")
    if not base.endswith("/ingest"):
        base += "/ingest"
    return f"{base}/{topic}"


def batches(
    lines: Iterable[bytes],
    *,
    max_records: int,
    max_bytes: int,
    on_line: Callable[[int], None] | None = None,
) -> Iterator[list[tuple[int, bytes]]]:
    """Non-blank lines with their 1-based numbers, in batches under both limits."""
    batch: list[tuple[int, bytes]] = []
    size = 0
    for line_no, line in feed_lines(lines, on_line):
        if batch and (len(batch) >= max_records or size + len(line) + 1 > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append((line_no, line))
        size += len(line) + 1
    if batch:
        yield batch


def post_lines(
    url: str,
    token: str,
    topic: str,
    lines: Iterable[bytes],
    *,
    report: IngestReport,
    max_records: int = DEFAULT_BATCH_RECORDS,
    max_bytes: int = DEFAULT_BATCH_BYTES,
    on_line: Callable[[int], None] | None = None,
    timeout_s: float = 120.0,
) -> None:
    """Post every line of one feed file; accepted counts and refused lines go to ``report``."""
    target = endpoint(url, topic)
    for batch in batches(lines, max_records=max_records, max_bytes=max_bytes, on_line=on_line):
        answer = _post(target, token, b"\n".join(line for _, line in batch), timeout_s)
        report.accepted[topic] += int(answer["accepted"])
        for error in answer["errors"]:
            problems = [
                Problem(p.get("field") or "", p["reason"]) for p in error.get("problems") or []
            ] or [Problem(error.get("field") or "", error["reason"])]
            report.rejected.append((topic, batch[error["index"]][0], FeedError(topic, problems)))


def _post(target: str, token: str, body: bytes, timeout_s: float) -> dict[str, Any]:
    request = urllib.request.Request(
        target,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        try:
            answer = json.load(error)
        except ValueError:
            answer = {}
        if error.code == 422 and "errors" in answer:
            return dict(answer)  # every record of the batch refused: listed like the others
        raise IngestHTTPError(error.code, str(answer.get("reason") or error.reason)) from None
    except urllib.error.URLError as error:
        raise IngestHTTPError(0, f"cannot reach {target}: {error.reason}") from None
