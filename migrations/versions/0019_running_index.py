"""index of a project's running milestones by due date (the park dashboard's workload)

Revision ID: i18_running_index
Revises: i16_calendar_feed
Create Date: 2026-12-05 16:51:58.043468

"""
from alembic import op
import sqlalchemy as sa


revision = 'i18_running_index'
down_revision = 'i16_calendar_feed'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index('ix_milestones_running_project', ['project_id', 'due_on'], unique=False, sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))



def downgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_milestones_running_project', sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))

