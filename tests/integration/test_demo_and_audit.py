"""Demo data (idempotent, every stage and state) and the automatic audit trail."""

import datetime as dt

from sqlalchemy import func, select


def test_demo_loads_once_with_every_stage_and_state(app):
    from crm.demo.loader import load_demo
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.projects.models import ProgressLog, Project

    with app.app_context():
        counts = load_demo(dt.date(2026, 11, 27))
        db.session.commit()
        assert counts["projects"] == 120
        assert load_demo(dt.date(2026, 11, 27)) == {}  # idempotent
        db.session.commit()
        assert db.session.scalar(select(func.count(Project.id))) == 120
        stages = set(db.session.scalars(select(Project.stage).distinct()))
        assert stages == {"negotiating", "signed", "filing", "land", "planning", "permitting", "approved"}
        statuses = set(db.session.scalars(select(Milestone.status).distinct()))
        assert statuses >= {"pending", "running", "paused", "done"}
        outcomes = set(db.session.scalars(select(Milestone.outcome).where(Milestone.outcome.is_not(None)).distinct()))
        assert outcomes == {"met", "missed"}
        overdue = db.session.scalar(select(func.count()).where(
            Milestone.status == "running", Milestone.due_on < dt.date(2026, 11, 27)))
        assert overdue > 0
        open_blockers = db.session.scalar(select(func.count()).where(
            ProgressLog.kind == "blocker", ProgressLog.resolved_at.is_(None)))
        assert open_blockers > 0
        names = db.session.scalars(select(Project.name).limit(5)).all()
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names)  # Chinese names
        investments = db.session.execute(select(func.min(Project.investment), func.max(Project.investment))).one()
        assert investments[0] >= 10000 and investments[1] <= 500000


def test_every_demo_login_works(app, client):
    from crm.demo.loader import DEMO_LOGINS, DEMO_PASSWORD, load_demo
    from crm.extensions import db
    from tests.conftest import login

    with app.app_context():
        load_demo(dt.date(2026, 11, 27))
        db.session.commit()
    for username, *_ in DEMO_LOGINS:
        login(client, username, DEMO_PASSWORD)
        assert client.get("/").status_code == 200
        assert client.get("/projects/").status_code == 200
        client.post("/logout")


def test_changes_are_audited_with_who_and_what(app, client, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db
    from tests.conftest import login

    login(client, "admin")
    park_id = world.park_a.id
    response = client.post(f"/admin/admin_parks/edit/?id={park_id}", data={
        "name": "南通经济技术开发区", "short_name": "经开区", "level": "national",
        "district": str(world.park_a.district_id)})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "parks", AuditEvent.entity_id == park_id,
            AuditEvent.action == "update")).one()
        assert event.user_id == world.users["admin"].id
        assert event.changes["short_name"] == ["南通经开区", "经开区"]


def test_password_changes_are_audited_without_the_hash(app, client, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db
    from tests.conftest import login
    from tests.factories import PASSWORD

    login(client, "agent_a")
    client.post("/profile", data={"current_password": PASSWORD, "new_password": "another-long-one",
                                  "confirm": "another-long-one"})
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "users", AuditEvent.action == "update")).all()[-1]
        assert event.changes["password_hash"] == ["***", "***"]
        assert "argon2" not in str(event.changes)


def test_created_rows_are_audited_with_their_id(app, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db

    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "projects", AuditEvent.action == "create",
            AuditEvent.entity_id == world.projects["b1"].id)).one()
        assert event.changes["name"] == [None, "海安新材料项目"]
