"""The enterprise's side: its link and page (``links``), its ratings and the bad-review cases
(``ratings``).  The names most callers use are re-exported here."""

from crm.portal.services.links import (  # noqa: F401
    AUDIT_ACTIONS as LINK_AUDIT_ACTIONS, MAX_LINK_DAYS, active_link, confirm, ensure, issue,
    open_page, ready_orders, revoke, secret,
)
from crm.portal.services.ratings import AUDIT_ACTIONS as RATING_AUDIT_ACTIONS

AUDIT_ACTIONS = {**LINK_AUDIT_ACTIONS, **RATING_AUDIT_ACTIONS}
