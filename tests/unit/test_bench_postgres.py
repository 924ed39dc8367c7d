"""The PostgreSQL baseline finds exactly what paicha finds: ``python -m bench --quick`` against a
real server passes both of its checks (the city's co_located exposures, and a new case's
companions), and leaves the server as it found it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_quick_bench_agrees_with_postgresql(database_url: str, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--out",
        str(tmp_path),
        "--database-url",
        database_url,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    checks = {check["name"]: check for check in results["checks"]}
    city = checks["co_located of the city (item 2)"]
    new_case = checks["companions of the new case (item 3)"]
    assert city["identical"] and city["postgresql"] == city["paicha_match"] > 0
    assert new_case["identical"] and new_case["postgresql"] == new_case["engine"] > 0
    assert all(row["baseline"] > 0 for row in results["summary"])
    assert "identical: yes" in done.stdout
    engine = create_engine(database_url)
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bench_%'")
        ).scalar_one()
    engine.dispose()
    assert left == 0
