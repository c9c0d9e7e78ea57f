"""Spreadsheet imports (issue 15): a park's ledger and roster in, through the same forms and
services as the pages; dry run, commit, failed rows, revert; bad files; the API and the CLI.

The jobs are the real job functions, called as the worker calls them; one test runs a real
RQ worker process over Redis."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.conftest import csrf_token_from, login  # noqa: F401
from tests.integration.imports_support import (
    BAD_ROWS, PROJECT_HEADERS, ledger, project_row, read_back, save, with_cached_formula,
)
from tests.integration.pdf_support import redis_db, run_burst_worker  # noqa: F401  (fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _count(model):
    from crm.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


def _upload(client, data: bytes, filename="台账.xlsx", **fields):
    form = {"kind": "projects", "mode": "upsert", "saved_mapping": "", **fields,
            "file": (io.BytesIO(data), filename)}
    return client.post("/imports", data=form, content_type="multipart/form-data")


def _batch_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _run_job(app, name: str, batch_id: int):
    from crm.imports import jobs

    with app.app_context():
        return getattr(jobs, name)(batch_id)


def _mapping_values(app, batch_id: int) -> dict:
    from crm.extensions import db
    from crm.imports.models import ImportBatch

    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        return {f"{sheet}.{field}": header for sheet, fields in batch.mapping.items()
                for field, header in fields.items()}


def _check(app, client, batch_id: int, **extra):
    response = client.post(f"/imports/{batch_id}/check",
                           data={**_mapping_values(app, batch_id), "save_as": "", **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return _run_job(app, "check_batch", batch_id)


def _batch(app, batch_id: int):
    from crm.extensions import db
    from crm.imports.models import ImportBatch

    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        batch.errors  # noqa: B018 - load the deferred column before detaching
        db.session.expunge(batch)
        return batch


def _snapshot(app, park_id: int) -> dict:
    """What a park looks like: its projects (name, investment, stage) and its milestones'
    deadlines, assignments and notifications."""
    from crm.agents.models import Assignment
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.notifications.models import Notification
    from crm.projects.models import Project

    with app.app_context():
        projects = db.session.execute(select(Project.id, Project.name, Project.investment,
                                             Project.stage, Project.contact_name)
                                      .where(Project.park_id == park_id).order_by(Project.id)).all()
        milestones = db.session.execute(select(Milestone.id, Milestone.status, Milestone.due_on)
                                        .where(Milestone.park_id == park_id)
                                        .order_by(Milestone.id)).all()
        return {"projects": [tuple(r) for r in projects],
                "milestones": [tuple(r) for r in milestones],
                "assignments": _count(Assignment), "notifications": _count(Notification)}


def test_template_has_headers_lists_and_an_example_that_maps_itself(app, world, login_as):
    client = login_as("manager_a")
    response = client.get("/imports/templates/projects.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    sheets = read_back(response.data)
    assert sheets["项目"][0][:3] == ["所属园区", "项目名称", "投资主体"]
    assert sheets["项目"][1][0] == "南通经济技术开发区"  # the manager's park as the example
    assert "审批事项" in sheets["审批进度"][0] and "受理日期" in sheets["审批进度"][0]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.data))
    assert book["选项"].sheet_state == "hidden"
    validations = {str(v.sqref): v.formula1 for v in book["项目"].data_validations.dataValidation}
    assert any("选项" in f for f in validations.values()) and len(validations) >= 6
    parks = [c.value for c in book["选项"]["A"]][1:]  # lists sorted by field: "approval_mode"...
    assert "海安经济技术开发区" not in str([c.value for row in book["选项"].iter_rows() for c in row])
    assert parks  # the lists are filled
    # Upload the template as downloaded: every column is recognised, the example row passes.
    batch_id = _batch_id(_upload(client, response.data, "项目台账模板.xlsx", park=str(world.park_a.id)))
    batch = _batch(app, batch_id)
    assert set(batch.mapping["projects"]) >= {"park", "name", "investor_name", "investment_wan",
                                              "industry", "stage", "signed_on"}
    _check(app, client, batch_id)
    # The example project, and its example filing on the progress sheet.
    assert _batch(app, batch_id).counts == {"new": 2, "update": 0, "unchanged": 0, "error": 0}


def test_dry_run_writes_nothing_then_commit_failed_rows_and_revert(app, world, login_as):
    from crm.audit.models import AuditEvent
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.projects.models import Project

    client = login_as("manager_a")
    before = _snapshot(app, world.park_a.id)
    with app.app_context():
        events_before = _count(AuditEvent)
    data = ledger(world.park_a.name, world.park_b.name)
    batch_id = _batch_id(_upload(client, data))
    _check(app, client, batch_id)
    checked = _batch(app, batch_id)
    assert checked.status == "checked"
    # 6 good project rows + 2 progress rows (each starts a pending approval); 5 bad rows.
    assert checked.counts == {"new": 8, "update": 0, "unchanged": 0, "error": BAD_ROWS}
    problems = {(e["row"], e["column"]) for e in checked.errors}
    assert problems == {(8, "总投资（亿元）"), (9, "项目名称"), (10, "所属园区"), (11, "签约日期"),
                        (12, "项目名称")}
    assert _snapshot(app, world.park_a.id) == before
    with app.app_context():
        assert _count(AuditEvent) == events_before  # the dry run left no trace
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "&lt;b&gt;" not in page or "<b>标记" not in page
    assert "不是您负责的园区" in page and "与本文件第 2 行是同一记录" in page

    # Commit: the good rows, through the services (plan, staff, deadlines).
    token = csrf_token_from(page)  # noqa: F841  (CSRF is off in these tests)
    assert client.post(f"/imports/{batch_id}/commit").status_code == 302
    assert _batch(app, batch_id).status == "committing"
    _run_job(app, "commit_batch", batch_id)
    done = _batch(app, batch_id)
    assert done.status == "committed" and done.counts == checked.counts
    with app.app_context():
        created = db.session.scalars(select(Project).where(Project.name.like("导入项目%"))).all()
        assert len(created) == 6
        first = next(p for p in created if p.name == "导入项目00")
        assert first.investment == 20000 and first.industry == "new_materials"
        assert first.eia_category == "report_form" and first.stage != "negotiating"
        assert {a.role for a in first.assignments if a.ended_at is None} == {"consultant", "lead_agent"}
        filing = db.session.scalar(select(Milestone).where(
            Milestone.project_id == first.id, Milestone.name == "项目备案"))
        assert filing.status == "done" and filing.approval_doc_no == "通行审备〔2025〕1号"
        assert filing.due_on is not None and filing.workdays_used == 2  # Fri 6, Mon 9 June
        second = db.session.scalar(select(Milestone).join(Project).where(
            Project.name == "导入项目01", Milestone.name == "项目备案"))
        assert second.status == "running" and len(second.pauses) == 1
        assert second.pauses[0].reason_code == "supplement" and second.due_on is not None
        tagged = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.import_batch_id == batch_id))
        assert tagged > 6

    # The failed rows, as uploaded, with what is wrong with each.
    response = client.get(f"/imports/{batch_id}/failed.xlsx")
    assert response.status_code == 200
    rows = read_back(response.data)["项目"]
    assert rows[0] == PROJECT_HEADERS + ["错误说明"]
    assert [r[1] for r in rows[1:]] == ["投资不足项目", "<b>标记</b>项目", "别的园区项目",
                                        "未来签约项目", "导入项目00"]
    assert all(r[-1] for r in rows[1:]) and "1亿元" in rows[1][-1]

    # Revert: the park is as before.
    response = client.post(f"/imports/{batch_id}/revert")
    assert response.status_code == 302
    assert _batch(app, batch_id).status == "reverted"
    after = _snapshot(app, world.park_a.id)
    assert after["projects"] == before["projects"] and after["milestones"] == before["milestones"]
    assert after["assignments"] == before["assignments"]
    assert client.post(f"/imports/{batch_id}/revert").status_code == 409  # once


def test_update_mode_changes_fields_and_revert_restores_them(app, world, login_as):
    from crm.extensions import db
    from crm.projects.models import Project

    client = login_as("manager_a")
    with app.app_context():
        project = db.session.get(Project, world.projects["a2"].id)
        name, investor, investment = project.name, project.investor_name, project.investment
    book = Workbook()
    book.active.append(["项目名称", "投资主体", "总投资（万元）", "企业联系人"])
    book.active.append([name, investor, investment + 5000, "周经理"])
    book.active.append(["不存在的项目", "某公司", 30000, None])
    batch_id = _batch_id(_upload(client, save(book), mode="update", park=str(world.park_a.id)))
    _check(app, client, batch_id)
    assert _batch(app, batch_id).counts == {"new": 0, "update": 1, "unchanged": 0, "error": 1}
    client.post(f"/imports/{batch_id}/commit")
    _run_job(app, "commit_batch", batch_id)
    with app.app_context():
        project = db.session.get(Project, world.projects["a2"].id)
        assert (project.investment, project.contact_name) == (investment + 5000, "周经理")
    # The same file again: unchanged.
    again = _batch_id(_upload(client, save(book), mode="update", park=str(world.park_a.id)))
    _check(app, client, again)
    assert _batch(app, again).counts["unchanged"] == 1
    client.post(f"/imports/{batch_id}/revert")
    with app.app_context():
        project = db.session.get(Project, world.projects["a2"].id)
        assert (project.investment, project.contact_name) == (investment, None)


def _import_one_project(app, client, world, name: str) -> int:
    """Upload, check and import a ledger of one project; returns the batch id."""
    book = Workbook()
    book.active.append(PROJECT_HEADERS)
    book.active.append(project_row(world.park_a.name, name))
    batch_id = _batch_id(_upload(client, save(book)))
    _check(app, client, batch_id)
    client.post(f"/imports/{batch_id}/commit")
    _run_job(app, "commit_batch", batch_id)
    return batch_id


def test_a_later_change_blocks_the_revert_and_is_listed(app, world, login_as):
    from crm.extensions import db
    from crm.projects.models import Project
    from crm.projects.services import update_project
    from crm.transaction import transaction

    client = login_as("manager_a")
    batch_id = _import_one_project(app, client, world, "后来被改的项目")
    with app.test_request_context():
        project = db.session.scalar(select(Project).where(Project.name == "后来被改的项目"))
        with transaction():
            update_project(project, {"contact_name": "后来的人"}, expected_version=project.version)
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert 'data-testid="revert-blocked"' in page and 'data-testid="revert"' not in page
    assert client.post(f"/imports/{batch_id}/revert").status_code == 409
    with app.app_context():
        assert db.session.scalar(select(Project).where(Project.name == "后来被改的项目")) is not None


def test_create_only_refuses_existing_and_csv_in_gb18030_with_english_headers(app, world, login_as):
    from crm.extensions import db
    from crm.projects.models import Project

    client = login_as("manager_a")
    with app.app_context():
        existing = db.session.get(Project, world.projects["a1"].id)
        existing_row = [existing.name, existing.investor_name, "3"]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["Project name", "Investor", "Investment (100 million yuan)", "Industry",
                     "Stage", "Approval mode", "EIA category"])
    writer.writerow(["如东海上风电配套项目", "如东风电有限公司", "12.5", "新能源", "洽谈", "核准", "报告书"])
    writer.writerow(existing_row + ["新能源", "洽谈", "备案", "报告表"])
    batch_id = _batch_id(_upload(client, text.getvalue().encode("gb18030"), "ledger.csv",
                                 mode="create", park=str(world.park_a.id)))
    _check(app, client, batch_id)
    batch = _batch(app, batch_id)
    assert batch.counts == {"new": 1, "update": 0, "unchanged": 0, "error": 1}
    assert "新增并更新" in batch.errors[0]["message"]
    client.post(f"/imports/{batch_id}/commit")
    _run_job(app, "commit_batch", batch_id)
    with app.app_context():
        created = db.session.scalar(select(Project).where(Project.name == "如东海上风电配套项目"))
        assert created.investment == 125000 and created.approval_mode == "verification"
        assert created.eia_category == "report_book" and created.park_id == world.park_a.id


def test_formulas_are_read_as_their_cached_values_never_evaluated(app, world, login_as):
    client = login_as("manager_a")
    book = Workbook()
    book.active.append(["项目名称", "投资主体", "总投资（万元）", "产业类别", "审批方式", "环评类别"])
    book.active.append(["公式项目", "公式公司", 1, "新能源", "备案", "报告表"])
    data = with_cached_formula(save(book), "C2", "WEBSERVICE(&quot;http://x&quot;)*0+30000", 30000)
    batch_id = _batch_id(_upload(client, data, park=str(world.park_a.id)))
    _check(app, client, batch_id)
    assert _batch(app, batch_id).counts["new"] == 1  # 30000 万元, as Excel last computed it


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (400 * 1024 * 1024))
    return out.getvalue()


def _macro_book() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(save(Workbook())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            archive.writestr(item, source.read(item.filename))
        archive.writestr("xl/vbaProject.bin", b"macro")
    return out.getvalue()


@pytest.mark.parametrize("label, data, filename, message", [
    ("not a spreadsheet", b"%PDF-1.4 not a ledger", "ledger.pdf", "这不是表格文件"),
    ("old .xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "ledger.xls", ".xls"),
    ("macros", None, "ledger.xlsm", "宏"),
    ("zip bomb", None, "bomb.xlsx", "解压后"),
    ("empty", b"", "ledger.xlsx", "文件是空的"),
    ("damaged", b"PK\x03\x04broken", "ledger.xlsx", "已损坏"),
    ("too many rows", None, "big.csv", "超过 50000 行"),
])
def test_bad_files_are_refused_with_a_message_and_nothing_is_kept(app, world, login_as, label,
                                                                 data, filename, message):
    from crm.extensions import db
    from crm.imports.models import ImportBatch

    if label == "macros":
        data = _macro_book()
    elif label == "zip bomb":
        data = _zip_bomb()
    elif label == "too many rows":
        data = ("项目名称\n" + "项目\n" * 50_001).encode()
    client = login_as("manager_a")
    response = _upload(client, data, filename, park=str(world.park_a.id))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_upload_over_the_size_limit_is_413(app, world, login_as):
    app.config["IMPORT_MAX_BYTES"] = 50_000
    client = login_as("manager_a")
    response = _upload(client, b"x" * 60_000, "big.csv", park=str(world.park_a.id))
    assert response.status_code == 413


def test_only_managers_and_admins_import_and_only_into_their_parks(app, world, login_as):
    for username in ("agent_a", "consultant_a", "leader"):
        client = login(app.test_client(), username) and None
        client = app.test_client()
        login(client, username)
        assert client.get("/imports").status_code == 403
        assert client.post("/imports", data={}).status_code == 403
    client = login_as("manager_a")
    book = Workbook()
    book.active.append(PROJECT_HEADERS)
    book.active.append(project_row(world.park_b.name, "越权导入项目"))
    batch_id = _batch_id(_upload(client, save(book)))
    _check(app, client, batch_id)
    assert _batch(app, batch_id).errors[0]["message"] == "这不是您负责的园区。"
    other = app.test_client()
    login(other, "manager_b")
    assert other.get(f"/imports/{batch_id}").status_code == 404
    assert other.get(f"/imports/{batch_id}/failed.xlsx").status_code == 404


def test_mapping_is_adjusted_saved_and_offered_next_time(app, world, login_as):
    client = login_as("manager_a")
    book = Workbook()
    book.active.append(["工程名", "业主单位", "总投资（万元）", "产业类别", "审批方式", "环评类别"])
    book.active.append(["改列名项目", "列名公司", 50000, "新能源", "备案", "报告表"])
    batch_id = _batch_id(_upload(client, save(book), park=str(world.park_a.id)))
    assert "name" not in _batch(app, batch_id).mapping["projects"]
    response = client.post(f"/imports/{batch_id}/check", data={
        **_mapping_values(app, batch_id), "save_as": ""})
    assert response.status_code == 422 and "请选择“项目名称”所在的列" in response.get_data(as_text=True)
    response = client.post(f"/imports/{batch_id}/check", data={
        **_mapping_values(app, batch_id), "projects.name": "工程名",
        "projects.investor_name": "业主单位", "save_as": "老台账"})
    assert response.status_code == 302
    _run_job(app, "check_batch", batch_id)
    assert _batch(app, batch_id).counts["new"] == 1
    page = client.get("/imports").get_data(as_text=True)
    assert "老台账" in page
    from crm.extensions import db
    from crm.imports.models import ImportMapping

    with app.app_context():
        saved = db.session.scalar(select(ImportMapping))
    again = _batch_id(_upload(client, save(book), park=str(world.park_a.id),
                              saved_mapping=str(saved.id)))
    assert _batch(app, again).mapping["projects"]["name"] == "工程名"


def test_roster_rows_create_and_update_staff(app, world, login_as):
    from crm.agents.models import Staff
    from crm.extensions import db

    client = login_as("manager_a")
    book = Workbook()
    book.active.title = "人员"
    book.active.append(["姓名", "人员类别", "联系电话", "服务项目上限"])
    book.active.append(["赵新人", "代办员", "0513-85001234", 5])
    book.active.append([world.staff["agent_a"].name, "代办员", None, 9])
    book.active.append(["坏电话", "代办员", "abc", 5])
    batch_id = _batch_id(_upload(client, save(book), kind="roster", park=str(world.park_a.id)))
    _check(app, client, batch_id)
    assert _batch(app, batch_id).counts == {"new": 1, "update": 1, "unchanged": 0, "error": 1}
    client.post(f"/imports/{batch_id}/commit")
    _run_job(app, "commit_batch", batch_id)
    with app.app_context():
        new = db.session.scalar(select(Staff).where(Staff.name == "赵新人"))
        assert new.kind == "agent" and new.capacity == 5 and new.parks[0].id == world.park_a.id
        assert db.session.get(Staff, world.staff["agent_a"].id).capacity == 9
    client.post(f"/imports/{batch_id}/revert")
    with app.app_context():
        assert db.session.scalar(select(Staff).where(Staff.name == "赵新人")) is None
        assert db.session.get(Staff, world.staff["agent_a"].id).capacity == 6


def test_api_upload_status_commit_and_revert(app, world):
    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.extensions import db

    with app.app_context():
        _, secret = create_token(db.session.get(User, world.users["manager_a"].id), "import")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    data = ledger(world.park_a.name, world.park_b.name, progress=False)
    response = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), "ledger.xlsx"), "mode": "upsert"})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "checking" and response.headers["Location"] == body["status_url"]
    _run_job(app, "check_batch", body["id"])
    status = client.get(body["status_url"], headers=headers).get_json()
    assert status["status"] == "checked" and status["counts"]["error"] == BAD_ROWS
    assert {"sheet", "row", "column", "message"} <= set(status["errors"][0])
    assert client.post(f"/api/v1/imports/{body['id']}/commit", headers=headers).status_code == 202
    _run_job(app, "commit_batch", body["id"])
    assert client.get(body["status_url"], headers=headers).get_json()["status"] == "committed"
    response = client.post(f"/api/v1/imports/{body['id']}/revert", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "reverted"
    response = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"%PDF"), "x.pdf")})
    assert response.status_code == 422 and "file" in response.get_json()["error"]["fields"]


def test_cli_dry_run_and_import(app, world):
    from crm.extensions import db
    from crm.projects.models import Project

    path = app.instance_path + "/ledger.xlsx"
    with open(path, "wb") as out:
        out.write(ledger(world.park_a.name, world.park_b.name))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "import", path, "--user", "manager_a", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "8 new, 0 updated, 0 unchanged, 5 with errors" in result.output
    with app.app_context():
        assert db.session.scalar(select(Project).where(Project.name == "导入项目00")) is None
    result = runner.invoke(args=["crm", "import", path, "--user", "manager_a"])
    assert "imported: 8 new" in result.output
    with app.app_context():
        assert db.session.scalar(select(Project).where(Project.name == "导入项目00")) is not None
    result = runner.invoke(args=["crm", "import", path, "--user", "agent_a"])
    assert result.exit_code != 0 and "may import" in result.output


def test_a_real_worker_checks_and_imports_the_batch(app, world, login_as, redis_db):  # noqa: F811
    from crm.extensions import db
    from crm.projects.models import Project

    client = login_as("manager_a")
    batch_id = _batch_id(_upload(client, ledger(world.park_a.name, world.park_b.name)))
    client.post(f"/imports/{batch_id}/check", data={**_mapping_values(app, batch_id), "save_as": ""})
    run_burst_worker(app)
    assert _batch(app, batch_id).status == "checked"
    client.post(f"/imports/{batch_id}/commit")
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert 'data-testid="import-progress"' in page  # the progress bar while the job waits
    run_burst_worker(app)
    assert _batch(app, batch_id).status == "committed"
    assert redis_db.get(f"daiban:imports:{batch_id}:done") is None
    status = client.get(f"/imports/{batch_id}/status")
    assert status.headers.get("HX-Refresh") == "true"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Project).where(
            Project.name.like("导入项目%"))) == 6


def test_staff_named_in_the_file_replace_the_rule_and_unknown_names_are_refused(app, world,
                                                                                login_as):
    from crm.agents.models import Assignment
    from crm.extensions import db
    from crm.projects.models import Project

    client = login_as("manager_a")
    book = Workbook()
    book.active.append(PROJECT_HEADERS + ["首席审批服务专员", "项目代办员"])
    book.active.append(project_row(world.park_a.name, "指定人员项目")
                       + [world.staff["consultant_a"].name, world.staff["agent_a2"].name])
    book.active.append(project_row(world.park_a.name, "查无此人项目") + [None, "不存在的人"])
    batch_id = _batch_id(_upload(client, save(book)))
    _check(app, client, batch_id)
    batch = _batch(app, batch_id)
    assert batch.counts["new"] == 1 and batch.errors[0]["column"] == "项目代办员"
    client.post(f"/imports/{batch_id}/commit")
    _run_job(app, "commit_batch", batch_id)
    with app.app_context():
        project = db.session.scalar(select(Project).where(Project.name == "指定人员项目"))
        current = {a.role: a.staff_id for a in db.session.scalars(select(Assignment).where(
            Assignment.project_id == project.id, Assignment.ended_at.is_(None)))}
        assert current == {"consultant": world.staff["consultant_a"].id,
                           "lead_agent": world.staff["agent_a2"].id}


def test_fifty_thousand_rows_are_taken(app, world, login_as):
    client = login_as("manager_a")
    data = ("项目名称,投资主体\n" + "".join(f"项目{i},公司{i}\n" for i in range(50_000))).encode()
    batch_id = _batch_id(_upload(client, data, "big.csv", park=str(world.park_a.id)))
    assert _batch(app, batch_id).rows_total == 50_000


def test_a_progress_sheet_holds_more_rows_than_the_record_limit(app, world, login_as):
    """The 50,000-row limit counts records (projects, staff); a city's ledger of 10,000
    projects has some 80,000 approval-progress rows."""
    from crm.imports.reading import MAX_ROWS

    client = login_as("manager_a")
    data = ("项目名称,审批事项,受理日期\n" + "某项目,项目备案,2025-03-03\n" * (MAX_ROWS + 1)).encode()
    batch_id = _batch_id(_upload(client, data, "progress.csv", kind="progress",
                                 park=str(world.park_a.id)))
    assert _batch(app, batch_id).rows_total == MAX_ROWS + 1


def test_a_later_row_finding_a_project_registered_just_before_updates_it(app, world, login_as):
    """New projects are registered a chunk at a time; a later row that finds one of them (by
    credit code and name, the first row having given the project code) updates it, as one
    row after the other would, and its progress rows find it by code."""
    from crm.extensions import db
    from crm.milestones.models import Milestone
    from crm.projects.codes import make_credit_code, make_project_code
    from crm.projects.models import Project

    credit = make_credit_code("91320600MA1XY1234")  # 17 characters + the check character
    code = make_project_code("2503", "320612", "89", "03", "00042")
    client = login_as("manager_a")
    book = Workbook()
    sheet = book.active
    sheet.title = "项目"
    sheet.append(PROJECT_HEADERS + ["企业联系人"])
    sheet.append(project_row(world.park_a.name, "先登记后更新的项目", **{
        "统一社会信用代码": credit, "项目代码": code}) + [None])
    sheet.append(project_row(world.park_a.name, "先登记后更新的项目", investment_yi=3, **{
        "统一社会信用代码": credit}) + ["孙经理"])
    steps = book.create_sheet("审批进度")
    steps.append(["项目代码", "审批事项", "受理日期", "办结日期"])
    steps.append([code, "项目备案", "2025-06-05", "2025-06-09"])
    steps.append([code, "不存在的审批", "2025-06-05", None])
    batch_id = _batch_id(_upload(client, save(book)))
    _check(app, client, batch_id)
    checked = _batch(app, batch_id)
    assert checked.counts == {"new": 2, "update": 1, "unchanged": 0, "error": 1}
    assert [(e["sheet"], e["row"], e["column"]) for e in checked.errors] == [
        ("审批进度", 3, "审批事项")]
    client.post(f"/imports/{batch_id}/commit")
    _run_job(app, "commit_batch", batch_id)
    with app.app_context():
        project = db.session.scalar(select(Project).where(Project.code == code))
        assert (project.investment, project.contact_name) == (30000, "孙经理")
        assert project.stage != "signed"  # the filing done: the stage moved on
        filing = db.session.scalar(select(Milestone).where(
            Milestone.project_id == project.id, Milestone.name == "项目备案"))
        assert filing.status == "done" and filing.workdays_used == 2


def test_staff_taking_other_projects_afterwards_does_not_block_the_revert(app, world, login_as):
    """Who got an assignment last (the rule's tie-break) is bookkeeping: the batch's staff
    serving a new project the next day leaves the import revertible."""
    from crm.extensions import db
    from crm.projects.models import Project
    from crm.projects.services import create_project
    from crm.transaction import transaction

    client = login_as("manager_a")
    batch_id = _import_one_project(app, client, world, "先导入的项目")
    with app.test_request_context():
        with transaction():
            create_project({"name": "后来手工录入的项目", "investor_name": "手工公司",
                            "investment": 30000, "industry": "new_energy",
                            "approval_mode": "filing", "eia_category": "report_form",
                            "status": "active"},
                           park_id=world.park_a.id, stage="signed", actor_id=None)
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert 'data-testid="revert"' in page, "a later assignment of the same staff blocked it"
    assert client.post(f"/imports/{batch_id}/revert").status_code == 302
    with app.app_context():
        names = set(db.session.scalars(select(Project.name)))
        assert "先导入的项目" not in names and "后来手工录入的项目" in names
