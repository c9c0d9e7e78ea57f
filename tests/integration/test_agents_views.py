"""Roster, workload, unassigned queue and team pages (issue 4): access, forms with errors next
to the field, constant query counts, and figures that match the data."""

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import count_queries, csrf_token_from, login

PARK_PAGES = ("roster", "workload", "unassigned")

# username -> expected status of park A's staff pages
PARK_ACCESS = {
    "admin": 200, "leader": 200, "manager_a": 200,
    "manager_b": 404,  # another park: as if it did not exist
    "consultant_a": 403, "agent_a": 403,  # their park, but not their job
    "agent_b": 404,
}


@pytest.mark.parametrize("username", sorted(PARK_ACCESS))
def test_park_pages_follow_scope_and_role(client, world, username):
    login(client, username)
    for page in PARK_PAGES:
        status = client.get(f"/parks/{world.park_a.id}/{page}").status_code
        assert status == PARK_ACCESS[username], f"{username} {page}: {status}"


@pytest.mark.parametrize("username,status", [
    ("admin", 200), ("leader", 200), ("manager_a", 302), ("agent_a", 403), ("consultant_a", 403)])
def test_staff_index_and_navigation(client, world, username, status):
    login(client, username)
    response = client.get("/parks/")
    assert response.status_code == status
    if status == 302:  # a manager of one park goes straight to its roster
        assert response.headers["Location"].endswith(f"/parks/{world.park_a.id}/roster")
    home = client.get("/").get_data(as_text=True)
    assert ('href="/parks/"' in home) == (status != 403)


# (method path template, form data) of every changing request of a park or project
def park_posts(world):
    a, agent = world.park_a.id, world.staff["agent_a"].id
    return [
        (f"/parks/{a}/roster/add", {"staff_id": world.staff["agent_b"].id}),
        (f"/parks/{a}/roster/new", {"name": "新人", "kind": "agent", "capacity": "5"}),
        (f"/parks/{a}/staff/{agent}", {"capacity": "3", "active": "y"}),
        (f"/parks/{a}/staff/{agent}/remove", {}),
        (f"/parks/{a}/staff/{agent}/handover", {"reason": "r", "handover_note": "n"}),
        (f"/parks/{a}/unassigned/auto", {}),
    ]


def team_posts(world):
    p, agent2 = world.projects["a1"].id, world.staff["agent_a2"].id
    return [
        (f"/projects/{p}/team/assign", {"assign-role": "lead_agent", "assign-staff_id": agent2,
                                         "assign-reason": "r", "assign-handover_note": "n"}),
        (f"/projects/{p}/team/helpers", {"helper-staff_id": agent2, "helper-reason": "r"}),
        (f"/projects/{p}/team/helpers/end", {"assignment_id": "1", "reason": "r"}),
        (f"/projects/{p}/team/auto", {}),
    ]


@pytest.mark.parametrize("username,status", [
    ("leader", 403), ("consultant_a", 403), ("agent_a", 403),  # may see, may not change
    ("manager_b", 404), ("agent_b", 404), ("agent_a2", None),
])
def test_only_managers_and_admins_change_rosters_and_teams(app, client, world, username, status):
    from crm.extensions import db
    from crm.models import Assignment, AuditEvent, Staff

    def counts():
        with app.app_context():
            return [db.session.scalar(select(func.count()).select_from(m))
                    for m in (Assignment, Staff, AuditEvent)]

    login(client, username)
    before = counts()
    for path, data in park_posts(world) + team_posts(world):
        expected = status
        if username == "agent_a2":  # serves park A (403 there) but not project a1 (404)
            expected = 403 if path.startswith("/parks/") else 404
        got = client.post(path, data=data).status_code
        assert got == expected, f"{username} POST {path}: {got}"
    assert counts() == before


def test_agents_cannot_open_the_team_forms_but_see_the_team(client, world):
    login(client, "agent_a")
    page = client.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    assert 'data-testid="team-current"' in page and "李代办" in page
    assert 'data-testid="assign-form"' not in page
    assert client.get(f"/projects/{world.projects['a1'].id}/team").status_code == 200
    assert client.get(f"/projects/{world.projects['b1'].id}/team").status_code == 404


# -- team: assign, reassign, helpers -----------------------------------------------------------

