"""Parallel approvals (crm/milestones/graph.py): cycles, readiness, the forecast, the critical
path and slack, against the real working-day calendar; hypothesis properties over random plans."""

import datetime as dt

import pytest
from hypothesis import assume, given, settings, strategies as st

from crm.milestones import sla
from crm.milestones.calendar import WorkCalendar
from crm.milestones.graph import (
    CycleError, Node, check_acyclic, find_cycle, forecast, is_ready, levels, topological_order,
    waiting_on,
)

pytestmark = pytest.mark.unit
D = dt.date
CAL = WorkCalendar()
W, C = sla.WORKING, sla.CALENDAR
TODAY = D(2026, 9, 21)  # a Monday before the 2026 National Day holiday


def pending(i, limit=5, unit=W):
    return Node(i, "pending", limit, unit)


# -- cycles and order ---------------------------------------------------------------------------

def test_cycles_are_found_and_named():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    with pytest.raises(CycleError) as error:
        check_acyclic({"eia": ["permit"], "permit": ["eia"]})
    assert error.value.cycle == ["eia", "permit", "eia"]


def test_topological_order_puts_every_item_after_what_it_needs():
    needs = {"permit": ["planning", "drawings"], "planning": ["land"]}
    assert topological_order(["permit", "drawings", "planning", "land"], needs) == [
        "land", "planning", "drawings", "permit"]
    assert topological_order(["a", "b"], {"a": ["elsewhere"]}) == ["a", "b"]


def test_items_of_one_step_run_side_by_side():
    needs = {"permit": ["drawings", "planning"], "planning": ["land"], "drawings": [],
             "land": [], "eia": []}
    assert levels(["land", "eia", "drawings", "planning", "permit"], needs) == {
        "land": 1, "eia": 1, "drawings": 1, "planning": 2, "permit": 3}
    with pytest.raises(CycleError):
        levels(["a", "b"], {"a": ["b"], "b": ["a"]})


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_item_comes_one_step_after_the_last_it_needs(data):
    nodes, needs, _today = data.draw(plans())
    step = levels([n.id for n in nodes], needs)
    for node in nodes:
        wanted = needs[node.id]
        assert step[node.id] == 1 + max((step[d] for d in wanted), default=0)


def test_ready_when_everything_needed_is_done_or_waived():
    needs = {"permit": ["planning", "fire"]}
    assert not is_ready("permit", {"planning": "done", "fire": "running"}, needs)
    assert waiting_on("permit", {"planning": "done", "fire": "running"}, needs) == ["fire"]
    assert is_ready("permit", {"planning": "done", "fire": "waived"}, needs)
    assert is_ready("filing", {}, needs)


# -- the forecast -------------------------------------------------------------------------------

def test_parallel_branches_and_the_critical_path():
    """Filing done; EIA (15 wd), energy (1 wd) and land pre-exam (20 wd) in parallel after it;
    the permit (5 wd) waits for EIA and land.  The 2026 National Day holiday (10-01..10-07,
    with 09-27 and 10-10 working Sundays/Saturdays) is inside the window."""
    nodes = [Node("filing", "done", 1, W, completed_on=D(2026, 9, 18)),
             pending("eia", 15), pending("energy", 1), pending("land", 20), pending("permit", 5)]
    needs = {"eia": ["filing"], "energy": ["filing"], "land": ["filing"],
             "permit": ["eia", "land"]}
    plan = forecast(nodes, needs, TODAY, CAL)
    land = plan.items["land"]
    assert land.start == TODAY and land.finish == sla.due_date(TODAY, 20, W, (), CAL)
    assert plan.items["permit"].start == land.finish
    assert plan.finish == plan.items["permit"].finish == CAL.add_workdays(land.finish, 5)
    assert plan.critical_path == ("land", "permit")
    assert plan.items["eia"].slack == 5 and plan.items["energy"].slack == 24
    assert plan.items["filing"].slack is not None and not plan.items["filing"].critical


