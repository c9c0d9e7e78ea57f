"""Roster services (issue 4): staff records, park membership, deactivation and leave, and the
hand-over of a departing person's projects (automatic, by hand, kept; all or nothing)."""

import datetime as dt

import pytest
from sqlalchemy import select

from tests import factories
from tests.integration.agents_support import (  # noqa: F401  (the ctx fixture)
    active_rows, audit_actions, ctx, notifications_of, snapshot,
)


def open_rows(staff):
    from crm.agents.queries import open_assignments
    from sqlalchemy import true

    return open_assignments(staff.id, true())


def test_deactivation_lists_projects_and_auto_reassigns_them(ctx):
    from crm.agents.services.roster import hand_over, update_staff

    agent = ctx.s["agent_a"]
    helper_on = factories.project(ctx.park_a, "协办项目")
    factories.assign(helper_on, agent, "helper")
    unavailable = update_staff(agent, capacity=6, on_leave_until=None, active=False,
                               phone=agent.phone, title=None)
    assert unavailable
    assert audit_actions("staff")[-1] == "staff.deactivate"
    rows = open_rows(agent)
    assert sorted((a.project.name, a.role) for a in rows) == [
        ("协办项目", "helper"), ("南通新能源电池项目", "lead_agent")]
    outcomes = hand_over(agent, rows, {}, actor_id=ctx.u["manager_a"].id, reason="李代办离职",
                         handover_note="资料在共享盘")
    by_role = {o.role: o for o in outcomes}
    assert by_role["lead_agent"].successor is ctx.s["agent_a2"]  # the rule's pick
    assert by_role["helper"].successor is None  # a helper role simply ends
    assert open_rows(agent) == []
    a1 = ctx.p["a1"]
    assert ("lead_agent", ctx.s["agent_a2"].id) in active_rows(a1)
    new = next(a for a in a1.assignments if a.is_active and a.role == "lead_agent")
    assert (new.automatic, new.reason, new.handover_note, new.assigned_by_id) == (
        True, "李代办离职", "资料在共享盘", ctx.u["manager_a"].id)
    old = next(a for a in a1.assignments if a.staff_id == agent.id)
    assert old.ended_at and old.end_reason == "李代办离职"
    assert [k for k, *_ in notifications_of(ctx.u["agent_a"])] == ["unassigned", "unassigned"]
    assert [k for k, *_ in notifications_of(ctx.u["agent_a2"])] == ["assigned"]


def test_hand_over_by_hand_keep_and_vacancy(ctx):
    from crm.agents.queries import unassigned_query
    from crm.agents.services.roster import hand_over

    agent = ctx.s["agent_a"]
    extra = factories.project(ctx.park_a, "第二项目")
    factories.assign(extra, agent, "lead_agent")
    third = factories.project(ctx.park_a, "第三项目")
    factories.assign(third, agent, "lead_agent")
    for p in (extra, third):
        factories.assign(p, ctx.s["consultant_a"], "consultant")
    newcomer = factories.staff([ctx.park_a], "agent", "周代办", capacity=1)
    rows = {a.project.name: a for a in open_rows(agent)}
    ctx.s["agent_a2"].active = False  # leaves nobody eligible for the automatic row
    outcomes = hand_over(agent, list(rows.values()), {
        rows["南通新能源电池项目"].id: str(newcomer.id),
        rows["第二项目"].id: "keep",
        rows["第三项目"].id: "auto",
    }, actor_id=ctx.u["manager_a"].id, reason="休长假", handover_note="见项目记录")
    assert {(o.project.name, o.successor.name if o.successor else None) for o in outcomes} == {
        ("南通新能源电池项目", "周代办"), ("第三项目", None)}
    assert ("lead_agent", agent.id) in active_rows(extra)  # kept
    queue = [r.Project.name for r in ctx.session.execute(unassigned_query(ctx.park_a.id))]
    assert "第三项目" in queue and "第二项目" not in queue


def test_hand_over_is_all_or_nothing_with_errors_per_row(ctx):
    from crm.agents.services.roster import hand_over
    from crm.errors import DomainError as AssignmentError

    agent = ctx.s["agent_a"]
    factories.assign(factories.project(ctx.park_a, "第二项目"), agent, "lead_agent")
    rows = open_rows(agent)
    first, second = rows
    before = snapshot()
    with pytest.raises(AssignmentError) as refused:
        hand_over(agent, rows, {first.id: "auto", second.id: str(ctx.s["agent_b"].id)},
                  actor_id=None, reason="", handover_note="")
    errors = {name: refused.value.text(name) for name in refused.value.errors}
    assert set(errors) == {"reason", "handover_note", f"choice_{second.id}"}
    assert f"不存在编号为 {ctx.s['agent_b'].id} 的服务人员" in errors[f"choice_{second.id}"]
    assert snapshot() == before
    assert len(open_rows(agent)) == 2
    for bad, fragment in ((str(agent.id), "以外"), ("999999", "999999"),
                          (str(ctx.s["consultant_a"].id), "首席审批服务咨询师")):
        with pytest.raises(AssignmentError) as refused:
            hand_over(agent, rows, {first.id: bad, second.id: "keep"}, actor_id=None,
                      reason="r", handover_note="n")
        assert fragment in refused.value.text(f"choice_{first.id}")
    assert snapshot() == before


