"""documents: request key for idempotent requests, one row per service-order version

Revision ID: i6_documents
Revises: i3_calendar_updated
Create Date: 2026-11-28 19:14:35.584712

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "i6_documents"
down_revision = "i3_calendar_updated"
branch_labels = None
depends_on = None

PENDING = "status IN ('queued', 'running')"


def upgrade():
    with op.batch_alter_table("generated_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_key", sa.String(length=80), nullable=True))
        batch_op.create_index("uq_generated_documents_pending_key", ["request_key"], unique=True,
                              sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
        batch_op.create_unique_constraint("uq_generated_documents_project_version",
                                          ["project_id", "doc_version"])


def downgrade():
    with op.batch_alter_table("generated_documents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_generated_documents_project_version", type_="unique")
        batch_op.drop_index("uq_generated_documents_pending_key")
        batch_op.drop_column("request_key")
