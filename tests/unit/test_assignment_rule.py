"""The assignment rule (DESIGN §4, issue 4): property tests over generated rosters, and examples.

The properties compare ``pick`` with an independent, step-by-step reading of the rule:
filter the eligible, keep the lowest load ratio, then the never-assigned, then the earliest
assignment, then the lowest id.
"""

import datetime as dt
from fractions import Fraction

from hypothesis import assume, given, settings, strategies as st

from crm.agents.assignment import Candidate, is_eligible, pick

TODAY = dt.date(2026, 3, 16)
UTC = dt.timezone.utc

# Few distinct values, so ties of every kind (ratio, timestamp) are common.
leave = st.one_of(st.none(), st.dates(TODAY - dt.timedelta(days=3), TODAY + dt.timedelta(days=3)))
assigned_at = st.one_of(
    st.none(),
    st.sampled_from([dt.datetime(2026, 3, d, 9, tzinfo=UTC) for d in (2, 5, 9)]),
    st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2026, 3, 16), timezones=st.just(UTC)),
)


@st.composite
def rosters(draw, min_size=0):
    size = draw(st.integers(min_size, 12))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=size, max_size=size, unique=True))
    roster = []
    for staff_id in ids:
        capacity = draw(st.integers(1, 9))
        roster.append(Candidate(
            staff_id=staff_id,
            capacity=capacity,
            load=draw(st.integers(0, capacity + 2)),  # includes people already over capacity
            active=draw(st.booleans()),
            on_leave_until=draw(leave),
            last_assigned_at=draw(assigned_at),
        ))
    return roster


def eligible_by_hand(c: Candidate, today: dt.date) -> bool:
    on_leave = c.on_leave_until is not None and today <= c.on_leave_until
    return c.active and not on_leave and c.load < c.capacity


def expected_pick(roster, today):
    """The rule read literally, one filter after another."""
    pool = [c for c in roster if eligible_by_hand(c, today)]
    if not pool:
        return None
    best = min(Fraction(c.load, c.capacity) for c in pool)
    pool = [c for c in pool if Fraction(c.load, c.capacity) == best]
    never = [c for c in pool if c.last_assigned_at is None]
    if never:
        pool = never
    else:
        earliest = min(c.last_assigned_at for c in pool)
        pool = [c for c in pool if c.last_assigned_at == earliest]
    return min(pool, key=lambda c: c.staff_id)


@settings(max_examples=500)
@given(rosters())
def test_pick_follows_the_rule_exactly(roster):
    assert pick(roster, TODAY) == expected_pick(roster, TODAY)


@settings(max_examples=300)
@given(rosters())
def test_never_picks_someone_ineligible_or_at_capacity(roster):
    chosen = pick(roster, TODAY)
    if chosen is None:
        assert not any(eligible_by_hand(c, TODAY) for c in roster)
    else:
        assert chosen.active
        assert chosen.on_leave_until is None or chosen.on_leave_until < TODAY
        assert chosen.load < chosen.capacity  # one more project keeps them within capacity
        assert chosen.load + 1 <= chosen.capacity


@settings(max_examples=300)
@given(rosters(min_size=1))
def test_picks_a_minimum_load_ratio_candidate(roster):
    chosen = pick(roster, TODAY)
    assume(chosen is not None)
    for other in roster:
        if eligible_by_hand(other, TODAY):
            assert chosen.load * other.capacity <= other.load * chosen.capacity


@settings(max_examples=300)
@given(rosters(min_size=1))
def test_ties_go_to_never_assigned_then_least_recent_then_lowest_id(roster):
    chosen = pick(roster, TODAY)
    assume(chosen is not None)
    ratio = Fraction(chosen.load, chosen.capacity)
    tied = [c for c in roster if eligible_by_hand(c, TODAY) and Fraction(c.load, c.capacity) == ratio]
    for other in tied:
        if other is chosen:
            continue
        if chosen.last_assigned_at is not None:
            assert other.last_assigned_at is not None, "a never-assigned tie was passed over"
            assert chosen.last_assigned_at <= other.last_assigned_at
            if chosen.last_assigned_at == other.last_assigned_at:
                assert chosen.staff_id < other.staff_id
        elif other.last_assigned_at is None:
            assert chosen.staff_id < other.staff_id


@settings(max_examples=300)
@given(rosters(), st.randoms(use_true_random=False))
def test_deterministic_whatever_the_order(roster, rng):
    first = pick(roster, TODAY)
    shuffled = list(roster)
    rng.shuffle(shuffled)
    assert pick(shuffled, TODAY) == first
    assert pick(tuple(reversed(roster)), TODAY) == first
    assert pick(roster, TODAY) == first


@given(rosters())
def test_is_eligible_matches_the_definition(roster):
    for c in roster:
        assert is_eligible(c, TODAY) == eligible_by_hand(c, TODAY)


# -- examples ---------------------------------------------------------------------------------

def cand(staff_id, load=0, capacity=5, active=True, leave=None, last=None):
    return Candidate(staff_id, capacity, load, active, leave, last)


def test_empty_roster_and_nobody_eligible_give_none():
    assert pick([], TODAY) is None
    assert pick([cand(1, active=False), cand(2, load=5), cand(3, leave=TODAY)], TODAY) is None


def test_leave_includes_its_last_day():
    assert pick([cand(1, leave=TODAY)], TODAY) is None
    assert pick([cand(1, leave=TODAY - dt.timedelta(days=1))], TODAY).staff_id == 1


def test_lowest_ratio_beats_lowest_load():
    # 2/10 = 0.2 beats 1/3 = 0.33 although 2 > 1.
    assert pick([cand(1, load=1, capacity=3), cand(2, load=2, capacity=10)], TODAY).staff_id == 2


def test_exact_ratio_ties_are_ties():
    # 1/3 and 2/6 tie exactly; the tie-break decides (never assigned first).
    last = dt.datetime(2026, 1, 1, tzinfo=UTC)
    roster = [cand(1, load=1, capacity=3, last=last), cand(2, load=2, capacity=6)]
    assert pick(roster, TODAY).staff_id == 2


def test_tie_break_order():
    early = dt.datetime(2026, 1, 1, tzinfo=UTC)
    late = dt.datetime(2026, 2, 1, tzinfo=UTC)
    assert pick([cand(5, last=late), cand(7, last=early)], TODAY).staff_id == 7
    assert pick([cand(5, last=early), cand(7, last=early)], TODAY).staff_id == 5
    assert pick([cand(9, last=early), cand(8), cand(6)], TODAY).staff_id == 6


def test_over_capacity_people_are_never_picked():
    assert pick([cand(1, load=7, capacity=5), cand(2, load=4, capacity=5)], TODAY).staff_id == 2


def test_the_rule_balances_a_stream_of_projects():
    """Assigning one project after another with the rule fills everyone in proportion."""
    roster = {1: [0, 4], 2: [0, 8], 3: [0, 2]}  # id -> [load, capacity]
    last = {i: None for i in roster}
    clock = dt.datetime(2026, 3, 1, tzinfo=UTC)
    for n in range(14):
        chosen = pick([cand(i, load, cap, last=last[i]) for i, (load, cap) in roster.items()], TODAY)
        roster[chosen.staff_id][0] += 1
        last[chosen.staff_id] = clock + dt.timedelta(minutes=n)
    assert {i: load for i, (load, _) in roster.items()} == {1: 4, 2: 8, 3: 2}
    assert pick([cand(i, load, cap) for i, (load, cap) in roster.items()], TODAY) is None