def test_hand_over_respects_capacity_across_rows(ctx):
    """Two rows given to the same person by hand: the second one finds them full."""
    from crm.agents.services.roster import hand_over
    from crm.errors import DomainError as AssignmentError

    agent = ctx.s["agent_a"]
    factories.assign(factories.project(ctx.park_a, "第二项目"), agent, "lead_agent")
    ctx.s["agent_a2"].capacity = 1
    rows = open_rows(agent)
    choice = {a.id: str(ctx.s["agent_a2"].id) for a in rows}
    with pytest.raises(AssignmentError) as refused:
        hand_over(agent, rows, choice, actor_id=None, reason="r", handover_note="n")
    assert len(refused.value.errors) == 1 and "承接上限" in refused.value.text(next(iter(refused.value.errors)))
    outcomes = hand_over(agent, rows, choice, actor_id=None, reason="r", handover_note="n", force=True)
    assert [o.successor for o in outcomes] == [ctx.s["agent_a2"]] * 2
    forced = [a.forced for p in (o.project for o in outcomes) for a in p.assignments if a.is_active
              and a.role == "lead_agent"]
    assert forced == [False, True]


def test_leave_covering_today_means_unavailable(ctx):
    from crm.agents.services.roster import update_staff
    from crm.i18n import today

    agent = ctx.s["agent_a2"]
    assert not update_staff(agent, capacity=6, on_leave_until=None, active=True, phone=None, title="x")
    assert audit_actions("staff")[-1] == "staff.update"
    assert update_staff(agent, capacity=6, on_leave_until=today() + dt.timedelta(days=30),
                        active=True, phone=None, title="x")
    assert audit_actions("staff")[-1] == "staff.leave"
    # Already unavailable: a later change does not ask for a hand-over again.
    assert not update_staff(agent, capacity=3, on_leave_until=today() + dt.timedelta(days=40),
                            active=True, phone=None, title="x")


def test_park_membership(ctx):
    from crm.agents.services.roster import add_to_park, create_staff, remove_from_park
    from crm.errors import DomainError as AssignmentError

    person = create_staff(ctx.park_a, name=" 孙顾问 ", kind="consultant", phone="", title=None, capacity=12)
    assert (person.name, person.phone, person.parks) == ("孙顾问", None, [ctx.park_a])
    # Park A's person is not park B's to take, unless an admin takes them or releases them.
    with pytest.raises(AssignmentError) as refused:
        add_to_park(ctx.park_b, person.id)
    assert refused.value.status == 404 and "孙顾问" not in str(refused.value)
    add_to_park(ctx.park_b, person.id, anyone=True)
    assert person.parks == [ctx.park_a, ctx.park_b]
    for bad in (person.id, 999999, "x"):
        with pytest.raises(AssignmentError) as refused:
            add_to_park(ctx.park_b, bad)
        assert "staff_id" in refused.value.errors
    remove_from_park(ctx.park_b, person)
    assert person.parks == [ctx.park_a]
    person.released = True
    add_to_park(ctx.park_b, person.id)
    assert (person.parks, person.released) == ([ctx.park_a, ctx.park_b], False)
    remove_from_park(ctx.park_b, person)
    with pytest.raises(AssignmentError) as refused:
        remove_from_park(ctx.park_a, ctx.s["agent_a"])  # still the lead agent of a1
    assert "1 个项目" in refused.value.text("staff_id")
    actions = audit_actions("staff")
    assert actions[-1] == "roster.remove" and actions.count("roster.add") == 2, actions


def test_workload_matches_the_data(ctx):
    from crm.agents.queries import workload
    from crm.auth.models import User
    from crm.i18n import today
    from crm.milestones.models import Milestone

    day = today()
    a1, agent = ctx.p["a1"], ctx.s["agent_a"]
    other_park_project = factories.project(ctx.park_b)
    ctx.s["agent_a"].parks.append(ctx.park_b)
    factories.assign(other_park_project, agent, "helper")
    factories.assign(factories.project(ctx.park_a, status="on_hold"), agent, "helper")  # not counted

    def milestone(project, status, due):
        m = Milestone(project_id=project.id, park_id=project.park_id, name="节点", stage="land",
                      limit_value=5, status=status, due_on=due)
        ctx.session.add(m)

    milestone(a1, "running", day - dt.timedelta(days=1))  # overdue
    milestone(a1, "running", day)  # due today: not overdue
    milestone(a1, "done", day - dt.timedelta(days=9))
    milestone(other_park_project, "running", day - dt.timedelta(days=3))  # overdue, other park
    author = ctx.session.scalar(select(User).where(User.staff_id == agent.id))
    factories.log(a1, author=author, happened_on=day - dt.timedelta(days=2))
    factories.log(a1, author=author, happened_on=day - dt.timedelta(days=5))
    ctx.session.flush()

    rows = {r.staff.name: r for r in workload(ctx.park_a.id, day)}
    assert set(rows) == {"张顾问", "李代办", "王代办"}
    li = rows["李代办"]
    assert (li.load, li.overdue, li.last_log) == (2, 2, day - dt.timedelta(days=2))
    assert (rows["张顾问"].load, rows["张顾问"].overdue, rows["张顾问"].last_log) == (1, 1, None)
    assert (rows["王代办"].load, rows["王代办"].overdue) == (0, 0)
    names = [r.staff.name for r in workload(ctx.park_a.id, day, "load", descending=True)]
    assert names == ["李代办", "张顾问", "王代办"]
    names = [r.staff.name for r in workload(ctx.park_a.id, day, "ratio", descending=False)]
    assert names == ["王代办", "张顾问", "李代办"]  # 0/6, 1/10, 2/6
    names = [r.staff.name for r in workload(ctx.park_a.id, day, "last_log", descending=True)]
    assert names[0] == "李代办"
