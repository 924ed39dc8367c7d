"""``paicha run``: the whole system in one process, on SQLite, fed a generated city.

Set-up (a city generated when missing, the database migrated, the demo users), then four
threads beside the main one: the bus (``runtime``), uvicorn serving the API, the outbox relay,
and the deadline watch (as under ``paicha serve``); the main thread feeds the city with a
progress bar, then waits for Ctrl-C (or SIGTERM), and stops everything in order: the watch, the
relay, no new requests, a last checkpoint, the database. Everything stays on disk, so the next
run goes on where this one stopped.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from fastapi import FastAPI
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from paicha.embedded.bus import Bus
from paicha.embedded.demo import DemoUser, ensure_demo_users
from paicha.embedded.feeder import FeedReport, fed_completely, feed_city, total_bytes
from paicha.embedded.runtime import RuntimeStopped
from paicha.embedded.system import TOPICS_DIR, System, build_system, utc_now
from paicha.settings import Settings
from paicha.simulate import SimulationConfig, simulate_city
from services.tracking.api.app import create_app
from services.tracking.bootstrap import watching
from services.tracking.db.models import ScreeningTask
from services.tracking.db.session import Database
from streams.topics import TopicNames

log = logging.getLogger(__name__)

RELAY_INTERVAL_S = 2.0
SHOWN_REJECTS = 10


class RunError(Exception):
    """``paicha run`` cannot start: the reason says what to change."""


@dataclass(frozen=True, slots=True)
class Options:
    replay: bool = False  # feed the city again from its first line (changes nothing)
    feed: bool = True  # False: serve only


def run(settings: Settings, console: Console, options: Options = Options()) -> None:
    """Run until interrupted; raises ``RunError`` when it cannot start or the bus fails."""
    city = ensure_city(settings, console)
    system = build_system(settings)
    system.start()
    stop = threading.Event()
    try:
        demo = ensure_demo_users(system.database, settings.embedded_dir, city, now=utc_now())
        app = create_app(system.service)
        watch = watching(
            system.database,
            interval_s=settings.watch_interval_seconds,
            at_risk_fraction=settings.at_risk_fraction,
            after_sweep=system.relay,
            on_marked=system.service.metrics.count_escalations,
        )
        with _serving(settings, app), _relaying(system, stop), watch:
            url = f"http://{settings.http_host}:{settings.http_port}"
            _banner(console, url, demo, settings)
            with _interruptible():
                if options.feed:
                    _feed(console, system, city, settings, options)
                _summary(console, system.database, system.names, settings)
                console.print(f"[bold green]Serving {url}[/] — Ctrl-C stops (state is kept).")
                while not stop.wait(0.5):
                    if system.runtime.failure is not None:
                        raise RunError(f"the bus stopped: {system.runtime.failure!r}")
    except KeyboardInterrupt:
        console.print("\nStopping…")
    except RuntimeStopped as error:
        raise RunError(str(error)) from None
    finally:
        stop.set()
        system.stop()
    console.print(
        f"Stopped. Tasks and users: {settings.database_url}; stream state: "
        f"{system.store.path}. `paicha run` again goes on from here."
    )


def ensure_city(settings: Settings, console: Console) -> Path:
    """The demo city's folder: generated when its files are missing, else reused as it is."""
    folder = settings.demo_dir
    needed = ("persons.jsonl", "trajectories.jsonl", "jurisdictions.json")
    if all((folder / name).is_file() for name in needed):
        console.print(f"City: reusing {folder}/ (delete it for a new one)")
        return folder
    console.print(
        f"City: generating {settings.demo_persons:,} people over {settings.demo_days} days "
        f"(seed {settings.demo_seed}) into {folder}/ …"
    )
    simulate_city(
        SimulationConfig(
            out_dir=folder,
            persons=settings.demo_persons,
            days=settings.demo_days,
            seed=settings.demo_seed,
        )
    )
    return folder


