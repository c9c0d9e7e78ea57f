"""Assignment services (issue 4): the rule applied to real rosters, manual (re)assignment with
history, forced assignment, helpers, the unassigned queue, notifications and audit."""

import datetime as dt

import pytest
from sqlalchemy import select

from tests import factories
from tests.integration.agents_support import (  # noqa: F401  (ctx is a fixture)
    active_rows, audit_actions, ctx, notifications_of, snapshot,
)

UTC = dt.timezone.utc


# -- automatic ---------------------------------------------------------------------------------

def test_auto_assign_picks_the_lowest_load_and_notifies(ctx):
    from crm.agents.services.staffing import auto_assign

    project = factories.project(ctx.park_a, "新项目")
    result = auto_assign(project, actor_id=ctx.u["manager_a"].id)
    # agent_a already serves a1 (load 1/6); agent_a2 has nothing (0/6).
    assert result.complete
    assert result.assigned == {"consultant": ctx.s["consultant_a"], "lead_agent": ctx.s["agent_a2"]}
    assert active_rows(project) == {("consultant", ctx.s["consultant_a"].id),
                                    ("lead_agent", ctx.s["agent_a2"].id)}
    assert all(a.automatic and a.assigned_by_id == ctx.u["manager_a"].id
               for a in project.assignments)
    assert ctx.s["agent_a2"].last_assigned_at is not None
    assert notifications_of(ctx.u["agent_a2"]) == [("assigned", "新项目", "专职代办员")]
    assert notifications_of(ctx.u["consultant_a"]) == [("assigned", "新项目", "首席审批服务咨询师")]
    assert audit_actions().count("assignment.assign") == 2


def test_auto_assign_right_after_flush_fills_only_missing_roles_and_is_idempotent(ctx):
    from crm.agents.services.staffing import auto_assign

    project = factories.project(ctx.park_a)
    factories.assign(project, ctx.s["agent_a"], "lead_agent")
    result = auto_assign(project)
    assert list(result.assigned) == ["consultant"] and result.unassigned == []
    again = auto_assign(project)
    assert again.assigned == {} and again.unassigned == []
    assert len(active_rows(project)) == 2


def test_ties_go_to_the_least_recently_assigned_then_lowest_id(ctx):
    from crm.agents.services.staffing import auto_assign

    park = factories.park(factories.district("320623", "如东县"))
    early, late = dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 2, 1, tzinfo=UTC)
    factories.staff([park], "consultant", capacity=3)
    x = factories.staff([park], "agent", capacity=4, last_assigned_at=late)
    y = factories.staff([park], "agent", capacity=4, last_assigned_at=early)
    first = auto_assign(factories.project(park))
    assert first.assigned["lead_agent"] is y  # same load 0/4: y was assigned longer ago
    second = auto_assign(factories.project(park))
    assert second.assigned["lead_agent"] is x  # now y has 1/4, x 0/4
    z = factories.staff([park], "agent", capacity=8)  # never assigned, 0/8
    assert auto_assign(factories.project(park)).assigned["lead_agent"] is z
    # x and y at 1/4, z at 1/8: z still has the lowest ratio.
    assert auto_assign(factories.project(park)).assigned["lead_agent"] is z


def test_only_active_assignments_on_active_projects_count_as_load(ctx):
    from crm.agents.services.staffing import loads

    agent = ctx.s["agent_a2"]
    on_hold = factories.project(ctx.park_a, status="on_hold")
    dropped = factories.project(ctx.park_a, status="dropped")
    active = factories.project(ctx.park_a)
    ended = factories.project(ctx.park_a)
    for p in (on_hold, dropped, active, ended):
        factories.assign(p, agent, "helper")
    row = next(a for a in ended.assignments)
    row.ended_at = dt.datetime.now(UTC)
    ctx.session.flush()
    assert loads([agent.id]) == {agent.id: 1}
    assert loads([ctx.s["agent_a"].id, ctx.s["consultant_a"].id]) == {
        ctx.s["agent_a"].id: 1, ctx.s["consultant_a"].id: 1}


