"""The enterprise's ratings and the bad-review cases (issue 14, parts 3-4): a finished
approval (or the whole service once approved) is rated 1-5 on five dimensions through the
link, changeable for 7 days; 2 or less opens a case for the chief consultant; the manager
classifies it, the assignee rectifies (simple) or a panel accepts (complex), and it closes when
the enterprise re-rates satisfied or confirms by phone; the dashboards, the API and the PDF
summary count satisfaction with one rule."""

import datetime as dt
import re

import pytest
from sqlalchemy import select

from crm.errors import Conflict, DomainError, InvalidState
from tests import factories
from tests.conftest import login

TODAY = dt.date(2026, 9, 21)
GOOD = dict.fromkeys(("openness", "standards", "convenience", "courtesy", "discipline"), 5)


def _done(project, name="建设用地规划许可证"):
    from crm.milestones.services import lifecycle

    milestone = factories.milestone(project, name)
    lifecycle.start(milestone, accepted_on=TODAY, today=TODAY, parallel_reason="测试")
    lifecycle.complete(milestone, completed_on=TODAY, today=TODAY)
    return milestone


def _link(db_session, world, key="a1"):
    from crm.portal import services
    from crm.projects.models import Project

    project = db_session.get(Project, world.projects[key].id)
    link, token = services.issue(project, actor_id=None, today=TODAY)
    return project, link, token


def _rate(link, milestone_id, scores, comment=None, now=None):
    from crm.milestones.queries import work_calendar
    from crm.portal.services import ratings

    return ratings.rate(link, milestone_id, scores, comment, today=TODAY,
                        calendar=work_calendar(), now=now)


def test_a_finished_approval_is_rated_once_per_link_and_changed_within_7_days(db_session, world):
    from crm.db import utcnow
    from crm.portal.models import Rating

    project, link, _token = _link(db_session, world)
    pending = factories.milestone(project, "施工许可证")
    done = _done(project)
    with pytest.raises(DomainError) as refused:
        _rate(link, pending.id, GOOD)
    assert refused.value.field == "target"
    with pytest.raises(DomainError) as refused:
        _rate(link, None, GOOD)  # the whole service: only once approved
    assert refused.value.field == "target"
    for bad in (0, 6, "5", None, True):
        with pytest.raises(DomainError) as refused:
            _rate(link, done.id, {**GOOD, "courtesy": bad})
        assert refused.value.field == "courtesy", bad
    assert db_session.scalar(select(Rating.id)) is None
    now = utcnow()
    rating = _rate(link, done.id, GOOD, "<b>很好</b>", now=now)
    assert rating.staff_id == world.staff["agent_a"].id  # the lead agent served
    again = _rate(link, done.id, {**GOOD, "convenience": 4}, now=now + dt.timedelta(days=6))
    assert again.id == rating.id and again.convenience == 4
    with pytest.raises(DomainError) as refused:
        _rate(link, done.id, GOOD, now=now + dt.timedelta(days=8))
    assert "7" in str(refused.value)
    assert db_session.scalar(select(Rating.convenience)) == 4