@contextmanager
def _serving(settings: Settings, app: FastAPI) -> Iterator[None]:
    """uvicorn in a thread (it installs no signal handlers there: the main thread keeps them)."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="http", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RunError(
                f"the API could not listen on {settings.http_host}:{settings.http_port} "
                "(in use?): set PAICHA_HTTP_PORT"
            )
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def _relaying(system: System, stop: threading.Event) -> Iterator[None]:
    """The outbox relay's safety net (each request also relays right after its commit)."""

    def loop() -> None:
        while not stop.wait(RELAY_INTERVAL_S):
            try:
                system.relay()
            except Exception:
                log.exception("outbox relay failed; retrying")

    thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=15)


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM stops the run as Ctrl-C does."""

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _banner(
    console: Console,
    url: str,
    demo: dict[str, tuple[DemoUser, str]],
    settings: Settings,
) -> None:
    console.print()
    console.print(f"[bold]paicha[/] is up: [link={url}/docs]{url}[/link]")
    console.print(f"  API docs     {url}/docs")
    console.print(f"  supervisors  {url}/dashboard   (sign in with the supervisor's token)")
    console.print(f"  tracers      {url}/tracer      (sign in with the tracer's token)")
    for role in ("tracer", "supervisor", "feed"):
        user, token = demo[role]
        where = user.team_id or user.jurisdiction
        console.print(f"  {role:<11}  {user.user_id} ({where})  token {token}")
    tracer = demo["tracer"][1]
    console.print(f"  try:  curl -H 'Authorization: Bearer {tracer}' {url}/v1/tasks")
    console.print(
        f"  (tokens are kept in {settings.embedded_dir}/demo-tokens.json; "
        "the database is " + settings.database_url + ")"
    )
    console.print()


def _feed(
    console: Console, system: System, city: Path, settings: Settings, options: Options
) -> None:
    runtime, names = system.runtime, system.names
    if not options.replay and fed_completely(runtime, city):
        console.print(f"Feeds: {city}/ was fed completely by an earlier run; nothing to feed.")
        return
    if options.replay:
        runtime.submit([], position=("feed", {})).result()
    bus = runtime.bus
    columns = (
        TextColumn("[progress.description]{task.description:<20}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[tasks]:>6} tasks"),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("feeding", total=total_bytes(city), tasks=_tasks(bus, names))

        def advance(topic: str, size: int) -> None:
            progress.update(bar, advance=size, description=f"→ {topic}", tasks=_tasks(bus, names))

        report = feed_city(runtime, city, names=names, rate=settings.feed_rate, on_progress=advance)
        progress.update(bar, description="fed", tasks=_tasks(bus, names))
    _report_rejects(console, report)


def _tasks(bus: Bus, names: TopicNames) -> int:
    return bus.totals[f"{names.screening_tasks}:create"]


def _report_rejects(console: Console, report: FeedReport) -> None:
    for topic, line_no, error in report.rejected[:SHOWN_REJECTS]:
        console.print(f"[yellow]rejected[/] {topic}.jsonl:{line_no}: {error.field}: {error.reason}")
    if len(report.rejected) > SHOWN_REJECTS:
        console.print(f"… and {len(report.rejected) - SHOWN_REJECTS} more rejected lines")
    sent = ", ".join(f"{count:,} {topic}" for topic, count in report.sent.items())
    console.print(f"Fed {sent or 'nothing new'}; {len(report.rejected)} lines rejected.")


def _summary(console: Console, database: Database, names: TopicNames, settings: Settings) -> None:
    with database.transaction() as session:
        rows = session.execute(
            select(ScreeningTask.kind, ScreeningTask.status, func.count()).group_by(
                ScreeningTask.kind, ScreeningTask.status
            )
        ).all()
    if not rows:
        console.print("Tasks: none yet.")
        return
    by_kind = ", ".join(f"{count:,} {kind} ({status})" for kind, status, count in sorted(rows))
    console.print(f"Tasks in the queue: {by_kind}.")
    letters = settings.embedded_dir / TOPICS_DIR / f"{names.dead_letters}.jsonl"
    if letters.is_file() and letters.stat().st_size:
        count = sum(1 for _ in letters.open("rb"))
        console.print(f"Dead letters: {count:,} in {letters} (each with its reason and bytes)")
