"""Parallel approvals (issue 17) on the database: the catalogue's dependencies copied into a
plan, readiness and 容缺受理, statutory extensions, stored forecasts and the critical path,
the project's promise (SQL and Python agree), dependency changes by managers, the pages and
the API."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crm.errors import DomainError, InvalidState
from tests import factories
from tests.conftest import DB_KIND, login

D = dt.date
TODAY = D(2026, 9, 21)


def _plan(db_session, world, key="a1", **kwargs):
    """Project ``key`` with the filing-mode plan of a 报告表 project, by catalogue code."""
    from crm.milestones.services.plans import create_plan
    from crm.projects.models import Project

    project = db_session.get(Project, world.projects[key].id)
    project.approval_mode = kwargs.get("approval_mode", "filing")
    project.eia_category = "report_form"
    project.stage = "signed"
    db_session.flush()
    create_plan(project)
    return project, {m.approval_item.code: m for m in project.milestones if m.approval_item}


def _issue(milestone, day, **kw):
    from crm.milestones.services import lifecycle

    lifecycle.start(milestone, accepted_on=day, today=day, **kw)
    lifecycle.complete(milestone, completed_on=day, today=day)


def test_a_plan_carries_the_catalogues_dependencies_and_a_forecast(db_session, world):
    from crm.milestones import queries

    project, items = _plan(db_session, world)
    needs = queries.dependency_map(project.id)
    ids = {m.id: code for code, m in items.items()}
    by_code = {ids[m]: sorted(ids[r] for r in rs) for m, rs in needs.items()}
    assert by_code["construction_permit"] == sorted(
        ["drawing_review", "eia_form", "fire_design_review", "works_planning_permit"])
    assert by_code["energy_review"] == ["filing_record"] and "filing_record" not in by_code
    assert "verification" not in items  # a filing project: the 核准 item is not in its plan
    forecast = queries.project_forecast(project.id)
    permit = items["construction_permit"]
    assert forecast is not None and forecast.forecast_on == permit.forecast_on
    assert permit.critical and items["filing_record"].critical
    # 节能审查 (1 working day) runs beside 用地预审 (20): it has slack, it is not critical.
    assert not items["energy_review"].critical and items["energy_review"].slack_workdays > 0


def test_an_approval_waits_for_what_it_needs_or_starts_in_parallel_with_a_reason(db_session, world):
    from crm.audit.models import AuditEvent
    from crm.milestones.services import lifecycle

    project, items = _plan(db_session, world)
    energy = items["energy_review"]
    with pytest.raises(DomainError) as refused:
        lifecycle.start(energy, accepted_on=TODAY, today=TODAY)
    assert refused.value.field == "parallel_reason" and "项目备案" in str(refused.value)
    assert energy.status == "pending"
    lifecycle.start(energy, accepted_on=TODAY, today=TODAY, parallel_reason="企业急需，容缺受理")
    assert energy.status == "running" and energy.parallel_reason == "企业急需，容缺受理"
    changes = db_session.scalars(select(AuditEvent.changes).where(
        AuditEvent.entity_id == energy.id, AuditEvent.action == "milestone.start")).one()
    assert changes["parallel_reason"] == [None, "企业急需，容缺受理"]
    # Once 项目备案 is issued, 用地预审 is ready: no reason needed, none stored.
    _issue(items["filing_record"], TODAY)
    lifecycle.start(items["land_preexam"], accepted_on=TODAY, today=TODAY,
                    parallel_reason="不需要")
    assert items["land_preexam"].parallel_reason is None


def test_a_waived_dependency_holds_nothing_up(db_session, world):
    from crm.milestones.services import lifecycle

    project, items = _plan(db_session, world)
    lifecycle.waive(items["filing_record"], reason="已并入核准", today=TODAY)
    lifecycle.start(items["energy_review"], accepted_on=TODAY, today=TODAY)
    assert items["energy_review"].status == "running"


def test_an_extension_moves_the_deadline_once_within_the_allowance(db_session, world):
    from crm.milestones.queries import work_calendar
    from crm.milestones.services import lifecycle
    from crm.milestones.services.plan_changes import extend
    from crm.milestones.services.schedules import recompute_open

    project, items = _plan(db_session, world)
    land = items["land_preexam"]
    lifecycle.start(land, accepted_on=TODAY, today=TODAY, parallel_reason="测试")
    due = land.due_on
    calendar = work_calendar()
    for kwargs, field in (
            ({"workdays": 11, "document_no": "通自然资延〔2026〕1号", "approved_on": TODAY}, "extension_workdays"),
            ({"workdays": 0, "document_no": "x", "approved_on": TODAY}, "extension_workdays"),
            ({"workdays": 5, "document_no": " ", "approved_on": TODAY}, "extension_doc_no"),
            ({"workdays": 5, "document_no": "x", "approved_on": TODAY - dt.timedelta(days=1)},
             "extension_approved_on"),
            ({"workdays": 5, "document_no": "x", "approved_on": due + dt.timedelta(days=1)},
             "extension_approved_on")):
        with pytest.raises(DomainError) as refused:
            extend(land, today=due + dt.timedelta(days=3), **kwargs)
        assert refused.value.field == field, (kwargs, refused.value.field)
    assert land.due_on == due and land.extension_workdays is None
    extend(land, workdays=10, document_no="通自然资延〔2026〕1号", approved_on=due, today=due)
    assert land.due_on == calendar.add_workdays(due, 10) and land.original_due_on == due
    with pytest.raises(InvalidState):
        extend(land, workdays=1, document_no="再延", approved_on=due, today=due)
    # A calendar recompute keeps the extension.
    db_session.flush()
    recompute_open(calendar)
    assert land.due_on == calendar.add_workdays(due, 10)
    # A paused extended milestone keeps the extra days frozen, and gets them back on resume.
    lifecycle.pause(land, paused_on=due, reason_code="supplement", today=due)
    # (the pause day itself still counts as left, as for any pause: DESIGN §4)
    assert land.remaining_workdays == 1 + 10
    lifecycle.resume(land, resumed_on=due, today=due)
    assert land.due_on == calendar.add_workdays(due, 10)


def test_the_forecast_follows_the_plan(db_session, world):
    from crm.milestones import queries
    from crm.milestones.queries import work_calendar
    from crm.milestones.services import lifecycle
    from crm.milestones.services.plan_changes import extend
    from crm.milestones.services.forecasts import refresh_projects

    project, items = _plan(db_session, world)
    calendar = work_calendar()
    refresh_projects([project.id], TODAY, calendar)
    before = queries.project_forecast(project.id).forecast_on
    _issue(items["filing_record"], TODAY)
    land = items["land_preexam"]
    lifecycle.start(land, accepted_on=TODAY, today=TODAY)
    assert land.critical
    after_start = queries.project_forecast(project.id).forecast_on
    extend(land, workdays=10, document_no="延期", approved_on=TODAY, today=TODAY)
    extended = queries.project_forecast(project.id).forecast_on
    db_session.refresh(items["land_title"])
    assert land.forecast_on == land.due_on  # the extended deadline
    assert items["land_title"].forecast_on == calendar.add_workdays(land.due_on, 5)  # waits for it
    # (施工许可证's 7 calendar days make the project's shift 10 or 11 working days)
    assert calendar.workdays_between(after_start, extended) in (10, 11)
    # Issued early: everything after it moves earlier.
    lifecycle.complete(land, completed_on=TODAY, today=TODAY)
    assert queries.project_forecast(project.id).forecast_on < extended
    assert before is not None


def test_the_promise_runs_from_its_start_item(db_session, world):
    from crm.milestones import queries
    from crm.milestones.graph import promise_state
    from crm.milestones.queries import work_calendar

    project, items = _plan(db_session, world)
    forecast = queries.project_forecast(project.id)
    assert forecast.rule_id is not None and forecast.promise_due_on is None  # not started
    _issue(items["filing_record"], TODAY)
    forecast = queries.project_forecast(project.id)
    assert forecast.promise_start_on == TODAY
    assert forecast.promise_due_on == work_calendar().add_workdays(TODAY, 90)
    assert forecast.end_forecast_on == items["construction_permit"].forecast_on
    state = promise_state(forecast.promise_due_on, forecast.promise_end_on,
                          forecast.end_forecast_on, TODAY)
    assert state == ("at_risk" if forecast.end_forecast_on > forecast.promise_due_on else "on_track")


def test_the_service_order_carries_the_dependencies_the_forecast_and_the_promise(db_session, world):
    from crm.documents.queries import fingerprint, service_order
    from crm.milestones import queries
    from crm.milestones.models import CommitmentRule

    project, items = _plan(db_session, world)
    calendar = queries.work_calendar()

    def order():
        return service_order(project.id, number="FW-2026-000001", version=1, today=TODAY,
                             calendar=calendar)
    before = order()
    forecast = queries.project_forecast(project.id)
    rule = db_session.get(CommitmentRule, forecast.rule_id)
    permit = next(i for i in before.plan if i.name == items["construction_permit"].name)
    assert set(permit.needs) == {items[c].name for c in (
        "drawing_review", "eia_form", "fire_design_review", "works_planning_permit")}
    assert permit.forecast_on == items["construction_permit"].forecast_on is not None
    assert before.forecast_on == forecast.forecast_on
    promise = before.chain_promise
    assert (promise.name, promise.limit_workdays, promise.due_on) == (
        rule.name, rule.limit_workdays, None)
    assert promise.start_item == items[rule.start_code].name
    # Issuing the start item starts the promised clock: what the order promises changed.
    _issue(items["filing_record"], TODAY)
    after = order()
    assert after.chain_promise.due_on == calendar.add_workdays(TODAY, rule.limit_workdays)
    assert fingerprint(after) != fingerprint(before)


dates = st.one_of(st.none(), st.dates(D(2026, 1, 1), D(2027, 12, 31)))


def test_the_promise_state_is_the_same_in_sql_and_python(db_session, world):
    from crm.milestones.graph import PROMISE_STATES, promise_state
    from crm.milestones.models import CommitmentRule, ProjectForecast
    from crm.milestones.queries import promise_condition

    rule = CommitmentRule(name="测试承诺", start_code="a", end_code="b", limit_workdays=30)
    db_session.add(rule)
    db_session.flush()
    from crm.projects.models import Project

    project = db_session.get(Project, world.projects["a1"].id)

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(due=dates, end=dates, forecast=dates, today=st.dates(D(2026, 1, 1), D(2027, 12, 31)))
    def check(due, end, forecast, today):
        db_session.query(ProjectForecast).delete()
        db_session.add(ProjectForecast(project_id=project.id, park_id=project.park_id,
                                       rule_id=rule.id, promise_due_on=due, promise_end_on=end,
                                       end_forecast_on=forecast, computed_on=today))
        db_session.flush()
        in_sql = [s for s in PROMISE_STATES if db_session.scalar(
            select(ProjectForecast.project_id).where(promise_condition(s, today)))]
        assert in_sql == [promise_state(due, end, forecast, today)], (due, end, forecast, today)

    check()


def test_managers_change_dependencies_with_a_reason_and_no_loops(db_session, world):
    from crm.audit.models import AuditEvent
    from crm.milestones import queries
    from crm.milestones.services.plan_changes import add_dependency, remove_dependency

    project, items = _plan(db_session, world)
    other, other_items = _plan(db_session, world, key="b1")
    permit, filing = items["construction_permit"], items["filing_record"]
    with pytest.raises(DomainError) as refused:
        add_dependency(filing, permit, reason="测试")
    assert refused.value.field == "requires_id" and "→" in str(refused.value)  # a loop, named
    with pytest.raises(DomainError):
        add_dependency(permit, other_items["filing_record"], reason="测试")  # another project
    with pytest.raises(DomainError) as refused:
        add_dependency(permit, items["energy_review"], reason=" ")
    assert refused.value.field == "reason"
    energy_before = items["energy_review"].slack_workdays
    dependency = add_dependency(items["land_title"], items["energy_review"],
                                reason="土地出让须附节能审查意见", actor_id=world.users["manager_a"].id)
    assert items["energy_review"].id in queries.dependency_map(project.id)[items["land_title"].id]
    db_session.refresh(items["energy_review"])
    assert items["energy_review"].slack_workdays < energy_before
    remove_dependency(dependency, reason="政策调整")
    actions = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "milestone_dependencies").order_by(AuditEvent.id)).all()
    assert actions == ["dependency.add", "dependency.remove"]


def test_the_plan_on_working_days_follows_the_forecast(db_session, world):
    from crm.milestones import queries
    from crm.milestones.services import forecasts, lifecycle
    from crm.milestones.timeline import timeline

    project, items = _plan(db_session, world)
    _issue(items["filing_record"], TODAY)
    lifecycle.waive(items["energy_review"], reason="不涉及", today=TODAY)
    # (the stage it reached drew up the plan again, forecast from the real today)
    forecasts.refresh_projects([project.id], TODAY, queries.work_calendar())
    ctx = timeline(project, world.users["manager_a"], today=TODAY)
    bars = {b.id: b for b in ctx["gantt"].bars}
    calendar = queries.work_calendar()
    assert items["energy_review"].id not in bars  # waived: holds nothing up, drawn nowhere
    filing = bars[items["filing_record"].id]
    assert (filing.kind, filing.start, filing.finish, filing.step) == ("done", TODAY, TODAY, 1)
    needs = queries.dependency_map(project.id)
    for bar in bars.values():
        m = db_session.get(type(items["filing_record"]), bar.id)
        if bar.kind == "planned":
            assert bar.finish == m.forecast_on and bar.start >= TODAY
            for dep in needs.get(bar.id, ()):
                if dep in bars:
                    assert bar.start >= bars[dep].finish and bar.step > bars[dep].step
        assert bar.workdays == calendar.workdays_between(bar.start, bar.finish)
        assert bar.critical == m.critical
    order = [b.step for b in ctx["gantt"].bars]
    assert order == sorted(order)
    chart = ctx["gantt_chart"]
    assert len(chart["rows"]) == len(bars) and chart["days"][0] == ctx["gantt"].first.isoformat()
    permit = next(r for r in chart["rows"] if r["name"] == items["construction_permit"].name)
    # Offsets count working days: the permit's bar is as long as its working days.
    assert permit["to"] - permit["from"] == permit["workdays"]


def test_the_timeline_shows_the_plan_and_managers_edit_it(app, client, world):
    from crm.extensions import db

    with app.app_context():
        project, items = _plan(db.session, world)
        db.session.commit()
        pid, energy = project.id, items["energy_review"].id
        filing, permit = items["filing_record"].id, items["construction_permit"].id
    login(client, "agent_a")
    html = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert 'data-testid="plan-forecast"' in html and "预计审批完成" in html
    assert "关键路径" in html and "等待 项目备案" in html
    assert 'data-testid="gantt"' in html and 'id="gantt-data"' in html and "以表格查看" in html
    assert 'data-testid="edit-dependencies"' not in html  # agents do not edit the plan
    assert client.get(f"/projects/{pid}/plan/dependencies").status_code == 403
    page = client.get(f"/projects/{pid}/milestones/{energy}/start").get_data(as_text=True)
    assert 'data-testid="waiting"' in page and "容缺受理" in page
    client.post("/logout")
    login(client, "manager_a")
    assert 'data-testid="edit-dependencies"' in client.get(f"/projects/{pid}").get_data(as_text=True)
    page = client.get(f"/projects/{pid}/plan/dependencies")
    assert page.status_code == 200 and "来自目录" in page.get_data(as_text=True)
    response = client.post(f"/projects/{pid}/plan/dependencies", data={
        "milestone_id": str(filing), "requires_id": str(permit), "reason": "<b>测试</b>"})
    assert response.status_code == 422 and "循环" in response.get_data(as_text=True)
    client.post("/logout")
    login(client, "manager_b")
    assert client.get(f"/projects/{pid}/plan/dependencies").status_code == 404


def test_the_api_gives_the_plan_as_a_graph(app, client, world):
    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.extensions import db

    with app.app_context():
        project, items = _plan(db.session, world)
        _, manager = create_token(db.session.get(User, world.users["manager_a"].id), "t")
        _, agent = create_token(db.session.get(User, world.users["agent_a"].id), "t")
        db.session.commit()
        pid = project.id
        ids = {code: m.id for code, m in items.items()}
    plan = client.get(f"/api/v1/projects/{pid}/plan",
                      headers={"Authorization": f"Bearer {agent}"}).get_json()
    by_id = {i["id"]: i for i in plan["items"]}
    assert plan["forecast_on"] and ids["construction_permit"] in plan["critical_path"]
    assert by_id[ids["filing_record"]]["ready"] and not by_id[ids["energy_review"]]["ready"]
    assert by_id[ids["energy_review"]]["waiting_on"] == [ids["filing_record"]]
    assert plan["promise"]["state"] == "not_started"
    body = {"milestone_id": ids["filing_record"], "requires_id": ids["construction_permit"],
            "reason": "测试"}
    refused = client.post(f"/api/v1/projects/{pid}/dependencies", json=body,
                          headers={"Authorization": f"Bearer {manager}"})
    assert refused.status_code == 422 and "requires_id" in str(refused.get_json())
    assert client.post(f"/api/v1/projects/{pid}/dependencies", json=body,
                       headers={"Authorization": f"Bearer {agent}"}).status_code == 403
    body["milestone_id"], body["requires_id"] = ids["land_title"], ids["energy_review"]
    created = client.post(f"/api/v1/projects/{pid}/dependencies", json=body,
                          headers={"Authorization": f"Bearer {manager}"})
    assert created.status_code == 201


def test_the_morning_refresh_recomputes_yesterdays_forecasts_once(db_session, world):
    from crm.i18n import today
    from crm.milestones.jobs import refresh_forecasts
    from crm.milestones.models import ProjectForecast

    project, _items = _plan(db_session, world)
    row = db_session.get(ProjectForecast, project.id)
    row.computed_on = today() - dt.timedelta(days=1)
    db_session.commit()
    projects = len(world.projects)  # the others never had one: computed now too
    assert refresh_forecasts() == {"projects": projects}
    assert db_session.get(ProjectForecast, project.id).computed_on == today()
    assert refresh_forecasts() == {"projects": 0}


def test_the_morning_refresh_goes_chunk_by_chunk_and_ends_on_a_looping_plan(db_session, world,
                                                                            monkeypatch):
    """One transaction per chunk; a plan whose dependencies loop (only possible by editing the
    database) keeps no forecast and does not keep the job going round."""
    from crm.milestones import jobs
    from crm.milestones.models import MilestoneDependency, ProjectForecast

    project, items = _plan(db_session, world)
    a, b = items["filing_record"], items["energy_review"]  # b needs a: make a need b too
    db_session.add(MilestoneDependency(project_id=project.id, milestone_id=a.id, requires_id=b.id))
    db_session.execute(ProjectForecast.__table__.delete())
    db_session.commit()
    monkeypatch.setattr(jobs, "CHUNK", 1)
    assert jobs.refresh_forecasts() == {"projects": len(world.projects)}
    assert db_session.get(ProjectForecast, project.id) is None  # the loop: no forecast
    others = [p.id for key, p in world.projects.items() if p.id != project.id]
    assert all(db_session.get(ProjectForecast, pid) is not None for pid in others)


@pytest.mark.skipif(DB_KIND != "postgresql", reason="row locks: SQLite serialises writers anyway")
def test_the_background_refresh_skips_a_plan_being_changed_instead_of_waiting(app, world):
    """While someone changes a project's plan (its row held), the hourly refresh leaves that
    project to the change's own refresh and does the others at once."""
    from sqlalchemy import text

    from crm.extensions import db
    from crm.milestones.models import ProjectForecast
    from crm.milestones.queries import work_calendar
    from crm.milestones.services import forecasts

    with app.app_context():
        for key in ("a1", "b1"):
            _plan(db.session, world, key)
        db.session.execute(ProjectForecast.__table__.update().values(computed_on=forecasts.STALE))
        db.session.commit()
        held, free = world.projects["a1"].id, world.projects["b1"].id
    with app.app_context():
        other = db.engine.connect()
        other.execute(text("SELECT id FROM projects WHERE id = :id FOR UPDATE"), {"id": held})
        try:
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
            refreshed = forecasts.refresh_stale(TODAY, work_calendar())
            db.session.commit()
        finally:
            other.rollback()
            other.close()
        assert refreshed >= 1
        assert db.session.get(ProjectForecast, free).computed_on == TODAY
        assert db.session.get(ProjectForecast, held).computed_on == forecasts.STALE