def test_ineligible_people_are_skipped_and_the_project_waits_in_the_queue(ctx):
    from crm.agents.queries import unassigned_count, unassigned_query
    from crm.agents.services.staffing import auto_assign
    from crm.i18n import today

    ctx.s["agent_a"].active = False
    ctx.s["agent_a2"].on_leave_until = today()  # on leave today, inclusive
    project = factories.project(ctx.park_a, "排队项目")
    result = auto_assign(project)
    assert result.assigned == {"consultant": ctx.s["consultant_a"]}
    assert result.unassigned == ["lead_agent"] and not result.complete
    queue = ctx.session.execute(unassigned_query(ctx.park_a.id)).all()
    assert [(row.Project.name, row.has_consultant, row.has_lead) for row in queue] == [
        ("南通精密机械项目", False, False), ("排队项目", True, False)]
    assert unassigned_count(ctx.park_a.id) == 2
    # A full agent is not eligible either; a new agent with room is.
    ctx.s["agent_a2"].on_leave_until = today() - dt.timedelta(days=1)
    ctx.s["agent_a2"].capacity = 1
    factories.assign(factories.project(ctx.park_a), ctx.s["agent_a2"], "helper")
    assert auto_assign(project).unassigned == ["lead_agent"]
    fresh = factories.staff([ctx.park_a], "agent", capacity=3)
    assert auto_assign(project).assigned == {"lead_agent": fresh}
    assert "排队项目" not in [r.Project.name for r in ctx.session.execute(unassigned_query(ctx.park_a.id))]


def test_a_dropped_project_gets_nobody(ctx):
    from crm.errors import DomainError as AssignmentError
    from crm.agents.services.staffing import auto_assign

    with pytest.raises(AssignmentError):
        auto_assign(factories.project(ctx.park_a, status="dropped"))


def test_auto_assign_many_keeps_loads_current(ctx):
    from crm.agents.services.staffing import auto_assign_many

    projects = [factories.project(ctx.park_a) for _ in range(4)]
    results = auto_assign_many(projects)
    leads = [r.assigned["lead_agent"].name for r in results]
    # agent_a starts at 1, agent_a2 at 0 (both capacity 6): the rule alternates fairly.
    assert leads == ["王代办", "李代办", "王代办", "李代办"]


# -- by hand -----------------------------------------------------------------------------------

def test_reassignment_keeps_history_and_notifies_both(ctx):
    from crm.agents.services.staffing import assign

    a1 = ctx.p["a1"]
    old = next(a for a in a1.assignments if a.role == "lead_agent")
    new = assign(a1, "lead_agent", ctx.s["agent_a2"].id, actor_id=ctx.u["manager_a"].id,
                 reason="李代办调岗", handover_note="环评报告已送审，等专家意见")
    assert old.ended_at is not None and old.ended_by_id == ctx.u["manager_a"].id
    assert old.end_reason == "李代办调岗"
    assert (new.staff_id, new.reason, new.handover_note, new.forced, new.automatic) == (
        ctx.s["agent_a2"].id, "李代办调岗", "环评报告已送审，等专家意见", False, False)
    assert new.assigned_by_id == ctx.u["manager_a"].id
    assert active_rows(a1) == {("consultant", ctx.s["consultant_a"].id),
                               ("lead_agent", ctx.s["agent_a2"].id)}
    from crm.agents.queries import history

    rows = [(h.role, h.staff.name, h.ended_at is None) for h in history(a1.id)]
    assert ("lead_agent", "李代办", False) in rows and ("lead_agent", "王代办", True) in rows
    assert notifications_of(ctx.u["agent_a2"]) == [("assigned", a1.name, "专职代办员")]
    assert notifications_of(ctx.u["agent_a"]) == [("unassigned", a1.name, "专职代办员")]
    assert audit_actions()[-2:] in (["assignment.end", "assignment.reassign"],
                                    ["assignment.reassign", "assignment.end"])


def test_first_manual_assignment_needs_a_reason_but_no_handover_note(ctx):
    from crm.agents.services.staffing import assign

    a2 = ctx.p["a2"]
    made = assign(a2, "consultant", ctx.s["consultant_a"].id, actor_id=ctx.u["admin"].id,
                  reason="企业点名要求")
    assert made.handover_note is None
    assert audit_actions()[-1] == "assignment.assign"