def test_started_milestones_keep_their_dates_and_cannot_finish_in_the_past():
    nodes = [Node("late", "running", 10, W, due_on=D(2026, 9, 10)),
             Node("paused", "paused", 10, W, remaining_workdays=3),
             Node("waived", "waived", 10, W), pending("next", 2)]
    needs = {"next": ["late", "paused", "waived"]}
    plan = forecast(nodes, needs, TODAY, CAL)
    assert plan.items["late"].finish == TODAY  # overdue: today at the earliest
    assert plan.items["paused"].finish == CAL.add_workdays(TODAY, 3)
    assert plan.items["waived"].finish is None and not plan.items["waived"].critical
    assert plan.items["next"].start == CAL.add_workdays(TODAY, 3)


def test_a_year_without_its_schedule_makes_the_forecast_provisional():
    far = D(2026, 12, 1)
    plan = forecast([pending("a", 60)], {}, far, CAL)
    assert plan.finish.year == 2027 and plan.provisional and plan.items["a"].provisional
    assert not forecast([pending("a", 2)], {}, TODAY, CAL).provisional


def test_a_cycle_is_refused():
    with pytest.raises(CycleError):
        forecast([pending("a"), pending("b")], {"a": ["b"], "b": ["a"]}, TODAY, CAL)


# -- properties ---------------------------------------------------------------------------------

@st.composite
def plans(draw, units=st.sampled_from([W, C]), statuses=st.just("pending")):
    """A random plan: nodes 0..n-1, dependencies only on lower numbers (so no cycle)."""
    count = draw(st.integers(1, 9))
    nodes, needs = [], {}
    for i in range(count):
        status = draw(statuses)
        limit = draw(st.integers(1, 30))
        unit = draw(units)
        due = completed = remaining = None
        if status == "running":
            due = TODAY + dt.timedelta(days=draw(st.integers(-20, 40)))
        elif status == "done":
            completed = TODAY - dt.timedelta(days=draw(st.integers(0, 60)))
        elif status == "paused":
            remaining = draw(st.integers(0, 20))
        nodes.append(Node(i, status, limit, unit, due, completed, remaining))
        needs[i] = sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else []
    today = TODAY + dt.timedelta(days=draw(st.integers(0, 400)))
    return nodes, needs, today


mixed = st.sampled_from(["pending", "pending", "running", "paused", "done", "waived"])


@settings(max_examples=200, deadline=None)
@given(plans(statuses=mixed))
def test_a_forecast_never_precedes_what_it_waits_for(plan):
    nodes, needs, today = plan
    result = forecast(nodes, needs, today, CAL)
    for node in nodes:
        mine = result.items[node.id]
        if node.status != "pending":
            continue
        assert mine.start >= today
        for dep in needs[node.id]:
            theirs = result.items[dep].finish
            if theirs is not None:
                assert mine.start >= theirs and mine.finish >= theirs
    assert result.finish == max((f.finish for f in result.items.values() if f.finish), default=None)


@settings(max_examples=200, deadline=None)
@given(plans(statuses=mixed), st.data())
def test_adding_a_dependency_never_makes_a_forecast_earlier(plan, data):
    nodes, needs, today = plan
    assume(len(nodes) >= 2)
    later = data.draw(st.integers(1, len(nodes) - 1))
    earlier = data.draw(st.integers(0, later - 1))
    more = {k: sorted(set(v) | ({earlier} if k == later else set())) for k, v in needs.items()}
    before = forecast(nodes, needs, today, CAL)
    after = forecast(nodes, more, today, CAL)
    for node in nodes:
        if before.items[node.id].finish is not None:
            assert after.items[node.id].finish >= before.items[node.id].finish
    assert (after.finish is None) == (before.finish is None)
    assert before.finish is None or after.finish >= before.finish


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=8), st.integers(0, 400))
def test_on_a_chain_the_forecast_is_the_sum_of_the_limits(limits, days):
    today = TODAY + dt.timedelta(days=days)
    nodes = [pending(i, limit) for i, limit in enumerate(limits)]
    needs = {i: [i - 1] for i in range(1, len(limits))}
    result = forecast(nodes, needs, today, CAL)
    assert result.finish == CAL.add_workdays(today, sum(limits))
    assert result.critical_path == tuple(range(len(limits)))  # a chain is all critical
    assert all(f.slack == 0 for f in result.items.values())


