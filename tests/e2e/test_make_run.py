"""``make run`` as a newcomer runs it: one process, no broker, no database server. It serves tasks
for the generated city, takes feed records over HTTP (``paicha ingest --url``), stops cleanly on
Ctrl-C, and a second run goes on from the same SQLite files with the same tasks."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TOKEN_LINE = re.compile(r"^\s+(tracer|supervisor|feed)\s+\S+ \(\S+\)\s+token (\S+)$", re.M)
WAIT_S = 420  # a generous bound for a shared 2-core machine; not a performance assertion


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Run:
    process: subprocess.Popen[bytes]
    log: Path
    url: str

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            out = self.output()
            if text in out:
                return out
            if self.process.poll() is not None:
                pytest.fail(f"make run ended ({self.process.returncode}):\n{out[-3000:]}")
            time.sleep(0.5)
        pytest.fail(f"no {text!r} within {WAIT_S} s:\n{self.output()[-3000:]}")

    def tokens(self) -> dict[str, str]:
        return dict(TOKEN_LINE.findall(self.output()))

    def interrupt(self) -> str:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            pytest.fail(f"make run did not stop on SIGINT:\n{self.output()[-3000:]}")
        return self.output()


def call(url: str, token: str, method: str = "GET", body: bytes | None = None) -> Any:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
        return json.loads(raw) if raw and response.status != 204 else None


def page_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAICHA_")}
    env.pop("DATABASE_URL", None)
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.update(
        PAICHA_DATABASE_URL=f"sqlite:///{tmp_path / 'paicha.sqlite3'}",
        PAICHA_EMBEDDED_DIR=str(tmp_path / "embedded"),
        PAICHA_DEMO_DIR=str(tmp_path / "demo"),
        PAICHA_DEMO_PERSONS="150",
        PAICHA_DEMO_DAYS="1",
        PAICHA_HTTP_PORT=str(free_port()),
        COLUMNS="200",
    )
    return env


@pytest.fixture
def start(environment: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    runs: list[Run] = []

    def start_run(name: str) -> Run:
        log = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            ["make", "--no-print-directory", "-C", str(REPO), "run"],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
        run = Run(process, log, f"http://127.0.0.1:{environment['PAICHA_HTTP_PORT']}")
        runs.append(run)
        return run

    yield start_run
    for run in runs:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait()


def test_make_run_serves_the_city_takes_feeds_and_resumes_after_ctrl_c(
    start: Any, tmp_path: Path
) -> None:
    first = start("first")
    out = first.wait_for("Serving http://")
    tokens = first.tokens()
    assert set(tokens) == {"tracer", "supervisor", "feed"}, out[-2000:]
    assert "Fed " in out and "0 lines rejected" in out

    queue = call(f"{first.url}/v1/tasks?status=any&limit=200", tokens["supervisor"])
    assert queue["total"] > 0, "the generated city gives tasks"
    task_ids = {item["task_id"] for item in queue["items"]}
    claimed = call(f"{first.url}/v1/tasks/claim-next", tokens["tracer"], method="POST")
    assert claimed is None or claimed["contact"]["phone"], "a claim shows the contact"
    assert page_status(f"{first.url}/docs") == 200
    # The pages answer (signed out: through the sign-in page, which the browser tests go past).
    assert page_status(f"{first.url}/dashboard") == 200
    assert page_status(f"{first.url}/tracer") == 200

    feed = tmp_path / "pings.jsonl"
    good = {"person_id": "P-e2e", "lat": 37.87, "lon": 112.55}
    feed.write_text(
        "\n".join(
            [
                json.dumps({**good, "event_id": "e2e-1", "observed_at": "2021-12-01T09:00:00Z"}),
                json.dumps({**good, "event_id": "e2e-2", "lat": 91, "observed_at": "bad"}),
                json.dumps({**good, "event_id": "e2e-3", "observed_at": "2021-12-01T09:20:00Z"}),
            ]
        )
        + "\n"
    )
    posted = subprocess.run(
        [sys.executable, "-m", "paicha.cli", "ingest", str(feed), "--topic", "trajectories",
         "--url", first.url, "--token", tokens["feed"]],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert posted.returncode == 1, posted.stderr
    assert "2 accepted, 1 rejected" in posted.stderr
    assert "pings.jsonl:2: lat" in posted.stderr

    stopped = first.interrupt()
    assert "Stopped." in stopped

    second = start("second")
    out = second.wait_for("Serving http://")
    assert "nothing to feed" in out
    assert second.tokens() == tokens, "the demo tokens survive a restart"
    again = call(f"{second.url}/v1/tasks?status=any&limit=200", tokens["supervisor"])
    assert {item["task_id"] for item in again["items"]} == task_ids
    assert again["total"] == queue["total"]
    assert "Stopped." in second.interrupt()