def test_the_dashboards_name_the_bottlenecks_of_the_critical_path(app, client, world):
    from sqlalchemy import func

    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.milestones.queries import work_calendar
    from crm.milestones.services import forecasts

    with app.app_context():
        for key in ("a1", "a2"):
            _plan(db.session, world, key)
        today = TODAY
        forecasts.refresh_projects(None, today, work_calendar())
        db.session.commit()
        park = world.park_a.id
        expected = dict(db.session.execute(
            select(Milestone.name, func.count()).where(Milestone.park_id == park,
                                                       Milestone.critical.is_(True))
            .group_by(Milestone.name)).all())
        from crm.dashboard.queries import lists

        rows = lists.bottlenecks(Milestone.park_id == park, today=today,
                                 calendar=work_calendar(), limit=20)
        assert {r.item: r.projects for r in rows} == expected and len(expected) >= 3
        assert [r.projects for r in rows] == sorted((r.projects for r in rows), reverse=True)
        permit = next(r for r in rows if r.item == "施工许可证")
        ends = db.session.scalars(select(Milestone.forecast_on).where(
            Milestone.park_id == park, Milestone.name == "施工许可证")).all()
        assert permit.projects == 2  # the end of both chains, in working days still to go
        assert permit.workdays == sum(work_calendar().workdays_between(today, d) for d in ends)
    login(client, "manager_a")
    html = client.get(f"/dashboard/parks/{park}").get_data(as_text=True)
    assert 'data-testid="bottleneck-list"' in html and "施工许可证" in html
