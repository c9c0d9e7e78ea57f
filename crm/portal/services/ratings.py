"""The enterprise's ratings and the bad-review cases (差评整改) they open.

A rating scores a finished milestone, or the whole service once the project is through its
approvals, 1-5 on the five dimensions; it can be changed for ``CHANGE_DAYS`` days, and for as
long as a case it opened is not closed (the case asks the enterprise to rate again).  A score
of ``LOW`` or less in any dimension, or a complaint, opens a case for the project's chief
consultant: the park manager classifies it by the next working day; a simple one is rectified
within 3 working days, a complex one goes to an acceptance panel (验收团) within 15.  It closes
when the enterprise re-rates satisfied (every dimension 4 or more) or the manager records that
it confirmed by phone.

Services flush but never commit.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm import signals
from crm.agents.queries import CONSULTANT, LEAD_AGENT, holder
from crm.audit import services as audit
from crm.db import utcnow
from crm.errors import DomainError, InvalidState
from crm.extensions import db
from crm.i18n import local_date
from crm.milestones.calendar import WorkCalendar
from crm.milestones.models import Milestone, MilestoneStatus
from crm.portal.models import (
    DIMENSIONS, SATISFIED, CallbackItem, EnterpriseLink, Rating, SatisfactionCase,
)
from crm.projects.models import Stage
from crm.transaction import flush, lock, stale

AUDIT_ACTIONS = {
    "rating.submit": _l("the enterprise rated the service"),
    "rating.change": _l("the enterprise changed its rating"),
    "rating.callback": _l("entered the result of a callback"),
    "callback.draw": _l("drew the monthly callback sample"),
    "case.open": _l("opened a bad-review case"),
    "case.classify": _l("classified the bad-review case"),
    "case.rectify": _l("recorded the rectification"),
    "case.accept": _l("recorded the acceptance panel's findings"),
    "case.close": _l("closed the bad-review case"),
}
CHANGE_DAYS = 7
LOW = 2
# Working days: to classify a new case, to rectify a simple one, for the panel of a complex one.
CASE_WORKDAYS = {"open": 1, "simple": 3, "complex": 15}
COMMENT_LIMIT = 1000
STALE = _l("This case was changed by someone else in the meantime. Reload the page and try "
           "again.")


def _text(value: str | None, field: str, limit: int, required=None) -> str | None:
    value = (value or "").strip()
    if not value:
        if required is not None:
            raise DomainError(required, field)
        return None
    if len(value) > limit:
        raise DomainError(_l("At most %(n)d characters.", n=limit), field)
    return value


def _still_open(link: EnterpriseLink, today: dt.date) -> None:
    """The link was revoked since the page checked it: refuse (under the project's lock, which
    a rotation takes too)."""
    db.session.refresh(link)
    if not link.opens_on(today):
        raise DomainError(_l("This link no longer opens: ask the park for the new one."))


def _target(project, milestone_id: int | None) -> Milestone | None:
    """The milestone rated (None: the whole service); refused while it is not finished."""
    if milestone_id is None:
        if project.stage != Stage.APPROVED.value:
            raise DomainError(_l("The whole service can be rated once the project is through "
                                 "its approvals."), "target")
        return None
    milestone = db.session.scalar(select(Milestone).where(
        Milestone.id == milestone_id, Milestone.project_id == project.id))
    if milestone is None or milestone.status != MilestoneStatus.DONE.value:
        raise DomainError(_l("This approval is not issued yet: it can be rated once it is."),
                          "target")
    return milestone


def _open_case(rating_id: int) -> SatisfactionCase | None:
    return db.session.scalar(select(SatisfactionCase).where(
        SatisfactionCase.rating_id == rating_id, SatisfactionCase.status != "closed"))


def rate(link: EnterpriseLink, milestone_id: int | None, scores: dict, comment: str | None, *,
         today: dt.date, calendar: WorkCalendar, now: dt.datetime | None = None) -> Rating:
    """Record (or change) the enterprise's rating of a finished milestone or of the service."""
    now = now or utcnow()
    project = link.project
    lock(project)  # one rating per target, whatever two tabs send at once
    _still_open(link, today)
    milestone = _target(project, milestone_id)
    _check_scores(scores)
    comment = _text(comment, "comment", COMMENT_LIMIT)
    rating = db.session.scalar(online_rating(project.id, milestone_id))
    case = _open_case(rating.id) if rating is not None else None
    if rating is not None and case is None and now - rating.submitted_at > dt.timedelta(CHANGE_DAYS):
        raise DomainError(_l("A rating can be changed within %(n)d days of giving it.",
                             n=CHANGE_DAYS), "target")
    action = "rating.change"
    if rating is None:
        rating = _new_rating(project, milestone, link_id=link.id, source="online", now=now)
        action = "rating.submit"
    _store(rating, scores, comment, now, action)
    if case is not None and rating.lowest >= SATISFIED:
        _close(case, "re_rated", None)
    elif case is None and rating.lowest <= LOW:
        _new_case(project, "low_rating", today, calendar, rating=rating, text=comment)
    return rating


