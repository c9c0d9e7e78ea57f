"""Loading a year's schedule (file import: page and command; back-office overrides) recomputes
every open deadline; finished milestones keep their outcome; bad files save nothing."""

import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import _create_app, csrf_token_from, login

D = dt.date
TODAY = D(2026, 12, 28)
SCHEDULE_2027 = """# 2027 (test data in the State Council's format)
2027-01-01 休 元旦
2027-01-09 班 调休
2027-02-06 班
2027-02-08 休
2027-02-09 休

2027-02-20 班
"""



def _open_milestones(db_session, world):
    """A running milestone whose deadline reaches into 2027, a paused one, and a finished one."""
    from crm.milestones.services import lifecycle
    from crm.projects.models import Project

    project = db_session.get(Project, world.projects["b1"].id)
    running = factories.milestone(project, limit_value=20)
    paused = factories.milestone(project, limit_value=20)
    finished = factories.milestone(project, limit_value=3)
    lifecycle.start(running, accepted_on=D(2026, 12, 20), today=TODAY, parallel_reason="测试：并联办理")
    lifecycle.start(paused, accepted_on=D(2026, 12, 21), today=TODAY, parallel_reason="测试：并联办理")
    lifecycle.pause(paused, paused_on=D(2026, 12, 28), reason_code="expert_review", today=TODAY)
    lifecycle.start(finished, accepted_on=D(2026, 12, 20), today=TODAY, parallel_reason="测试：并联办理")
    lifecycle.complete(finished, completed_on=D(2026, 12, 24), today=TODAY)
    db_session.commit()
    return running, paused, finished


def test_parse_names_every_bad_line_and_saves_nothing(db_session, world):
    from crm.errors import DomainError as ScheduleFileError
    from crm.milestones.services.schedules import import_schedule, parse_schedule
    from crm.milestones.models import CalendarOverride, CalendarYear

    text = "2027-01-01 休\n2027-13-01 休\n2027-01-04 放假\n2026-12-31 休\n2027-01-01 班\nhello\n2027-02-06\n"
    with pytest.raises(ScheduleFileError) as info:
        import_schedule(text, 2027)
    messages = [str(e) for e in info.value.messages]
    # Every bad line is named, by its number (the first number in each message).
    assert [int(re.search(r"\d+", m).group()) for m in messages] == [2, 3, 4, 5, 6, 7], messages
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(CalendarOverride)) == 0
    assert db_session.scalar(select(func.count()).select_from(CalendarYear)) == 0
    with pytest.raises(ScheduleFileError):
        import_schedule("# nothing\n\n", 2027)
    lenient = "\ufeff2027/1/1 休 元旦\n2027年2月6日　班（调休）\n2027-02-08,休\n"
    assert parse_schedule(lenient, 2027) == {D(2027, 1, 1): False, D(2027, 2, 6): True,
                                             D(2027, 2, 8): False}


def test_import_publishes_the_year_and_recomputes_open_deadlines_only(db_session, world):
    from crm.audit.models import AuditEvent
    from crm.milestones.services.schedules import import_schedule
    from crm.milestones.models import CalendarOverride
    from crm.milestones.queries import work_calendar

    running, paused, finished = _open_milestones(db_session, world)
    # Provisional: Monday-Friday without the statutory holidays (01-01 is one).
    assert (running.due_on, running.due_provisional) == (D(2027, 1, 18), True)
    paused_before = paused.remaining_workdays
    assert paused.due_provisional
    finished_facts = (finished.due_on, finished.outcome, finished.workdays_used)
    result = import_schedule(SCHEDULE_2027, 2027, actor_id=world.users["admin"].id,
                             source="2027.txt")
    db_session.commit()
    assert (result.days_off, result.working_days, result.removed) == (3, 3, 0)
    assert (result.recompute.open, result.recompute.changed) == (2, 2)
    db_session.refresh(running)
    db_session.refresh(paused)
    db_session.refresh(finished)
    # The notice adds a make-up Saturday (01-09): one working day sooner, and settled.
    assert (running.due_on, running.due_provisional) == (D(2027, 1, 15), False)
    assert paused.remaining_workdays == paused_before and not paused.due_provisional
    assert (finished.due_on, finished.outcome, finished.workdays_used) == finished_facts
    # The project's consultant and lead agent are told its deadline moved (in-app here).
    from crm.notifications.models import Notification

    told = db_session.execute(select(Notification.user_id, Notification.params).where(
        Notification.kind == "deadlines_moved")).all()
    assert [uid for uid, _ in told] == [world.users["agent_b"].id]  # (the consultant has no login)
    assert {params["count"] for _, params in told} == {1}
    calendar = work_calendar()
    assert not calendar.is_workday(D(2027, 1, 1)) and calendar.is_workday(D(2027, 2, 6))
    assert not calendar.is_provisional(D(2027, 6, 1))
    assert db_session.scalar(select(AuditEvent.note).where(
        AuditEvent.action == "milestone.recompute", AuditEvent.entity_id == running.id)) == \
        "2027-01-18 -> 2027-01-15"
    # Loading a corrected file replaces the year's overrides.
    result = import_schedule("2027-01-01 休\n", 2027)
    db_session.commit()
    assert result.removed == 5
    assert db_session.scalar(select(func.count()).select_from(CalendarOverride)) == 1
    assert result.recompute.changed == 1  # without the make-up Saturday: back to 01-18


