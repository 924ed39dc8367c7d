"""Loading the jurisdiction tree and its teams from ``jurisdictions.json``.

The file is what ``paicha simulate`` writes for the demo city (``paicha.simulate.city``)::

    {"province": {"code", "name", "cities": [{"code", "name", "districts": [
        {"code", "name", "communities": [{"code", "name", "street", "team_id"}]}]}]},
     "teams": [{"team_id", "name", "jurisdiction", "communities": [codes]}]}

Streets (街道) are not listed on their own; they are derived from the communities' codes (the
first 9 digits) and named by their ``street``. Loading merges: rows are inserted or renamed, never
deleted, so tasks and users filed under a code keep it. A team that lists no communities covers
its own jurisdiction: that is the city's duty team, which catches what no street team covers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import delete
from sqlalchemy.orm import Session

from paicha.errors import InvalidInput, Problem
from services.tracking.audit import audit
from services.tracking.codes import is_code, level_of, parent_of
from services.tracking.db.models import Jurisdiction, Team, TeamCoverage


class _Node(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str = Field(pattern=r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$")
    name: str


class _Community(_Node):
    street: str | None = None


class _District(_Node):
    communities: list[_Community] = Field(default_factory=list)


class _City(_Node):
    districts: list[_District] = Field(default_factory=list)


class _Province(_Node):
    cities: list[_City] = Field(default_factory=list)


class _Team(BaseModel):
    model_config = ConfigDict(extra="allow")
    team_id: str = Field(min_length=1)
    name: str
    jurisdiction: str
    communities: list[str] = Field(default_factory=list)


class JurisdictionFile(BaseModel):
    """The whole file; ``provinces`` may replace ``province`` for a multi-province tree."""

    model_config = ConfigDict(extra="allow")
    province: _Province | None = None
    provinces: list[_Province] = Field(default_factory=list)
    teams: list[_Team] = Field(default_factory=list)


def parse(document: Any) -> JurisdictionFile:
    """Validate a decoded file; InvalidInput names the first bad field."""
    try:
        parsed = JurisdictionFile.model_validate(document)
    except ValidationError as error:
        raise InvalidInput(
            [Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.errors()]
        ) from None
    return parsed


def load(session: Session, document: Any, *, actor: str | None, now: datetime) -> dict[str, int]:
    """Merge the tree and the teams into the database; counts of what the file held."""
    parsed = parse(document)
    nodes: dict[str, str] = {}
    for province in [*parsed.provinces, *([parsed.province] if parsed.province else [])]:
        nodes[province.code] = province.name
        for city in province.cities:
            nodes[city.code] = city.name
            for district in city.districts:
                nodes[district.code] = district.name
                for community in district.communities:
                    if len(community.code) == 12:
                        nodes.setdefault(community.code[:9], community.street or community.code)
                    nodes[community.code] = community.name
    for code in sorted(nodes, key=lambda c: (len(c), c)):  # parents before children
        _upsert_jurisdiction(session, code, nodes[code])
    session.flush()
    covered: dict[str, str] = {}
    for team in parsed.teams:
        if not is_code(team.jurisdiction) or session.get(Jurisdiction, team.jurisdiction) is None:
            raise InvalidInput(
                [
                    Problem(
                        f"teams.{team.team_id}.jurisdiction",
                        f"unknown jurisdiction {team.jurisdiction}",
                    )
                ]
            )
        row = session.get(Team, team.team_id) or Team(team_id=team.team_id)
        row.name, row.jurisdiction = team.name, team.jurisdiction
        session.add(row)
        for code in team.communities or [team.jurisdiction]:
            if code in covered and covered[code] != team.team_id:
                raise InvalidInput(
                    [
                        Problem(
                            f"teams.{team.team_id}.communities",
                            f"{code} is already covered by {covered[code]}",
                        )
                    ]
                )
            covered[code] = team.team_id
    session.flush()
    if parsed.teams:
        team_ids = [team.team_id for team in parsed.teams]
        session.execute(delete(TeamCoverage).where(TeamCoverage.team_id.in_(team_ids)))
        session.execute(delete(TeamCoverage).where(TeamCoverage.jurisdiction_code.in_(covered)))
        session.add_all(TeamCoverage(jurisdiction_code=c, team_id=t) for c, t in covered.items())
    counts = {"jurisdictions": len(nodes), "teams": len(parsed.teams), "covered": len(covered)}
    audit(session, at=now, actor=actor, action="load_jurisdictions", details=counts)
    return counts


def _upsert_jurisdiction(session: Session, code: str, name: str) -> None:
    row = session.get(Jurisdiction, code)
    if row is None:
        parent = parent_of(code)
        if parent is not None and session.get(Jurisdiction, parent) is None:
            parent = None  # a tree loaded from below the province: the top has no parent row
        session.add(Jurisdiction(code=code, name=name, level=level_of(code), parent_code=parent))
    else:
        row.name = name
