"""A project's approval plan, drawn from the approval-item catalogue, and the catalogue's seed
(DESIGN §3).  After seeding, the catalogue is data: admins edit it in the back office, per
district where limits differ.

Services flush but never commit.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from crm.audit import services as audit
from crm.errors import DomainError
from crm.extensions import db
from crm.i18n import today as local_today
from crm.milestones.models import (
    Applicability, ApprovalItem, CommitmentRule, Milestone, MilestoneDependency,
)
from crm.milestones import graph
from crm.milestones.queries import work_calendar
from crm.milestones.services import forecasts


def applies(item: ApprovalItem, project) -> bool:
    """Whether a catalogue item belongs in a project's plan."""
    rule = item.applicability
    if rule == Applicability.ALWAYS:
        return True
    if rule in (Applicability.FILING, Applicability.VERIFICATION):
        return project.approval_mode == rule
    if rule == Applicability.EIA_REPORT_BOOK:
        return project.eia_category == "report_book"
    if rule == Applicability.EIA_REPORT_FORM:
        return project.eia_category == "report_form"
    return False


def catalogue_for(project) -> list[ApprovalItem]:
    """Active catalogue items for the project's district: a district row replaces the city row."""
    district_id = project.park.district_id
    rows = db.session.scalars(
        select(ApprovalItem).where(
            ApprovalItem.active.is_(True),
            (ApprovalItem.district_id.is_(None)) | (ApprovalItem.district_id == district_id),
        ).order_by(ApprovalItem.sort_order, ApprovalItem.id)
    ).all()
    chosen: dict[str, ApprovalItem] = {}
    for item in rows:
        if item.code not in chosen or item.district_id is not None:
            chosen[item.code] = item
    return sorted(chosen.values(), key=lambda i: (i.sort_order, i.id))


def missing_items(project, catalogue: list[ApprovalItem], have_ids: set,
                  have_codes: set) -> list[ApprovalItem]:
    """The catalogue items the project's plan should have and does not."""
    return [item for item in catalogue
            if item.id not in have_ids and item.code not in have_codes and applies(item, project)]


def milestone_values(project, item: ApprovalItem) -> dict:
    """A new milestone of the project's plan for a catalogue item."""
    return dict(
        project_id=project.id, park_id=project.park_id, approval_item_id=item.id, name=item.name,
        department=item.department, stage=item.stage, sequence=item.sort_order,
        required=item.required, limit_value=item.committed_limit,
        limit_unit=item.committed_unit, statutory_value=item.statutory_limit,
        statutory_unit=item.statutory_unit,
    )


_DEFERRED = "plans_deferred"


@contextmanager
def deferred():
    """Within the block, ``create_plan`` only notes its projects; their plans are drawn up at
    the end, in bulk (``create_plans``).  For bulk work such as an import."""
    session = db.session
    if _DEFERRED in session.info:
        yield
        return
    pending = session.info[_DEFERRED] = {}
    try:
        yield
    finally:
        session.info.pop(_DEFERRED, None)
    create_plans(list(pending.values()))


def create_plan(project) -> list[Milestone]:
    """Milestones for every applicable catalogue item the project does not have yet."""
    pending = db.session.info.get(_DEFERRED)
    if pending is not None:
        pending[project.id] = project
        return []
    have = {m.approval_item_id for m in project.milestones}
    have_codes = {m.approval_item.code for m in project.milestones if m.approval_item}
    added = []
    for item in missing_items(project, catalogue_for(project), have, have_codes):
        milestone = Milestone(project=project, approval_item=item,
                              **milestone_values(project, item))
        db.session.add(milestone)
        added.append(milestone)
    if not added:
        return added  # nothing new: the plan, its links and forecasts stand
    db.session.flush()
    link_catalogue_dependencies(project)
    forecasts.refresh_projects([project.id], local_today(), work_calendar())
    return added


def create_plans(projects: list) -> int:
    """``create_plan`` for many projects: the milestones and their catalogue links written with
    a few bulk statements (the milestones audited as the session hook would).  Returns how
    many milestones were added."""
    if not projects:
        return 0
    session = db.session
    session.flush()
    ids = [p.id for p in projects]
    have: dict[int, tuple[set, set]] = {pid: (set(), set()) for pid in ids}
    for pid, item_id, code in session.execute(
            select(Milestone.project_id, Milestone.approval_item_id, ApprovalItem.code)
            .outerjoin(ApprovalItem, ApprovalItem.id == Milestone.approval_item_id)
            .where(Milestone.project_id.in_(ids))):
        have[pid][0].add(item_id)
        if code:
            have[pid][1].add(code)
    catalogues: dict = {}
    rows, items = [], []
    for project in projects:
        district = project.park.district_id
        if district not in catalogues:
            catalogues[district] = catalogue_for(project)
        for item in missing_items(project, catalogues[district], *have[project.id]):
            rows.append(milestone_values(project, item))
            items.append(item)
    if not rows:
        return 0
    audit.insert_created(session, Milestone.__table__, rows,
                         project_of=lambda _id, row: row["project_id"])
    touched = sorted({row["project_id"] for row in rows})
    for project in projects:
        if project.id in touched:
            session.expire(project, ["milestones"])
    _link_many(touched)
    forecasts.refresh_projects(touched, local_today(), work_calendar())
    return len(rows)