BAD_INPUT = [
    # (role, staff key or raw id, reason, handover note, field, message fragment)
    ("lead_agent", "agent_a2", "", "交接", "reason", "原因"),
    ("lead_agent", "agent_a2", "   ", "交接", "reason", "原因"),
    ("lead_agent", "agent_a2", "调岗", "", "handover_note", "交接"),
    ("lead_agent", "agent_a2", "x" * 1001, "交接", "reason", "1000"),
    ("lead_agent", 999999, "调岗", "交接", "staff_id", "999999"),
    ("lead_agent", "abc", "调岗", "交接", "staff_id", "abc"),
    ("lead_agent", None, "调岗", "交接", "staff_id", "选择"),
    ("lead_agent", "agent_b", "调岗", "交接", "staff_id", "不存在编号为"),  # not named
    ("lead_agent", "consultant_a", "调岗", "交接", "staff_id", "首席审批服务咨询师"),
    ("consultant", "agent_a2", "调岗", "交接", "staff_id", "项目代办员"),
    ("lead_agent", "agent_a", "调岗", "交接", "staff_id", "已担任"),
    ("boss", "agent_a2", "调岗", "交接", "role", "首席"),
]


@pytest.mark.parametrize("role,who,reason,note,field,fragment", BAD_INPUT)
def test_bad_input_is_refused_and_changes_nothing(ctx, role, who, reason, note, field, fragment):
    from crm.errors import DomainError as AssignmentError
    from crm.agents.services.staffing import assign

    staff_id = ctx.s[who].id if who in ctx.s else who
    before = snapshot()
    with pytest.raises(AssignmentError) as refused:
        assign(ctx.p["a1"], role, staff_id, actor_id=ctx.u["manager_a"].id, reason=reason,
               handover_note=note)
    assert field in refused.value.errors
    assert fragment in refused.value.text(field)
    assert snapshot() == before
    assert active_rows(ctx.p["a1"]) == {("consultant", ctx.s["consultant_a"].id),
                                        ("lead_agent", ctx.s["agent_a"].id)}


def test_deactivated_people_cannot_be_assigned_even_by_force(ctx):
    from crm.errors import DomainError as AssignmentError
    from crm.agents.services.staffing import assign

    ctx.s["agent_a2"].active = False
    with pytest.raises(AssignmentError) as refused:
        assign(ctx.p["a2"], "lead_agent", ctx.s["agent_a2"].id, actor_id=None, reason="r", force=True)
    assert "停用" in refused.value.text("staff_id")


def test_past_capacity_only_with_force_and_reason(ctx):
    from crm.errors import DomainError as AssignmentError
    from crm.agents.services.staffing import assign

    ctx.s["agent_a"].capacity = 1  # serves a1 already: full
    before = snapshot()
    with pytest.raises(AssignmentError) as refused:
        assign(ctx.p["a2"], "lead_agent", ctx.s["agent_a"].id, actor_id=ctx.u["manager_a"].id,
               reason="熟悉企业")
    assert "承接上限" in refused.value.text("staff_id")
    assert snapshot() == before
    with pytest.raises(AssignmentError) as refused:
        assign(ctx.p["a2"], "lead_agent", ctx.s["agent_a"].id, actor_id=ctx.u["manager_a"].id,
               reason="", force=True)
    assert "reason" in refused.value.errors
    made = assign(ctx.p["a2"], "lead_agent", ctx.s["agent_a"].id, actor_id=ctx.u["manager_a"].id,
                  reason="熟悉企业", force=True)
    assert made.forced
    assert audit_actions()[-1] == "assignment.force"
    # Force ticked where it is not needed is not recorded as forced.
    made = assign(ctx.p["a2"], "consultant", ctx.s["consultant_a"].id, actor_id=None,
                  reason="常规", force=True)
    assert not made.forced


def test_someone_on_leave_needs_force(ctx):
    from crm.errors import DomainError as AssignmentError
    from crm.agents.services.staffing import assign
    from crm.i18n import today

    ctx.s["agent_a2"].on_leave_until = today() + dt.timedelta(days=3)
    with pytest.raises(AssignmentError) as refused:
        assign(ctx.p["a2"], "lead_agent", ctx.s["agent_a2"].id, actor_id=None, reason="r")
    assert "休假" in refused.value.text("staff_id")
    assert assign(ctx.p["a2"], "lead_agent", ctx.s["agent_a2"].id, actor_id=None, reason="r",
                  force=True).forced


