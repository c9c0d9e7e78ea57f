"""The assignment rule (pure: no Flask, no database).  DESIGN §4 "Assignment".

Eligible: active, not on leave today (on leave while ``today <= on_leave_until``) and below
capacity.  Among the eligible, the lowest load ratio (load / capacity) wins; ties go to the
one assigned least recently (never assigned counts as least recent), then to the lowest id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Candidate:
    staff_id: int
    capacity: int
    load: int
    active: bool
    on_leave_until: dt.date | None
    last_assigned_at: dt.datetime | None


def is_eligible(candidate: Candidate, today: dt.date) -> bool:
    if not candidate.active or candidate.capacity <= 0:
        return False
    if candidate.on_leave_until is not None and today <= candidate.on_leave_until:
        return False
    return candidate.load < candidate.capacity


def _sort_key(candidate: Candidate):
    # Exact ratios: 1/3 and 2/6 tie; floats could order them by rounding noise.
    ratio = Fraction(candidate.load, candidate.capacity)
    never = candidate.last_assigned_at is None
    when = candidate.last_assigned_at.timestamp() if candidate.last_assigned_at else 0.0
    return (ratio, not never, when, candidate.staff_id)


def pick(candidates: Sequence[Candidate], today: dt.date) -> Candidate | None:
    """The candidate the rule assigns, or None when nobody is eligible."""
    eligible = [c for c in candidates if is_eligible(c, today)]
    if not eligible:
        return None
    return min(eligible, key=_sort_key)
