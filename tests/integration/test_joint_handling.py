"""Approvals handled jointly (联合办理, issue 17): the group's 45 + 15 working-day cap from the
first acceptance, its refusals, its extension, the pages and the plan API; and the dashboards'
"forecast vs promise" (the running promises' average margin, the same in SQL and Python)."""

import datetime as dt

import pytest
from sqlalchemy import select

from crm.errors import DomainError, InvalidState
from tests.conftest import login
from tests.integration.test_parallel_approvals import TODAY, _issue, _plan


def _joint(db_session, items, *codes, name="施工图联合审查"):
    from crm.milestones.queries import work_calendar
    from crm.milestones.services.plan_changes import create_joint

    members = [items[c] for c in codes]
    return create_joint(members[0].project_id, members, name=name, reason=None, today=TODAY,
                        calendar=work_calendar())


def test_marking_approvals_as_joint_refuses_what_cannot_be_handled_jointly(db_session, world):
    from crm.audit.models import AuditEvent
    from crm.milestones.queries import work_calendar
    from crm.milestones.services import lifecycle
    from crm.milestones.services.plan_changes import create_joint

    project, items = _plan(db_session, world)
    _other, others = _plan(db_session, world, "a2")
    calendar = work_calendar()
    _issue(items["filing_record"], TODAY)
    long = lifecycle.add_custom(project, name="专家论证", stage="permitting", limit_value=50,
                                limit_unit="working")

    def refused(members, name="联审", field="milestone_ids"):
        with pytest.raises(DomainError) as error:
            create_joint(project.id, members, name=name, reason=None, today=TODAY,
                         calendar=calendar)
        assert error.value.field == field, str(error.value)
        return str(error.value)

    refused([items["drawing_review"]])  # one is no group
    refused([items["drawing_review"], items["drawing_review"]])  # nor is one twice
    refused([items["drawing_review"], items["fire_design_review"]], name=" ", field="name")
    assert "项目备案" in refused([items["drawing_review"], items["filing_record"]])  # decided
    refused([items["drawing_review"], others["fire_design_review"]])  # another project's
    assert "50" in refused([items["drawing_review"], long])  # longer than the cap
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "joint.create")) is None

    joint = _joint(db_session, items, "drawing_review", "fire_design_review")
    assert {m.id for m in joint.members} == {items["drawing_review"].id,
                                            items["fire_design_review"].id}
    refused([items["drawing_review"], items["works_planning_permit"]])  # already in a group
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "joint.create")).one()
    assert event.changes["members"][1] == "施工图审查、消防设计审查"


def test_the_joint_cap_runs_from_the_first_acceptance_and_is_extended_once(db_session, world):
    from crm.milestones.graph import joint_due
    from crm.milestones.queries import work_calendar
    from crm.milestones.services import lifecycle
    from crm.milestones.services.plan_changes import extend_joint, remove_joint
    from crm.milestones.timeline import joint_rows

    project, items = _plan(db_session, world)
    calendar = work_calendar()
    joint = _joint(db_session, items, "drawing_review", "fire_design_review")
    members = [items["drawing_review"], items["fire_design_review"]]

    def row():
        db_session.flush()
        return joint_rows([joint], list(project.milestones), TODAY, calendar)[0]

    assert (row().state, row().due_on, row().limit) == ("not_started", None, 45)
    with pytest.raises(InvalidState):  # no clock yet: nothing to extend
        extend_joint(joint, workdays=5, document_no="x", approved_on=TODAY, today=TODAY,
                     calendar=calendar)
    first = TODAY - dt.timedelta(days=3)
    lifecycle.start(members[1], accepted_on=first, today=TODAY, parallel_reason="联合审查")
    lifecycle.start(members[0], accepted_on=TODAY, today=TODAY, parallel_reason="联合审查")
    due = joint_due(first, None, calendar)
    assert row().started_on == first and row().due_on == due and row().state == "on_track"
    for kwargs, field in (
            ({"workdays": 16, "document_no": "通政延〔2026〕1号", "approved_on": TODAY},
             "extension_workdays"),
            ({"workdays": 15, "document_no": "", "approved_on": TODAY}, "extension_doc_no"),
            ({"workdays": 15, "document_no": "x", "approved_on": first - dt.timedelta(days=1)},
             "extension_approved_on"),
            ({"workdays": 15, "document_no": "x", "approved_on": due + dt.timedelta(days=1)},
             "extension_approved_on")):
        with pytest.raises(DomainError) as error:
            extend_joint(joint, today=due + dt.timedelta(days=5), calendar=calendar, **kwargs)
        assert error.value.field == field, kwargs
    assert joint.extension_workdays is None
    extend_joint(joint, workdays=15, document_no="通政延〔2026〕1号", approved_on=TODAY,
                 today=TODAY, calendar=calendar)
    assert row().due_on == calendar.add_workdays(due, 15) and row().limit == 60
    with pytest.raises(InvalidState):
        extend_joint(joint, workdays=1, document_no="再延", approved_on=TODAY, today=TODAY,
                     calendar=calendar)
    # Past the cap with a member open: overdue; both decided late: missed.
    assert joint_rows([joint], list(project.milestones), row().due_on + dt.timedelta(days=1),
                      calendar)[0].state == "overdue"
    late = row().due_on + dt.timedelta(days=1)
    for m in members:
        lifecycle.complete(m, completed_on=late, today=late)
    assert joint_rows([joint], list(project.milestones), late, calendar)[0].state == "missed"
    with pytest.raises(DomainError):
        remove_joint(joint, reason=" ")
    remove_joint(joint, reason="不再联合办理")
    db_session.flush()
    assert all(m.joint_id is None for m in members)


