"""The timeline on the project page and the milestone action pages: states and provisional marks,
actions by role, errors next to fields, stale forms, scope, CSRF and constant queries."""

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import _create_app, count_queries, csrf_token_from, login


@pytest.fixture
def plan(app, world):
    """a1 (park A, land stage; agent_a is its lead agent) with its catalogue plan, one running
    milestone, one paused, one done and one whose deadline reaches into an unpublished year."""
    from crm.extensions import db
    from crm.i18n import today as local_today
    from crm.milestones.services import lifecycle
    from crm.milestones.calendar import official_years
    from crm.milestones.services.plans import create_plan
    from crm.projects.models import Project

    with app.test_request_context():
        today = local_today()
        project = db.session.get(Project, world.projects["a1"].id)
        milestones = create_plan(project)
        land = [m for m in milestones if m.stage == "land"]
        running, paused = land[0], land[1]
        lifecycle.start(running, accepted_on=today - dt.timedelta(days=3), today=today, parallel_reason="测试：并联办理")
        lifecycle.start(paused, accepted_on=today - dt.timedelta(days=3), today=today, parallel_reason="测试：并联办理")
        lifecycle.pause(paused, paused_on=today, reason_code="supplement", today=today,
                        document_ref="补正〔1〕号")
        done = next(m for m in milestones if m.stage == "filing")
        lifecycle.start(done, accepted_on=today - dt.timedelta(days=10), today=today, parallel_reason="测试：并联办理")
        lifecycle.complete(done, completed_on=today - dt.timedelta(days=9), today=today)
        unpublished = max(official_years()) + 1
        far = factories.milestone(project, "远期节点", stage="permitting", status="running",
                                  accepted_on=today - dt.timedelta(days=1),
                                  due_on=dt.date(unpublished, 3, 1), due_provisional=True)
        db.session.commit()
        return {"project": project.id, "running": running.id, "paused": paused.id,
                "done": done.id, "far": far.id, "today": today,
                "pending": next(m.id for m in milestones if m.stage == "planning")}


def _page(client, project_id):
    response = client.get(f"/projects/{project_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _item(html, milestone_id):
    match = re.search(rf'<li class="list-group-item" id="milestone-{milestone_id}".*?</li>\s*(?=<li class="list-group-item"|</ol>)',
                      html, re.S)
    assert match, f"milestone {milestone_id} not in the timeline"
    return match.group(0)


def test_timeline_shows_states_dates_owner_and_actions(client, world, plan):
    login(client, "agent_a")
    html = _page(client, plan["project"])
    assert 'data-testid="timeline"' in html
    running = _item(html, plan["running"])
    assert 'data-state="on_track"' in running or 'data-state="due_soon"' in running
    assert "剩余" in running and "李代办" in running and "（专职代办员）" in running
    assert 'data-action="pause"' in running and 'data-action="complete"' in running
    assert 'data-action="reopen"' not in running  # agents do not reopen
    paused = _item(html, plan["paused"])
    assert 'data-state="paused"' in paused and "（已冻结）" in paused
    assert "补正材料" in paused and "补正〔1〕号" in paused and "仍在暂停" in paused
    assert 'data-action="resume"' in paused
    done = _item(html, plan["done"])
    assert 'data-state="met"' in done and "badge-state-met" in done
    assert "data-action" not in done
    far = _item(html, plan["far"])
    assert 'data-testid="provisional"' in far and "（暂定）" in far
    assert 'title="暂定：' in far and 'data-testid="provisional-note"' in html
    assert 'data-action="start"' in _item(html, plan["pending"])
    # Buttons name the action; the date labels name the date.
    assert re.search(r'data-action="pause"[^>]*>暂停计时<', running)
    assert re.search(r'data-action="complete"[^>]*>登记办结<', running)
    assert re.search(r'data-action="start"[^>]*>登记受理<', _item(html, plan["pending"]))
    assert re.search(r"受理日期\s", running) and re.search(r"到期日\s", running)
    assert re.search(r"办结日期\s", done)


def test_english_counts_agree_with_their_number(app, client, world, plan):
    """"1 working day", never "1 working days" (ngettext), and the frozen count is in the
    same words."""
    from crm.extensions import db
    from crm.milestones.models import Milestone

    with app.app_context():
        milestone = db.session.get(Milestone, plan["paused"])
        milestone.remaining_workdays = 1
        db.session.commit()
    login(client, "agent_a")
    client.post("/language", data={"lang": "en", "next": "/"})
    paused = _item(_page(client, plan["project"]), plan["paused"])
    assert "1 working day left" in paused and "working days left" not in paused
    assert "Clock stopped once" in paused


def test_the_change_history_speaks_words_not_internals(app, client, world, plan):
    """Codes in notes are labels (pause reason, outcome), no internal column or record type
    shows (notifications, user_id, params, limit_value), and every audited column is either
    labelled or hidden on purpose."""
    from crm.audit.models import AuditEvent
    from crm.audit.queries import ENTITIES, FIELDS, HIDDEN
    from crm.extensions import db
    from crm.notifications.models import Notification

    for table in ENTITIES:
        columns = {c.name for c in db.metadata.tables[table].columns}
        assert columns <= set(FIELDS) | HIDDEN, (table, columns - set(FIELDS) - HIDDEN)
    with app.app_context():
        db.session.add(Notification(user_id=world.users["agent_a"].id, kind="assigned",
                                    params={"project": "x"}, project_id=plan["project"]))
        db.session.add(AuditEvent(entity_type="notifications", entity_id=1, action="create",
                                  project_id=plan["project"],
                                  changes={"user_id": [None, 5], "params": [None, {"a": 1}]}))
        db.session.commit()
        assert db.session.query(AuditEvent).filter_by(entity_type="notifications").count() == 1
    login(client, "manager_a")
    html = _page(client, plan["project"])
    trail = html[html.index('data-testid="audit-trail"'):]
    assert "备注：补正材料" in trail and "备注：按期办结" in trail and "承诺时限单位：工作日" in trail
    for raw in ("notifications", "user_id", "params", "milestone.", "limit_value",
                "supplement", "备注: met", "version", "approval_item_id"):
        assert raw not in trail, raw


def _version(client, url: str) -> str:
    """The version a person's form carries (as the browser would send it back)."""
    return re.search(r'name="version" type="hidden" value="(\d+)"',
                     client.get(url).get_data(as_text=True)).group(1)


def test_a_form_without_its_version_changes_nothing(app, client, world, plan):
    from crm.extensions import db
    from crm.milestones.models import Milestone

    login(client, "agent_a")
    url = f"/projects/{plan['project']}/milestones/{plan['pending']}/start"
    for version in (None, "", "1.5", "NaN", "<script>"):
        data = {"accepted_on": plan["today"].isoformat()}
        if version is not None:
            data["version"] = version
        response = client.post(url, data=data)
        assert response.status_code == 409 and 'data-testid="stale"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Milestone, plan["pending"]).status == "pending"


def test_leaders_see_the_timeline_without_actions_and_cannot_post(client, world, plan):
    login(client, "leader")
    html = _page(client, plan["project"])
    assert 'data-testid="milestone"' in html
    assert "data-action=" not in html and 'data-testid="add-milestone"' not in html
    url = f"/projects/{plan['project']}/milestones/{plan['running']}/pause"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"paused_on": plan["today"].isoformat(),
                                  "reason_code": "supplement"}).status_code == 403