def online_rating(project_id: int, milestone_id: int | None):
    """The enterprise's own rating of a target (whatever link it came through: a new link
    does not make the approvals rateable again)."""
    return select(Rating).where(
        Rating.project_id == project_id, Rating.source == "online",
        Rating.milestone_id == milestone_id if milestone_id else Rating.milestone_id.is_(None))


def _check_scores(scores: dict) -> None:
    for dimension in DIMENSIONS:
        value = scores.get(dimension)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise DomainError(_l("Choose a score from 1 to 5."), dimension)


def _new_rating(project, milestone, *, link_id, source: str, now) -> Rating:
    served_by = (milestone.owner_staff_id if milestone is not None else None) \
        or holder(project.id, LEAD_AGENT)
    rating = Rating(project_id=project.id, park_id=project.park_id, link_id=link_id,
                    milestone_id=milestone.id if milestone is not None else None,
                    staff_id=served_by, source=source, submitted_at=now)
    db.session.add(rating)
    return rating


def _store(rating: Rating, scores: dict, comment: str | None, now, action: str) -> None:
    for dimension in DIMENSIONS:
        setattr(rating, dimension, scores[dimension])
    rating.comment = comment
    rating.updated_at = now
    audit.tag(rating, action)
    flush()


def record_callback(item: CallbackItem, scores: dict, comment: str | None, *, today: dt.date,
                    calendar: WorkCalendar) -> Rating:
    """The surveyor's result for a milestone of the callback sample: a rating marked as a
    callback (it counts with the online ones); 2 or less opens a case as online."""
    project = item.project
    lock(project)
    lock(item)  # re-read: a result entered meanwhile is seen
    if item.rating_id is not None:
        raise InvalidState(_l("The result of this callback is already entered."), "target")
    _check_scores(scores)
    comment = _text(comment, "comment", COMMENT_LIMIT)
    now = utcnow()
    rating = _new_rating(project, item.milestone, link_id=None, source="callback", now=now)
    _store(rating, scores, comment, now, "rating.callback")
    item.rating_id = rating.id
    flush()
    if rating.lowest <= LOW:
        _new_case(project, "low_rating", today, calendar, rating=rating, text=comment)
    return rating


def complain(link: EnterpriseLink, *, text: str | None, contact_name: str | None,
             contact_phone: str | None, today: dt.date,
             calendar: WorkCalendar) -> SatisfactionCase:
    """A complaint from the enterprise's page: a case like a bad rating's."""
    text = _text(text, "text", COMMENT_LIMIT, _l("Describe the problem."))
    name = _text(contact_name, "contact_name", 50, _l("Enter your name."))
    phone = _text(contact_phone, "contact_phone", 20, _l("Enter a phone number."))
    lock(link.project)
    _still_open(link, today)
    twin = db.session.scalar(select(SatisfactionCase).where(
        SatisfactionCase.project_id == link.project_id, SatisfactionCase.kind == "complaint",
        SatisfactionCase.status != "closed", SatisfactionCase.text == text,
        SatisfactionCase.opened_at > utcnow() - dt.timedelta(minutes=10)))
    if twin is not None:
        return twin  # the same complaint sent twice (a double click): one case
    return _new_case(link.project, "complaint", today, calendar, text=text, contact_name=name,
                     contact_phone=phone)


