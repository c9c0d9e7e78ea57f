"""The project list: scope, "my projects", filters, search, sorting, paging, totals, nonsense
filter values, constant query count, and the .xlsx export of the filtered list."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.conftest import count_queries, login


def listed(client, query: str = "") -> list[int]:
    response = client.get(f"/projects/?{query}")
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'<tr data-project-id="(\d+)"', response.get_data(as_text=True))]


def _today(app) -> dt.date:
    from crm.i18n import today

    with app.app_context():
        return today()


@pytest.fixture
def more(app, world):
    """Extra projects in park A with distinct values for every filter."""
    from crm.extensions import db

    with app.app_context():
        a = db.session.merge(world.park_a)
        made = {
            "chem": factories.project(a, "如东精细化工项目", stage="planning", industry="fine_chemicals",
                                      investment=150000, investor_name="江苏化工有限公司",
                                      code="2411-320613-89-01-100001"),
            "hold": factories.project(a, "通州暂缓物流项目", stage="negotiating", status="on_hold",
                                      industry="logistics", investment=10000),
            "pct": factories.project(a, "100%_特殊字符项目", stage="signed", investment=30000),
        }
        factories.assign(made["chem"], db.session.merge(world.staff["agent_a2"]), "lead_agent")
        db.session.commit()
        return {k: v.id for k, v in made.items()}


def test_agents_and_consultants_start_on_my_projects(client, world):
    login(client, "agent_a")
    page = client.get("/projects/").get_data(as_text=True)
    assert re.search(r'class="nav-link active" aria-current="page"\s+href="/projects/\?view=mine"', page)
    assert listed(client) == [world.projects["a1"].id]
    assert 'data-testid="log-form"' in page  # the quick log form is on "my projects"


def test_my_projects_are_those_i_serve(app, client, world, more):
    from crm.extensions import db

    with app.app_context():  # agent_a also helps on a2: still in "mine"
        factories.assign(db.session.merge(world.projects["a2"]), db.session.merge(world.staff["agent_a"]), "helper")
        db.session.commit()
    login(client, "agent_a")
    assert sorted(listed(client)) == sorted([world.projects["a1"].id, world.projects["a2"].id])
    assert sorted(listed(client, "view=all")) == sorted([world.projects["a1"].id, world.projects["a2"].id])


def test_managers_see_their_parks_without_a_my_projects_view(client, world, more):
    login(client, "manager_a")
    page = client.get("/projects/").get_data(as_text=True)
    assert 'data-testid="list-views"' not in page and 'data-testid="log-form"' not in page
    assert set(listed(client)) == {world.projects["a1"].id, world.projects["a2"].id, *more.values()}


@pytest.mark.parametrize("query,expected", [
    ("stage=planning", ["chem"]),
    ("status=on_hold", ["hold"]),
    ("industry=logistics", ["hold"]),
    ("stage=signed&status=active", ["a2", "pct"]),
    ("status=in_service", ["a1", "a2", "chem", "pct"]),
    ("q=化工", ["chem"]),  # name and investor
    ("q=江苏化工有限", ["chem"]),  # investor only
    ("q=2411-320613-89-01", ["chem"]),  # project code
    ("q=100%25_", ["pct"]),  # % and _ are literal, not wildcards
    ("q=%25", ["pct"]),
])
def test_filters_and_search(client, world, more, query, expected):
    keys = {**world.ids(), **more}
    login(client, "manager_a")
    assert sorted(listed(client, query)) == sorted(keys[k] for k in expected)


def test_in_service_leaves_out_approved_projects_as_the_dashboards_do(app, client, world, more):
    """The dashboards' "projects in service" figure links to status=in_service: active and
    not yet approved; status=active still lists the approved ones."""
    from crm.extensions import db

    with app.app_context():
        approved = factories.project(db.session.merge(world.park_a), "审批完成项目",
                                     stage="approved").id
        db.session.commit()
    login(client, "manager_a")
    serving = set(listed(client, "status=in_service"))
    assert approved not in serving and world.projects["a1"].id in serving
    assert approved in listed(client, "status=active")
    page = client.get(f"/dashboard/parks/{world.park_a.id}").get_data(as_text=True)
    link = re.search(r'<a[^>]*data-figure="active_projects"[^>]*>.*?</a>', page, re.S).group(0)
    assert "status=in_service" in link and f">{len(serving)}<" in link


def test_park_and_staff_filters(client, world, more):
    login(client, "admin")
    assert set(listed(client, f"park={world.park_b.id}")) == {world.projects["b1"].id}
    assert listed(client, f"staff={world.staff['agent_a2'].id}") == [more["chem"]]
    assert listed(client, f"staff={world.staff['consultant_a'].id}") == [world.projects["a1"].id]
    # A staff member of another park than the chosen one is no filter: cleared.
    page = client.get(f"/projects/?park={world.park_b.id}&staff={world.staff['agent_a2'].id}")
    assert 'data-testid="filters-cleared"' in page.get_data(as_text=True)


def test_sla_filters_use_the_working_day_threshold(app, client, world):
    from crm.extensions import db
    from crm.milestones.queries import work_calendar
    from crm.milestones.queries import due_soon_before

    today = _today(app)
    with app.app_context():
        bound = due_soon_before(today, work_calendar(), app.config["SLA_WARNING_WORKDAYS"])
        a = db.session.merge(world.park_a)
        cases = {
            "overdue": factories.project(a, "超期项目"),
            "today": factories.project(a, "今日到期项目"),
            "edge": factories.project(a, "临界项目"),
            "later": factories.project(a, "正常项目"),
            "paused": factories.project(a, "暂停项目"),
            "done": factories.project(a, "已办结项目"),
        }
        factories.milestone(cases["overdue"], due_on=today - dt.timedelta(days=1))
        factories.milestone(cases["overdue"], due_on=today + dt.timedelta(days=60))
        factories.milestone(cases["today"], due_on=today)
        factories.milestone(cases["edge"], due_on=bound - dt.timedelta(days=1))
        factories.milestone(cases["later"], due_on=bound)
        factories.milestone(cases["paused"], status="paused", due_on=today - dt.timedelta(days=5))
        factories.milestone(cases["done"], status="done", due_on=today - dt.timedelta(days=5),
                            completed_on=today - dt.timedelta(days=1))
        db.session.commit()
        ids = {k: v.id for k, v in cases.items()}
    login(client, "manager_a")
    assert listed(client, "sla=overdue") == [ids["overdue"]]
    assert sorted(listed(client, "sla=due_soon")) == sorted([ids["today"], ids["edge"]])
    html = client.get("/projects/?sla=overdue").get_data(as_text=True)
    assert "已超期" in html


def test_nonsense_filter_values_are_ignored_and_shown_cleared(client, world, more):
    login(client, "manager_a")
    everything = sorted(listed(client))
    query = (f"park={world.park_b.id}&stage=zzz&status=1&industry=<script>&sla=late&staff=99999999"
             "&sort=password&dir=sideways&page=-3&view=mine&q=" + "长" * 5000)
    response = client.get(f"/projects/?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    warning = re.search(r'data-testid="filters-cleared">(.*?)</div>', html, re.S).group(1)
    for name in ("园区", "阶段", "状态", "所属行业", "办理时限", "服务人员", "排序", "页码", "视图"):
        assert name in warning
    assert "<script>" not in html and "selected" not in re.search(
        r'name="park".*?</select>', html, re.S).group(0)
    for value in ("abc", "1e9", "99999999999999999999", "0", ""):
        assert client.get(f"/projects/?park={value}&page={value}&staff={value}").status_code == 200
    assert sorted(listed(client, f"park={world.park_b.id}&stage=zzz")) == everything


def test_sorting(client, world, more):
    keys = {**world.ids(), **more}
    login(client, "manager_a")
    by_investment = listed(client, "sort=investment&dir=desc")
    assert by_investment[0] == keys["chem"] and by_investment[-1] == keys["hold"]
    assert listed(client, "sort=investment&dir=asc") == list(reversed(by_investment))
    stages = listed(client, "sort=stage&dir=asc")
    assert stages.index(keys["hold"]) < stages.index(keys["a2"]) < stages.index(keys["a1"]) \
        < stages.index(keys["chem"])  # negotiating < signed < land < planning
    names = listed(client, "sort=name&dir=asc")
    assert names[0] == keys["pct"]  # "1" sorts before Chinese characters


def test_sort_by_next_deadline_puts_projects_without_one_last(app, client, world):
    from crm.extensions import db

    today = _today(app)
    with app.app_context():
        a1, a2 = db.session.merge(world.projects["a1"]), db.session.merge(world.projects["a2"])
        factories.milestone(a1, due_on=today + dt.timedelta(days=30))
        factories.milestone(a2, due_on=today + dt.timedelta(days=3))
        db.session.commit()
    login(client, "manager_a")
    assert listed(client, "sort=due&dir=asc") == [world.projects["a2"].id, world.projects["a1"].id]
    assert listed(client, "sort=due&dir=desc") == [world.projects["a1"].id, world.projects["a2"].id]


def test_pages_and_totals_cover_the_whole_filtered_set(app, client, world, more):
    from crm.extensions import db

    with app.app_context():
        factories.log(db.session.merge(world.projects["a1"]), kind="blocker", text="堵点一")
        factories.log(db.session.merge(world.projects["a1"]), kind="blocker", text="堵点二")
        factories.log(db.session.merge(world.projects["b1"]), kind="blocker", text="别的园区")
        db.session.commit()
    app.config["PAGE_SIZE"] = 2
    login(client, "manager_a")
    first, second, third = listed(client, "page=1"), listed(client, "page=2"), listed(client, "page=3")
    assert len(first) == 2 and len(second) == 2 and len(third) == 1
    assert len(set(first + second + third)) == 5
    assert listed(client, "page=99") == third  # past the end: the last page
    totals = client.get("/projects/").get_data(as_text=True)
    # 20000 + 20000 + 150000 + 10000 + 30000 万元 = 23.0 亿元; blockers of park A only.
    assert "共 5 个项目，总投资 23.0 亿元，未解决堵点 2 个" in totals
    assert "共 1 个项目，总投资 15.0 亿元，未解决堵点 0 个" in client.get("/projects/?stage=planning").get_data(as_text=True)


def _grow(app, world, count: int) -> None:
    from crm.extensions import db

    today = _today(app)
    with app.app_context():
        a = db.session.merge(world.park_a)
        agent = db.session.merge(world.staff["agent_a"])
        for n in range(count):
            project = factories.project(a, f"批量项目{n}", investment=10000 + n)
            factories.assign(project, agent, "helper")
            factories.milestone(project, due_on=today + dt.timedelta(days=n % 9 - 3))
            factories.log(project, kind="blocker" if n % 2 else "visit")
        db.session.commit()


@pytest.mark.parametrize("username,query", [
    ("admin", ""), ("manager_a", "sla=due_soon&sort=due"), ("agent_a", "view=mine&sort=blockers"),
])
def test_list_runs_a_constant_number_of_queries(app, client, world, username, query):
    login(client, username)
    client.get(f"/projects/?{query}")  # warm caches (calendar)
    with count_queries(app) as small:
        client.get(f"/projects/?{query}")
    _grow(app, world, 40)
    with count_queries(app) as large:
        html = client.get(f"/projects/?{query}").get_data(as_text=True)
    assert "批量项目" in html
    assert large.count == small.count, (small.statements, large.statements)
    assert small.count <= 12, small.count


def test_export_holds_the_filtered_list_with_chinese_headers(app, client, world, more):
    from crm.extensions import db

    with app.app_context():
        project = db.session.merge(world.projects["a1"])
        project.name = '=HYPERLINK("http://evil.example","点击")'
        project.contact_name = "@SUM(A1:A2)"
        project.contact_phone = "+86 513 8000 0000"
        db.session.commit()
    login(client, "manager_a")
    response = client.get("/projects/export.xlsx?sort=investment&dir=desc")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("项目名称", "投资项目统一代码", "投资主体", "投资主体统一社会信用代码")
    assert len(rows) == 1 + 5
    assert rows[1][0] == "如东精细化工项目" and rows[1][6] == "规划许可" and rows[1][8] == 150000
    evil = next(r for r in rows if "HYPERLINK" in str(r[0]))
    assert evil[0] == '=HYPERLINK("http://evil.example","点击")'  # as typed, as text
    # The phone number reads as typed: no apostrophe in front of "+86".
    assert evil[12] == "@SUM(A1:A2)" and evil[13] == "+86 513 8000 0000"
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert all(c.quotePrefix for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@")
    # The filters apply to the export too, and the scope always does.
    only_b = load_workbook(io.BytesIO(client.get(f"/projects/export.xlsx?park={world.park_b.id}").data))
    assert len(list(only_b.active.iter_rows(values_only=True))) == 1 + 5  # park B is not manager_a's: cleared
    hold = load_workbook(io.BytesIO(client.get("/projects/export.xlsx?status=on_hold").data))
    assert [r[0] for r in hold.active.iter_rows(values_only=True)][1:] == ["通州暂缓物流项目"]
    client.post("/logout")
    login(client, "agent_b")
    mine = load_workbook(io.BytesIO(client.get("/projects/export.xlsx").data))
    assert [r[0] for r in mine.active.iter_rows(values_only=True)][1:] == ["海安新材料项目"]


def test_leadership_chooses_a_park_before_a_person(client, world):
    """A city-wide staff select would list thousands of names: leaders pick a park first; a
    person given in the address is still honoured."""
    login(client, "leader")
    page = client.get("/projects/").get_data(as_text=True)
    select = re.search(r'<select class="form-select" name="staff"[^>]*>(.*?)</select>', page, re.S)
    assert "disabled" in select.group(0) and "<option value=\"\"" in select.group(1)
    assert world.staff["agent_a"].name not in select.group(1)
    page = client.get(f"/projects/?park={world.park_a.id}").get_data(as_text=True)
    assert world.staff["agent_a"].name in page and world.staff["agent_b"].name not in page
    assert listed(client, f"staff={world.staff['consultant_a'].id}") == [world.projects["a1"].id]