def test_the_joint_page_for_managers_only(app, client, world):
    from crm.extensions import db
    from crm.milestones.models import JointHandling

    with app.app_context():
        project, items = _plan(db.session, world)
        db.session.commit()
        pid = project.id
        drawing, fire = items["drawing_review"].id, items["fire_design_review"].id
    for username, status in (("agent_a", 403), ("manager_b", 404)):
        other = app.test_client()
        login(other, username)
        assert other.get(f"/projects/{pid}/plan/joint").status_code == status
    login(client, "manager_a")
    page = client.get(f"/projects/{pid}/plan/joint")
    assert page.status_code == 200 and 'data-testid="no-joint"' in page.get_data(as_text=True)
    one = client.post(f"/projects/{pid}/plan/joint", data={
        "name": "<b>联审</b>", "milestone_ids": [str(drawing)]})
    html = one.get_data(as_text=True)
    assert one.status_code == 422 and "invalid-feedback d-block" in html
    assert "&lt;b&gt;联审&lt;/b&gt;" in html and "<b>联审" not in html
    made = client.post(f"/projects/{pid}/plan/joint", data={
        "name": "<b>联审</b>", "milestone_ids": [str(drawing), str(fire)]})
    assert made.status_code == 302
    with app.app_context():
        joint = db.session.scalars(select(JointHandling)).one()
        jid, version = joint.id, joint.version
    detail = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert 'data-testid="joint-summary"' in detail and detail.count('data-testid="joint"') == 2
    assert "&lt;b&gt;联审&lt;/b&gt;" in detail
    assert client.get(f"/projects/{pid}/plan/joint/{jid}/extend").status_code == 200
    early = client.post(f"/projects/{pid}/plan/joint/{jid}/extend", data={
        "version": version, "extension_workdays": "5", "extension_doc_no": "x",
        "extension_approved_on": TODAY.isoformat()})
    assert early.status_code == 409  # nothing accepted yet: no clock to extend
    assert "invalid-feedback" in early.get_data(as_text=True)
    gone = client.post(f"/projects/{pid}/plan/joint/{jid}/remove", data={"remove-reason": "测试"})
    assert gone.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(JointHandling)).first() is None
    assert client.post(f"/projects/{pid}/plan/joint/{jid}/remove",
                       data={"remove-reason": "x"}).status_code == 404


def test_the_plan_api_lists_the_joint_handlings(app, client, world):
    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.extensions import db

    with app.app_context():
        project, items = _plan(db.session, world)
        joint = _joint(db.session, items, "drawing_review", "fire_design_review")
        _, agent = create_token(db.session.get(User, world.users["agent_a"].id), "t")
        db.session.commit()
        pid, jid = project.id, joint.id
        members = sorted([items["drawing_review"].id, items["fire_design_review"].id])
    plan = client.get(f"/api/v1/projects/{pid}/plan",
                      headers={"Authorization": f"Bearer {agent}"}).get_json()
    (entry,) = plan["joint_handlings"]
    assert entry["id"] == jid and sorted(entry["members"]) == members
    assert (entry["state"], entry["limit_workdays"], entry["due_on"]) == ("not_started", 45, None)


def test_forecast_vs_promise_is_the_running_promises_average_margin(db_session, world):
    from crm.dashboard.queries.figures import Slice, compute
    from crm.milestones.graph import promise_margin
    from crm.milestones.models import ProjectForecast
    from crm.milestones.queries import work_calendar

    calendar = work_calendar()
    for key in ("a1", "a2"):
        _project, items = _plan(db_session, world, key)
        _issue(items["filing_record"], TODAY)  # the promise starts
    db_session.flush()
    rows = db_session.scalars(select(ProjectForecast).where(
        ProjectForecast.park_id == world.park_a.id,
        ProjectForecast.promise_due_on.is_not(None))).all()
    assert len(rows) == 2
    margins = [promise_margin(r.promise_due_on, r.end_forecast_on, calendar) for r in rows]
    assert [r.promise_margin_workdays for r in rows] == margins and None not in margins
    f = compute(Slice(park_id=world.park_a.id), TODAY, calendar)[world.park_a.id]
    assert f.promise_running == 2 and f.promise_margin_avg == pytest.approx(sum(margins) / 2)


def test_the_dashboards_the_api_and_the_summary_show_forecast_vs_promise(app, client, world):
    import re

    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.dashboard.queries.figures import Slice, compute
    from crm.documents.queries import summary
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.queries import work_calendar
    from crm.milestones.services.forecasts import refresh_projects

    with app.app_context():
        _project, items = _plan(db.session, world)
        _issue(items["filing_record"], TODAY)
        refresh_projects(None, today(), work_calendar())
        _, token = create_token(db.session.get(User, world.users["manager_a"].id), "t")
        db.session.commit()
        park = world.park_a.id
        f = compute(Slice(park_id=park), today(), work_calendar())[park]
        assert f.promise_running == 1
        shown = f"{f.promise_margin_avg:+.1f}".replace("-", "−")
        pdf = summary(park, TODAY - dt.timedelta(days=30), TODAY, today=today(),
                      calendar=work_calendar()).figures
        assert pdf.promise_margin_avg == f.promise_margin_avg
    login(client, "manager_a")
    page = client.get(f"/dashboard/parks/{park}").get_data(as_text=True)
    value = re.search(r'data-testid="figure-promise_margin">([^<]*)<', page).group(1)
    assert value.strip() == (shown if f.promise_margin_avg else "0.0")
    api = client.get(f"/api/v1/dashboard/parks/{park}",
                     headers={"Authorization": f"Bearer {token}"}).get_json()
    assert api["figures"]["promises_running"] == 1
    assert api["figures"]["promise_margin_avg_workdays"] == round(f.promise_margin_avg, 1)
