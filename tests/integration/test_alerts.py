"""Alerts outside the app (issue 16): the transactional outbox, email over a real SMTP server,
the WeCom robot against a local HTTP receiver that can fail, quiet hours, working-day digests,
retries and dead letters, the escalation ladder, and the secrets kept secret."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import func, select, update

from tests import factories
from tests.conftest import login
from tests.integration.alert_receivers import RobotReceiver, SmtpReceiver

UTC = dt.UTC
ROBOT_KEY = "0a1b2c3d-4e5f-6789-abcd-secretrobot1"
ROBOT_URL = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ROBOT_KEY}"


@pytest.fixture
def smtp(app):
    with SmtpReceiver() as receiver:
        app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=receiver.port, MAIL_SECURITY="none",
                          MAIL_FROM="daiban@nantong.example")
        yield receiver


@pytest.fixture
def robot(app):
    with RobotReceiver() as receiver:
        app.config.update(WECOM_API_BASE=receiver.base, WECOM_TIMEOUT=2)
        yield receiver


def _deliveries(**where):
    from crm.extensions import db
    from crm.notifications.models import Delivery

    statement = select(Delivery).order_by(Delivery.id)
    for name, value in where.items():
        statement = statement.where(getattr(Delivery, name) == value)
    return db.session.scalars(statement).all()


def _release():
    """Make every waiting delivery due now (quiet hours are tested on their own)."""
    from crm.extensions import db
    from crm.notifications.models import Delivery

    db.session.execute(update(Delivery).where(Delivery.status.in_(["pending", "failed"]))
                       .values(next_attempt_at=dt.datetime(2000, 1, 1, tzinfo=UTC)))
    db.session.commit()


def _deliver():
    from crm.notifications.jobs import deliver_alerts

    return deliver_alerts()


def _email(world, name, address, **modes):
    from crm.auth.models import User
    from crm.extensions import db
    from crm.notifications import settings

    user = db.session.get(User, world.users[name].id)
    settings.save_preferences(user, address, modes)
    db.session.commit()
    return user


def _set_robot(park_id, kinds):
    from crm.extensions import db
    from crm.notifications import settings

    settings.save_robot(park_id, ROBOT_URL, kinds, actor_id=None)
    db.session.commit()


def test_alerts_are_written_in_the_transaction_of_their_change(app, world, smtp):
    from crm.extensions import db
    from crm.notifications.models import Delivery, Notification
    from crm.notifications.services import notify

    with app.app_context():
        _email(world, "agent_a", "agent.a@nantong.example", assigned="immediate")
        notify([world.users["agent_a"].id], "assigned", {"project": "回滚项目", "role": "代办员"})
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0
        notify([world.users["agent_a"].id], "assigned", {"project": "提交项目", "role": "代办员"})
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
        [delivery] = _deliveries()
        assert (delivery.channel, delivery.status, delivery.attempts) == ("email", "pending", 0)


def test_an_email_goes_out_once_in_chinese_with_its_key_and_escaped(app, world, smtp):
    from crm.notifications.services import notify

    with app.app_context():
        _email(world, "agent_a", "agent.a@nantong.example", assigned="immediate")
        notify([world.users["agent_a"].id], "assigned",
               {"project": "<script>alert(1)</script>项目", "role": "专职代办员"},
               link=f"/projects/{world.projects['a1'].id}")
        from crm.extensions import db
        db.session.commit()
        _release()
        assert _deliver() == {"sent": 1, "failed": 0}
        assert _deliver() == {"sent": 0, "failed": 0}  # nothing twice
        [delivery] = _deliveries()
        assert delivery.status == "sent" and delivery.sent_at is not None
    [message] = smtp.messages
    assert message["To"] == "agent.a@nantong.example"
    assert message["Message-ID"] == f"<{delivery.key}@daiban>"
    assert "代办" in message["Subject"] and "专职代办员" in message["Subject"]
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert f"/projects/{world.projects['a1'].id}" in message.get_body(("plain",)).get_content()


def test_a_user_who_turns_email_off_gets_in_app_alerts_only(app, world, smtp):
    from crm.extensions import db
    from crm.notifications.models import Notification
    from crm.notifications.services import notify

    with app.app_context():
        _email(world, "agent_a", "agent.a@nantong.example", assigned="off")
        notify([world.users["agent_a"].id], "assigned", {"project": "项目", "role": "代办员"})
        db.session.commit()
        assert _deliveries() == []
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_quiet_hours_hold_messages_for_the_next_working_morning(app, world, smtp):
    from crm.extensions import db
    from crm.notifications import outbox

    with app.app_context():
        _email(world, "agent_a", "agent.a@nantong.example", assigned="immediate",
               milestone_escalated="immediate")
        app.config["ALERT_URGENT_KINDS"] = ["milestone_escalated"]
        # 2026-09-30 21:00 in Shanghai, the eve of the National Day holiday (10-01..10-07).
        evening = dt.datetime(2026, 9, 30, 13, 0, tzinfo=UTC)
        uid = world.users["agent_a"].id
        outbox.record([outbox.Alert([uid], "assigned", {"project": "p", "role": "r"}),
                       outbox.Alert([uid], "milestone_escalated", {})], now=evening)
        db.session.commit()
        normal, urgent = _deliveries()
        assert normal.next_attempt_at == dt.datetime(2026, 10, 8, 0, 0, tzinfo=UTC)  # 08:00
        assert urgent.next_attempt_at == evening
        # Nothing goes out before its time.
        from crm.notifications import delivery

        assert delivery.claim(dt.datetime(2026, 10, 7, 23, 59, tzinfo=UTC), 10) == [urgent.id]


def test_digests_skip_the_national_day_holiday_and_run_on_the_make_up_saturday(app, world, smtp):
    from crm.extensions import db
    from crm.notifications import delivery, outbox

    with app.app_context():
        _email(world, "agent_a", "agent.a@nantong.example")  # the default: the daily digest
        uid = world.users["agent_a"].id
        raised = dt.datetime(2026, 9, 30, 12, 0, tzinfo=UTC)
        outbox.record([outbox.Alert([uid], "milestone_due_soon",
                                    {"milestone": "节能审查", "project": "甲", "due": "2026-10-09"}),
                       outbox.Alert([uid], "blocker_opened", {"project": "乙", "summary": "缺材料"})],
                      now=raised)
        db.session.commit()
        assert {d.status for d in _deliveries()} == {"digest"}

        def local(*args):
            return dt.datetime(*args, tzinfo=outbox.zone())

        assert delivery.gather_digests(local(2026, 10, 2, 9, 0)) == 0  # National Day
        assert delivery.gather_digests(local(2026, 10, 4, 9, 0)) == 0  # a Sunday off
        assert delivery.gather_digests(local(2026, 10, 10, 8, 0)) == 0  # before 08:30
        assert delivery.gather_digests(local(2026, 10, 10, 8, 40)) == 1  # the make-up Saturday
        db.session.commit()
        # Raised after today's digest: waits for the next working day's.
        outbox.record([outbox.Alert([uid], "assigned", {"project": "丙", "role": "代办员"})],
                      now=local(2026, 10, 10, 9, 0))
        db.session.commit()
        assert delivery.gather_digests(local(2026, 10, 10, 18, 0)) == 0
        _release()
        assert _deliver() == {"sent": 1, "failed": 0}
        digests = _deliveries(kind="digest")
        assert len(digests) == 1 and digests[0].key == f"digest-{uid}-2026-10-10"
        assert len(_deliveries(status="digested")) == 2
        assert len(_deliveries(status="digest")) == 1
    [message] = smtp.messages
    body = message.get_body(("plain",)).get_content()
    assert "节能审查" in body and "缺材料" in body and "丙" not in body
    assert "2026-10-10" in message["Subject"] and "2" in message["Subject"]


def test_the_robot_is_retried_with_backoff_then_given_up_and_resent_by_an_admin(
        app, client, world, robot):
    from crm.extensions import db
    from crm.notifications.services import notify

    with app.app_context():
        app.config["ALERT_MAX_ATTEMPTS"] = 2
        park_id = world.park_a.id
        _set_robot(park_id, ["blocker_opened"])
        notify([], "blocker_opened", {"project": "南通新能源电池项目", "summary": "用地指标未落实"},
               park_id=park_id)
        notify([], "assigned", {"project": "x", "role": "y"}, park_id=park_id)  # not chosen
        db.session.commit()
        [item] = _deliveries()
        robot.fail_with = 500
        _release()
        before = dt.datetime.now(UTC)
        assert _deliver() == {"sent": 0, "failed": 1}
        db.session.refresh(item)
        assert (item.status, item.attempts) == ("failed", 1)
        assert "HTTP 500" in item.last_error
        assert dt.timedelta(seconds=55) < item.next_attempt_at - before < dt.timedelta(seconds=70)
        assert _deliver() == {"sent": 0, "failed": 0}  # not before its backoff
        _release()
        robot.fail_with = None
        robot.errcode = 93000  # WeCom refuses; its message quotes the key
        _deliver()
        db.session.refresh(item)
        assert item.status == "dead" and "93000" in item.last_error
        assert ROBOT_KEY not in item.last_error
        item_id = item.id
    login(client, "admin")
    log_page = client.get("/notifications/deliveries?status=dead").get_data(as_text=True)
    assert "93000" in log_page and ROBOT_KEY not in log_page
    assert client.post(f"/notifications/deliveries/{item_id}/resend").status_code == 302
    robot.errcode = 0
    with app.app_context():
        assert _deliver() == {"sent": 1, "failed": 0}
    assert [p["key"] for p in robot.posts] == [ROBOT_KEY] * 3
    assert len(set(robot.received_keys())) == 1  # one key across every try
    assert "用地指标未落实" in robot.posts[-1]["body"]["text"]["content"]


def test_a_robot_that_times_out_is_retried(app, world, robot):
    from crm.extensions import db
    from crm.notifications.services import notify

    with app.app_context():
        app.config["WECOM_TIMEOUT"] = 0.3
        robot.delay = 1.0
        _set_robot(world.park_a.id, ["blocker_opened"])
        notify([], "blocker_opened", {"project": "p", "summary": "s"}, park_id=world.park_a.id)
        db.session.commit()
        _release()
        assert _deliver() == {"sent": 0, "failed": 1}
        [item] = _deliveries()
        assert item.status == "failed" and "cannot reach the WeCom robot" in item.last_error


def test_a_misconfigured_mail_server_is_logged_and_the_alert_kept(app, client, world, smtp):
    from crm.extensions import db
    from crm.notifications.services import notify

    with app.app_context():
        _email(world, "agent_a", "agent.a@nantong.example", assigned="immediate")
        app.config["MAIL_PORT"] = 1  # nothing listens there
        notify([world.users["agent_a"].id], "assigned", {"project": "p", "role": "r"})
        db.session.commit()
        _release()
        assert _deliver() == {"sent": 0, "failed": 1}
        [item] = _deliveries()
        assert item.status == "failed" and "cannot reach the mail server" in item.last_error
    login(client, "admin")
    assert "cannot reach the mail server" in client.get("/notifications/deliveries").get_data(
        as_text=True)


def test_the_robot_address_is_never_shown_back_nor_logged(app, client, world, robot, caplog):
    caplog.set_level(logging.DEBUG)
    login(client, "manager_a")
    url = f"/notifications/parks/{world.park_a.id}/robot"
    response = client.post(url, data={"url": ROBOT_URL, "kinds": ["blocker_opened",
                                                                 "milestone_escalated"]})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert ROBOT_KEY not in page and "…" + ROBOT_KEY[-4:] in page
    # Saving without an address keeps the key and changes the kinds.
    assert client.post(url, data={"url": "", "kinds": ["blocker_opened"]}).status_code == 302
    assert client.post(url + "/test").status_code == 302
    robot.errcode = 40001
    with app.app_context():
        from crm.notifications import settings

        assert settings.park_robot(world.park_a.id).robot_key == ROBOT_KEY
        assert settings.park_robot(world.park_a.id).kinds == ["blocker_opened"]
        _deliver()
    login(client, "admin")
    assert ROBOT_KEY not in client.get("/notifications/deliveries").get_data(as_text=True)
    assert ROBOT_KEY not in caplog.text
    assert robot.posts and "测试消息" in robot.posts[0]["body"]["text"]["content"]


@pytest.mark.parametrize("url", [
    "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0a1b2c3d-4e5f",
    "https://evil.example/cgi-bin/webhook/send?key=0a1b2c3d-4e5f",
    "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=0a1b2c3d-4e5f",
    "https://qyapi.weixin.qq.com/cgi-bin/other?key=0a1b2c3d-4e5f",
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
    "https://user:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0a1b2c3d-4e5f",
    "javascript:alert(1)",
])
def test_robot_addresses_other_than_wecom_are_refused(app, client, world, url):
    login(client, "manager_a")
    response = client.post(f"/notifications/parks/{world.park_a.id}/robot",
                           data={"url": url, "kinds": ["blocker_opened"]})
    assert response.status_code == 422
    assert "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" in response.get_data(as_text=True)
    with app.app_context():
        from crm.notifications import settings

        assert settings.park_robot(world.park_a.id) is None


def _modes(**chosen):
    from crm.notifications.messages import CHOOSABLE

    return {f"mode_{kind}": chosen.get(kind, "digest") for kind in CHOOSABLE}


def test_invalid_email_addresses_are_refused_next_to_the_field(app, client, world):
    login(client, "agent_a")
    for bad in ("not-an-address", "a@b", "<script>@x.cn", "x" * 300 + "@example.com"):
        response = client.post("/notifications/settings", data={"email": bad, **_modes()})
        assert response.status_code == 422, bad
        assert "invalid-feedback" in response.get_data(as_text=True)
        assert "<script>@" not in response.get_data(as_text=True)
    response = client.post("/notifications/settings",
                           data={"email": "a@b.cn", **_modes(assigned="loud")})
    assert response.status_code == 422
    with app.app_context():
        from crm.auth.models import User
        from crm.extensions import db

        assert db.session.get(User, world.users["agent_a"].id).email is None
    good = client.post("/notifications/settings", data={
        "email": " Agent.A@Nantong.Example.cn ", **_modes(assigned="immediate",
                                                        blocker_opened="off")})
    assert good.status_code == 302
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Agent.A@nantong.example.cn" in page
    with app.app_context():
        from crm.notifications import settings

        chosen = settings.preferences(world.users["agent_a"].id)
        assert (chosen["assigned"], chosen["blocker_opened"], chosen["unassigned"]) == (
            "immediate", "off", "digest")


def test_park_robots_and_the_delivery_log_are_for_their_people(app, world):
    park_a = world.park_a.id
    client = app.test_client()
    login(client, "manager_b")
    assert client.get(f"/notifications/parks/{park_a}/robot").status_code == 404
    assert client.post(f"/notifications/parks/{park_a}/robot", data={"url": ROBOT_URL}).status_code == 404
    assert client.get("/notifications/deliveries").status_code == 403
    client = app.test_client()
    login(client, "leader")
    assert client.get(f"/notifications/parks/{park_a}/robot").status_code == 403
    client = app.test_client()
    login(client, "agent_a")  # park A's agent: sees the park, may not change it
    assert client.get(f"/notifications/parks/{park_a}/robot").status_code == 403
    client = app.test_client()
    login(client, "admin")
    assert client.get(f"/notifications/parks/{park_a}/robot").status_code == 200
    assert client.get("/notifications/deliveries").status_code == 200
    assert client.post("/notifications/deliveries/999999/resend").status_code == 404


def test_the_escalation_ladder_fires_each_step_once_in_working_days(app, client, world):
    from crm.extensions import db
    from crm.milestones.calendar import WorkCalendar
    from crm.notifications.escalation import escalate
    from crm.notifications.models import Escalation, Notification
    from crm.projects.models import Project

    calendar = WorkCalendar()
    with app.app_context():
        project = db.session.get(Project, world.projects["a1"].id)
        # Due on Wednesday 2026-09-30: the holiday does not count.
        late = factories.milestone(project, "施工许可", status="running", due_on=dt.date(2026, 9, 30))
        blocker = factories.log(project, kind="blocker", text="用地指标未落实",
                                author=world.users["agent_a"])
        blocker.created_at = dt.datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
        db.session.commit()

        def inbox(name, kind):
            return db.session.scalar(select(func.count()).select_from(Notification).where(
                Notification.user_id == world.users[name].id, Notification.kind == kind))

        # 10-07: still the holiday, 0 working days late.
        assert escalate(dt.date(2026, 10, 7), calendar).steps == 0
        # 10-08: 1 working day late -> the owner side (lead agent, chief consultant).
        assert escalate(dt.date(2026, 10, 8), calendar).steps == 1
        assert escalate(dt.date(2026, 10, 8), calendar).steps == 0  # once
        assert inbox("agent_a", "milestone_escalated") == 1
        assert inbox("consultant_a", "milestone_escalated") == 1
        assert inbox("manager_a", "milestone_escalated") == 0
        # 10-10 (the make-up Saturday) is the 3rd working day late -> the park manager.
        assert escalate(dt.date(2026, 10, 10), calendar).steps == 1
        assert inbox("manager_a", "milestone_escalated") == 1
        # 10-13: 5 working days late -> the city bureau; the blocker, open since 09-29, is at
        # 6 working days -> the park manager (once).
        result = escalate(dt.date(2026, 10, 13), calendar)
        assert result.steps == 2
        assert inbox("leader", "milestone_escalated") == 1
        assert inbox("manager_a", "blocker_escalated") == 1
        assert escalate(dt.date(2026, 10, 30), calendar).steps == 0
        assert sorted(db.session.execute(select(Escalation.subject, Escalation.step)).all()) == [
            ("blocker", 5), ("milestone", 1), ("milestone", 3), ("milestone", 5)]
        # Nothing for another park's people.
        assert inbox("manager_b", "milestone_escalated") == 0
        db.session.commit()
    login(client, "manager_a")
    page = client.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    assert 'data-testid="escalations"' in page and "施工许可" in page