def test_a_low_score_opens_a_case_that_closes_when_the_enterprise_is_satisfied(db_session, world):
    from crm.db import utcnow
    from crm.milestones.queries import work_calendar
    from crm.portal.models import SatisfactionCase
    from crm.portal.services import ratings

    project, link, _token = _link(db_session, world)
    done = _done(project)
    now = utcnow()
    _rate(link, done.id, {**GOOD, "convenience": 3}, now=now)
    assert db_session.scalar(select(SatisfactionCase.id)) is None  # 3 is not a bad review
    _rate(link, done.id, {**GOOD, "convenience": 2}, "来回跑了三次", now=now)
    case = db_session.scalars(select(SatisfactionCase)).one()
    calendar = work_calendar()
    assert (case.kind, case.status, case.text) == ("low_rating", "open", "来回跑了三次")
    assert case.assignee_staff_id == world.staff["consultant_a"].id
    assert case.due_on == calendar.add_workdays(TODAY, 1)
    # Steps out of order are refused; a stale version too.
    with pytest.raises(InvalidState):
        ratings.rectify(case, rectification="x", rectified_on=TODAY, today=TODAY)
    with pytest.raises(Conflict):
        ratings.classify(case, "simple", today=TODAY, calendar=calendar, version=case.version + 1)
    with pytest.raises(DomainError) as refused:
        ratings.classify(case, "urgent", today=TODAY, calendar=calendar)
    assert refused.value.field == "classification"
    ratings.classify(case, "simple", today=TODAY, calendar=calendar)
    assert case.due_on == calendar.add_workdays(TODAY, 3)
    with pytest.raises(InvalidState):
        ratings.accept(case, panel_members="甲", findings="乙", accepted_on=TODAY, today=TODAY)
    with pytest.raises(InvalidState):
        ratings.close_by_phone(case, note="满意")  # not rectified yet
    with pytest.raises(DomainError) as refused:
        ratings.rectify(case, rectification="已上门道歉并一次办结", rectified_on=TODAY + dt.timedelta(1),
                        today=TODAY)
    assert refused.value.field == "rectified_on"
    ratings.rectify(case, rectification="已上门道歉并一次办结", rectified_on=TODAY, today=TODAY)
    # Weeks later the enterprise rates again (a case keeps the rating open): satisfied closes.
    _rate(link, done.id, dict(GOOD, convenience=4), now=now + dt.timedelta(days=30))
    assert (case.status, case.closed_how) == ("closed", "re_rated")


def test_a_complaint_goes_to_a_panel_and_closes_by_phone(db_session, world):
    from crm.milestones.queries import work_calendar
    from crm.portal.services import ratings

    project, link, _token = _link(db_session, world)
    calendar = work_calendar()
    with pytest.raises(DomainError) as refused:
        ratings.complain(link, text=" ", contact_name="张", contact_phone="123", today=TODAY,
                         calendar=calendar)
    assert refused.value.field == "text"
    case = ratings.complain(link, text="窗口人员态度差", contact_name="张经理",
                            contact_phone="13800000000", today=TODAY, calendar=calendar)
    ratings.classify(case, "complex", today=TODAY, calendar=calendar)
    assert case.due_on == calendar.add_workdays(TODAY, 15)
    with pytest.raises(InvalidState):
        ratings.rectify(case, rectification="x", rectified_on=TODAY, today=TODAY)
    with pytest.raises(DomainError) as refused:
        ratings.accept(case, panel_members="", findings="x", accepted_on=TODAY, today=TODAY)
    assert refused.value.field == "panel_members"
    ratings.accept(case, panel_members="行政审批局王科长；窗口代表李；市民监督员赵",
                   findings="情况属实，已整改", accepted_on=TODAY, today=TODAY)
    ratings.close_by_phone(case, note="企业电话确认满意")
    assert (case.status, case.closed_how) == ("closed", "phone")