def _new_case(project, kind: str, today: dt.date, calendar: WorkCalendar,
              **values) -> SatisfactionCase:
    assignee = holder(project.id, CONSULTANT) or holder(project.id, LEAD_AGENT)
    case = SatisfactionCase(project_id=project.id, park_id=project.park_id, kind=kind,
                            assignee_staff_id=assignee, status="open",
                            due_on=calendar.add_workdays(today, CASE_WORKDAYS["open"]), **values)
    db.session.add(case)
    audit.tag(case, "case.open")
    flush()
    signals.case_opened.send(case=case)
    return case


# -- the staff's steps ----------------------------------------------------------------------

def _check(case: SatisfactionCase, statuses: tuple, version: int | None, message) -> None:
    lock(case.project)
    if version is not None and int(version) != case.version:
        raise stale(STALE)
    if case.status not in statuses:
        raise InvalidState(message, "status")


def classify(case: SatisfactionCase, classification: str | None, *, today: dt.date,
             calendar: WorkCalendar, version: int | None = None) -> SatisfactionCase:
    _check(case, ("open",), version, _l("Only a new case is classified."))
    if classification not in ("simple", "complex"):
        raise DomainError(_l("Choose simple or complex."), "classification")
    case.classification = classification
    case.classified_at = utcnow()
    case.due_on = calendar.add_workdays(today, CASE_WORKDAYS[classification])
    case.status = "classified"
    audit.tag(case, "case.classify", classification)
    flush()
    return case


def _done_on(case: SatisfactionCase, value: dt.date | None, today: dt.date) -> dt.date:
    if value is None:
        raise DomainError(_l("Enter the date."), "rectified_on")
    if value > today:
        raise DomainError(_l("The date cannot be in the future."), "rectified_on")
    opened = min(local_date(case.opened_at), today)
    if value < opened:
        raise DomainError(_l("The date cannot be before the case was opened (%(date)s).",
                             date=opened.isoformat()), "rectified_on")
    return value


def rectify(case: SatisfactionCase, *, rectification: str | None, rectified_on: dt.date | None,
            today: dt.date, version: int | None = None) -> SatisfactionCase:
    """The assignee's rectification of a simple case (即知即改)."""
    _check(case, ("classified",), version, _l("Classify the case first."))
    if case.classification != "simple":
        raise InvalidState(_l("A complex case is closed through the acceptance panel."),
                           "status")
    case.rectification = _text(rectification, "rectification", 2000,
                               _l("Describe what was done."))
    case.rectified_on = _done_on(case, rectified_on, today)
    case.status = "rectified"
    audit.tag(case, "case.rectify")
    flush()
    return case


def accept(case: SatisfactionCase, *, panel_members: str | None, findings: str | None,
           accepted_on: dt.date | None, today: dt.date,
           version: int | None = None) -> SatisfactionCase:
    """The acceptance panel (验收团) of a complex case: its members and findings."""
    _check(case, ("classified",), version, _l("Classify the case first."))
    if case.classification != "complex":
        raise InvalidState(_l("A simple case is rectified by its assignee."), "status")
    case.panel_members = _text(panel_members, "panel_members", 500,
                               _l("Name the panel's members."))
    case.rectification = _text(findings, "rectification", 2000,
                               _l("Record the panel's findings."))
    case.rectified_on = _done_on(case, accepted_on, today)
    case.status = "rectified"
    audit.tag(case, "case.accept")
    flush()
    return case


def close_by_phone(case: SatisfactionCase, *, note: str | None,
                   version: int | None = None) -> SatisfactionCase:
    """The enterprise said by phone that it is satisfied (after the rectification)."""
    _check(case, ("rectified",), version,
           _l("A case is closed after its rectification or the panel's acceptance."))
    _close(case, "phone", _text(note, "close_note", 2000, _l("Record what the enterprise said.")))
    return case


def _close(case: SatisfactionCase, how: str, note: str | None) -> None:
    case.status = "closed"
    case.closed_at = utcnow()
    case.closed_how = how
    case.close_note = note
    audit.tag(case, "case.close", how)
    flush()