@settings(max_examples=200, deadline=None)
@given(plans(units=st.just(W)), st.data())
def test_slack_is_how_far_a_milestone_may_slip_without_moving_the_project(plan, data):
    """Zero slack: one more working day on the milestone moves the project's date, so it is on
    the critical path; slack s > 0: s more working days leave the project's date alone."""
    nodes, needs, today = plan
    result = forecast(nodes, needs, today, CAL)
    node = data.draw(st.sampled_from(nodes))
    slack = result.items[node.id].slack
    assert (slack == 0) == (node.id in result.critical_path)

    def with_limit(extra):
        changed = [Node(n.id, n.status, n.limit_value + (extra if n.id == node.id else 0), W)
                   for n in nodes]
        return forecast(changed, needs, today, CAL).finish

    if slack == 0:
        assert with_limit(1) > result.finish
    else:
        assert with_limit(slack) == result.finish
        assert with_limit(slack + 1) > result.finish


# -- joint handling (联合办理) and the promise's margin -------------------------------------------

from crm.milestones.graph import (  # noqa: E402
    JOINT_EXTENSION, JOINT_LIMIT, JointMember, joint_due, joint_start, joint_state,
    promise_margin,
)


def test_the_joint_cap_is_45_working_days_from_the_first_acceptance_plus_the_extension():
    members = [JointMember("running", D(2026, 9, 24), None, None),
               JointMember("running", D(2026, 9, 21), None, None),
               JointMember("pending", None, None, None)]
    assert joint_start(members) == D(2026, 9, 21)
    assert joint_start([JointMember("pending", None, None, None)]) is None
    due = joint_due(D(2026, 9, 21), None, CAL)
    # 45 working days, counted over the National Day holiday.
    assert CAL.workdays_between(D(2026, 9, 21), due) == JOINT_LIMIT
    assert due == sla.due_date(D(2026, 9, 21), 45, W, (), CAL)
    extended = joint_due(D(2026, 9, 21), JOINT_EXTENSION, CAL)
    assert CAL.workdays_between(due, extended) == 15


@given(st.integers(0, 200), st.integers(0, 15))
def test_an_extension_never_brings_the_joint_cap_earlier(offset, extension):
    start = TODAY + dt.timedelta(days=offset)
    assert joint_due(start, extension, CAL) >= joint_due(start, None, CAL)


def test_the_joint_cap_state():
    due = D(2026, 11, 30)
    run = JointMember("running", D(2026, 9, 21), None, D(2026, 11, 20))
    late = JointMember("pending", None, None, D(2026, 12, 2))
    done = JointMember("done", D(2026, 9, 21), D(2026, 11, 2), None)
    waived = JointMember("waived", None, None, None)
    assert joint_state([run], None, TODAY) == "not_started"
    assert joint_state([run, done], due, TODAY) == "on_track"
    assert joint_state([run, late], due, TODAY) == "at_risk"
    assert joint_state([run], due, D(2026, 12, 1)) == "overdue"
    assert joint_state([done, waived], due, D(2026, 12, 9)) == "met"
    assert joint_state([done, JointMember("done", D(2026, 9, 21), D(2026, 12, 1), None)], due,
                       D(2026, 12, 9)) == "missed"
    assert joint_state([done], due, TODAY) == joint_state([done], due, D(2027, 3, 1)) == "met"


def test_the_promise_margin_counts_working_days_signed():
    assert promise_margin(None, D(2026, 10, 9), CAL) is None
    assert promise_margin(D(2026, 10, 9), None, CAL) is None
    # From Sep 30 to Oct 9: only Oct 8 and 9 are worked (Oct 1-7 National Day).
    assert promise_margin(D(2026, 10, 9), D(2026, 9, 30), CAL) == 2
    assert promise_margin(D(2026, 9, 30), D(2026, 10, 9), CAL) == -2
    assert promise_margin(D(2026, 9, 30), D(2026, 9, 30), CAL) == 0
