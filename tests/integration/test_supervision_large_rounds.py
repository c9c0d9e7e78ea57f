"""A round of more projects than ROUND_OPEN_INLINE_MAX (issue 20's city-wide round over the
100,000-project city): opening it answers at once and a real RQ worker writes its reports;
until then nobody owes anything, the page says so and the round cannot be closed; a lost job
is made good by the hourly supervision job, and writing twice writes once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.integration.pdf_support import redis_db, run_burst_worker  # noqa: F401  (fixture)
from tests.integration.test_supervision import _client, _open, _reports, _round


def _opened_for_a_worker(app, world):
    app.config["ROUND_OPEN_INLINE_MAX"] = 1  # park A's round takes a1 and a2
    manager = _client(app, "manager_a")
    response = _open(manager, world)
    assert response.status_code == 303
    round_ = _round(app)
    assert not round_.reports_ready and round_.project_count == 2
    assert _reports(app, round_.id) == {}
    return manager, round_


def _round_opened_alerts(app):
    from crm.extensions import db
    from crm.notifications.models import Notification

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.kind == "round_opened"))


def test_a_large_round_is_prepared_by_the_worker_and_cannot_close_before(app, world, redis_db):
    manager, round_ = _opened_for_a_worker(app, world)
    page = manager.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert 'data-testid="round-preparing"' in page and 'data-testid="close-round"' not in page
    refused = manager.post(f"/rounds/{round_.id}/close", data={"version": str(round_.version)},
                           follow_redirects=True)
    assert "正在生成" in refused.get_data(as_text=True) or "still being prepared" in \
        refused.get_data(as_text=True)
    assert _round(app).status == "open" and _round_opened_alerts(app) == 0

    run_burst_worker(app)

    reports = _reports(app, round_.id)
    assert set(reports) == {world.projects["a1"].id, world.projects["a2"].id}
    prepared = _round(app)
    assert prepared.reports_ready and prepared.project_count == 2
    assert _round_opened_alerts(app) == 1  # agent_a leads a1
    page = manager.get(f"/rounds/{round_.id}").get_data(as_text=True)
    assert 'data-testid="round-preparing"' not in page and 'data-testid="close-round"' in page


def test_a_lost_job_is_made_good_by_the_hourly_job_and_twice_is_once(app, world, redis_db):
    from crm.extensions import db
    from crm.supervision import jobs
    from crm.supervision.models import Round

    _manager, round_ = _opened_for_a_worker(app, world)
    redis_db.flushdb()  # the job is lost
    with app.app_context():
        jobs.supervise()  # too recent to be called lost
        assert not db.session.get(Round, round_.id).reports_ready
        stored = db.session.get(Round, round_.id)
        stored.created_at -= dt.timedelta(minutes=11)
        db.session.commit()
        jobs.supervise()
        assert db.session.get(Round, round_.id).reports_ready
        assert jobs.prepare_round(round_.id) is False  # a late duplicate writes nothing
    assert len(_reports(app, round_.id)) == 2 and _round_opened_alerts(app) == 1
