"""The project page: header, plain milestone and team lists unless panels replace them, the
feed with annotations, the audit trail in Chinese, and a constant query count."""

from __future__ import annotations

import datetime as dt

import pytest
from jinja2 import ChoiceLoader, DictLoader

from tests import factories
from tests.conftest import count_queries, login
from tests.integration.test_project_forms import _edit_data


def test_the_page_shows_the_project_its_plan_team_feed_and_trail(app, client, world):
    from crm.extensions import db

    pid = world.projects["a1"].id
    with app.app_context():
        project = db.session.merge(world.projects["a1"])
        project.code = "2019-320613-89-01-123456"
        project.contact_name, project.contact_phone = "唐经理", "0513-85001234"
        factories.milestone(project, name="不动产权证（土地首次登记）", due_on=dt.date(2026, 12, 1))
        older = factories.log(project, text="较早的记录", happened_on=dt.date(2026, 1, 5),
                              created_at=dt.datetime(2026, 1, 5, 2, tzinfo=dt.timezone.utc))
        factories.log(project, text="较新的记录", happened_on=dt.date(2026, 1, 6),
                      created_at=dt.datetime(2026, 1, 6, 2, tzinfo=dt.timezone.utc))
        db.session.add(factories_annotation(older, "已电话确认"))
        db.session.commit()
    login(client, "agent_a")
    html = client.get(f"/projects/{pid}").get_data(as_text=True)
    for text in ("南通新能源电池项目", "2.0 亿元", "南通经济技术开发区", "用地", "在办",
                 "2019-320613-89-01-123456", "唐经理", 'href="tel:0513-85001234"',
                 "不动产权证（土地首次登记）", "2026-12-01", "张顾问", "李代办",
                 'data-testid="log-form"'):
        assert text in html, text
    assert html.index("较新的记录") < html.index("较早的记录") < html.index("已电话确认")
    assert 'data-testid="edit-project"' not in html  # agents don't edit projects
    assert 'data-testid="stage-change"' not in html
    trail = html[html.index('data-testid="audit-trail"'):]
    assert "代办记录：新增" in trail and "批注：新增" in trail


def factories_annotation(log, text):
    from crm.projects.models import LogAnnotation

    return LogAnnotation(log=log, text=text)


def test_leaders_read_without_forms(client, world):
    login(client, "leader")
    html = client.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    assert 'data-testid="log-form"' not in html and "批注" not in html.split('data-testid="log-feed"')[1][:200]


def test_the_audit_trail_reads_in_chinese(app, client, world):
    pid = world.projects["a1"].id
    login(client, "manager_a")
    client.post(f"/projects/{pid}/edit", data=_edit_data(
        app, pid, investment="45000", industry="new_materials", status="on_hold",
        signed_on="2024-10-08"))
    client.post(f"/projects/{pid}/logs", data={"kind": "blocker", "happened_on": "2026-01-05",
                                               "text": "规划条件待协调"})
    html = client.get(f"/projects/{pid}").get_data(as_text=True)
    trail = html[html.index('data-testid="audit-trail"'):]
    for text in ("manager_a", "项目：修改", "总投资：20000万元 → 45000万元",
                 "所属行业：新能源 → 新材料", "状态：在办 → 暂缓", "签约日期：— → 2024-10-08",
                 "代办记录：新增", "类别：堵点", "内容：规划条件待协调"):
        assert text in trail, text
    for raw in ("investment", "new_materials", "on_hold", "progress_logs", "update"):
        assert raw not in trail, raw


def test_panels_named_timeline_and_team_replace_the_plain_lists(app, client, world, monkeypatch):
    from crm.projects.views.pages import Panel

    app.jinja_env.loader = ChoiceLoader([
        DictLoader({"test/_panel.html": '<p class="test-panel">{{ ctx.text }}</p>'}),
        app.jinja_env.loader])
    login(client, "agent_a")
    url = f"/projects/{world.projects['a1'].id}"
    others = [p for p in app.extensions["project_panels"] if p.name not in ("timeline", "team")]
    monkeypatch.setitem(app.extensions, "project_panels", others)
    html = client.get(url).get_data(as_text=True)
    assert 'data-testid="milestones"' in html and 'data-testid="assignments"' in html
    monkeypatch.setitem(app.extensions, "project_panels", others + [
        Panel("timeline", 20, "test/_panel.html",
              lambda project, user: {"text": f"节点时间轴 {project.id}"}),
        Panel("team", 30, "test/_panel.html", lambda project, user: {"text": "服务团队面板"})])
    html = client.get(url).get_data(as_text=True)
    assert 'data-testid="milestones"' not in html and 'data-testid="assignments"' not in html
    assert f"节点时间轴 {world.projects['a1'].id}" in html and "服务团队面板" in html
    assert html.index("节点时间轴") < html.index("服务团队面板")


def _grow(app, world, n):
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        for i in range(n):
            milestone = factories.milestone(project, name=f"事项{i}", due_on=dt.date(2026, 12, 1))
            log = factories.log(project, kind="blocker" if i % 3 == 0 else "visit", text=f"记录{i}",
                                milestone_id=milestone.id, author=db.session.merge(world.users["agent_a"]))
            db.session.add(factories_annotation(log, f"批注{i}"))
            factories.assign(project, db.session.merge(world.staff["agent_a2"]), "helper")
            project.contact_name = f"联系人{i}"  # audit events
            db.session.flush()
        db.session.commit()


@pytest.mark.parametrize("username", ["agent_a", "admin"])
def test_the_page_runs_a_constant_number_of_queries(app, client, world, username):
    login(client, username)
    url = f"/projects/{world.projects['a1'].id}"
    _grow(app, world, 2)
    client.get(url)
    with count_queries(app) as small:
        client.get(url)
    _grow(app, world, 25)
    with count_queries(app) as large:
        html = client.get(url).get_data(as_text=True)
    assert "批注24" in html and "记录24" in html
    assert large.count == small.count, (small.statements, large.statements)
    # The budget: the page's own 10 or so, then the panels (team 3, timeline 5, service orders
    # 1, enterprise link 1, the enterprise's ratings and cases 2, escalations 1, investment
    # plan and reported amounts 2, coordination problems 1), and the attached files of every
    # milestone and log entry (1).
    assert small.count <= 28, small.count


def test_the_feed_pages_and_odd_page_numbers_do_no_harm(app, client, world):
    from crm.extensions import db
    from crm.projects.queries import FEED_PAGE

    with app.app_context():
        project = db.session.merge(world.projects["a1"])
        for i in range(FEED_PAGE + 1):
            factories.log(project, text=f"第{i}条",
                          created_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i))
        db.session.commit()
    login(client, "agent_a")
    url = f"/projects/{world.projects['a1'].id}"

    def feed(query=""):
        html = client.get(url + query).get_data(as_text=True)
        start = html.index('data-testid="log-feed"')
        return html[start:html.index("</section>", start)]

    first, second = feed(), feed("?log_page=2")
    assert f"第{FEED_PAGE}条" in first and "第0条" not in first and "log_page=2" in first
    assert "第0条" in second and f"第{FEED_PAGE}条" not in second and "log_page=1" in second
    for value in ("0", "-1", "abc", "99999999999999999999999", "3"):
        assert client.get(f"{url}?log_page={value}").status_code == 200
