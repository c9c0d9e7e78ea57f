"""`flask crm generate`: the bulk synthetic city is consistent with the application's rules."""

import datetime as dt
import random

from sqlalchemy import func, select

TODAY = dt.date(2026, 11, 28)


def _generate(app, projects, demo=False, seed=7):
    from crm.demo.bulk import analyze, generate
    from crm.demo.loader import load_demo
    from crm.extensions import db

    with app.app_context():
        if demo:
            load_demo(TODAY)
            db.session.commit()
        counts = generate(projects, TODAY, seed)
        db.session.commit()
        analyze()
        return counts


def test_generated_city_follows_the_rules(app):
    from crm.agents.models import Assignment, Staff, staff_parks
    from crm.extensions import db
    from crm.milestones import sla
    from crm.milestones.models import Milestone
    from crm.milestones.queries import work_calendar
    from crm.projects.models import ProgressLog, Project

    counts = _generate(app, 300, demo=True)
    with app.app_context():
        s = db.session
        new = select(Project.id).where(Project.id > 120)  # the demo's 120 come first
        assert counts["projects"] == 300 == s.scalar(select(func.count()).select_from(new.subquery()))
        assert 7 * 300 <= counts["milestones"] <= 11 * 300
        assert 15 * 300 <= counts["progress_logs"] <= 25 * 300

        # Every stage and status; every milestone state, both outcomes.
        assert set(s.scalars(select(Project.stage).where(Project.id.in_(new)).distinct())) == {
            "negotiating", "signed", "filing", "land", "planning", "permitting", "approved"}
        assert set(s.scalars(select(Project.status).where(Project.id.in_(new)).distinct())) == {
            "active", "on_hold", "dropped"}
        assert set(s.scalars(select(Milestone.status).distinct())) >= {"pending", "running", "paused", "done"}
        assert set(s.scalars(select(Milestone.outcome).where(Milestone.outcome.is_not(None)).distinct())) == {
            "met", "missed"}
        # Deadlines at risk exist but are the exception, as in a real pipeline.
        running = s.scalars(select(Milestone.due_on).join(Project).where(
            Project.id.in_(new), Project.status == "active", Milestone.status == "running")).all()
        overdue = sum(due < TODAY for due in running)
        assert 0 < overdue < 0.25 * len(running)
        created = s.execute(select(func.min(Project.created_at), func.max(Project.created_at))
                            .where(Project.id.in_(new))).one()
        assert created[0].date() < TODAY - dt.timedelta(days=3 * 365) and created[1].date() <= TODAY

        # Every park of a generated project has staff who serve it.
        parks = set(s.scalars(select(Project.park_id).where(Project.id.in_(new)).distinct()))
        staffed = set(s.scalars(select(staff_parks.c.park_id).distinct()))
        assert parks <= staffed

        # park_id copied onto milestones and logs.
        for model in (Milestone, ProgressLog):
            assert s.scalar(select(func.count()).select_from(model).join(Project, Project.id == model.project_id)
                            .where(model.park_id != Project.park_id)) == 0

        # Deadlines are the calendar's: a sample recomputed one by one with sla.due_date.
        calendar = work_calendar()
        started = s.scalars(select(Milestone).where(Milestone.project_id.in_(new),
                                                    Milestone.status.in_(("running", "done")))).all()
        assert len(started) > 500
        for m in random.Random(1).sample(started, 300):
            pauses = [(p.paused_on, p.resumed_on) for p in m.pauses]
            due = sla.due_date(m.accepted_on, m.limit_value, m.limit_unit, pauses, calendar)
            if m.extension_workdays:  # a statutory extension moved it, the original is kept
                assert m.original_due_on == due, m.id
                due = sla.extended(due, m.extension_workdays, calendar)
            assert m.due_on == due, m.id
            if m.status == "done":
                assert m.accepted_on <= m.completed_on <= TODAY
                assert m.outcome == ("met" if m.completed_on <= m.due_on else "missed")
                assert m.workdays_used == sla.workdays_used(m.accepted_on, m.completed_on, pauses, calendar)
        paused = s.scalars(select(Milestone).where(Milestone.status == "paused")).all()
        assert paused and all(m.due_on is None and m.remaining_workdays is not None
                              and any(p.resumed_on is None for p in m.pauses) for m in paused)
        # Milestones follow the stage: nothing started beyond a project's current stage.
        order = {"signed": 1, "filing": 2, "land": 3, "planning": 4, "permitting": 5, "approved": 6}
        for stage, status in s.execute(select(Milestone.stage, Project.stage).join(Project)
                                       .where(Milestone.status != "pending")):
            assert order[stage] <= order[status]

        # Blockers: some open, most resolved by a resolution entry of the same project.
        blocker = (ProgressLog.kind == "blocker") & ProgressLog.project_id.in_(new)
        open_count = s.scalar(select(func.count()).where(blocker, ProgressLog.resolved_at.is_(None)))
        resolved = s.scalars(select(ProgressLog).where(blocker, ProgressLog.resolved_at.is_not(None))).all()
        assert 0 < open_count < len(resolved)
        for log in resolved[:50]:
            closing = s.get(ProgressLog, log.resolved_by_log_id)
            assert closing.kind == "resolution" and closing.project_id == log.project_id

        # Assignments: nobody past capacity, every one serving the project's park; some unassigned.
        loads = s.execute(select(Staff.capacity, func.count()).join(Assignment).join(Project)
                          .where(Assignment.ended_at.is_(None), Project.status != "dropped")
                          .group_by(Staff.id, Staff.capacity)).all()
        assert loads and all(load <= capacity for capacity, load in loads)
        outside = select(func.count()).select_from(Assignment).join(Project).where(
            Assignment.ended_at.is_(None),
            ~select(staff_parks).where(staff_parks.c.staff_id == Assignment.staff_id,
                                       staff_parks.c.park_id == Project.park_id).exists())
        assert s.scalar(outside) == 0

        # New rows still get fresh ids after the explicit ones (PostgreSQL sequences moved).
        project = s.get(Project, s.scalar(select(func.max(Project.id))))
        entry = ProgressLog(project=project, park_id=project.park_id, kind="visit",
                            happened_on=TODAY, text="走访企业")
        s.add(entry)
        s.flush()
        assert entry.id > s.scalar(select(func.max(ProgressLog.id)).where(ProgressLog.id != entry.id))
        s.rollback()


def test_generated_projects_render_for_an_admin(app, client):
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.projects.models import Project
    from tests import factories
    from tests.conftest import login

    _generate(app, 30)
    with app.app_context():
        factories.user("root", "admin")
        db.session.commit()
        project_id, name = db.session.execute(
            select(Project.id, Project.name).join(Milestone).group_by(Project.id, Project.name)
            .order_by(func.count(Milestone.id).desc(), Project.id).limit(1)).one()
    login(client, "root")
    listing = client.get("/projects/")
    assert listing.status_code == 200
    page = client.get(f"/projects/{project_id}")
    assert page.status_code == 200
    assert name in page.get_data(as_text=True)
