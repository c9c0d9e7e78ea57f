"""Builders of test data.  They add and flush; the caller commits when it needs to."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from functools import lru_cache

PASSWORD = "correct-horse-battery"
_serial = itertools.count(1)


@lru_cache(maxsize=1)
def password_hash() -> str:
    """One argon2id hash per test session (hashing costs ~50 ms)."""
    from crm.security import hash_password

    return hash_password(PASSWORD)


def district(code="320612", name="通州区"):
    from crm.extensions import db
    from crm.parks.models import District

    obj = District(code=code, name=name)
    db.session.add(obj)
    db.session.flush()
    return obj


def park(district, name=None, short_name=None):
    from crm.extensions import db
    from crm.parks.models import Park

    n = next(_serial)
    obj = Park(name=name or f"测试园区{n}", short_name=short_name or f"园区{n}", level="national",
               district=district)
    db.session.add(obj)
    db.session.flush()
    return obj


def staff(parks, kind="agent", name=None, capacity=5, **kwargs):
    from crm.agents.models import Staff
    from crm.extensions import db

    n = next(_serial)
    obj = Staff(name=name or f"人员{n}", kind=kind, phone=f"1390000{n:04d}", capacity=capacity,
                active=kwargs.pop("active", True), **kwargs)
    obj.parks = list(parks)
    db.session.add(obj)
    db.session.flush()
    return obj


def user(username, role, parks=(), staff=None, active=True, display_name=None):
    from crm.auth.models import User
    from crm.extensions import db

    obj = User(username=username, display_name=display_name or username, role=role,
               password_hash=password_hash(), staff=staff, active=active)
    obj.parks = list(parks)
    db.session.add(obj)
    db.session.flush()
    return obj


def project(park, name=None, stage="negotiating", status="active", investment=20000, **kwargs):
    from crm.extensions import db
    from crm.projects.models import Project

    n = next(_serial)
    obj = Project(name=name or f"测试项目{n}", investor_name=kwargs.pop("investor_name", f"测试投资有限公司{n}"),
                  investment=investment, industry=kwargs.pop("industry", "new_energy"), park=park,
                  stage=stage, status=status, **kwargs)
    db.session.add(obj)
    db.session.flush()
    return obj


def assign(project, staff, role="lead_agent", started_at=None):
    from crm.agents.models import Assignment
    from crm.extensions import db

    obj = Assignment(project=project, staff_id=staff.id, role=role,
                     started_at=started_at or dt.datetime.now(dt.timezone.utc))
    db.session.add(obj)
    db.session.flush()
    return obj


def log(project, kind="visit", text="走访企业", author=None, happened_on=None, **kwargs):
    from crm.extensions import db
    from crm.projects.models import ProgressLog

    obj = ProgressLog(project=project, park_id=project.park_id, kind=kind, text=text, author=author,
                      happened_on=happened_on or dt.date.today(), **kwargs)
    db.session.add(obj)
    db.session.flush()
    return obj


@dataclass
class World:
    """Two parks (A and B); users: admin, leader, manager_a, manager_b, consultant_a, agent_a,
    agent_b; projects: two in A (one assigned to agent_a and consultant_a), one in B."""

    park_a: object = None
    park_b: object = None
    users: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)
    projects: dict = field(default_factory=dict)

    def ids(self) -> dict:
        return {k: v.id for k, v in self.projects.items()}


def build_world():
    from crm.extensions import db

    w = World()
    d = district()
    w.park_a = park(d, "南通经济技术开发区", "南通经开区")
    w.park_b = park(d, "海安经济技术开发区", "海安经开区")
    w.staff["consultant_a"] = staff([w.park_a], "consultant", "张顾问", capacity=10)
    w.staff["agent_a"] = staff([w.park_a], "agent", "李代办", capacity=6)
    w.staff["agent_a2"] = staff([w.park_a], "agent", "王代办", capacity=6)
    w.staff["consultant_b"] = staff([w.park_b], "consultant", "赵顾问", capacity=10)
    w.staff["agent_b"] = staff([w.park_b], "agent", "陈代办", capacity=6)
    w.users["admin"] = user("admin", "admin")
    w.users["leader"] = user("leader", "leader")
    w.users["manager_a"] = user("manager_a", "park_manager", parks=[w.park_a])
    w.users["manager_b"] = user("manager_b", "park_manager", parks=[w.park_b])
    w.users["consultant_a"] = user("consultant_a", "consultant", staff=w.staff["consultant_a"])
    w.users["agent_a"] = user("agent_a", "agent", staff=w.staff["agent_a"])
    w.users["agent_a2"] = user("agent_a2", "agent", staff=w.staff["agent_a2"])
    w.users["agent_b"] = user("agent_b", "agent", staff=w.staff["agent_b"])
    w.projects["a1"] = project(w.park_a, "南通新能源电池项目", stage="land")
    w.projects["a2"] = project(w.park_a, "南通精密机械项目", stage="signed")
    w.projects["b1"] = project(w.park_b, "海安新材料项目", stage="filing")
    assign(w.projects["a1"], w.staff["consultant_a"], "consultant")
    assign(w.projects["a1"], w.staff["agent_a"], "lead_agent")
    assign(w.projects["b1"], w.staff["consultant_b"], "consultant")
    assign(w.projects["b1"], w.staff["agent_b"], "lead_agent")
    db.session.commit()
    # Load the committed rows now, so tests can read ids and names outside the app context.
    for obj in [w.park_a, w.park_b, *w.users.values(), *w.staff.values(), *w.projects.values()]:
        obj.id  # noqa: B018
    return w


def milestone(project, name=None, stage=None, limit_value=10, limit_unit="working",
              status="pending", required=True, **kwargs):
    """A milestone without a catalogue item (set dates and status through kwargs, or better
    through crm.milestones.lifecycle so the stored deadline facts stay consistent)."""
    from crm.extensions import db
    from crm.milestones.models import Milestone

    n = next(_serial)
    obj = Milestone(project=project, park_id=project.park_id, name=name or f"测试节点{n}",
                    stage=stage or project.stage, sequence=kwargs.pop("sequence", n),
                    limit_value=limit_value, limit_unit=limit_unit, status=status,
                    required=required, **kwargs)
    db.session.add(obj)
    db.session.flush()
    return obj
