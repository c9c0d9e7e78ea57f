"""calendar overrides: updated_at (the calendar cache notices edited overrides)

Revision ID: i3_calendar_updated
Revises: i4_agents
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


revision = "i3_calendar_updated"
down_revision = "i4_agents"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("calendar_overrides", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("calendar_overrides", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