def test_helpers_are_added_and_removed_with_history(ctx):
    from crm.errors import DomainError as AssignmentError
    from crm.agents.services.staffing import add_helper, end_helper, loads

    a1 = ctx.p["a1"]
    helper = add_helper(a1, ctx.s["agent_a2"].id, actor_id=ctx.u["manager_a"].id, reason="协助土地手续")
    assert ("helper", ctx.s["agent_a2"].id) in active_rows(a1)
    assert loads([ctx.s["agent_a2"].id]) == {ctx.s["agent_a2"].id: 1}
    for who, fragment in (("agent_a", "已在为本项目服务"), ("agent_a2", "已在为本项目服务"),
                          ("consultant_a", "首席审批服务咨询师"), ("agent_b", "不存在编号为")):
        with pytest.raises(AssignmentError) as refused:
            add_helper(a1, ctx.s[who].id, actor_id=None, reason="r")
        assert fragment in refused.value.text("staff_id"), who
    with pytest.raises(AssignmentError) as refused:
        end_helper(a1, helper.id, actor_id=None, reason="")
    assert "reason" in refused.value.errors
    lead = next(a for a in a1.assignments if a.role == "lead_agent")
    for wrong in (lead.id, 999999, "x"):
        with pytest.raises(AssignmentError) as refused:
            end_helper(a1, wrong, actor_id=None, reason="r")
        assert "assignment_id" in refused.value.errors
    end_helper(a1, helper.id, actor_id=ctx.u["manager_a"].id, reason="土地证已办结")
    assert helper.ended_at is not None and helper.end_reason == "土地证已办结"
    assert ("helper", ctx.s["agent_a2"].id) not in active_rows(a1)
    assert [k for k, *_ in notifications_of(ctx.u["agent_a2"])] == ["assigned", "unassigned"]


def test_a_helper_can_be_promoted_to_lead_agent(ctx):
    from crm.agents.services.staffing import add_helper, assign, loads

    a1 = ctx.p["a1"]
    ctx.s["agent_a2"].capacity = 1
    add_helper(a1, ctx.s["agent_a2"].id, actor_id=None, reason="协助")
    # At capacity with a1 itself: promotion on the same project needs no force.
    made = assign(a1, "lead_agent", ctx.s["agent_a2"].id, actor_id=None, reason="接任",
                  handover_note="交接材料清单")
    assert not made.forced
    assert active_rows(a1) == {("consultant", ctx.s["consultant_a"].id),
                               ("lead_agent", ctx.s["agent_a2"].id)}
    assert loads([ctx.s["agent_a2"].id]) == {ctx.s["agent_a2"].id: 1}


def test_notification_role_is_in_the_recipients_language(ctx):
    from crm.agents.services.staffing import assign

    ctx.u["agent_a2"].locale = "en"
    assign(ctx.p["a2"], "lead_agent", ctx.s["agent_a2"].id, actor_id=None, reason="r")
    assert notifications_of(ctx.u["agent_a2"]) == [("assigned", ctx.p["a2"].name, "Lead agent")]


def test_concurrent_auto_assignments_never_push_anyone_past_capacity(app, world):
    """Two requests auto-assign in the same park at once: the second waits for the first
    (roster rows locked on PostgreSQL, BEGIN IMMEDIATE on SQLite) and sees its assignment."""
    import threading
    import time

    from crm.agents.services.staffing import auto_assign, loads
    from crm.extensions import db
    from crm.models import Park, Project, Staff

    with app.app_context():
        park = db.session.get(Park, world.park_a.id)
        db.session.get(Staff, world.staff["agent_a"].id).capacity = 1  # full with a1
        db.session.get(Staff, world.staff["agent_a2"].id).capacity = 1  # one place left
        first_id, second_id = factories.project(park).id, factories.project(park).id
        db.session.commit()
    outcome = {}

    def second():
        with app.test_request_context():
            result = auto_assign(db.session.get(Project, second_id))
            db.session.commit()
            outcome["second"] = result.unassigned

    with app.test_request_context():
        result = auto_assign(db.session.get(Project, first_id))
        assert result.assigned["lead_agent"].id == world.staff["agent_a2"].id
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(1.0)
        assert thread.is_alive(), "the second assignment did not wait for the first"
        db.session.commit()
    thread.join(30)
    assert outcome["second"] == ["lead_agent"]  # nobody left with room
    with app.app_context():
        agent = world.staff["agent_a2"].id
        assert loads([agent]) == {agent: 1}


def test_auto_assign_works_outside_a_request(app, world):
    """Project creation may happen in a job or a command: no request, no logged-in user."""
    from crm.agents.services.staffing import auto_assign
    from crm.extensions import db
    from crm.models import Notification, Park

    with app.app_context():
        project = factories.project(db.session.get(Park, world.park_a.id))
        result = auto_assign(project)
        db.session.commit()
        assert result.complete
        roles = {n.params["role"] for n in db.session.scalars(
            select(Notification).where(Notification.project_id == project.id))}
        assert roles == {"首席审批服务咨询师", "专职代办员"}
