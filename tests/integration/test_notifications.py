"""In-app notifications: unread count in the navigation, list, mark as read; private per user."""

from tests.conftest import login


def test_notifications_are_listed_counted_and_marked_read(app, client, world):
    from crm.extensions import db
    from crm.notifications.services import notify

    with app.app_context():
        notify([world.users["agent_a"].id], "assigned", {"project": "南通新能源电池项目", "role": "专职代办员"},
               link=f"/projects/{world.projects['a1'].id}")
        notify([world.users["agent_b"].id], "assigned", {"project": "海安新材料项目", "role": "专职代办员"})
        db.session.commit()
    login(client, "agent_a")
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="unread-count">1<' in home
    page = client.get("/notifications/").get_data(as_text=True)
    assert "您已被分配为南通新能源电池项目的专职代办员。" in page
    assert "海安新材料项目" not in page  # someone else's
    client.post("/notifications/read", data={})
    assert 'data-testid="unread-count"' not in client.get("/").get_data(as_text=True)


def test_notification_text_is_escaped(app, client, world):
    from crm.extensions import db
    from crm.notifications.services import notify

    with app.app_context():
        notify([world.users["agent_a"].id], "assigned", {"project": "<script>alert(1)</script>", "role": "x"})
        db.session.commit()
    login(client, "agent_a")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
