"""The deadline calendar feed (issue 16, part 7): a per-user secret iCalendar address with the
due dates of the running approvals the user may see, all-day, provisional ones marked; a new
address kills the old one; nothing outside the user's scope, nothing for a deactivated user
or under another secret key."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from tests import factories
from tests.conftest import login


def _feed_url(app, username: str) -> str:
    from sqlalchemy import select

    from crm.auth.models import User
    from crm.auth.services import rotate_calendar_feed
    from crm.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        token = rotate_calendar_feed(user, app.config["SECRET_KEY"])
        db.session.commit()
    return f"/calendar/{token}.ics"


def _events(response) -> dict[str, dict]:
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    return {str(e["summary"]): e for e in calendar.walk("VEVENT")}


def _milestones(app, world):
    """a1 (agent_a serves it) has a running and a paused approval, a2 (same park, not agent_a's)
    and b1 (park B) a running one each; a1's finished one is not in any feed."""
    from crm.extensions import db

    today = dt.date.today()
    with app.app_context():
        projects = {k: db.session.merge(p) for k, p in world.projects.items()}
        factories.milestone(projects["a1"], "消防设计审查<script>", due_on=today + dt.timedelta(days=5))
        factories.milestone(projects["a1"], "施工许可证", status="paused",
                            due_on=today + dt.timedelta(days=9), due_provisional=True)
        factories.milestone(projects["a1"], "项目备案", status="done", due_on=today)
        factories.milestone(projects["a2"], "节能审查", due_on=today + dt.timedelta(days=3))
        factories.milestone(projects["b1"], "环评审批", due_on=today + dt.timedelta(days=4))
        db.session.commit()
    return today


def test_an_agent_subscribes_and_sees_only_their_projects_deadlines(app, world):
    today = _milestones(app, world)
    client = app.test_client()
    events = _events(client.get(_feed_url(app, "agent_a")))
    names = sorted(events)
    assert len(names) == 2, names
    fire = next(e for name, e in events.items() if "消防设计审查" in name)
    assert fire["dtstart"].dt == today + dt.timedelta(days=5)  # an all-day event
    assert fire["dtend"].dt == today + dt.timedelta(days=6)
    assert "<script>" in str(fire["summary"])  # kept as text: a calendar is not HTML
    paused = next(e for name, e in events.items() if "施工许可证" in name)
    assert str(paused["summary"]).startswith("【暂定】") and str(paused["status"]) == "TENTATIVE"
    assert "/projects/" in str(paused["url"])


def test_a_manager_sees_the_park_and_a_leader_the_city(app, world):
    _milestones(app, world)
    client = app.test_client()
    manager = " ".join(_events(client.get(_feed_url(app, "manager_a"))))
    assert "节能审查" in manager and "环评审批" not in manager
    leader = " ".join(_events(client.get(_feed_url(app, "leader"))))
    assert "节能审查" in leader and "环评审批" in leader and "项目备案" not in leader


def test_a_new_address_kills_the_old_one(app, world):
    client = app.test_client()
    old = _feed_url(app, "agent_a")
    assert client.get(old).status_code == 200
    new = _feed_url(app, "agent_a")
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    assert client.get("/calendar/" + "x" * 500 + ".ics").status_code == 404


def test_a_deactivated_user_or_another_secret_key_opens_nothing(app, world):
    from crm.auth.models import User
    from crm.extensions import db

    client = app.test_client()
    url = _feed_url(app, "agent_a")
    app.config["SECRET_KEY"] = "rotated-" + app.config["SECRET_KEY"]
    assert client.get(url).status_code == 404
    url = _feed_url(app, "agent_a")
    with app.app_context():
        db.session.get(User, world.users["agent_a"].id).active = False
        db.session.commit()
    assert client.get(url).status_code == 404


def test_the_profile_page_makes_shows_and_rotates_the_address(app, world):
    client = app.test_client()
    login(client, "agent_a")
    page = client.get("/profile").get_data(as_text=True)
    assert 'data-testid="calendar-create"' in page and 'data-testid="calendar-url"' not in page
    assert client.post("/profile/calendar").status_code == 302
    page = client.get("/profile").get_data(as_text=True)
    assert 'data-testid="calendar-url"' in page and "webcal://" in page
    start = page.index('data-testid="calendar-url"')
    url = page[page.rindex('value="', 0, start) + 7:page.index('"', page.rindex('value="', 0, start) + 7)]
    path = url.split("://", 1)[1].split("/", 1)[1]
    assert app.test_client().get("/" + path).status_code == 200
    client.post("/profile/calendar")
    assert app.test_client().get("/" + path).status_code == 404