def test_import_page_is_for_admins_with_errors_next_to_the_file(app, client, world):
    from crm.extensions import db
    from crm.milestones.models import CalendarYear

    login(client, "manager_a")
    assert client.get("/milestones/calendar/import").status_code == 403
    client.post("/logout")
    login(client, "admin")
    assert "/milestones/calendar/import" in client.get("/admin/").get_data(as_text=True)  # menu
    page = client.get("/milestones/calendar/import").get_data(as_text=True)
    assert "2004" in page and 'type="file"' in page
    bad = client.post("/milestones/calendar/import", data={
        "year": "2027", "file": (io.BytesIO("2027-01-01 休\n2027-02-30 班\n".encode()), "2027.txt")},
        content_type="multipart/form-data")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "is-invalid" in html and "2027-02-30" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CalendarYear)) == 0
    gbk = "2027-01-01 休\n2027-02-06 班\n".encode("gb18030")
    ok = client.post("/milestones/calendar/import", data={
        "year": "2027", "file": (io.BytesIO(gbk), "2027.txt")}, content_type="multipart/form-data")
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.get(CalendarYear, 2027).loaded_by_id == world.users["admin"].id
    assert "2027" in client.get("/milestones/calendar/import").get_data(as_text=True)


def test_import_command_loads_or_refuses_with_line_numbers(app, world, tmp_path):
    from crm.extensions import db
    from crm.milestones.models import CalendarOverride

    good = tmp_path / "2027.txt"
    good.write_text(SCHEDULE_2027, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_text("2027-01-01 休\n2027-01-02 X\n", encoding="utf-8")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["crm", "calendar-import", str(bad), "--year", "2027"])
    assert refused.exit_code != 0 and "nothing saved" in refused.output and "2" in refused.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CalendarOverride)) == 0
    loaded = runner.invoke(args=["crm", "calendar-import", str(good), "--year", "2027"])
    assert loaded.exit_code == 0, loaded.output
    assert "3 days off, 3 working days" in loaded.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CalendarOverride)) == 6


def test_back_office_overrides_recompute_running_deadlines(app_config, tmp_path, world, app):
    from crm.extensions import db
    from crm.milestones.models import Milestone

    with app.app_context():
        running, _, finished = _open_milestones(db.session, world)
        running_id, finished_id = running.id, finished.id
        finished_due = finished.due_on
    csrf_app = _create_app(dict(app_config, WTF_CSRF_ENABLED=True), tmp_path)
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "admin", "password": factories.PASSWORD,
                                "csrf_token": token})

    def save(url, **data):
        token = csrf_token_from(client.get(url).get_data(as_text=True))
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 302

    def running_due():
        with csrf_app.app_context():
            return db.session.get(Milestone, running_id).due_on

    assert running_due() == D(2027, 1, 18)  # provisional: 01-01 is a statutory holiday
    save("/admin/admin_calendar/new/", day="2027-01-04", is_workday="", note="临时调整")
    assert running_due() == D(2027, 1, 19)
    with csrf_app.app_context():
        assert db.session.get(Milestone, finished_id).due_on == finished_due
    # Back to a working day: the same row, so only its updated_at changes.
    save("/admin/admin_calendar/edit/?id=2027-01-04", day="2027-01-04", is_workday="y", note="恢复")
    assert running_due() == D(2027, 1, 18)
    save("/admin/admin_calendar/new/", day="2027-01-05", is_workday="")
    assert running_due() == D(2027, 1, 19)
    save("/admin/admin_calendar/delete/?id=2027-01-05", id="2027-01-05")  # token from the list
    assert running_due() == D(2027, 1, 18)


def test_the_cached_calendar_notices_an_edited_override(db_session):
    """An edit keeps the row count and creation time: the cache key must still change."""
    from crm.milestones.models import CalendarOverride
    from crm.milestones.queries import work_calendar

    db_session.add(CalendarOverride(day=D(2027, 3, 1), is_workday=False))
    db_session.commit()
    assert not work_calendar().is_workday(D(2027, 3, 1))
    db_session.get(CalendarOverride, D(2027, 3, 1)).is_workday = True
    db_session.commit()
    assert work_calendar().is_workday(D(2027, 3, 1))
    db_session.delete(db_session.get(CalendarOverride, D(2027, 3, 1)))
    db_session.add(CalendarOverride(day=D(2027, 3, 2), is_workday=False))
    db_session.commit()
    calendar = work_calendar()
    assert calendar.is_workday(D(2027, 3, 1)) and not calendar.is_workday(D(2027, 3, 2))
