"""Registering and editing projects: who may, every field's validation (nothing saved on
error), the check-digit warning, optimistic locking, and stage changes by hand."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from crm.projects.codes import make_credit_code, make_project_code
from tests.conftest import login
from tests.integration.projects_support import CREDIT_CODE, count, field_errors, valid_project


def _project(app, project_id):
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, project_id)
        db.session.expunge(project)
        return project


def _edit_data(app, project_id, **overrides) -> dict:
    p = _project(app, project_id)
    data = valid_project(p.park_id, name=p.name, investor_name=p.investor_name, code="",
                         investor_credit_code="", version=str(p.version), status=p.status)
    data.pop("park")
    data.pop("stage")
    data.update(overrides)
    return data


def test_a_manager_registers_a_project(app, client, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db
    from crm.projects.models import Project, StageChange

    login(client, "manager_a")
    assert client.get("/projects/new").status_code == 200
    response = client.post("/projects/new", data=valid_project(world.park_a.id))
    assert response.status_code == 302
    with app.app_context():
        project = db.session.scalar(select(Project).where(Project.name == "南通智能装备产业园项目"))
        assert response.headers["Location"].endswith(f"/projects/{project.id}")
        assert (project.investment, project.park_id, project.stage, project.status) == \
            (15000, world.park_a.id, "negotiating", "active")
        assert project.investor_credit_code == make_credit_code(CREDIT_CODE)
        assert project.created_by_id == world.users["manager_a"].id
        change = db.session.scalars(select(StageChange).where(StageChange.project_id == project.id)).one()
        assert (change.from_stage, change.to_stage) == (None, "negotiating")
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "projects", AuditEvent.project_id == project.id)).one()
        assert event.action == "create" and event.user_id == world.users["manager_a"].id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "项目“南通智能装备产业园项目”已登记" in page


def test_registering_a_signed_project_draws_up_its_plan(app, client, world):
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.projects.models import Project

    login(client, "admin")
    client.post("/projects/new", data=valid_project(world.park_b.id, stage="land", code=""))
    with app.app_context():
        project = db.session.scalar(select(Project).where(Project.name == "南通智能装备产业园项目"))
        assert project.stage == "land" and project.park_id == world.park_b.id
        assert db.session.scalar(select(Milestone.id).where(Milestone.project_id == project.id))


def test_codes_are_normalised_and_legacy_codes_accepted(app, client, world):
    from crm.extensions import db
    from crm.projects.models import Project

    login(client, "manager_a")
    credit = make_credit_code(CREDIT_CODE).lower()
    response = client.post("/projects/new", data=valid_project(
        world.park_a.id, code=" 2019-320613-89-01-123456 ", investor_credit_code=f" {credit} "))
    assert response.status_code == 302
    with app.app_context():
        project = db.session.scalar(select(Project).where(Project.name == "南通智能装备产业园项目"))
        assert project.code == "2019-320613-89-01-123456"
        assert project.investor_credit_code == credit.upper()


@pytest.mark.parametrize("username", ["agent_a", "consultant_a", "leader"])
def test_only_managers_and_admins_register_projects(app, client, world, username):
    from crm.projects.models import Project

    login(client, username)
    assert client.get("/projects/new").status_code == 403
    assert client.post("/projects/new", data=valid_project(world.park_a.id)).status_code == 403
    assert count(app, Project) == 3
    assert "登记项目" not in client.get("/projects/").get_data(as_text=True)


_LONG_CODE = make_project_code("2411", "320613", "89", "01", "12345")
_BAD_CHECK = _LONG_CODE[:-1] + str((int(_LONG_CODE[-1]) + 1) % 10)


@pytest.mark.parametrize("field,value,message", [
    ("name", "", "必填"),
    ("name", "   ", "必填"),
    ("name", "项" * 201, "200"),
    ("investor_name", "", "必填"),
    ("investor_name", "x" * 201, "200"),
    ("investment", "", "必填"),
    ("investment", "-5", "1亿元（10000万元）及以上"),
    ("investment", "9999", "1亿元（10000万元）及以上"),
    ("investment", "0", "1亿元（10000万元）及以上"),
    ("investment", "100000000", "1万亿元"),
    ("investment", "99999999999999999999", "1万亿元"),
    ("investment", "1.5亿", "整数"),
    ("investment", "12000.5", "整数"),
    ("investor_credit_code", "9132061", "18位"),
    ("investor_credit_code", "91320613MA1M1234IX", "不含I、O、Z、S、V"),
    ("investor_credit_code", CREDIT_CODE + ("0" if make_credit_code(CREDIT_CODE)[-1] != "0" else "1"), "校验码"),
    ("code", "2411-320613-89-01-12345", "4-6-2-2-6"),
    ("code", "2411320613890112345X", "4-6-2-2-6"),
    ("code", "ABCD-320613-89-01-123456", "4-6-2-2-6"),
    ("code", "2099-320613-89-01-123456", "2020年11月以后"),
    ("code", "2411-320613-89-01-1234567890", "24"),
    ("industry", "mining", "不是有效的选择"),
    ("park", "abc", ""),
    ("stage", "finished", "不是有效的选择"),
    ("approval_mode", "auto", "不是有效的选择"),
    ("eia_category", "none", "不是有效的选择"),
    ("contact_name", "王" * 51, "50"),
    ("contact_phone", "call me", "电话号码"),
    ("contact_phone", "1" * 31, "30"),
    ("contact_phone", "1-2", "电话号码"),
    ("signed_on", "2026-13-45", "日期"),
    ("signed_on", "2999-01-01", "不能晚于今天"),
    ("signed_on", "1900-01-01", "1990-01-01"),
    ("expected_start_on", "2024-01-01", "不能早于签约日期"),
    ("description", "简" * 2001, "2000"),
])
def test_bad_input_is_refused_next_to_the_field(app, client, world, field, value, message):
    from crm.audit.models import AuditEvent
    from crm.projects.models import Project

    login(client, "manager_a")
    audits = count(app, AuditEvent)
    response = client.post("/projects/new", data=valid_project(world.park_a.id, **{field: value}))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    errors = field_errors(html, field)
    assert errors, f"no message next to {field}"
    assert message in errors
    assert count(app, Project) == 3 and count(app, AuditEvent) == audits


def test_a_park_outside_the_scope_cannot_be_chosen(app, client, world):
    from crm.projects.models import Project

    login(client, "manager_a")
    response = client.post("/projects/new", data=valid_project(world.park_b.id))
    assert "不是有效的选择" in field_errors(response.get_data(as_text=True), "park")
    assert count(app, Project) == 3
    assert world.park_b.name not in client.get("/projects/new").get_data(as_text=True)


def test_a_failed_check_digit_is_a_warning_the_user_can_override(app, client, world):
    from crm.extensions import db
    from crm.projects.models import Project

    login(client, "manager_a")
    html = client.post("/projects/new", data=valid_project(world.park_a.id, code=_BAD_CHECK)).get_data(as_text=True)
    assert 'data-testid="code-warning"' in html and f"应为{_LONG_CODE[-1]}" in html
    assert field_errors(html, "code") == ""  # a warning, not an error
    assert count(app, Project) == 3
    response = client.post("/projects/new", data=valid_project(
        world.park_a.id, code=_BAD_CHECK, accept_code_warning="y"))
    assert response.status_code == 302
    with app.app_context():
        project_id, code = db.session.execute(select(Project.id, Project.code).where(
            Project.name == "南通智能装备产业园项目")).one()
        assert code == _BAD_CHECK
    # Once saved, the code is not questioned again on later edits.
    response = client.post(f"/projects/{project_id}/edit",
                           data=_edit_data(app, project_id, code=_BAD_CHECK, investment="16000"))
    assert response.status_code == 302 and _project(app, project_id).investment == 16000


def test_a_project_code_belongs_to_one_project(app, client, world):
    from crm.extensions import db
    from crm.projects.models import Project

    with app.app_context():
        db.session.get(Project, world.projects["b1"].id).code = _LONG_CODE
        db.session.commit()
    login(client, "manager_a")  # b1 is not in manager_a's parks: the message names no project
    html = client.post("/projects/new", data=valid_project(world.park_a.id)).get_data(as_text=True)
    assert field_errors(html, "code") == "该项目代码已被其他项目使用。"
    assert count(app, Project) == 3
    html = client.post(f"/projects/{world.projects['a1'].id}/edit",
                       data=_edit_data(app, world.projects["a1"].id, code=_LONG_CODE)).get_data(as_text=True)
    assert "已被其他项目使用" in field_errors(html, "code")
    assert _project(app, world.projects["a1"].id).code is None


def test_user_text_is_escaped(app, client, world):
    login(client, "manager_a")
    script = '<script>alert("x")</script>'
    response = client.post("/projects/new", data=valid_project(
        world.park_a.id, name=f"{script}项目", description=f"<b>粗体</b>{script}"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert script not in page and "<b>粗体</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;项目" in page


# -- edit ----------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["manager_a", "admin", "consultant_a"])
def test_editors_save_changes_with_the_current_version(app, client, world, username):
    from crm.audit.models import AuditEvent
    from crm.extensions import db

    pid = world.projects["a1"].id
    login(client, username)
    assert client.get(f"/projects/{pid}/edit").status_code == 200
    response = client.post(f"/projects/{pid}/edit", data=_edit_data(app, pid, investment="45000"))
    assert response.status_code == 302
    project = _project(app, pid)
    assert project.investment == 45000 and project.version == 2
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "projects", AuditEvent.action == "update")).one()
        assert event.changes["investment"] == [20000, 45000]


def test_consultants_do_not_set_the_status(app, client, world):
    pid = world.projects["a1"].id
    login(client, "consultant_a")
    assert 'name="status"' not in client.get(f"/projects/{pid}/edit").get_data(as_text=True)
    client.post(f"/projects/{pid}/edit", data=_edit_data(app, pid, status="dropped"))
    assert _project(app, pid).status == "active"


@pytest.mark.parametrize("username,project,status", [
    ("agent_a", "a1", 403), ("leader", "a1", 403), ("consultant_a", "a2", 404),
    ("manager_b", "a1", 404), ("agent_b", "a1", 404),
])
def test_who_may_not_edit(app, client, world, username, project, status):
    pid = world.projects[project].id
    login(client, username)
    assert client.get(f"/projects/{pid}/edit").status_code == status
    assert client.post(f"/projects/{pid}/edit", data=_edit_data(app, pid, investment="45000")).status_code == status
    assert _project(app, pid).investment == 20000


def test_unknown_projects_are_404(client, world):
    login(client, "admin")
    for path in ("/projects/999999", "/projects/999999/edit", "/projects/999999/log.xlsx"):
        assert client.get(path).status_code == 404
    assert client.post("/projects/999999/stage", data={"stage": "land", "reason": "x"}).status_code == 404


@pytest.mark.parametrize("version", ["1", None, "", "abc", "-1"])
def test_a_stale_form_is_answered_with_the_current_values(app, client, world, version):
    from crm.extensions import db
    from crm.projects.models import Project

    pid = world.projects["a1"].id
    if version == "1":  # someone else saved in the meantime: the project is at version 2
        with app.app_context():
            db.session.get(Project, pid).contact_name = "周建华"
            db.session.commit()
    login(client, "manager_a")
    data = _edit_data(app, pid, investment="45000", contact_name="李四", version=version)
    if version is None:
        data.pop("version")
    response = client.post(f"/projects/{pid}/edit", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="conflict"' in html and "已被他人修改" in html
    current = _project(app, pid)
    assert current.investment == 20000  # nothing of the stale form was saved
    assert f'name="version" type="hidden" value="{current.version}"' in html
    assert "45000" in html  # the user's value is listed beside the current one


def test_a_change_committed_during_the_request_is_a_conflict_too(app, world):
    """The version check of the UPDATE itself: another transaction commits between load and
    flush."""
    from crm.extensions import db
    from crm.projects import services
    from crm.projects.models import Project

    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        loaded_version = project.version
        db.session().expire_on_commit = False
        db.session.commit()  # end the read transaction, keep the loaded state
        with db.engine.begin() as other:
            other.execute(text("UPDATE projects SET version = version + 1, contact_name = 'x' "
                               "WHERE id = :id"), {"id": project.id})
        from crm.errors import Conflict

        with pytest.raises(Conflict):
            services.update_project(project, {"investment": 45000}, expected_version=loaded_version)
        db.session.rollback()
        assert db.session.get(Project, project.id).investment == 20000


# -- stage ---------------------------------------------------------------------------------

def test_a_manager_changes_the_stage_with_a_reason(app, client, world):
    from crm.audit.models import AuditEvent
    from crm.extensions import db
    from crm.projects.models import StageChange

    pid = world.projects["a2"].id
    login(client, "manager_a")
    response = client.post(f"/projects/{pid}/stage", data={"stage": "filing", "reason": "备案已完成", "version": "1"})
    assert response.status_code == 302
    assert _project(app, pid).stage == "filing"
    with app.app_context():
        change = db.session.scalars(select(StageChange).where(StageChange.project_id == pid)).one()
        assert (change.from_stage, change.to_stage, change.reason) == ("signed", "filing", "备案已完成")
        assert db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "projects", AuditEvent.entity_id == pid,
            AuditEvent.action != "create")).all() == ["project.stage"]
    page = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert "手动变更阶段" in page and "备案已完成" in page and "签约 → 立项" in page


@pytest.mark.parametrize("data,field,message", [
    ({"stage": "filing", "reason": ""}, "reason", "必填"),
    ({"stage": "filing", "reason": "   "}, "reason", "必填"),
    ({"stage": "filing", "reason": "理" * 1001}, "reason", "1000"),
    ({"stage": "signed", "reason": "重复"}, "stage", "已处于该阶段"),
    ({"stage": "done", "reason": "未知阶段"}, "stage", "不是有效的选择"),
    ({"stage": "filing", "reason": "过期表单", "version": "0"}, "stage", "已被他人修改"),
])
def test_bad_stage_changes_are_refused(app, client, world, data, field, message):
    pid = world.projects["a2"].id
    login(client, "manager_a")
    response = client.post(f"/projects/{pid}/stage", data={"version": "1", **data})
    assert response.status_code == 200
    assert message in field_errors(response.get_data(as_text=True), field)
    assert _project(app, pid).stage == "signed"


@pytest.mark.parametrize("username,status", [("consultant_a", 403), ("agent_a", 403), ("leader", 403), ("manager_b", 404)])
def test_only_managers_and_admins_move_stages(app, client, world, username, status):
    pid = world.projects["a1"].id
    login(client, username)
    assert client.post(f"/projects/{pid}/stage", data={"stage": "planning", "reason": "x", "version": "1"}).status_code == status
    assert _project(app, pid).stage == "land"