def assign_data(world, **changes):
    data = {"assign-role": "lead_agent", "assign-staff_id": str(world.staff["agent_a2"].id),
            "assign-reason": "李代办调岗", "assign-handover_note": "环评材料已备齐"}
    data.update({f"assign-{k}": v for k, v in changes.items()})
    return data


def active_team(app, project_id):
    from crm.extensions import db
    from crm.models import Assignment

    with app.app_context():
        return {(a.role, a.staff.name) for a in db.session.scalars(select(Assignment).where(
            Assignment.project_id == project_id, Assignment.ended_at.is_(None)))}


def test_manager_reassigns_and_the_history_shows_it(app, client, world):
    a1 = world.projects["a1"].id
    login(client, "manager_a")
    response = client.post(f"/projects/{a1}/team/assign", data=assign_data(
        world, reason="<b>调岗</b>", handover_note="交接<script>x</script>"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/{a1}#team")
    assert active_team(app, a1) == {("consultant", "张顾问"), ("lead_agent", "王代办")}
    page = client.get(f"/projects/{a1}").get_data(as_text=True)
    assert "王代办现任专职代办员。" in page  # the flash
    history = page[page.index('data-testid="team-history"'):]
    assert history.index("王代办") < history.index("李代办")  # current first
    assert "&lt;b&gt;调岗&lt;/b&gt;" in history and "<script>x</script>" not in history
    assert "交接&lt;script&gt;x&lt;/script&gt;" in history
    assert "manager_a" in history  # by whom
    client.post("/logout")
    login(client, "agent_a2")
    assert "南通新能源电池项目" in client.get("/notifications/").get_data(as_text=True)


BAD_TEAM_INPUT = [
    # changes to a valid reassignment, field in error, message fragment
    ({"staff_id": "999999"}, "staff_id", "不存在编号为 999999 的服务人员"),
    ({"staff_id": "abc"}, "staff_id", "不存在编号为 abc"),
    ({"staff_id": ""}, "staff_id", "请选择服务人员"),
    # Another park's person is answered like an unknown id: their name is not given away.
    ({"staff_id": "agent_b"}, "staff_id", "不存在编号为 agent_b 的服务人员"),
    ({"staff_id": "consultant_a"}, "staff_id", "张顾问是首席审批服务咨询师"),
    ({"role": "consultant"}, "staff_id", "王代办是项目代办员"),
    ({"role": "helper"}, "role", "请选择首席审批服务咨询师或专职代办员"),
    ({"reason": ""}, "reason", "请填写分配原因"),
    ({"reason": "x" * 1001}, "reason", "最多 1000 个字符"),
    ({"handover_note": ""}, "handover_note", "调整人员须填写交接说明"),
]


@pytest.mark.parametrize("changes,field,fragment", BAD_TEAM_INPUT)
def test_bad_team_input_shows_the_error_next_to_the_field(app, client, world, changes, field, fragment):
    fragment = re.sub(r"编号为 (\w+) ", lambda m: f"编号为 {world.staff[m.group(1)].id} "
                      if m.group(1) in world.staff else m.group(0), fragment)
    changes = {k: str(world.staff[v].id) if v in world.staff else v for k, v in changes.items()}
    a1 = world.projects["a1"].id
    login(client, "manager_a")
    response = client.post(f"/projects/{a1}/team/assign", data=assign_data(world, **changes))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    block = re.search(rf'id="assign-{field}"[^>]*>.*?id="assign-{field}-errors">(.*?)</div>\s*</div>',
                      page, re.S)
    assert block, f"no error block for {field}"
    assert fragment in block.group(1)
    assert "陈代办" not in page  # nobody of another park is named
    assert 'class="form-select is-invalid"' in page or 'class="form-control is-invalid"' in page
    assert "<details" in page and "open" in page[page.index('data-testid="assign-details"') - 80:
                                               page.index('data-testid="assign-details"')]
    assert active_team(app, a1) == {("consultant", "张顾问"), ("lead_agent", "李代办")}


def test_forced_assignment_over_capacity(app, client, world):
    from crm.extensions import db
    from crm.models import Assignment, Staff

    with app.app_context():
        db.session.get(Staff, world.staff["agent_a2"].id).capacity = 1
        factories.assign(db.session.merge(world.projects["b1"]), db.session.get(Staff, world.staff["agent_a2"].id), "helper")
        db.session.commit()
    login(client, "manager_a")
    page = client.post(f"/projects/{world.projects['a1'].id}/team/assign",
                       data=assign_data(world)).get_data(as_text=True)
    assert "王代办已承接 1 个在办项目（承接上限 1 个）" in page and "仍然分配" in page
    response = client.post(f"/projects/{world.projects['a1'].id}/team/assign",
                           data=assign_data(world, force="y"))
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(Assignment).where(
            Assignment.staff_id == world.staff["agent_a2"].id, Assignment.role == "lead_agent"))
        assert row.forced and row.reason == "李代办调岗"
    page = client.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    assert "破例分配" in page and "超上限" not in page


def test_helpers_through_the_panel(app, client, world):
    a1 = world.projects["a1"].id
    login(client, "manager_a")
    response = client.post(f"/projects/{a1}/team/helpers", data={
        "helper-staff_id": str(world.staff["agent_a2"].id), "helper-reason": "协助用地手续"})
    assert response.status_code == 302
    assert ("helper", "王代办") in active_team(app, a1)
    page = client.post(f"/projects/{a1}/team/helpers", data={
        "helper-staff_id": str(world.staff["agent_a"].id), "helper-reason": "r"}).get_data(as_text=True)
    assert "李代办已在为本项目服务" in page
    helper_id = re.search(r'name="assignment_id" value="(\d+)"', page).group(1)
    page = client.post(f"/projects/{a1}/team/helpers/end",
                       data={"assignment_id": helper_id, "reason": ""}).get_data(as_text=True)
    assert "请填写调整原因" in page
    assert ("helper", "王代办") in active_team(app, a1)
    response = client.post(f"/projects/{a1}/team/helpers/end",
                           data={"assignment_id": helper_id, "reason": "已办结"})
    assert response.status_code == 302
    assert ("helper", "王代办") not in active_team(app, a1)


def test_auto_assign_from_the_panel_and_the_queue(app, client, world):
    a2 = world.projects["a2"].id
    login(client, "manager_a")
    queue = client.get(f"/parks/{world.park_a.id}/unassigned").get_data(as_text=True)
    assert "南通精密机械项目" in queue and "南通新能源电池项目" not in queue
    response = client.post(f"/parks/{world.park_a.id}/unassigned/auto", data={"project_id": a2})
    assert response.status_code == 302
    assert active_team(app, a2) == {("consultant", "张顾问"), ("lead_agent", "王代办")}
    queue = client.get(f"/parks/{world.park_a.id}/unassigned").get_data(as_text=True)
    assert "自动分配完成：1 个项目中有 1 个已配齐服务人员。" in queue
    assert "所有在办项目均已配齐" in queue
    response = client.post(f"/projects/{a2}/team/auto", data={})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "该项目已配齐首席审批服务咨询师和专职代办员。" in page


# -- roster maintenance ------------------------------------------------------------------------

BAD_STAFF_INPUT = [
    ({"name": ""}, "name", "请填写姓名"),
    ({"name": "名" * 51}, "name", "最多 50 个字符"),
    ({"kind": "boss"}, "kind", "请选择首席审批服务咨询师或项目代办员"),
    ({"phone": "call me"}, "phone", "只能填写数字"),
    ({"phone": "1" * 31}, "phone", "最多 30 个字符"),
    ({"title": "长" * 51}, "title", "最多 50 个字符"),
    ({"capacity": ""}, "capacity", "请填写承接上限"),
    ({"capacity": "abc"}, "capacity", "请填写整数"),
    ({"capacity": "0"}, "capacity", "1 至 99"),
    ({"capacity": "100"}, "capacity", "1 至 99"),
]


def error_of(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-errors">(.*?)</div>\s*</div>', page, re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("changes,field,fragment", BAD_STAFF_INPUT)
def test_new_staff_bad_input(app, client, world, changes, field, fragment):
    from crm.extensions import db
    from crm.models import Staff

    data = {"name": "孙代办", "kind": "agent", "phone": "13900001111", "title": "", "capacity": "6"}
    data.update(changes)
    login(client, "manager_a")
    response = client.post(f"/parks/{world.park_a.id}/roster/new", data=data)
    assert response.status_code == 200
    assert fragment in error_of(response.get_data(as_text=True), field)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Staff)) == 5


