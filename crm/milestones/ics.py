"""The deadline calendar feed as iCalendar (RFC 5545, the ``icalendar`` package): one all-day
event per running approval on its due date.  Plain rows in, bytes out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from icalendar import Calendar, Event

PRODID = "-//Daiban//Approval deadlines//ZH"


@dataclass(frozen=True)
class FeedItem:
    milestone_id: int
    name: str
    project_id: int
    project_name: str
    park_name: str
    due_on: dt.date
    provisional: bool  # the clock is stopped (paused): the day moves when it restarts
    url: str


def build(items: list[FeedItem], *, title: str, provisional_mark: str, host: str,
          stamp: dt.datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    calendar.add("refresh-interval;value=duration", "PT1H")
    for item in items:
        event = Event()
        event.add("uid", f"milestone-{item.milestone_id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due_on)
        event.add("dtend", item.due_on + dt.timedelta(days=1))
        mark = f"{provisional_mark} " if item.provisional else ""
        event.add("summary", f"{mark}{item.name} · {item.project_name}")
        event.add("description", f"{item.park_name} · {item.project_name}\n{item.url}")
        event.add("url", item.url)
        event.add("transp", "TRANSPARENT")
        if item.provisional:
            event.add("status", "TENTATIVE")
        calendar.add_component(event)
    return calendar.to_ical()