def test_the_enterprise_rates_on_its_page_and_staff_work_the_case(app, client, world):
    from crm.extensions import db
    from crm.portal.models import Rating, SatisfactionCase

    with app.app_context():
        project, _link_row, token = _link(db.session, world)
        done = _done(project)
        db.session.commit()
        pid, mid = project.id, done.id
    page = client.get(f"/e/{token}").get_data(as_text=True)
    assert 'data-testid="rating-form"' in page and "建设用地规划许可证" in page
    bad = client.post(f"/e/{token}/rate", data={"target": str(mid), **GOOD, "courtesy": "9",
                                                "comment": "<script>x</script>"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "invalid-feedback d-block" in html
    assert "<script>x</script>" not in html
    sent = client.post(f"/e/{token}/rate", data={"target": str(mid), **GOOD, "convenience": "2",
                                                 "comment": "<script>x</script>"})
    assert sent.status_code == 302
    shown = client.get(f"/e/{token}?rated=1").get_data(as_text=True)
    assert 'data-testid="rated"' in shown and "&lt;script&gt;x&lt;/script&gt;" in shown
    with app.app_context():
        assert db.session.scalar(select(Rating.convenience)) == 2
        case_id = db.session.scalar(select(SatisfactionCase.id))
    # Staff: the agent sees it but may not classify; another park's manager sees nothing.
    agent = app.test_client()
    login(agent, "agent_a")
    detail = agent.get(f"/projects/{pid}").get_data(as_text=True)
    assert 'data-testid="feedback"' in detail and "&lt;script&gt;" in detail
    assert agent.post(f"/projects/{pid}/cases/{case_id}/classify",
                      data={"classification": "simple", "version": "1"}).status_code == 403
    other = app.test_client()
    login(other, "manager_b")
    assert other.get(f"/projects/{pid}/cases/{case_id}").status_code == 404
    login(client, "manager_a")
    assert client.post(f"/projects/{pid}/cases/{case_id}/classify",
                       data={"version": "1"}).status_code == 422
    assert client.post(f"/projects/{pid}/cases/{case_id}/classify",
                       data={"classification": "simple", "version": "1"}).status_code == 302
    with app.app_context():
        from crm.i18n import today

        day = today().isoformat()  # (the case was opened now: not before)
    assert agent.post(f"/projects/{pid}/cases/{case_id}/rectify", data={
        "rectification": "当天补办", "rectified_on": day,
        "version": "2"}).status_code == 302
    stale = client.post(f"/projects/{pid}/cases/{case_id}/close",
                        data={"close_note": "满意", "version": "2"})
    assert stale.status_code == 409
    page = client.get(f"/projects/{pid}/cases/{case_id}").get_data(as_text=True)
    assert 'data-status="rectified"' in page and "当天补办" in page
    assert client.post(f"/projects/{pid}/cases/{case_id}/close",
                       data={"close_note": "企业电话确认满意", "version": "3"}).status_code == 302
    with app.app_context():
        assert db.session.get(SatisfactionCase, case_id).closed_how == "phone"


def test_satisfaction_counts_the_same_on_dashboards_api_and_summary(app, client, world):
    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.dashboard.queries.figures import Slice, compute
    from crm.documents.queries import summary
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.queries import work_calendar

    with app.app_context():
        project, link, _token = _link(db.session, world)
        other_project, other_link, _t = _link(db.session, world, "a2")
        _rate(link, _done(project).id, {**GOOD, "convenience": 2, "courtesy": 4})
        _rate(link, _done(project, "施工图审查").id, {**GOOD, "openness": 3})
        _rate(other_link, _done(other_project).id, GOOD)
        _, token = create_token(db.session.get(User, world.users["manager_a"].id), "t")
        db.session.commit()
        park = world.park_a.id
        f = compute(Slice(park_id=park), today(), work_calendar())[park]
        # 3 ratings × 5 dimensions = 15 scores, of which 2 below 4.
        assert f.ratings == 3 and f.satisfaction_pct() == pytest.approx(100 * 13 / 15)
        assert f.satisfaction_pct("convenience") == pytest.approx(100 * 2 / 3)
        # The case opened on TODAY was due for classification the next working day.
        assert (f.cases_open, f.cases_late) == (1, 1)
        assert compute(Slice(park_id=park), TODAY, work_calendar())[park].cases_late == 0
        pdf = summary(park, today() - dt.timedelta(days=30), today(), today=today(),
                      calendar=work_calendar()).figures
        assert (pdf.ratings, pdf.satisfaction_pct) == (3, f.satisfaction_pct())
    login(client, "manager_a")
    page = client.get(f"/dashboard/parks/{park}").get_data(as_text=True)
    value = re.search(r'data-testid="figure-satisfaction">([^<]*)<', page).group(1)
    assert value.strip() == f"{f.satisfaction_pct():.1f}%"
    staff = page.split('data-testid="staff-satisfaction"')[1].split("</table>")[0]
    assert world.staff["agent_a"].name in staff
    api = client.get(f"/api/v1/dashboard/parks/{park}",
                     headers={"Authorization": f"Bearer {token}"}).get_json()["figures"]
    assert api["ratings"] == 3 and api["satisfaction_pct"] == pytest.approx(f.satisfaction_pct())
    assert api["satisfaction_by_dimension"]["convenience"] == pytest.approx(100 * 2 / 3)


def test_the_monthly_sample_is_drawn_once_and_its_results_count_as_callbacks(app, client, world):
    from openpyxl import load_workbook
    import io

    from crm.extensions import db
    from crm.milestones.queries import work_calendar
    from crm.portal.models import CallbackItem, Rating, SatisfactionCase
    from crm.portal.services import callbacks, ratings
    from crm.projects.models import Project

    app.config["CALLBACK_SHARE"] = 0.5
    with app.app_context():
        a1 = db.session.get(Project, world.projects["a1"].id)
        b1 = db.session.get(Project, world.projects["b1"].id)
        a1.contact_name, a1.contact_phone = '=HYPERLINK("x")', "+86 513 8500 1234"
        finished = [_done(a1, f"事项{i}") for i in range(4)] + [_done(b1, "施工许可证")]
        db.session.flush()
        month = TODAY.strftime("%Y-%m")
        assert callbacks.draw(month) == 2 + 1  # half of park A's 4, at least one of park B's
        assert callbacks.draw(month) == 0  # once
        items = db.session.scalars(select(CallbackItem).order_by(CallbackItem.id)).all()
        assert {i.milestone_id for i in items} <= {m.id for m in finished}
        db.session.commit()
        item_a = next(i.id for i in items if i.park_id == world.park_a.id)
        item_b = next(i.id for i in items if i.park_id == world.park_b.id)
        with pytest.raises(DomainError):
            ratings.record_callback(db.session.get(CallbackItem, item_a), {**GOOD, "openness": 0},
                                    None, today=TODAY, calendar=work_calendar())
        db.session.rollback()
    login(client, "manager_a")
    page = client.get(f"/callbacks/{month}").get_data(as_text=True)
    assert "事项" in page and "施工许可证" not in page  # park B's item is not in scope
    assert client.get(f"/callbacks/items/{item_b}").status_code == 404
    assert client.get("/callbacks/2026-13").status_code == 404
    sheet = client.get(f"/callbacks/{month}.xlsx")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 2 and rows[1][3] == '=HYPERLINK("x")'  # text, not a formula
    refused = client.post(f"/callbacks/items/{item_a}",
                          data={**{k: str(v) for k, v in GOOD.items()}, "courtesy": "x"})
    assert refused.status_code == 422
    sent = client.post(f"/callbacks/items/{item_a}",
                       data={**{k: str(v) for k, v in GOOD.items()}, "convenience": "1",
                             "comment": "电话回访：等待时间长"})
    assert sent.status_code == 302
    assert client.post(f"/callbacks/items/{item_a}", data={
        k: str(v) for k, v in GOOD.items()}).status_code == 409  # once
    with app.app_context():
        rating = db.session.scalars(select(Rating)).one()
        assert (rating.source, rating.link_id, rating.convenience) == ("callback", None, 1)
        assert db.session.scalar(select(SatisfactionCase.kind)) == "low_rating"
    agent = app.test_client()
    login(agent, "agent_a")
    assert agent.get(f"/callbacks/{month}").status_code == 403


def test_the_api_gives_ratings_cases_and_the_sample_in_scope(app, client, world):
    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.extensions import db
    from crm.portal.services import callbacks

    with app.app_context():
        project, link, _token = _link(db.session, world)
        done = _done(project)
        _rate(link, done.id, {**GOOD, "discipline": 1}, "<b>差</b>")
        callbacks.draw(TODAY.strftime("%Y-%m"))
        tokens = {name: create_token(db.session.get(User, world.users[name].id), "t")[1]
                  for name in ("agent_a", "manager_b", "leader")}
        db.session.commit()
        pid = project.id

    def get(path, who):
        return client.get(path, headers={"Authorization": f"Bearer {tokens[who]}"})
    ratings = get(f"/api/v1/projects/{pid}/ratings", "agent_a").get_json()
    assert ratings[0]["scores"]["discipline"] == 1 and ratings[0]["comment"] == "<b>差</b>"
    assert ratings[0]["milestone"] == "建设用地规划许可证" and ratings[0]["source"] == "online"
    cases = get(f"/api/v1/projects/{pid}/cases", "agent_a").get_json()
    assert cases[0]["kind"] == "low_rating" and cases[0]["status"] == "open"
    assert get(f"/api/v1/projects/{pid}/ratings", "manager_b").status_code == 404
    month = TODAY.strftime("%Y-%m")
    assert get(f"/api/v1/callbacks/{month}", "agent_a").status_code == 403
    sample = get(f"/api/v1/callbacks/{month}", "leader").get_json()
    assert [row["milestone"] for row in sample] == ["建设用地规划许可证"]
    assert get(f"/api/v1/callbacks/{month}", "manager_b").get_json() == []
    assert get("/api/v1/callbacks/2026-1", "leader").status_code == 404


def test_a_new_link_does_not_make_approvals_rateable_again(db_session, world):
    """The rating belongs to the project and the approval, not to the link it came through:
    after a new link the enterprise changes its rating (and closes its case) instead of adding
    a second one; a revoked link rates nothing; a complaint sent twice is one case."""
    from crm.db import utcnow
    from crm.milestones.queries import work_calendar
    from crm.portal import services
    from crm.portal.models import Rating, SatisfactionCase
    from crm.portal.services import ratings

    project, old_link, _token = _link(db_session, world)
    done = _done(project)
    now = utcnow()
    _rate(old_link, done.id, {**GOOD, "convenience": 1}, now=now)
    new_link, _new_token = services.issue(project, actor_id=None, today=TODAY)
    with pytest.raises(DomainError):
        _rate(old_link, done.id, GOOD, now=now)  # revoked meanwhile
    _rate(new_link, done.id, GOOD, now=now + dt.timedelta(days=20))  # the case keeps it open
    rating = db_session.scalars(select(Rating)).one()
    assert rating.convenience == 5
    assert db_session.scalars(select(SatisfactionCase.closed_how)).one() == "re_rated"
    with pytest.raises(DomainError):
        _rate(new_link, done.id, GOOD, now=now + dt.timedelta(days=21))  # no case, > 7 days
    calendar = work_calendar()
    first = ratings.complain(new_link, text="窗口排队两小时", contact_name="张经理",
                             contact_phone="13800000000", today=TODAY, calendar=calendar)
    again = ratings.complain(new_link, text="窗口排队两小时", contact_name="张经理",
                             contact_phone="13800000000", today=TODAY, calendar=calendar)
    assert first.id == again.id
    ratings.classify(first, "simple", today=TODAY, calendar=calendar)
    with pytest.raises(DomainError) as refused:
        ratings.rectify(first, rectification="x", rectified_on=dt.date(2001, 1, 1), today=TODAY)
    assert refused.value.field == "rectified_on"


def test_a_new_case_is_announced_to_its_assignee_and_the_park_managers(db_session, world):
    from crm.notifications.models import Notification

    project, link, _token = _link(db_session, world)
    _rate(link, _done(project).id, {**GOOD, "courtesy": 2})
    sent = db_session.scalars(select(Notification).where(Notification.kind == "case_opened")).all()
    assert {n.user_id for n in sent} == {world.users["consultant_a"].id,
                                         world.users["manager_a"].id}  # not park B's manager
    assert sent[0].link.startswith(f"/projects/{project.id}/cases/")
    assert sent[0].params["project"] == project.name
