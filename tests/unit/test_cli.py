"""The ``paicha`` command line: every command is registered and explains itself."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from paicha.cli import app
from schemas.export import render

runner = CliRunner()


def command_names() -> dict[str, str]:
    """Top-level commands and groups with their one-line help, as click sees them."""
    group = typer.main.get_group(app)
    context = typer.Context(group)
    return {
        name: group.commands[name].get_short_help_str(200) for name in group.list_commands(context)
    }


def test_paicha_has_every_command_of_the_embedded_and_production_modes() -> None:
    assert set(command_names()) >= {
        "run",
        "worker",
        "serve",
        "ingest",
        "simulate",
        "match",
        "replay",
        "users",
        "schemas",
    }


def test_ingest_to_http_needs_a_token(tmp_path: Path) -> None:
    feed = tmp_path / "persons.jsonl"
    feed.write_text('{"person_id": "p1", "residence_code": "140105001001"}\n')
    result = runner.invoke(
        app, ["ingest", str(feed), "--topic", "persons", "--url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 2 and "--token" in result.output


def test_ingest_to_an_unreachable_service_says_so_and_fails(tmp_path: Path) -> None:
    feed = tmp_path / "persons.jsonl"
    feed.write_text('{"person_id": "p1", "residence_code": "140105001001"}\n')
    result = runner.invoke(
        app,
        ["ingest", str(feed), "--topic", "persons", "--url", "http://127.0.0.1:9", "--token", "t"],
    )
    assert result.exit_code == 2 and "cannot reach" in result.output


def test_paicha_help_explains_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name, short_help in command_names().items():
        assert name in result.output
        assert short_help.strip(), f"`paicha {name}` has no help"


def test_schemas_export_writes_every_topic_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schemas", "export", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {path.name for path in tmp_path.iterdir()} == set(render())


def test_schemas_export_check_fails_on_a_stale_file_and_writes_nothing(tmp_path: Path) -> None:
    runner.invoke(app, ["schemas", "export", "--out", str(tmp_path)])
    stale = tmp_path / "cases.schema.json"
    stale.write_text("{}\n", encoding="utf-8")
    result = runner.invoke(app, ["schemas", "export", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "cases.schema.json" in result.output
    assert stale.read_text(encoding="utf-8") == "{}\n"


def test_schemas_export_check_passes_on_the_committed_files() -> None:
    result = runner.invoke(app, ["schemas", "export", "--check"])
    assert result.exit_code == 0, result.output