def _catalogue_links(plan: list[tuple[int, str, list[str]]], linked: set) -> list[tuple[int, int]]:
    """The catalogue's dependencies between a plan's milestones, (id, item code, codes it
    requires) each, that are not linked yet: (milestone id, requires id) pairs.  An item needed
    but not in this plan holds nothing up."""
    by_code = {code: (mid, requires) for mid, code, requires in plan}
    pairs = []
    for mid, requires in by_code.values():
        for code in requires:
            needed = by_code.get(code, (None,))[0]
            if needed is None or needed == mid or (mid, needed) in linked:
                continue
            pairs.append((mid, needed))
            linked.add((mid, needed))
    return pairs


def _plans(project_ids: list[int]) -> dict[int, list[tuple[int, str, list[str]]]]:
    plans: dict[int, list] = {pid: [] for pid in project_ids}
    for mid, pid, code, requires in db.session.execute(
            select(Milestone.id, Milestone.project_id, ApprovalItem.code, ApprovalItem.requires)
            .join(ApprovalItem, ApprovalItem.id == Milestone.approval_item_id)
            .where(Milestone.project_id.in_(project_ids)).order_by(Milestone.id)):
        plans[pid].append((mid, code, requires.split() if requires else []))
    return plans


def _links(project_ids: list[int]) -> dict[int, set]:
    linked: dict[int, set] = {pid: set() for pid in project_ids}
    for pid, a, b in db.session.execute(
            select(MilestoneDependency.project_id, MilestoneDependency.milestone_id,
                   MilestoneDependency.requires_id)
            .where(MilestoneDependency.project_id.in_(project_ids))):
        linked[pid].add((a, b))
    return linked


def _link_many(project_ids: list[int]) -> int:
    if not project_ids:
        return 0
    plans, linked = _plans(project_ids), _links(project_ids)
    rows = [{"project_id": pid, "milestone_id": a, "requires_id": b}
            for pid in project_ids for a, b in _catalogue_links(plans[pid], linked[pid])]
    if rows:
        db.session.execute(insert(MilestoneDependency.__table__), rows)
    return len(rows)


def link_catalogue_dependencies(project) -> int:
    """The catalogue's dependencies between the milestones of the project's plan (those not
    linked yet); an item needed but not in this plan holds nothing up.  Returns how many."""
    db.session.flush()
    plans, linked = _plans([project.id]), _links([project.id])
    added = 0
    for milestone_id, requires_id in _catalogue_links(plans[project.id], linked[project.id]):
        db.session.add(MilestoneDependency(project_id=project.id, milestone_id=milestone_id,
                                           requires_id=requires_id))
        added += 1
    db.session.flush()
    return added


# code, name, department, stage, statutory (limit, unit), committed (limit, unit),
# applicability, required materials
SEED_ITEMS = (
    ("filing_record", "项目备案", "行政审批局（发展改革）", "filing", (1, "working"), (1, "working"),
     "filing", "项目备案申请表；企业营业执照；项目基本情况说明"),
    ("verification", "项目核准", "发展和改革委员会", "filing", (20, "working"), (15, "working"),
     "verification", "项目申请报告；规划选址和用地预审意见；社会稳定风险评估报告"),
    ("energy_review", "节能审查", "发展和改革委员会", "filing", (20, "working"), (1, "working"),
     "always", "节能报告；节能审查申请表"),
    ("land_preexam", "用地预审与选址意见书", "自然资源和规划局", "land", (20, "working"), (20, "working"),
     "always", "建设项目用地预审与选址申请表；项目建设依据；标注项目用地范围的土地利用规划图"),
    ("land_title", "不动产权证（土地首次登记）", "自然资源和规划局（不动产登记中心）", "land",
     (30, "working"), (5, "working"), "always", "不动产登记申请书；土地出让合同；土地出让金缴纳凭证"),
    ("land_planning_permit", "建设用地规划许可证", "自然资源和规划局", "planning", (20, "working"),
     (20, "working"), "always", "建设用地规划许可申请表；土地出让合同及规划条件；用地红线图"),
    ("eia_book", "环评审批（报告书）", "生态环境局", "planning", (60, "calendar"), (30, "working"),
     "eia_report_book", "环境影响报告书；公众参与说明；审批申请"),
    ("eia_form", "环评审批（报告表）", "生态环境局", "planning", (30, "calendar"), (15, "working"),
     "eia_report_form", "环境影响报告表；审批申请"),
    ("works_planning_permit", "建设工程规划许可证", "自然资源和规划局", "planning", (20, "working"),
     (20, "working"), "always", "建设工程规划许可申请表；设计方案总平面图；不动产权证"),
    ("drawing_review", "施工图审查", "住房和城乡建设局（施工图审查机构）", "permitting",
     (15, "working"), (10, "working"), "always", "施工图设计文件；勘察报告"),
    ("fire_design_review", "消防设计审查", "住房和城乡建设局", "permitting", (15, "working"),
     (15, "working"), "always", "消防设计审查申请表；消防设计文件"),
    ("construction_permit", "施工许可证", "行政审批局（住房城乡建设）", "permitting", (7, "calendar"),
     (7, "calendar"), "always", "施工许可申请表；建设工程规划许可证；施工合同；质量安全监督手续"),
)


