"""Every model, imported in dependency order so the metadata is complete (Alembic, tests)."""

from crm.parks.models import District, Park  # noqa: F401
from crm.agents.models import Assignment, AssignmentRole, Staff, StaffKind, staff_parks  # noqa: F401
from crm.auth.models import ApiToken, LoginSession, Role, User, user_parks  # noqa: F401
from crm.projects.models import (  # noqa: F401
    LogAnnotation, LogKind, ProgressLog, Project, ProjectStatus, Stage, StageChange,
)
from crm.milestones.models import (  # noqa: F401
    ApprovalItem, CalendarOverride, CalendarYear, CommitmentRule, Milestone,
    MilestoneDependency, MilestonePause, MilestoneStatus, ProjectForecast,
)
from crm.supervision.models import (  # noqa: F401
    Department, InvestmentPlan, Meeting, Problem, Round, RoundReport, meeting_problems)
from crm.documents.models import GeneratedDocument  # noqa: F401
from crm.portal.models import (  # noqa: F401
    CallbackItem, EnterpriseLink, EnterpriseView, OrderConfirmation, Rating, SatisfactionCase,
)
from crm.notifications.models import (  # noqa: F401
    AlertPreference, Delivery, Escalation, Notification, ParkRobot)
from crm.imports.models import ImportBatch, ImportMapping  # noqa: F401
from crm.attachments.models import Attachment, AttachmentBlob  # noqa: F401
from crm.audit.models import AuditEvent  # noqa: F401
from crm.dashboard.models import ParkRollup  # noqa: F401
