"""The demo's users: a tracer on the busiest team, a city supervisor, and a feed, with tokens.

Tokens are issued once and kept in a file beside the embedded state (mode 0600), so a restarted
``paicha run`` prints the same ones and a trainer's notes stay valid. A token that no longer
works (the database was replaced) is issued again.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from services.tracking import jurisdictions, users
from services.tracking.db.models import User
from services.tracking.db.session import Database

TOKENS_FILE = "demo-tokens.json"


@dataclass(frozen=True, slots=True)
class DemoUser:
    user_id: str
    role: str
    name: str
    team_id: str | None
    jurisdiction: str | None


def demo_users(document: dict[str, Any], persons_file: Path) -> list[DemoUser]:
    """Who the demo needs, placed in the generated city's tree."""
    city = document["province"]["cities"][0]["code"]
    return [
        DemoUser("li.na", "tracer", "李娜", busiest_team(document, persons_file), None),
        DemoUser("wang.fang", "supervisor", "王芳", None, city),
        DemoUser("city.feed", "feed", "市大数据局", None, city),
    ]


def busiest_team(document: dict[str, Any], persons_file: Path) -> str:
    """The team whose communities most of the city's registered persons live in."""
    team_of = {code: team["team_id"] for team in document["teams"] for code in team["communities"]}
    residents: Counter[str] = Counter()
    if persons_file.is_file():
        with persons_file.open("rb") as lines:
            for line in lines:
                if line.strip():
                    team = team_of.get(orjson.loads(line).get("residence_code", ""))
                    if team is not None:
                        residents[team] += 1
    if residents:
        return residents.most_common(1)[0][0]
    return str(document["teams"][0]["team_id"])


def ensure_demo_users(
    database: Database, folder: Path, city_dir: Path, *, now: datetime
) -> dict[str, tuple[DemoUser, str]]:
    """Users and working tokens by role; jurisdictions loaded when the users are new."""
    document = json.loads((city_dir / "jurisdictions.json").read_text(encoding="utf-8"))
    wanted = demo_users(document, city_dir / "persons.jsonl")
    path = folder / TOKENS_FILE
    saved: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    result: dict[str, tuple[DemoUser, str]] = {}
    with database.transaction() as session:
        if any(session.get(User, user.user_id) is None for user in wanted):
            jurisdictions.load(session, document, actor=None, now=now)
        for user in wanted:
            if session.get(User, user.user_id) is None:
                users.add_user(
                    session,
                    user_id=user.user_id,
                    role=user.role,
                    jurisdiction=user.jurisdiction,
                    team_id=user.team_id,
                    name=user.name,
                    actor=None,
                    now=now,
                )
            token = saved.get(user.user_id)
            caller = users.authenticate(session, token) if token else None
            if caller is None or caller.user_id != user.user_id:
                token = users.issue_token(
                    session, user.user_id, label="paicha run", actor=None, now=now
                )
            assert token is not None
            result[user.role] = (user, token)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = {user.user_id: token for user, token in result.values()}
    if tokens != saved:
        _write_private(path, json.dumps(tokens, indent=2) + "\n")
    return result


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