def check_requires(item: ApprovalItem, requires: str | None) -> str:
    """The catalogue item's dependencies as it will store them (known codes, once each,
    space-separated), or a DomainError on ``requires``: an unknown code, the item itself, or a
    loop in the catalogue of any district the item belongs to (a district's rows replace the
    city's of the same code)."""
    codes = list(dict.fromkeys((requires or "").replace(",", " ").replace("，", " ").split()))
    if item.code in codes:
        raise DomainError(_l("An approval item cannot need itself."), "requires")
    rows = [(code, district, (needs or "").split()) for id_, code, district, needs in
            db.session.execute(select(ApprovalItem.id, ApprovalItem.code,
                                      ApprovalItem.district_id, ApprovalItem.requires))
            if id_ != item.id]
    own = item.district.id if item.district is not None else item.district_id
    rows.append((item.code, own, codes))
    rows.sort(key=lambda r: r[1] is not None)  # the city's rows first, a district's replace them
    districts = ({own} if own is not None
                 else {None} | {r[1] for r in rows if r[1] is not None})
    for district in districts:
        edges = {code: needs for code, row_district, needs in rows
                 if row_district in (None, district)}
        unknown = [c for c in codes if c not in edges]
        if unknown:
            raise DomainError(_l("No approval item has the code %(codes)s.",
                                 codes="、".join(unknown)), "requires")
        cycle = graph.find_cycle(edges)
        if cycle:
            raise DomainError(_l("These items would wait for each other in a loop: %(items)s.",
                                 items=" → ".join(cycle)), "requires")
    return " ".join(codes)


def check_commitment(rule: CommitmentRule) -> None:
    """A promise runs between two different items of the catalogue."""
    known = set(db.session.scalars(select(ApprovalItem.code)))
    for field in ("start_code", "end_code"):
        if getattr(rule, field) not in known:
            raise DomainError(_l("No approval item has the code %(codes)s.",
                                 codes=getattr(rule, field) or "—"), field)
    if rule.start_code == rule.end_code:
        raise DomainError(_l("A promise runs from one approval item to another."), "end_code")


# What each seeded item needs issued first.  After 项目备案, 节能审查, 用地预审 and 环评 run in
# parallel; 核准 needs 用地预审 and 节能审查; 施工许可 waits for 工程规划许可, 施工图审查, 消防设计
#审查 and 环评 together.
SEED_REQUIRES = {
    "energy_review": "filing_record", "land_preexam": "filing_record",
    "eia_book": "filing_record", "eia_form": "filing_record",
    "verification": "land_preexam energy_review", "land_title": "land_preexam",
    "land_planning_permit": "land_title",
    "works_planning_permit": "land_planning_permit",
    "drawing_review": "land_planning_permit", "fire_design_review": "land_planning_permit",
    "construction_permit": "works_planning_permit drawing_review fire_design_review eia_book eia_form",
}

# The city-wide promises (name, approval mode, start item, end item, working days): from the
# record or the verification to the construction permit.
SEED_COMMITMENTS = (
    ("备案类工业项目：备案至施工许可", "filing", "filing_record", "construction_permit", 90),
    ("核准类工业项目：核准至施工许可", "verification", "verification", "construction_permit", 90),
)


def seed_catalogue() -> int:
    """Insert the city-wide catalogue rows that are missing (and the city-wide promises when
    there are none); returns how many catalogue rows were added."""
    existing = set(db.session.scalars(
        select(ApprovalItem.code).where(ApprovalItem.district_id.is_(None))))
    added = 0
    for order, (code, name, dept, stage, statutory, committed, applies, materials) in enumerate(SEED_ITEMS):
        if code in existing:
            continue
        db.session.add(ApprovalItem(
            code=code, name=name, department=dept, stage=stage,
            statutory_limit=statutory[0], statutory_unit=statutory[1],
            committed_limit=committed[0], committed_unit=committed[1],
            applicability=applies, required=True, required_materials=materials,
            sort_order=(order + 1) * 10, requires=SEED_REQUIRES.get(code, ""),
        ))
        added += 1
    if db.session.scalar(select(CommitmentRule.id).limit(1)) is None:
        for name, mode, start, end, limit in SEED_COMMITMENTS:
            db.session.add(CommitmentRule(name=name, approval_mode=mode, start_code=start,
                                          end_code=end, limit_workdays=limit))
    db.session.flush()
    return added