def test_managers_may_reopen_agents_may_not(client, world, plan):
    url = f"/projects/{plan['project']}/milestones/{plan['done']}/reopen"
    login(client, "agent_a")
    assert client.post(url, data={"reason": "x"}).status_code == 403
    client.post("/logout")
    login(client, "manager_a")
    assert 'data-action="reopen"' in _item(_page(client, plan["project"]), plan["done"])
    response = client.post(url, data={"reason": "批文有误，重新办理", "version": _version(client, url)})
    assert response.status_code == 302


def test_out_of_scope_milestones_are_not_found(client, world, plan):
    login(client, "agent_b")
    assert client.get(f"/projects/{plan['project']}/milestones/{plan['running']}/pause").status_code == 404
    login(client, "agent_a")
    b1 = world.projects["b1"].id  # the milestone exists but belongs to another project
    assert client.get(f"/projects/{b1}/milestones/{plan['running']}/pause").status_code == 404
    assert client.get(f"/projects/{plan['project']}/milestones/{plan['running']}/explode").status_code == 404


def test_actions_save_and_errors_appear_next_to_the_field(app, client, world, plan):
    from crm.extensions import db
    from crm.milestones.models import Milestone

    login(client, "agent_a")
    url = f"/projects/{plan['project']}/milestones/{plan['pending']}/start"
    form = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    tomorrow = (plan["today"] + dt.timedelta(days=1)).isoformat()
    response = client.post(url, data={"accepted_on": tomorrow, "version": version})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="accepted_on-errors">.*受理日期不能晚于今天', html, re.S)
    assert 'name="accepted_on" required type="date" value="' + tomorrow in html or tomorrow in html
    with app.app_context():
        assert db.session.get(Milestone, plan["pending"]).status == "pending"
    response = client.post(url, data={"accepted_on": "not a date", "version": version})
    assert response.status_code == 422
    # It waits for approvals not issued yet: accepted only in parallel anyway, with a reason.
    assert 'data-testid="waiting"' in form and 'name="parallel_reason"' in form
    response = client.post(url, data={"accepted_on": plan["today"].isoformat(), "version": version})
    assert response.status_code == 422
    assert re.search(r'id="parallel_reason-errors">.*尚未办结：.*请填写理由', response.get_data(as_text=True), re.S)
    response = client.post(url, data={"accepted_on": plan["today"].isoformat(), "version": version,
                                      "parallel_reason": "企业急需开工，先行受理"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#milestone-{plan['pending']}")
    with app.app_context():
        m = db.session.get(Milestone, plan["pending"])
        assert m.status == "running" and m.due_on > plan["today"]
        assert m.parallel_reason == "企业急需开工，先行受理"
    # Unknown pause reason and a resume that is not possible: messages next to their fields.
    pause = f"/projects/{plan['project']}/milestones/{plan['running']}/pause"
    response = client.post(pause, data={"paused_on": plan["today"].isoformat(), "reason_code": "nap",
                                        "version": _version(client, pause)})
    assert response.status_code == 422 and "is-invalid" in response.get_data(as_text=True)
    resume_url = f"/projects/{plan['project']}/milestones/{plan['running']}/resume"
    resume = client.post(resume_url, data={"resumed_on": plan["today"].isoformat(),
                                           "version": _version(client, pause)})
    assert resume.status_code == 409
    assert "只有已暂停计时的节点才能恢复计时" in resume.get_data(as_text=True)


def test_a_stale_form_says_reload_and_loses_nothing(app, client, world, plan):
    from crm.extensions import db
    from crm.milestones.models import Milestone

    login(client, "agent_a")
    base = f"/projects/{plan['project']}/milestones/{plan['running']}"
    form = client.get(f"{base}/waive").get_data(as_text=True)
    seen = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    # Someone else stops the clock meanwhile.
    assert client.post(f"{base}/pause", data={"paused_on": plan["today"].isoformat(),
                                               "reason_code": "testing",
                                               "version": seen}).status_code == 302
    response = client.post(f"{base}/waive", data={"reason": "不需要", "version": seen})
    assert response.status_code == 409
    assert 'data-testid="stale"' in response.get_data(as_text=True)
    with app.app_context():
        m = db.session.get(Milestone, plan["running"])
        assert m.status == "paused" and m.waive_reason is None


def test_user_text_is_escaped(client, world, plan):
    login(client, "agent_a")
    url = f"/projects/{plan['project']}/milestones/{plan['pending']}/waive"
    client.post(url, data={"reason": "<script>alert(1)</script>", "version": _version(client, url)})
    html = _page(client, plan["project"])
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_custom_milestone_form(app, client, world, plan):
    from crm.extensions import db
    from crm.milestones.models import Milestone

    login(client, "consultant_a")
    url = f"/projects/{plan['project']}/milestones/new"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"name": "防雷审核", "stage": "permitting", "limit_value": "0",
                                 "limit_unit": "working", "statutory_unit": "working"})
    assert bad.status_code == 422
    assert re.search(r'id="limit_value-errors">.*1 至 1000', bad.get_data(as_text=True), re.S)
    ok = client.post(url, data={"name": "防雷审核", "stage": "permitting", "limit_value": "10",
                                "limit_unit": "working", "statutory_unit": "working",
                                "required": "y"})
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Milestone.status).where(Milestone.name == "防雷审核")) == "pending"
    client.post("/logout")
    login(client, "leader")
    assert client.get(url).status_code == 403


