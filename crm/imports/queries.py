"""Reads of the import pages: the batches a user may see and the saved mappings."""

from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from crm import labels
from crm.auth.scope import sees_all, visible_park_ids
from crm.extensions import db
from crm.imports.models import ImportBatch, ImportMapping
from crm.milestones.models import ApprovalItem

RECENT = 50


def batch_condition(user):
    """A batch is seen by admins, by its uploader and by the managers of its park."""
    if sees_all(user):
        return ImportBatch.id.is_not(None)
    return or_(ImportBatch.created_by_id == user.id,
               ImportBatch.park_id.in_(visible_park_ids(user) or {-1}))


def recent_batches(user) -> list[ImportBatch]:
    return list(db.session.scalars(
        select(ImportBatch).where(batch_condition(user))
        .options(joinedload(ImportBatch.park), joinedload(ImportBatch.created_by))
        .order_by(ImportBatch.id.desc()).limit(RECENT)))


def get_batch_or_none(user, batch_id: int) -> ImportBatch | None:
    return db.session.scalar(select(ImportBatch).where(
        ImportBatch.id == batch_id, batch_condition(user)))


def saved_mappings(park_ids) -> list[ImportMapping]:
    return list(db.session.scalars(
        select(ImportMapping).where(ImportMapping.park_id.in_(list(park_ids) or [-1]))
        .options(joinedload(ImportMapping.park))
        .order_by(ImportMapping.kind, ImportMapping.name)))


def _zh_labels(group: str) -> list[str]:
    with force_locale("zh_Hans_CN"):
        return [str(text) for _, text in labels.choices(group)]


def template_lists(kind: str, parks) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """The drop-down values of a template ({field: values}) and its example rows."""
    items = list(db.session.scalars(select(ApprovalItem.name).where(
        ApprovalItem.active.is_(True), ApprovalItem.district_id.is_(None))
        .order_by(ApprovalItem.sort_order, ApprovalItem.id)))
    park = parks[0].name if parks else ""
    if kind == "roster":
        lists = {"kind": _zh_labels("staff_kind"), "parks": [p.name for p in parks]}
        examples = {"roster": {"name": "张三", "kind": lists["kind"][-1], "phone": "0513-85000000",
                               "title": "项目服务科", "capacity": 8, "parks": park}}
        return lists, examples
    lists = {"park": [p.name for p in parks], "industry": _zh_labels("industry"),
             "stage": _zh_labels("stage"), "status": _zh_labels("project_status"),
             "approval_mode": _zh_labels("approval_mode"),
             "eia_category": _zh_labels("eia_category"), "item": items,
             "pause_reason": _zh_labels("pause_reason")}
    example_item = items[0] if items else ""
    examples = {
        "projects": {"park": park, "name": "年产10万吨新材料项目", "investor_name": "南通示例新材料有限公司",
                     "investment_wan": 120000,
                     "industry": lists["industry"][2], "stage": lists["stage"][1],
                     "status": lists["status"][0], "approval_mode": lists["approval_mode"][0],
                     "eia_category": lists["eia_category"][1], "contact_name": "李四",
                     "contact_phone": "13800000000", "signed_on": "2025-06-01"},
        "progress": {"project_name": "年产10万吨新材料项目", "item": example_item,
                     "accepted_on": "2025-06-05", "completed_on": "2025-06-10",
                     "approval_doc_no": "通行审备〔2025〕1号"},
    }
    return lists, examples
