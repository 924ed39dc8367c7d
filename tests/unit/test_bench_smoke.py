"""The benchmark harness works: ``python -m bench --quick --no-postgres`` runs end to end on a
small city, prints its summary, and writes results in which every figure is a real measurement."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_prints_a_summary_and_writes_results(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-postgres", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "paicha bench: summary" in done.stdout
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["ok"] is True
    assert results["city"]["pings"] > 10_000
    assert results["machine"]["cores"] >= 1
    assert [row["paicha"] > 0 for row in results["summary"]] == [True, True, True, True]
    assert all(row["baseline"] is None for row in results["summary"])  # --no-postgres
    assert len(results["engine"]["pings"]["samples_s"]) == 3
    # The harness check compares two non-empty sets: the quick city has companions.
    (harness,) = results["checks"]
    assert harness["identical"] is True
    assert harness["paicha_match"] == harness["engine"] > 0
    assert results["new_case"]["engine_companions"] > 0
