"""Progress logging: the form with and without htmx, every field's validation, scope and
roles, blockers and their resolution, edits within 24 hours, annotations, deletion by admins,
the log export."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests import factories
from tests.conftest import login
from tests.integration.projects_support import count, field_errors

HX = {"HX-Request": "true"}


def _today(app) -> dt.date:
    from crm.i18n import today

    with app.app_context():
        return today()


def entry(app, **overrides) -> dict:
    data = {"kind": "visit", "happened_on": _today(app).isoformat(), "hours": "1.5",
            "text": "走访企业，确认环评材料清单"}
    data.update(overrides)
    return data


def _logs(app, **where):
    from crm.extensions import db
    from crm.projects.models import ProgressLog

    with app.app_context():
        query = select(ProgressLog).order_by(ProgressLog.id)
        for column, value in where.items():
            query = query.where(getattr(ProgressLog, column) == value)
        rows = db.session.scalars(query).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _add(app, project_key, world, **kwargs):
    from crm.extensions import db

    with app.app_context():
        log = factories.log(db.session.merge(world.projects[project_key]), **kwargs)
        db.session.commit()
        return log.id


def test_an_agent_logs_on_a_project_without_javascript(app, client, world):
    pid = world.projects["a1"].id
    login(client, "agent_a")
    response = client.post(f"/projects/{pid}/logs", data=entry(app))
    assert response.status_code == 302
    [log] = _logs(app)
    assert response.headers["Location"].endswith(f"/projects/{pid}#log-{log.id}")
    assert (log.kind, log.author_id, log.park_id, str(log.hours), log.happened_on) == \
        ("visit", world.users["agent_a"].id, world.park_a.id, "1.5", _today(app))
    page = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert "已记录到“南通新能源电池项目”" in page
    feed = page[page.index('data-testid="log-feed"'):]
    assert feed.index("走访企业，确认环评材料清单") < feed.index("</ol>")


def test_htmx_gets_a_fresh_form_and_the_new_feed(app, client, world):
    pid = world.projects["a1"].id
    login(client, "agent_a")
    response = client.post(f"/projects/{pid}/logs", data=entry(app, kind="blocker", text="规划条件待协调"), headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="log-form-box"')
    assert 'data-testid="log-saved"' in html
    assert re.search(r'<textarea[^>]*name="text"[^>]*>\s*</textarea>', html)  # blank again
    assert '<div id="project-activity" hx-swap-oob="true">' in html
    activity = html[html.index('id="project-activity"'):]
    assert "规划条件待协调" in activity
    assert 'data-testid="open-blockers-count">1<' in activity


def test_the_quick_form_logs_on_any_of_my_projects(app, client, world):
    pid = world.projects["a1"].id
    login(client, "agent_a")
    response = client.post("/projects/logs", data=entry(app, project=str(pid), next="/projects/?view=mine"))
    assert response.status_code == 302 and response.headers["Location"] == "/projects/?view=mine"
    response = client.post("/projects/logs", data=entry(app, project=str(pid), next="//evil.example/"))
    assert response.headers["Location"] == f"/projects/{pid}"
    html = client.post("/projects/logs", data=entry(app, project=str(pid)), headers=HX).get_data(as_text=True)
    assert "已记录到“南通新能源电池项目”" in html and "hx-swap-oob" not in html
    assert len(_logs(app, project_id=pid)) == 3


@pytest.mark.parametrize("project", ["a2", "b1", "999999", "abc", ""])
def test_the_quick_form_refuses_projects_that_are_not_mine(app, client, world, project):
    pid = str(world.projects[project].id) if project in world.projects else project
    login(client, "agent_a")
    for headers in ({}, HX):
        response = client.post("/projects/logs", data=entry(app, project=pid), headers=headers)
        assert response.status_code == 200
        assert field_errors(response.get_data(as_text=True), "project")
    assert _logs(app) == []


def test_the_partial_can_be_included_on_any_page(app, world):
    from flask import render_template_string
    from flask_login import login_user

    from crm.auth.models import User
    from crm.extensions import db

    with app.test_request_context("/"):
        login_user(db.session.get(User, world.users["agent_a"].id))
        html = render_template_string('{% include "projects/_log_form.html" %}')
    assert 'action="/projects/logs"' in html and 'name="next" value="/"' in html
    assert f'<option value="{world.projects["a1"].id}">南通新能源电池项目</option>' in html
    assert "南通精密机械项目" not in html


def test_changing_the_project_offers_its_milestones_and_blockers(app, client, world):
    from crm.extensions import db

    with app.app_context():
        a1 = db.session.merge(world.projects["a1"])
        factories.milestone(a1, name="用地预审与选址意见书")
        factories.log(a1, kind="blocker", text="红线范围待核实")
        factories.milestone(db.session.merge(world.projects["a2"]), name="别的项目的事项")
        db.session.commit()
    login(client, "agent_a")
    html = client.get(f"/projects/logs/form?project={world.projects['a1'].id}&text=草稿", headers=HX).get_data(as_text=True)
    assert "用地预审与选址意见书" in html and "红线范围待核实" in html and "草稿" in html
    html = client.get(f"/projects/logs/form?project={world.projects['a2'].id}", headers=HX).get_data(as_text=True)
    assert "别的项目的事项" not in html


@pytest.mark.parametrize("username,project,status", [
    ("agent_a", "a2", 404), ("agent_a", "b1", 404), ("agent_a2", "a1", 404),
    ("manager_b", "a1", 404), ("leader", "a1", 403),
])
def test_logging_follows_scope_and_role(app, client, world, username, project, status):
    login(client, username)
    assert client.post(f"/projects/{world.projects[project].id}/logs", data=entry(app)).status_code == status
    assert _logs(app) == []


@pytest.mark.parametrize("username", ["manager_a", "consultant_a", "admin"])
def test_managers_consultants_and_admins_log_too(app, client, world, username):
    login(client, username)
    assert client.post(f"/projects/{world.projects['a1'].id}/logs", data=entry(app)).status_code == 302


def _bad_cases():
    return [
        ("kind", "meeting", "不是有效的选择"),
        ("kind", "", "必填"),
        ("happened_on", "tomorrow", "不能晚于今天"),
        ("happened_on", "2026-02-30", "日期"),
        ("happened_on", "", "必填"),
        ("happened_on", "1900-01-01", "1990-01-01"),
        ("hours", "-1", "0至24"),
        ("hours", "24.5", "0至24"),
        ("hours", "1.25", "一位小数"),
        ("hours", "abc", "小数"),
        ("text", "", "必填"),
        ("text", "  \n ", "必填"),
        ("text", "字" * 2001, "2000"),
        ("milestone", "other", "请选择本项目的审批事项"),
        ("milestone", "abc", ""),
        ("resolves", "mine", "只有“解决”类记录"),
        ("resolves", "other", "请选择本项目未解决的堵点"),
    ]


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("field,value,message", _bad_cases())
def test_bad_input_is_refused_next_to_the_field(app, client, world, field, value, message, htmx):
    from crm.extensions import db

    with app.app_context():
        other = factories.milestone(db.session.merge(world.projects["b1"]), name="别的项目")
        other_blocker = factories.log(db.session.merge(world.projects["b1"]), kind="blocker")
        my_blocker = factories.log(db.session.merge(world.projects["a1"]), kind="blocker")
        db.session.commit()
        values = {"tomorrow": (_today(app) + dt.timedelta(days=1)).isoformat()}
        values["other"] = str(other.id if field == "milestone" else other_blocker.id)
        values["mine"] = str(my_blocker.id)
    before = count_logs = len(_logs(app))
    login(client, "agent_a")
    response = client.post(f"/projects/{world.projects['a1'].id}/logs",
                           data=entry(app, **{field: values.get(value, value)}),
                           headers=HX if htmx else {})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    errors = field_errors(html, field)
    assert errors and message in errors
    assert len(_logs(app)) == before == count_logs
    if htmx:
        assert html.lstrip().startswith('<div id="log-form-box"') and "hx-swap-oob" not in html


def test_markup_in_log_text_is_escaped_everywhere(app, client, world):
    pid = world.projects["a1"].id
    script = '<script>document.title="x"</script><img src=x onerror=alert(1)>'
    login(client, "agent_a")
    client.post(f"/projects/{pid}/logs", data=entry(app, kind="blocker", text=script))
    for page in (client.get(f"/projects/{pid}").get_data(as_text=True),
                 client.post(f"/projects/{pid}/logs", data=entry(app), headers=HX).get_data(as_text=True)):
        assert script not in page and "<img src=x" not in page
        assert "&lt;script&gt;document.title=&#34;x&#34;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


# -- blockers ------------------------------------------------------------------------------

def test_a_linked_resolution_closes_the_blocker(app, client, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db

    pid = world.projects["a1"].id
    login(client, "agent_a")
    client.post(f"/projects/{pid}/logs", data=entry(app, kind="blocker", text="土地出让金分期未获批"))
    [blocker] = _logs(app, kind="blocker")
    assert blocker.resolved_at is None
    assert "共 2 个项目，总投资 4.0 亿元，未解决堵点 1 个" in _as(client, "manager_a", "/projects/")
    client.post("/logout")
    login(client, "agent_a")
    response = client.post(f"/projects/{pid}/logs", data=entry(
        app, kind="resolution", resolves=str(blocker.id), text="经协调已同意分期缴纳"))
    assert response.status_code == 302
    [blocker] = _logs(app, kind="blocker")
    [resolution] = _logs(app, kind="resolution")
    assert blocker.resolved_by_log_id == resolution.id
    assert blocker.resolution_note == "经协调已同意分期缴纳"
    assert blocker.resolved_by_id == world.users["agent_a"].id and blocker.resolved_at is not None
    page = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert 'data-testid="open-blockers-count">0<' in page and "堵点（已解决）" in page
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "progress_logs", AuditEvent.entity_id == blocker.id)).all()
        assert actions == ["create", "blocker.resolve"]
    # A resolved blocker can't be resolved again.
    response = client.post(f"/projects/{pid}/logs", data=entry(app, kind="resolution", resolves=str(blocker.id)))
    assert "请选择本项目未解决的堵点" in field_errors(response.get_data(as_text=True), "resolves")


def _as(client, username, path) -> str:
    client.post("/logout")
    login(client, username)
    return client.get(path).get_data(as_text=True)


def test_a_blocker_is_closed_with_a_note(app, client, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db

    blocker_id = _add(app, "a1", world, kind="blocker", text="施工图审查意见多")
    login(client, "agent_a")
    response = client.post(f"/projects/logs/{blocker_id}/close", data={"note": "   "})
    assert response.status_code == 200
    assert "必填" in field_errors(response.get_data(as_text=True), "note")
    assert _logs(app)[0].resolved_at is None
    response = client.post(f"/projects/logs/{blocker_id}/close", data={"note": "设计单位已修改完毕"})
    assert response.status_code == 303
    [blocker] = _logs(app)
    assert blocker.resolved_at and blocker.resolution_note == "设计单位已修改完毕"
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "blocker.close")).one()
        assert event.note == "设计单位已修改完毕" and event.project_id == world.projects["a1"].id
    # Closing it again changes nothing.
    client.post(f"/projects/logs/{blocker_id}/close", data={"note": "再次关闭"})
    assert _logs(app)[0].resolution_note == "设计单位已修改完毕"


def test_open_blockers_are_counted_per_park(app, world):
    from crm.auth.scope import park_condition
    from crm.auth.models import User
    from crm.extensions import db
    from crm.projects.models import ProgressLog
    from crm.projects.queries import open_blocker_counts

    _add(app, "a1", world, kind="blocker")
    _add(app, "a2", world, kind="blocker")
    _add(app, "b1", world, kind="blocker")
    resolved = _add(app, "a1", world, kind="blocker", resolved_at=dt.datetime.now(dt.timezone.utc))
    assert resolved
    with app.app_context():
        manager = db.session.get(User, world.users["manager_a"].id)
        assert open_blocker_counts(park_condition(manager, ProgressLog.park_id)) == {world.park_a.id: 2}


# -- edit, annotate, delete ----------------------------------------------------------------

def test_authors_edit_their_entries_for_24_hours(app, client, world):
    from crm.extensions import db
    from crm.projects.models import ProgressLog

    login(client, "agent_a")
    client.post(f"/projects/{world.projects['a1'].id}/logs", data=entry(app))
    [log] = _logs(app)
    assert client.get(f"/projects/logs/{log.id}/edit").status_code == 200
    bad = client.post(f"/projects/logs/{log.id}/edit", data=entry(app, text="", hours="30"))
    assert field_errors(bad.get_data(as_text=True), "text") and field_errors(bad.get_data(as_text=True), "hours")
    assert _logs(app)[0].text == "走访企业，确认环评材料清单"
    response = client.post(f"/projects/logs/{log.id}/edit", data=entry(app, text="走访企业（更正）", hours=""))
    assert response.status_code == 303
    assert (_logs(app)[0].text, _logs(app)[0].hours) == ("走访企业（更正）", None)
    with app.app_context():  # a day later
        db.session.get(ProgressLog, log.id).created_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=24, minutes=1)
        db.session.commit()
    assert f"/projects/logs/{log.id}/edit" not in client.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    response = client.post(f"/projects/logs/{log.id}/edit", data=entry(app, text="再改"))
    assert response.status_code == 303 and _logs(app)[0].text == "走访企业（更正）"
    assert "24小时内" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_nobody_else_edits_an_entry(app, client, world):
    log_id = _add(app, "a1", world, author=None, text="原文")
    for username in ("manager_a", "admin", "consultant_a"):
        client.post("/logout")
        login(client, username)
        client.post(f"/projects/logs/{log_id}/edit", data=entry(app, text="他人修改"))
        assert _logs(app)[0].text == "原文"


def test_entries_are_annotated(app, client, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db

    log_id = _add(app, "a1", world, text="原记录")
    login(client, "consultant_a")
    response = client.post(f"/projects/logs/{log_id}/annotate", data={"text": ""})
    assert response.status_code == 200 and "必填" in field_errors(response.get_data(as_text=True), "text")
    response = client.post(f"/projects/logs/{log_id}/annotate", data={"text": "字" * 2001})
    assert "2000" in field_errors(response.get_data(as_text=True), "text")
    response = client.post(f"/projects/logs/{log_id}/annotate", data={"text": "<b>补充</b>：企业已确认"})
    assert response.status_code == 303
    page = client.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    assert "&lt;b&gt;补充&lt;/b&gt;：企业已确认" in page
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "log_annotations")).one()
        assert event.project_id == world.projects["a1"].id


def test_admins_delete_entries_and_it_is_audited(app, client, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db
    from crm.projects.models import LogAnnotation, ProgressLog

    pid = world.projects["a1"].id
    login(client, "agent_a")
    client.post(f"/projects/{pid}/logs", data=entry(app, kind="blocker", text="堵点"))
    [blocker] = _logs(app)
    client.post(f"/projects/{pid}/logs", data=entry(app, kind="resolution", resolves=str(blocker.id), text="误录"))
    [_, resolution] = _logs(app)
    client.post(f"/projects/logs/{resolution.id}/annotate", data={"text": "批注"})
    for username, status in (("agent_a", 403), ("manager_a", 403), ("leader", 403)):
        client.post("/logout")
        login(client, username)
        assert client.post(f"/projects/logs/{resolution.id}/delete", data={"reason": "误录"}).status_code == status
    client.post("/logout")
    login(client, "admin")
    response = client.post(f"/projects/logs/{resolution.id}/delete", data={"reason": ""})
    assert response.status_code == 200 and "必填" in field_errors(response.get_data(as_text=True), "reason")
    assert len(_logs(app)) == 2
    response = client.post(f"/projects/logs/{resolution.id}/delete", data={"reason": "重复录入"})
    assert response.status_code == 303
    assert [log.id for log in _logs(app)] == [blocker.id]
    assert _logs(app)[0].resolved_at is None  # its blocker is open again
    assert count(app, LogAnnotation) == 0
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "log.delete")).one()
        assert event.user_id == world.users["admin"].id and event.note == "重复录入"
        assert event.changes["text"] == ["误录", None] and event.project_id == pid
        assert db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "progress_logs", AuditEvent.entity_id == blocker.id)
            .order_by(AuditEvent.id)).all()[-1] == "blocker.reopen"
        assert db.session.get(ProgressLog, resolution.id) is None
    page = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert "由管理员删除" in page and "重复录入" in page


@pytest.mark.parametrize("action", ["edit", "annotate", "close", "delete"])
def test_unknown_and_foreign_entries_are_404(app, client, world, action):
    foreign = _add(app, "b1", world, kind="blocker")
    login(client, "admin" if action == "delete" else "agent_a")
    data = {"text": "x", "note": "x", "reason": "x"}
    assert client.post(f"/projects/logs/999999/{action}", data=data).status_code == 404
    if action != "delete":
        assert client.post(f"/projects/logs/{foreign}/{action}", data=data).status_code == 404
    assert _logs(app)[0].resolved_at is None and _logs(app)[0].text == "走访企业"


# -- export --------------------------------------------------------------------------------

def test_the_log_exports_with_formulas_neutralised(app, client, world):
    pid = world.projects["a1"].id
    login(client, "agent_a")
    for kind, text in (("visit", "=1+1"), ("call", "-2 电话"), ("materials", "@cmd"),
                       ("coordination", "\t=HYPERLINK(\"x\")"), ("blocker", "+86 提醒")):
        client.post(f"/projects/{pid}/logs", data=entry(app, kind=kind, text=text))
    response = client.get(f"/projects/{pid}/log.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("日期", "类别", "审批事项", "用时（小时）", "代办内容", "记录人", "记录时间", "堵点状态", "解决情况")
    texts = [r[4] for r in rows[1:]]
    # Text as typed, in text cells, quote-prefixed (never a formula, no visible apostrophe);
    # the form strips the tab before "=HYPERLINK".
    assert texts == ["=1+1", "-2 电话", "@cmd", "=HYPERLINK(\"x\")", "+86 提醒"]
    cells = [row[4] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert [r[1] for r in rows[1:]] == ["走访", "电话", "材料", "协调", "堵点"]
    assert rows[-1][7] == "未解决" and rows[1][3] == 1.5
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    client.post("/logout")
    login(client, "agent_b")
    assert client.get(f"/projects/{pid}/log.xlsx").status_code == 404
