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
    partitions: Annotated[int, Field(ge=1)] = Field(
        default=8, description="partitions of every keyed topic: the most workers that can help"
    )
    log_level: LogLevel = "INFO"
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
    worker_web_port: Annotated[int, Field(ge=0)] = Field(
        default=0, description="faust worker's web port (0: web server off)"
    )

    # The matching rules (CONTRACTS.md, "Matching, exactly"), in the units people think in.
    h3_resolution: Annotated[int, Field(ge=0, le=15)] = 8
    max_gap_minutes: NonNegative = 30
    min_overlap_minutes: NonNegative = 10
    lookback_days: NonNegative = 14
    retention_days: Positive = 21
    deadline_co_located_hours: Positive = 24
    deadline_area_stay_hours: Positive = 48
    deadline_city_visit_hours: Positive = 48
    neighbour_rings: Annotated[int, Field(ge=0, le=3)] = 0
    min_cumulative_dwell_hours: Positive | None = None

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