def test_csrf_is_required_and_accepted(app_config, tmp_path, world, plan):
    app = _create_app(dict(app_config, WTF_CSRF_ENABLED=True), tmp_path)
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "agent_a", "password": factories.PASSWORD,
                                "csrf_token": token})
    url = f"/projects/{plan['project']}/milestones/{plan['running']}/complete"
    form = client.get(url).get_data(as_text=True)
    data = {"completed_on": plan["today"].isoformat(), "approval_doc_no": "通审〔2026〕1号"}
    assert client.post(url, data=data).status_code == 400
    data.update(csrf_token=csrf_token_from(form),
                version=re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1))
    assert client.post(url, data=data).status_code == 302


def test_project_page_queries_do_not_grow_with_the_plan(app, client, world, plan):
    from crm.extensions import db
    from crm.milestones.services import lifecycle
    from crm.projects.models import Project

    login(client, "manager_a")
    _page(client, plan["project"])  # warm the calendar cache
    with count_queries(app) as small:
        _page(client, plan["project"])
    with app.test_request_context():
        project = db.session.get(Project, plan["project"])
        today = plan["today"]
        for n in range(12):
            m = factories.milestone(project, f"追加节点{n}", stage="planning")
            lifecycle.start(m, accepted_on=today - dt.timedelta(days=5), today=today, parallel_reason="测试：并联办理")
            lifecycle.pause(m, paused_on=today - dt.timedelta(days=4), reason_code="hearing", today=today)
            lifecycle.resume(m, resumed_on=today - dt.timedelta(days=2), today=today)
        db.session.commit()
    with count_queries(app) as large:
        html = _page(client, plan["project"])
    assert html.count('data-testid="milestone"') >= 16
    assert large.count == small.count, "\n".join(large.statements)
