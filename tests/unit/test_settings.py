"""paicha.settings: one Settings class, read from the environment only when asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paicha.errors import PaichaError, SettingsError
from paicha.matching.params import MatchParams
from paicha.matching.timeutil import HOUR, MINUTE
from paicha.settings import Settings, load_settings, settings_table


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PAICHA_* or broker variable from the machine running the tests, and no .env."""
    for name in list(os.environ):
        if name.startswith("PAICHA_") or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_defaults_are_those_of_the_contract() -> None:
    settings = load_settings()
    assert settings.match_params() == MatchParams()
    assert settings.partitions == 8
    assert settings.log_level == "INFO"
    assert settings.database_url == "sqlite:///var/paicha.sqlite3"
    assert settings.kafka_bootstrap_servers == "localhost:9092"


def test_durations_are_read_in_their_units_and_given_to_the_core_in_microseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAICHA_MAX_GAP_MINUTES", "15")
    monkeypatch.setenv("PAICHA_MIN_OVERLAP_MINUTES", "7.5")
    monkeypatch.setenv("PAICHA_DEADLINE_CO_LOCATED_HOURS", "12")
    monkeypatch.setenv("PAICHA_MIN_CUMULATIVE_DWELL_HOURS", "1")
    monkeypatch.setenv("PAICHA_NEIGHBOUR_RINGS", "1")
    params = load_settings().match_params()
    assert params.max_gap == 15 * MINUTE
    assert params.min_overlap == 7 * MINUTE + 30_000_000
    assert params.deadline_co_located == 12 * HOUR
    assert params.deadline_area_stay == 48 * HOUR
    assert params.min_cumulative_dwell == HOUR
    assert params.neighbour_rings == 1


def test_the_broker_address_is_taken_from_the_plain_kafka_variable_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-a:9092,broker-b:9092")
    assert load_settings().kafka_bootstrap_servers == "broker-a:9092,broker-b:9092"


def test_the_prefixed_broker_variable_wins_over_the_plain_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "plain:9092")
    monkeypatch.setenv("PAICHA_KAFKA_BOOTSTRAP_SERVERS", "prefixed:9092")
    assert load_settings().kafka_bootstrap_servers == "prefixed:9092"


def test_a_dot_env_file_is_read_and_the_environment_wins_over_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "PAICHA_DATABASE_URL=postgresql+psycopg2://u@db/paicha\nPAICHA_PARTITIONS=4\n"
        "OTHER_TOOL_SETTING=ignored\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PAICHA_PARTITIONS", "16")
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg2://u@db/paicha"
    assert settings.partitions == 16
    assert load_settings(env_file=None).database_url == "sqlite:///var/paicha.sqlite3"


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAICHA_LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PAICHA_H3_RESOLUTION", "16"),
        ("PAICHA_MAX_GAP_MINUTES", "-1"),
        ("PAICHA_RETENTION_DAYS", "0"),
        ("PAICHA_DEADLINE_AREA_STAY_HOURS", "soon"),
        ("PAICHA_NEIGHBOUR_RINGS", "4"),
        ("PAICHA_PARTITIONS", "0"),
        ("PAICHA_LOG_LEVEL", "LOUD"),
    ],
)
def test_a_bad_setting_fails_at_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.field == variable
    assert isinstance(caught.value, PaichaError)


def test_nothing_is_read_at_import_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAICHA_PARTITIONS", "not a number")
    importing = "import paicha.settings, paicha.cli, paicha.feeds"
    done = subprocess.run([sys.executable, "-c", importing], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_settings_can_be_built_directly_in_tests() -> None:
    settings = Settings(kafka_bootstrap_servers="k:1", lookback_days=7)
    assert settings.kafka_bootstrap_servers == "k:1"
    assert settings.match_params().lookback == 7 * 24 * HOUR


def test_the_readme_documents_every_setting_as_the_class_defines_it() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = settings_table()
    assert table in readme, "README's configuration table is stale: python -m paicha.settings"
    documented = {line.split("`")[1] for line in table.splitlines()[2:]}
    assert documented == {f"PAICHA_{name.upper()}" for name in Settings.model_fields}
