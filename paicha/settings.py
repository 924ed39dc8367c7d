"""Every setting of a paicha process, from the environment (12-factor) or a ``.env`` file.

Nothing reads them at import time: each process calls ``load_settings()`` once, in its entrypoint,
and hands what it needs down as plain values (``match_params()`` for the matching rules). Tests
build ``Settings(...)`` directly.

Every variable is ``PAICHA_<NAME>``; the broker address is also taken from the plain
``KAFKA_BOOTSTRAP_SERVERS`` that Kafka tooling already uses (the prefixed one wins). Durations
carry their unit in the name (``PAICHA_MAX_GAP_MINUTES=30``), because a bare number of
microseconds in an environment file is a mistake waiting to happen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from paicha.errors import Problem, SettingsError
from paicha.matching.params import MatchParams
from paicha.matching.timeutil import DAY, HOUR, MINUTE

ENV_PREFIX = "PAICHA_"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


# How many claim-next statements one service process runs in the database at once; tracers past
# that wait their turn in the process, first come first served (``AutocommitPool``). A claim is
# one short statement, so a few connections keep the database busy; more only make claims
# contend inside it: 64 tracers with a connection each on a 2-core server had a p99 of 80-200 ms
# at half the raw loop's rate, against 3-19 ms through 8 connections in 7 runs of 8
# (bench.tracking_claims).
DEFAULT_CLAIM_CONNECTIONS = 2


class Settings(BaseSettings):
    """The settings of one process. Defaults are those of CONTRACTS.md and a laptop run."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",  # a .env shared with other tools may hold their variables too
        populate_by_name=True,
        frozen=True,
    )

    kafka_bootstrap_servers: str = Field(
        default="localhost:9092",
        validation_alias=AliasChoices(
            f"{ENV_PREFIX}KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"
        ),
        description="host:port[,host:port...] of the Kafka brokers",
    )
    database_url: str = Field(
        default="sqlite:///var/paicha.sqlite3",
        validation_alias=AliasChoices(f"{ENV_PREFIX}DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the tracking service's database; the default is a file "
        "under var/ for the embedded run (spell the driver for PostgreSQL: postgresql+psycopg2://)",
    )
    claim_connections: Annotated[int, Field(ge=1)] = Field(
        default=DEFAULT_CLAIM_CONNECTIONS,
        description="database connections one tracking-service process claims tasks through at "
        "once; other tracers wait their turn. Keep (service processes x this) near 2-8x the "
        "database server's cores: more concurrent claims only contend inside it",
    )
    partitions: Annotated[int, Field(ge=1)] = Field(
        default=8, description="partitions of every keyed topic: the most workers that can help"
    )
    log_level: LogLevel = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    topic_prefix: str = Field(
        default="", description="prefix of every topic name, to run several systems on one broker"
    )
    topic_replication: Annotated[int, Field(ge=1)] = Field(
        default=1, description="replication factor of the topics a worker creates"
    )
    state_store: Literal["auto", "memory", "rocksdb"] = Field(
        default="auto",
        description="faust table store; auto: RocksDB when rocksdict is installed, else memory",
    )
    worker_batch: Annotated[int, Field(ge=1)] = Field(
        default=2000,
        description="the most records one fetch brings: the most a processor takes at once",
    )
    worker_datadir: Path = Field(
        default=Path("var/faust"), description="a worker's local state folder: one per worker"
    )
    worker_id: str = Field(
        default="",
        description="a worker's name, the same across its restarts and unique among the "
        "running workers: its Kafka transactional id (empty: host name and data folder)",
    )
    worker_web_port: Annotated[int, Field(ge=0)] = Field(
        default=0, description="faust worker's web port (0: web server off)"
    )

    http_host: str = Field(
        default="127.0.0.1", description="address the HTTP API listens on (paicha run, serve)"
    )
    http_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=8000, description="port the HTTP API listens on (paicha run, serve)"
    )
    ingest_max_body_bytes: Annotated[int, Field(ge=1)] = Field(
        default=16 * 1024 * 1024,
        description="largest body POST /ingest/{topic} takes; a larger one is a 413",
    )
    ingest_max_records: Annotated[int, Field(ge=1)] = Field(
        default=10_000,
        description="most records one POST /ingest/{topic} takes; more is a 413",
    )
    embedded_dir: Path = Field(
        default=Path("var/embedded"),
        description="paicha run: the stream processors' state (streams.sqlite3), the demo "
        "users' tokens, and a topics/<topic>.jsonl for each topic nothing in the process reads "
        "(dead-letters…)",
    )
    demo_dir: Path = Field(
        default=Path("var/demo"),
        description="paicha run: the generated city's feed files (made when missing, else reused)",
    )
    demo_persons: Annotated[int, Field(ge=1)] = Field(
        default=2000, description="paicha run: people in the generated city"
    )
    demo_days: Annotated[int, Field(ge=1)] = Field(
        default=2, description="paicha run: days of movement generated"
    )
    demo_seed: int = Field(default=7, description="paicha run: the generated city's seed")
    feed_rate: NonNegative = Field(
        default=20_000,
        description="paicha run: records per second fed from the city's files (0: no limit)",
    )

    # The matching rules (CONTRACTS.md, "Matching, exactly"), in the units people think in.
    h3_resolution: Annotated[int, Field(ge=0, le=15)] = Field(
        default=8,
        description="grid resolution (res 8 ≈ 0.74 km², close to the notice's 800 m × 800 m)",
    )
    max_gap_minutes: NonNegative = Field(default=30, description="longest gap inside one stay")
    min_overlap_minutes: NonNegative = Field(
        default=10, description="shortest co-location that makes a companion (时空伴随)"
    )
    lookback_days: NonNegative = Field(default=14, description="a case's look-back window")
    retention_days: Positive = Field(default=21, description="person data kept, in event time")
    deadline_co_located_hours: Positive = Field(
        default=24, description="deadline of a co_located task, from detection"
    )
    deadline_area_stay_hours: Positive = Field(
        default=48, description="deadline of an area_stay task, from detection"
    )
    deadline_city_visit_hours: Positive = Field(
        default=48, description="deadline of a city_visit task, from detection"
    )
    neighbour_rings: Annotated[int, Field(ge=0, le=3)] = Field(
        default=0, description="also match case stays this many cells away (0: off)"
    )
    min_cumulative_dwell_hours: Positive | None = Field(
        default=None,
        description="also require this much dwell in the cell over the look-back (unset: off; "
        "some cities required 30)",
    )

    # The tracking service's queue.
    claim_lease_minutes: Positive = Field(
        default=30,
        description="how long a tracer's claim holds before the task returns to the queue",
    )

    # The tracking service's deadline watch (services.tracking.watch).
    watch_interval_seconds: Positive = Field(
        default=30, description="how often the deadline watch sweeps for at-risk and overdue tasks"
    )
    at_risk_fraction: Annotated[float, Field(gt=0, lt=1)] = Field(
        default=0.75, description="share of a task's time after which it is at risk"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def match_params(self) -> MatchParams:
        """The matching parameters, durations in integer microseconds as the core wants them."""
        dwell = self.min_cumulative_dwell_hours
        return MatchParams(
            h3_resolution=self.h3_resolution,
            max_gap=round(self.max_gap_minutes * MINUTE),
            min_overlap=round(self.min_overlap_minutes * MINUTE),
            lookback=round(self.lookback_days * DAY),
            retention=round(self.retention_days * DAY),
            deadline_co_located=round(self.deadline_co_located_hours * HOUR),
            deadline_area_stay=round(self.deadline_area_stay_hours * HOUR),
            deadline_city_visit=round(self.deadline_city_visit_hours * HOUR),
            neighbour_rings=self.neighbour_rings,
            min_cumulative_dwell=None if dwell is None else round(dwell * HOUR),
        )


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read the settings from the environment and ``env_file`` (None: no file; environment
    variables win over the file). Raises ``SettingsError`` naming the variable to fix."""
    try:
        settings = Settings(_env_file=env_file)
        settings.match_params()  # the core's own checks, so a bad value fails at start-up
    except ValidationError as exc:
        raise SettingsError([_problem(error) for error in exc.errors()]) from None
    except ValueError as exc:
        raise SettingsError([Problem("", str(exc))]) from None
    return settings


def _problem(error: ErrorDetails) -> Problem:
    """The problem under the name of the variable to fix (``PAICHA_MAX_GAP_MINUTES``)."""
    name = str(error["loc"][0]) if error["loc"] else ""
    if not name:
        return Problem("", error["msg"])
    upper = name.upper()
    known = upper.startswith(ENV_PREFIX) or upper == "KAFKA_BOOTSTRAP_SERVERS"
    return Problem(upper if known else ENV_PREFIX + upper, error["msg"])


def settings_table() -> str:
    """The README's configuration table, generated from the class (a test keeps them equal)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        variable = f"`{ENV_PREFIX}{name.upper()}`"
        if name in ("kafka_bootstrap_servers", "database_url"):
            variable += f" (or `{name.upper()}`)"
        default = info.default
        if default is None or default == "":
            shown = "(unset)"
        elif isinstance(default, str | Path):
            shown = f"`{default}`"
        else:
            shown = str(default)
        rows.append(f"| {variable} | {shown} | {info.description or ''} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m paicha.settings: the table for the README
    print(settings_table(), end="")
