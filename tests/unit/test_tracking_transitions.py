"""The task's transitions: what an upstream record does, and which tracer actions are allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.tracking.access import Caller, require_role, sees_contact_details
from services.tracking.errors import Conflict, Forbidden
from services.tracking.transitions import (
    QueueView,
    Upstream,
    check_claimable,
    check_holder,
    describe_update,
    holds_claim,
    merge_upstream,
)

NOW = datetime(2021, 12, 7, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def view(status: str = "open", **fields: object) -> QueueView:
    return QueueView(status=status, version=fields.pop("version", 1), **fields)  # type: ignore[arg-type]


def up(status: str = "open", version: int = 2, detected: datetime | None = NOW) -> Upstream:
    return Upstream(version=version, status=status, latest_detection=detected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "incoming", "action"),
    [
        (None, up(version=1), "create"),
        (None, up("closed", 1), "create"),
        (view(version=3), up(version=3), "stale"),
        (view(version=3), up(version=2), "stale"),
        (view(), up(), "update"),
        (view("claimed"), up(), "update"),
        (view("claimed"), up("closed"), "close"),
        (view("open"), up("withdrawn"), "close"),
        (view("completed", completed_at=NOW), up("closed"), "record"),
        (view("completed", completed_at=NOW), up(detected=NOW), "record"),
        (view("completed", completed_at=NOW), up(detected=LATER), "reopen"),
        (
            view("completed", completed_at=NOW, outcome="tested_positive"),
            up(detected=LATER),
            "record",
        ),
        (view("closed"), up(), "reopen"),
        (view("withdrawn"), up("closed"), "close"),
    ],
)
def test_merge_upstream(current: QueueView | None, incoming: Upstream, action: str) -> None:
    assert merge_upstream(current, incoming) == action


def test_an_update_is_an_upgrade_when_more_urgent() -> None:
    assert describe_update("city_visit", LATER, "co_located", LATER) == "upgraded"
    assert describe_update("co_located", LATER, "co_located", NOW) == "upgraded"
    assert describe_update("co_located", NOW, "area_stay", NOW) == "updated"


def test_a_live_claim_belongs_to_its_holder_only_until_the_lease_runs_out() -> None:
    claimed = view("claimed", claimed_by="a", lease_expires_at=LATER, team="T")
    assert holds_claim(claimed, "a", NOW)
    assert not holds_claim(claimed, "b", NOW)
    assert not holds_claim(claimed, "a", LATER), "the lease ends at its expiry"
    with pytest.raises(Conflict, match="claimed by a"):
        check_claimable(claimed, "b", "T", NOW)
    check_claimable(claimed, "b", "T", LATER)  # expired: anyone of the team may take it
    check_claimable(claimed, "a", "T", NOW)  # the holder renews


@pytest.mark.parametrize(
    ("state", "user", "reason"),
    [
        (view(team="T"), "a", "unclaimed task"),
        (view("claimed", claimed_by="b", lease_expires_at=LATER), "a", "claimed by b"),
        (view("claimed", claimed_by="a", lease_expires_at=NOW), "a", "expired"),
        (view("completed", outcome="cleared"), "a", "completed task"),
        (view("closed", close_reason="became_case"), "a", "closed upstream (became_case)"),
    ],
)
def test_only_a_live_holder_may_complete(state: QueueView, user: str, reason: str) -> None:
    with pytest.raises(Conflict, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check_holder(state, user, NOW, "complete")


def test_claiming_another_teams_task_is_refused() -> None:
    with pytest.raises(Conflict, match="assigned to team T2"):
        check_claimable(view(team="T2"), "a", "T1", NOW)


def test_roles_and_contact_details() -> None:
    tracer = Caller("a", "tracer", "140105", "T")
    with pytest.raises(Forbidden, match="needs the role supervisor"):
        require_role(tracer, "supervisor", action="reassigning")
    assert sees_contact_details(tracer, holds_claim=True)
    assert not sees_contact_details(tracer, holds_claim=False)
    assert sees_contact_details(Caller("s", "supervisor", "140100"), holds_claim=False)
    assert not sees_contact_details(Caller("x", "admin", "140100"), holds_claim=False)
    assert tracer.scope_column == "district_code"