def test_new_staff_member_joins_the_roster(app, client, world):
    login(client, "manager_a")
    response = client.post(f"/parks/{world.park_a.id}/roster/new", data={
        "name": "孙代办", "kind": "agent", "phone": "0513-8123 4567", "capacity": "6"})
    assert response.status_code == 302
    roster = client.get(f"/parks/{world.park_a.id}/roster").get_data(as_text=True)
    assert "孙代办" in roster and "0513-8123 4567" in roster


@pytest.mark.parametrize("changes,field,fragment", [
    ({"capacity": "-1"}, "capacity", "1 至 99"),
    ({"on_leave_until": "2026-13-45"}, "on_leave_until", "YYYY-MM-DD"),
    ({"on_leave_until": "2020-01-01"}, "on_leave_until", "不得早于今天"),
    ({"phone": "<script>"}, "phone", "只能填写数字"),
])
def test_staff_edit_bad_input(app, client, world, changes, field, fragment):
    from crm.extensions import db
    from crm.models import Staff

    data = {"capacity": "6", "active": "y", "phone": "13900000001", "title": ""}
    data.update(changes)
    login(client, "manager_a")
    response = client.post(f"/parks/{world.park_a.id}/staff/{world.staff['agent_a'].id}", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert fragment in error_of(page, field)
    assert "<script>" not in page.split('id="phone"')[1][:200] if field == "phone" else True
    with app.app_context():
        person = db.session.get(Staff, world.staff["agent_a"].id)
        assert (person.capacity, person.on_leave_until) == (6, None)


def test_deactivation_leads_to_the_hand_over_screen(app, client, world):
    park, agent = world.park_a.id, world.staff["agent_a"].id
    login(client, "manager_a")
    response = client.post(f"/parks/{park}/staff/{agent}", data={"capacity": "6", "phone": "", "title": ""})
    assert response.headers["Location"].endswith(f"/parks/{park}/staff/{agent}/handover")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "李代办已不能承接项目，请移交其在办项目。" in page
    assert "南通新能源电池项目" in page and 'name="choice_' in page
    # Missing reason and note: errors next to those fields, nothing moves.
    page = client.post(f"/parks/{park}/staff/{agent}/handover", data={}).get_data(as_text=True)
    assert "请填写移交原因" in error_of(page, "reason")
    assert "调整人员须填写交接说明" in error_of(page, "handover_note")
    assert ("lead_agent", "李代办") in active_team(app, world.projects["a1"].id)
    # A row picked by hand with someone from another park: the error is on that row.
    row = re.search(r'name="(choice_\d+)"', page).group(1)
    page = client.post(f"/parks/{park}/staff/{agent}/handover", data={
        "reason": "离职", "handover_note": "资料在档案室", row: str(world.staff["agent_b"].id)}
    ).get_data(as_text=True)
    assert f"不存在编号为 {world.staff['agent_b'].id} 的服务人员" in page and "is-invalid" in page
    assert "陈代办" not in page
    response = client.post(f"/parks/{park}/staff/{agent}/handover", data={
        "reason": "离职", "handover_note": "资料在档案室", row: "auto"})
    assert response.status_code == 302
    assert active_team(app, world.projects["a1"].id) == {("consultant", "张顾问"), ("lead_agent", "王代办")}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "移交完成：1 项已由他人接任，0 项协办已结束。" in page
    assert 'data-testid="nothing-to-hand-over"' in page


def _release(app, staff_id):
    from crm.agents.models import Staff
    from crm.extensions import db

    with app.app_context():
        db.session.get(Staff, staff_id).released = True
        db.session.commit()


def test_another_parks_staff_cannot_be_taken_over(app, client, world):
    """A manager finds, adds and edits only people who are theirs to manage: another park's
    staff are invisible (no name, no phone) until an admin releases them."""
    park, other = world.park_a.id, world.staff["agent_b"]
    login(client, "manager_a")
    for q in ("陈", "%", "_", other.phone):
        page = client.get(f"/parks/{park}/roster", query_string={"q": q}).get_data(as_text=True)
        found = page[page.index('data-testid="search-results"'):page.index("</ul>", page.index('data-testid="search-results"'))]
        assert "陈代办" not in found and other.phone not in found, q
    response = client.post(f"/parks/{park}/roster/add", data={"staff_id": str(other.id)})
    assert response.status_code == 404
    assert f"不存在编号为 {other.id} 的服务人员" in response.get_data(as_text=True)
    assert client.get(f"/parks/{park}/staff/{other.id}").status_code == 404
    assert client.post(f"/parks/{park}/staff/{other.id}", data={"capacity": "1"}).status_code == 404
    # Released by an admin: found (without the phone), added, and the release is used up.
    _release(app, other.id)
    page = client.get(f"/parks/{park}/roster?q=陈").get_data(as_text=True)
    found = page[page.index('data-testid="search-results"'):page.index("</ul>", page.index('data-testid="search-results"'))]
    assert "陈代办" in found and other.phone not in found
    assert client.post(f"/parks/{park}/roster/add", data={"staff_id": str(other.id)}).status_code == 302
    # Now shared with park B: the manager of A sees them but may not change their record.
    response = client.post(f"/parks/{park}/staff/{other.id}",
                           data={"capacity": "1", "phone": "110", "title": "", "active": "y"})
    assert response.status_code == 403
    with app.app_context():
        from crm.agents.models import Staff
        from crm.extensions import db

        person = db.session.get(Staff, other.id)
        assert (person.capacity, person.phone, person.released) == (6, other.phone, False)


def test_a_person_of_no_park_is_found_and_added_with_their_phone(app, client, world):
    from crm.agents.models import Staff
    from crm.extensions import db

    with app.app_context():
        loose = Staff(name="周自由", kind="agent", phone="13912345678", capacity=5, active=True)
        db.session.add(loose)
        db.session.commit()
        loose_id = loose.id
    park = world.park_a.id
    login(client, "manager_a")
    page = client.get(f"/parks/{park}/roster?q=13912345678").get_data(as_text=True)
    assert "周自由" in page and "13912345678" in page
    assert client.post(f"/parks/{park}/roster/add", data={"staff_id": str(loose_id)}).status_code == 302
    assert client.post(f"/parks/{park}/staff/{loose_id}", data={
        "capacity": "4", "phone": "13912345679", "title": "", "active": "y"}).status_code == 302


def test_add_existing_staff_and_remove_from_park(app, client, world):
    park = world.park_a.id
    _release(app, world.staff["agent_b"].id)
    login(client, "manager_a")
    page = client.get(f"/parks/{park}/roster?q=陈").get_data(as_text=True)
    assert "陈代办" in page[page.index('data-testid="search-results"'):]
    response = client.post(f"/parks/{park}/roster/add", data={"staff_id": str(world.staff["agent_b"].id)})
    assert response.status_code == 302
    assert "陈代办" in client.get(f"/parks/{park}/roster").get_data(as_text=True)
    page = client.post(f"/parks/{park}/roster/add", data={"staff_id": "424242"}).get_data(as_text=True)
    assert "不存在编号为 424242 的服务人员" in page
    # Removing someone who still serves a project here is refused with the reason.
    response = client.post(f"/parks/{park}/staff/{world.staff['agent_a'].id}/remove", data={})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "李代办在本园区仍有 1 个项目，请先移交。" in page
    response = client.post(f"/parks/{park}/staff/{world.staff['agent_b'].id}/remove", data={})
    assert response.headers["Location"].endswith(f"/parks/{park}/roster")
    roster = client.get(f"/parks/{park}/roster").get_data(as_text=True)
    listed = roster[roster.index('data-testid="roster"'):roster.index("</ul>", roster.index('data-testid="roster"'))]
    assert "李代办" in listed and "陈代办" not in listed


def test_a_manager_cannot_reach_staff_of_another_park_through_their_own(client, world):
    login(client, "manager_a")
    b_agent = world.staff["agent_b"].id
    assert client.get(f"/parks/{world.park_a.id}/staff/{b_agent}").status_code == 404
    assert client.get(f"/parks/{world.park_a.id}/staff/{b_agent}/handover").status_code == 404
    assert client.get(f"/parks/{world.park_b.id}/staff/{b_agent}").status_code == 404


# -- workload: figures and query counts --------------------------------------------------------

def grow(app, world, n: int) -> None:
    """n more agents in park A, each with projects, milestones and logs; agent_a helps on
    one project of each."""
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.models import Milestone
    from crm.models import Park, Staff

    with app.test_request_context():
        park = db.session.get(Park, world.park_a.id)
        agent_a = db.session.get(Staff, world.staff["agent_a"].id)
        for i in range(n):
            person = factories.staff([park], "agent", capacity=4)
            user = factories.user(f"grow{i}_{person.id}", "agent", staff=person)
            for j in range(2):
                project = factories.project(park)
                factories.assign(project, person, "lead_agent" if j == 0 else "helper")
                if j == 0:
                    factories.assign(project, agent_a, "helper")
                db.session.add(Milestone(project_id=project.id, park_id=park.id, name="节点",
                                         stage="land", limit_value=5, status="running",
                                         due_on=today() - dt.timedelta(days=1)))
                factories.log(project, author=user)
        db.session.commit()


def test_workload_page_matches_the_data(app, client, world):
    from crm.extensions import db
    from crm.i18n import today
    from crm.milestones.models import Milestone
    from crm.models import Project, User

    with app.test_request_context():
        a1 = db.session.get(Project, world.projects["a1"].id)
        db.session.add(Milestone(project_id=a1.id, park_id=a1.park_id, name="环评", stage="land",
                                 limit_value=5, status="running", due_on=today() - dt.timedelta(days=2)))
        author = db.session.get(User, world.users["agent_a"].id)
        factories.log(a1, author=author, happened_on=dt.date(2026, 1, 5))
        db.session.commit()
    login(client, "manager_a")
    page = client.get(f"/parks/{world.park_a.id}/workload?sort=load&dir=desc").get_data(as_text=True)
    rows = re.findall(r'<tr data-staff-id="(\d+)">(.*?)</tr>', page, re.S)
    figures = {}
    for staff_id, html in rows:
        cells = dict(re.findall(r'data-figure="(\w+)">(.*?)</td>', html))
        figures[int(staff_id)] = (cells["load"], cells["capacity"], cells["overdue"], cells["last_log"])
    s = world.staff
    assert figures == {
        s["agent_a"].id: ("1", "6", "1", "2026-01-05"),
        s["consultant_a"].id: ("1", "10", "1", "—"),
        s["agent_a2"].id: ("0", "6", "0", "—"),
    }
    assert [int(i) for i, _ in rows][-1] == s["agent_a2"].id  # sorted by load, descending
    page = client.get(f"/parks/{world.park_a.id}/workload?sort=name&dir=asc").get_data(as_text=True)
    assert 'aria-sort="ascending"' in page


@pytest.mark.parametrize("path", [
    "/parks/{park}/workload", "/parks/{park}/roster", "/parks/{park}/unassigned",
    "/projects/{project}", "/projects/{project}/team", "/parks/{park}/staff/{agent}/handover",
])
def test_pages_run_a_constant_number_of_queries(app, client, world, path):
    url = path.format(park=world.park_a.id, project=world.projects["a1"].id,
                      agent=world.staff["agent_a"].id)
    login(client, "manager_a")
    client.get(url)  # warm-up (calendar cache and the like)
    with count_queries(app) as small:
        assert client.get(url).status_code == 200
    grow(app, world, 12)
    from crm.extensions import db
    from crm.models import Project, Staff

    with app.test_request_context():  # a longer history and more helpers on the project page
        a1 = db.session.get(Project, world.projects["a1"].id)
        for person in db.session.scalars(select(Staff).where(Staff.kind == "agent", Staff.capacity == 4)).all()[:6]:
            factories.assign(a1, person, "helper")
        db.session.commit()
    with count_queries(app) as large:
        assert client.get(url).status_code == 200
    assert large.count == small.count, "\n".join(large.statements)
    print(f"{url}: {small.count} queries")


def test_forms_work_with_csrf_on(app, client, world):
    app.config["WTF_CSRF_ENABLED"] = True
    login_page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "manager_a", "password": factories.PASSWORD,
                                "csrf_token": csrf_token_from(login_page)})
    a1 = world.projects["a1"].id
    assert client.post(f"/projects/{a1}/team/assign", data=assign_data(world)).status_code == 400
    page = client.get(f"/projects/{a1}").get_data(as_text=True)
    token = re.search(r'name="assign-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = assign_data(world)
    data["assign-csrf_token"] = token
    assert client.post(f"/projects/{a1}/team/assign", data=data).status_code == 302
    assert ("lead_agent", "王代办") in active_team(app, a1)
