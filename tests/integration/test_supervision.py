"""Supervision (issue 20): rounds of reports, investment completion, problems owned by
departments, meetings, the round report (PDF and workbook), scope and bad input."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import count_queries, login
from tests.integration.api.conftest import api, tokens  # noqa: F401  (fixtures)

DEPARTMENT = "自然资源和规划局"


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _open(client, world, **overrides):
    from crm.i18n import today
    from crm.milestones.queries import work_calendar

    with client.application.app_context():
        day = today()
        due = work_calendar().add_workdays(day, 5)
    data = {"title": "2026年12月调度", "cadence": "monthly", "park_id": str(world.park_a.id),
            "period_start": day.replace(day=1).isoformat(), "period_end": day.isoformat(),
            "due_on": due.isoformat()}
    data.update(overrides)
    return client.post("/rounds/new", data=data)


def _round(app):
    from crm.extensions import db
    from crm.supervision.models import Round

    with app.app_context():
        return db.session.scalars(select(Round).order_by(Round.id.desc())).first()


def _reports(app, round_id):
    from crm.extensions import db
    from crm.supervision.models import RoundReport

    with app.app_context():
        return {r.project_id: r for r in db.session.scalars(
            select(RoundReport).where(RoundReport.round_id == round_id))}


@pytest.fixture
def opened(app, world):
    manager = _client(app, "manager_a")
    response = _open(manager, world)
    assert response.status_code == 303, response.get_data(as_text=True)
    return _round(app)


def test_a_park_manager_opens_a_round_for_the_park_and_the_lead_agents_owe_the_reports(
        app, world, opened):
    from crm.extensions import db
    from crm.notifications.models import Notification

    reports = _reports(app, opened.id)
    assert set(reports) == {world.projects["a1"].id, world.projects["a2"].id}
    assert reports[world.projects["a1"].id].reporter_staff_id == world.staff["agent_a"].id
    assert reports[world.projects["a2"].id].reporter_staff_id is None  # nobody leads it
    assert all(r.status == "missing" for r in reports.values())
    assert opened.project_count == 2 and opened.park_id == world.park_a.id
    with app.app_context():
        told = db.session.scalars(select(Notification).where(
            Notification.user_id == world.users["agent_a"].id,
            Notification.kind == "round_opened")).all()
    assert len(told) == 1 and told[0].params["count"] == 1
    agent = _client(app, "agent_a")
    page = agent.get("/rounds").get_data(as_text=True)
    assert "南通新能源电池项目" in page  # the report they owe
    round_page = agent.get(f"/rounds/{opened.id}").get_data(as_text=True)
    assert "南通新能源电池项目" in round_page and "南通精密机械项目" not in round_page


def test_a_round_with_no_project_or_a_past_due_date_is_refused_and_nothing_is_saved(app, world):
    manager = _client(app, "manager_a")
    none_match = _open(manager, world, industries="food")
    assert none_match.status_code == 422
    assert "没有符合条件的项目" in none_match.get_data(as_text=True)
    past = _open(manager, world, due_on="2020-01-06")
    assert past.status_code == 422
    assert 'id="due_on-errors"' in past.get_data(as_text=True)
    other_park = _open(manager, world, park_id=str(world.park_b.id))
    assert other_park.status_code == 422
    assert _round(app) is None


def test_another_parks_people_get_404_for_the_round_its_reports_and_its_documents(
        app, world, opened):
    a1 = world.projects["a1"].id
    for username in ("manager_b", "agent_b"):
        client = _client(app, username)
        assert client.get(f"/rounds/{opened.id}").status_code == 404
        assert client.get(f"/rounds/{opened.id}/projects/{a1}").status_code == 404
        assert client.post(f"/rounds/{opened.id}/projects/{a1}",
                           data={"progress": "x", "stage_reached": "land"}).status_code == 404
        assert client.post(f"/rounds/{opened.id}/close").status_code == 404
    # A project outside the round is not in it, even for someone who sees the project.
    admin = _client(app, "admin")
    assert admin.get(f"/rounds/{opened.id}/projects/{world.projects['b1'].id}").status_code == 404
    # An agent can fill but not close.
    assert _client(app, "agent_a").post(f"/rounds/{opened.id}/close").status_code == 403


def _fill(client, round_id, project_id, **overrides):
    data = {"progress": "完成用地预审材料报送", "next_steps": "跟进规划许可",
            "investment_completed": "5000", "stage_reached": "land"}
    data.update(overrides)
    return client.post(f"/rounds/{round_id}/projects/{project_id}", data=data)


def test_the_lead_agent_fills_the_report_and_a_problem_goes_to_the_department(
        app, world, opened):
    from crm.extensions import db
    from crm.projects.models import ProgressLog
    from crm.supervision.models import Problem

    agent = _client(app, "agent_a")
    a1 = world.projects["a1"].id
    response = _fill(agent, opened.id, a1, problem_text="<b>用地指标</b>尚未落实",
                     problem_department=DEPARTMENT)
    assert response.status_code == 303
    report = _reports(app, opened.id)[a1]
    assert report.status == "filled" and report.investment_completed == 5000
    with app.app_context():
        problem = db.session.scalars(select(Problem)).one()
        blocker = db.session.get(ProgressLog, problem.blocker_id)
        assert blocker.kind == "blocker" and blocker.is_open_blocker
        assert problem.department == DEPARTMENT and problem.level == "park"
        assert problem.round_id == opened.id and problem.due_on > problem.raised_on
    page = _client(app, "manager_a").get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "&lt;b&gt;用地指标&lt;/b&gt;" in page and "<b>用地指标" not in page
    # The round page counts it as filled.
    round_page = agent.get(f"/rounds/{opened.id}").get_data(as_text=True)
    assert 'data-testid="round-filled">1<' in round_page


@pytest.mark.parametrize("amount, message", [
    ("-5", "0"), ("25000", "20000"), ("1e5", "whole number"), ("五千", "whole number"),
])
def test_negative_or_absurd_investment_is_refused_next_to_the_field(app, world, opened, amount,
                                                                    message):
    agent = _client(app, "agent_a")
    a1 = world.projects["a1"].id
    response = _fill(agent, opened.id, a1, investment_completed=amount)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="investment_completed-errors"' in html
    assert _reports(app, opened.id)[a1].status == "missing"


def test_cumulative_investment_cannot_pass_the_projects_total(app, world, opened):
    from crm.extensions import db
    from crm.supervision.models import RoundReport

    a1 = world.projects["a1"].id
    with app.app_context():  # an earlier round reported 18,000 of its 20,000
        earlier = db.session.scalar(select(RoundReport).where(RoundReport.round_id == opened.id))
        other = RoundReport(round_id=opened.id, project_id=world.projects["b1"].id,
                            park_id=world.park_b.id, stage_at_open="filing", status="filled",
                            investment_completed=0)
        db.session.add(other)
        db.session.commit()
        assert earlier is not None
    agent = _client(app, "agent_a")
    assert _fill(agent, opened.id, a1, investment_completed="15000").status_code == 303
    # Correcting it is judged without its own earlier figure.
    assert _fill(agent, opened.id, a1, investment_completed="20000").status_code == 303
    assert _fill(agent, opened.id, a1, investment_completed="20001").status_code == 422


def test_the_stage_reached_cannot_go_back_and_unknown_departments_are_refused(app, world, opened):
    agent = _client(app, "agent_a")
    a1 = world.projects["a1"].id
    back = _fill(agent, opened.id, a1, stage_reached="signed")
    assert back.status_code == 422 and 'id="stage_reached-errors"' in back.get_data(as_text=True)
    unknown = _fill(agent, opened.id, a1, problem_text="问题", problem_department="不存在的局")
    assert unknown.status_code == 422
    assert 'id="problem_department-errors"' in unknown.get_data(as_text=True)
    assert _reports(app, opened.id)[a1].status == "missing"


def test_closing_makes_the_report_pdf_and_workbook_for_the_park_only(app, world, opened):
    from crm.documents.jobs import build_document
    from crm.documents.models import GeneratedDocument
    from crm.extensions import db

    _fill(_client(app, "agent_a"), opened.id, world.projects["a1"].id)
    manager = _client(app, "manager_a")
    assert manager.post(f"/rounds/{opened.id}/close").status_code == 303
    with app.app_context():
        docs = db.session.scalars(select(GeneratedDocument).where(
            GeneratedDocument.round_id == opened.id).order_by(GeneratedDocument.kind)).all()
        assert [d.kind for d in docs] == ["round_report", "round_workbook"]
        ids = [d.id for d in docs]
        for doc_id in ids:
            build_document(doc_id)
    pdf = manager.get(f"/documents/{ids[0]}/download")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = manager.get(f"/documents/{ids[1]}/download")
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["Content-Type"]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.data), read_only=True)
    assert book.sheetnames == ["园区汇总", "责任部门", "项目填报"]
    rows = list(book["项目填报"].iter_rows(values_only=True))
    assert len(rows) == 3 and {r[4] for r in rows[1:]} >= {"未填报"}
    for username in ("manager_b", "agent_b"):
        assert _client(app, username).get(f"/documents/{ids[0]}/download").status_code == 404
    # Closed: reports no longer change.
    late = _fill(_client(app, "agent_a"), opened.id, world.projects["a1"].id)
    assert late.status_code == 422 or late.status_code == 409
    assert zipfile.is_zipfile(io.BytesIO(xlsx.data))


def test_the_report_data_compares_with_the_previous_round(app, world, opened):
    from crm.extensions import db
    from crm.i18n import today
    from crm.supervision.report import round_report

    agent, manager = _client(app, "agent_a"), _client(app, "manager_a")
    a1 = world.projects["a1"].id
    _fill(agent, opened.id, a1, investment_completed="3000", stage_reached="land")
    manager.post(f"/rounds/{opened.id}/close")
    assert _open(manager, world, title="第二轮").status_code == 303
    second = _round(app)
    assert second.previous_id == opened.id
    _fill(agent, second.id, a1, investment_completed="2000", stage_reached="planning")
    with app.app_context():
        data = round_report(second.id, today=today(), now=dt.datetime(2026, 12, 6, 9, 0))
        db.session.rollback()
    assert data.total.projects == 2 and data.total.filled == 1 and data.total.missing == 1
    assert data.total.investment_period == 2000
    assert data.total.investment_year == 5000  # both rounds' periods end this year
    assert data.total.stages_advanced == 1  # land -> planning since the previous round
    assert data.total.previous_reported == 1 and data.total.previous_investment == 3000
    assert data.previous_title == "2026年12月调度"
    assert [m.project for m in data.missing] == ["南通精密机械项目"]


def test_problems_escalate_a_level_when_overdue_and_stop_at_the_city(app, world):
    from crm.extensions import db
    from crm.milestones.queries import work_calendar
    from crm.supervision.models import Problem
    from crm.supervision.services import problems

    with app.app_context():
        blocker = factories.log(db.session.merge(world.projects["a1"]), kind="blocker",
                                text="规划条件待明确")
        db.session.commit()
        calendar = work_calendar()
        day = dt.date(2026, 12, 7)
        problem = problems.raise_problem(blocker, department=DEPARTMENT, actor_id=None,
                                         today=day, calendar=calendar)
        db.session.commit()
        assert problem.due_on == calendar.add_workdays(day, 10)
        assert problems.escalate_overdue(problem.due_on, calendar) == []  # due today: not late
        later = calendar.add_workdays(problem.due_on, 1)
        assert [p.id for p in problems.escalate_overdue(later, calendar)] == [problem.id]
        db.session.commit()
        assert problem.level == "district" and problem.escalated_on == later
        assert problem.due_on == calendar.add_workdays(later, 15)
        much_later = calendar.add_workdays(problem.due_on, 1)
        problems.escalate_overdue(much_later, calendar)
        assert problem.level == "city"
        assert problems.escalate_overdue(calendar.add_workdays(problem.due_on, 3), calendar) == []
        db.session.commit()
        assert db.session.get(Problem, problem.id).level == "city"


def test_resolving_a_problem_closes_its_blocker_and_only_managers_may(app, world, opened):
    from crm.extensions import db
    from crm.projects.models import ProgressLog
    from crm.supervision.models import Problem

    agent = _client(app, "agent_a")
    _fill(agent, opened.id, world.projects["a1"].id, problem_text="用地指标", problem_department=DEPARTMENT)
    with app.app_context():
        problem_id = db.session.scalar(select(Problem.id))
    assert agent.post(f"/problems/{problem_id}/resolve", data={"decision": "x"}).status_code == 403
    assert _client(app, "manager_b").get(f"/problems/{problem_id}").status_code == 404
    manager = _client(app, "manager_a")
    empty = manager.post(f"/problems/{problem_id}/resolve", data={"decision": " "})
    assert empty.status_code == 422
    assert manager.post(f"/problems/{problem_id}/resolve",
                        data={"decision": "市自然资源局同意调剂指标"}).status_code == 303
    with app.app_context():
        problem = db.session.get(Problem, problem_id)
        blocker = db.session.get(ProgressLog, problem.blocker_id)
        assert problem.status == "resolved" and not blocker.is_open_blocker
        assert blocker.resolution_note == "市自然资源局同意调剂指标"


def _problem(project, department, raised_on, due_on, status="open"):
    from crm.extensions import db
    from crm.supervision.models import Problem

    project = db.session.merge(project)
    blocker = factories.log(project, kind="blocker", text=f"{department}待协调")
    problem = Problem(project_id=project.id, park_id=project.park_id, blocker_id=blocker.id,
                      summary=blocker.text, department=department, level="park",
                      raised_on=raised_on, due_on=due_on, status=status)
    db.session.add(problem)
    return problem


def test_departments_are_ranked_by_projects_held_up_then_working_days_open(app, world):
    from crm.extensions import db
    from crm.milestones.queries import work_calendar
    from crm.supervision import queries
    from sqlalchemy import true

    today = dt.date(2026, 12, 4)
    with app.app_context():
        # 生态环境局 holds up two projects; 自然资源和规划局 one, for longer; 发改委 one, briefly.
        _problem(world.projects["a1"], "生态环境局", dt.date(2026, 12, 1), dt.date(2026, 12, 10))
        _problem(world.projects["b1"], "生态环境局", dt.date(2026, 12, 2), dt.date(2026, 12, 3))
        _problem(world.projects["a1"], DEPARTMENT, dt.date(2026, 11, 2), dt.date(2026, 11, 20))
        _problem(world.projects["a2"], DEPARTMENT, dt.date(2026, 11, 3), dt.date(2026, 11, 20),
                 status="resolved")
        _problem(world.projects["a2"], "发展和改革委员会", dt.date(2026, 12, 3), dt.date(2026, 12, 20))
        db.session.commit()
        ranking = queries.open_by_department(true(), today, work_calendar())
    assert [d.department for d in ranking] == ["生态环境局", DEPARTMENT, "发展和改革委员会"]
    first, second = ranking[0], ranking[1]
    assert (first.projects, first.problems, first.overdue) == (2, 2, 1)
    assert first.workdays_open == 3 + 2  # Dec 1 and Dec 2 to Friday Dec 4
    assert second.problems == 1 and second.workdays_open == 24  # Nov 2 (Mon) to Dec 4
    # A park manager's list counts their park only.
    page = _client(app, "manager_b").get("/problems").get_data(as_text=True)
    assert "海安新材料项目" in page and "南通新能源电池项目" not in page


def test_a_meeting_takes_problems_and_its_decisions_resolve_them(app, world):
    from crm.extensions import db
    from crm.supervision.models import Meeting, Problem

    with app.app_context():
        mine = _problem(world.projects["a1"], DEPARTMENT, dt.date(2026, 11, 2), dt.date(2026, 12, 20))
        theirs = _problem(world.projects["b1"], DEPARTMENT, dt.date(2026, 11, 2), dt.date(2026, 12, 20))
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    manager = _client(app, "manager_a")
    data = {"park_id": str(world.park_a.id), "held_on": "2026-12-01", "title": "用地协调会",
            "attendees": "自然资源和规划局；园区", "decisions": "同意调剂用地指标",
            "problem_ids": [str(mine_id), str(theirs_id)], "resolve": "y"}
    refused = manager.post("/meetings/new", data=data)  # another park's problem
    assert refused.status_code == 422
    assert 'id="problem_ids-errors"' in refused.get_data(as_text=True) or \
        "problem_ids" in refused.get_data(as_text=True)
    future = manager.post("/meetings/new", data={**data, "problem_ids": [str(mine_id)],
                                                 "held_on": "2099-01-05"})
    assert future.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Meeting.id))) == 0
    done = manager.post("/meetings/new", data={**data, "problem_ids": [str(mine_id)]})
    assert done.status_code == 303
    with app.app_context():
        meeting = db.session.scalars(select(Meeting)).one()
        assert [p.id for p in meeting.problems] == [mine_id]
        assert db.session.get(Problem, mine_id).resolution == "同意调剂用地指标"
        assert db.session.get(Problem, theirs_id).status == "open"
    assert _client(app, "manager_b").get(f"/meetings/{meeting.id}").status_code == 404


def test_the_project_page_shows_plan_completion_and_refuses_a_plan_over_the_total(
        app, world, opened):
    from crm.i18n import today

    a1 = world.projects["a1"].id
    _fill(_client(app, "agent_a"), opened.id, a1, investment_completed="5000")
    manager = _client(app, "manager_a")
    with app.app_context():
        year = today().year
    assert manager.post(f"/projects/{a1}/investment-plan",
                        data={"year": str(year), "planned": "25000"}).status_code == 303
    assert manager.post(f"/projects/{a1}/investment-plan",
                        data={"year": str(year), "planned": "10000"}).status_code == 303
    page = manager.get(f"/projects/{a1}").get_data(as_text=True)
    assert "50.0%" in page and 'data-testid="investment-chart"' in page
    assert _client(app, "agent_a").post(f"/projects/{a1}/investment-plan",
                                        data={"year": str(year), "planned": "1"}).status_code == 403
    assert _client(app, "manager_b").post(f"/projects/{a1}/investment-plan",
                                          data={"year": str(year), "planned": "1"}).status_code == 404


def test_the_round_page_runs_a_constant_number_of_queries(app, world, opened):
    from crm.extensions import db
    from crm.projects.models import Project

    manager = _client(app, "manager_a")
    manager.get(f"/rounds/{opened.id}")
    with count_queries(app) as few:
        assert manager.get(f"/rounds/{opened.id}").status_code == 200
    with app.app_context():
        park = db.session.merge(world.park_a)
        for n in range(30):
            staff = factories.staff([park], "agent", f"代办{n}")
            project = factories.project(park, f"项目{n}")
            factories.assign(project, staff)
        db.session.commit()
        assert db.session.scalar(select(func.count(Project.id))) == 33
    assert _open(manager, world, title="大一轮").status_code == 303
    big = _round(app)
    manager.get(f"/rounds/{big.id}")
    with count_queries(app) as many:
        assert manager.get(f"/rounds/{big.id}").status_code == 200
    assert many.count == few.count


def test_a_leader_opens_a_city_round_and_a_park_manager_sees_only_their_part(app, world):
    leader = _client(app, "leader")
    assert _open(leader, world, park_id="city").status_code == 303
    city = _round(app)
    assert city.park_id is None and city.project_count == 3
    page = _client(app, "manager_b").get(f"/rounds/{city.id}").get_data(as_text=True)
    assert "海安新材料项目" in page and "南通新能源电池项目" not in page
    # Only the city bureau closes the city's round.
    assert _client(app, "manager_b").post(f"/rounds/{city.id}/close").status_code == 403
    # A park manager cannot open a city round.
    assert _open(_client(app, "manager_a"), world, park_id="city").status_code == 422


def test_dashboards_show_plan_completion_and_problems_from_the_rounds(app, world, opened):
    from crm.dashboard.services import refresh
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.queries import work_calendar
    import re

    a1 = world.projects["a1"].id
    _fill(_client(app, "agent_a"), opened.id, a1, investment_completed="2500",
          problem_text="用地指标", problem_department=DEPARTMENT)
    manager = _client(app, "manager_a")
    with app.app_context():
        year = today().year
    manager.post(f"/projects/{a1}/investment-plan", data={"year": str(year), "planned": "10000"})
    board = manager.get(f"/dashboard/parks/{world.park_a.id}").get_data(as_text=True)
    assert re.search(r'data-testid="figure-plan_completion">\s*25.0%', board)
    assert re.search(r'data-testid="figure-problems_open">\s*1<', board)
    with app.app_context():
        refresh(today(), work_calendar())
        db.session.commit()
    city = _client(app, "leader").get("/dashboard/city").get_data(as_text=True)
    assert re.search(r'data-testid="figure-plan_completion">\s*25.0%', city)
    departments = re.search(r'data-testid="departments">(.*?)</table>', city, re.S).group(1)
    assert DEPARTMENT in departments


def test_a_problem_keeps_its_evidence_files_within_its_park(app, world, opened):
    from crm.extensions import db
    from crm.supervision.models import Problem
    from tests.integration.attachments_support import pdf

    _fill(_client(app, "agent_a"), opened.id, world.projects["a1"].id,
          problem_text="用地指标", problem_department=DEPARTMENT)
    with app.app_context():
        problem_id = db.session.scalar(select(Problem.id))
    manager = _client(app, "manager_a")
    sent = manager.post(f"/attachments/problem/{problem_id}",
                        data={"file": (io.BytesIO(pdf("协调函")), "协调函.pdf")},
                        content_type="multipart/form-data")
    assert sent.status_code in (302, 303), sent.get_data(as_text=True)[:300]
    page = manager.get(f"/problems/{problem_id}").get_data(as_text=True)
    assert "协调函.pdf" in page
    other = _client(app, "manager_b")
    assert other.get(f"/attachments/problem/{problem_id}").status_code == 404
    assert other.post(f"/attachments/problem/{problem_id}",
                      data={"file": (io.BytesIO(pdf()), "x.pdf")},
                      content_type="multipart/form-data").status_code == 404


def test_a_problem_moves_to_another_department_and_takes_files_over_the_api(
        app, world, opened, api):
    from crm.extensions import db
    from crm.supervision.models import Problem
    from tests.integration.attachments_support import pdf

    _fill(_client(app, "agent_a"), opened.id, world.projects["a1"].id,
          problem_text="环评总量指标", problem_department=DEPARTMENT)
    with app.app_context():
        problem_id = db.session.scalar(select(Problem.id))
    manager = _client(app, "manager_a")
    past = manager.post(f"/problems/{problem_id}/edit",
                        data={"department": "生态环境局", "due_on": "2020-01-06"})
    assert past.status_code == 422 and 'id="due_on-errors"' in past.get_data(as_text=True)
    assert _client(app, "agent_a").post(f"/problems/{problem_id}/edit", data={
        "department": "生态环境局", "due_on": "2099-01-05"}).status_code == 403
    moved = manager.post(f"/problems/{problem_id}/edit",
                         data={"department": "生态环境局", "due_on": "2099-01-05"})
    assert moved.status_code == 303
    with app.app_context():
        problem = db.session.get(Problem, problem_id)
        assert (problem.department, problem.due_on) == ("生态环境局", dt.date(2099, 1, 5))
    sent = api("manager_a").post(f"/problems/{problem_id}/attachments",
                                 data={"file": (io.BytesIO(pdf("函件")), "函件.pdf")},
                                 content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    listed = api("manager_a").get(f"/problems/{problem_id}/attachments").get_json()
    assert [a["filename"] for a in listed["items"]] == ["函件.pdf"]
    assert api("manager_b").get(f"/problems/{problem_id}/attachments").status_code == 404


def test_the_round_page_filters_reports_by_state(app, world, opened):
    from crm.extensions import db
    from crm.supervision.models import RoundReport

    _fill(_client(app, "agent_a"), opened.id, world.projects["a1"].id)
    manager = _client(app, "manager_a")

    def listed(state):
        page = manager.get(f"/rounds/{opened.id}?state={state}").get_data(as_text=True)
        return {name for name in ("南通新能源电池项目", "南通精密机械项目") if name in page}

    assert listed("missing") == {"南通精密机械项目"}
    assert listed("filled") == {"南通新能源电池项目"} and listed("late") == set()
    with app.app_context():  # filled after the due date: late
        report = db.session.scalar(select(RoundReport).where(
            RoundReport.project_id == world.projects["a1"].id))
        report.submitted_on = opened.due_on + dt.timedelta(days=1)
        db.session.commit()
    assert listed("late") == {"南通新能源电池项目"} and listed("filled") == set()


def test_an_admin_adds_a_department_problems_can_then_go_to(app, world):
    from crm.supervision import queries

    admin = _client(app, "admin")
    created = admin.post("/admin/admin_departments/new/", data={"name": "市发展改革委重大项目办",
                                                                "active": "y"})
    assert created.status_code == 302
    with app.app_context():
        assert "市发展改革委重大项目办" in queries.departments()
        assert DEPARTMENT in queries.departments()  # the catalogue's, as before
    assert _client(app, "manager_a").get("/admin/admin_departments/").status_code == 403
