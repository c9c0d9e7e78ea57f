"""indexes for the dashboards at scale: current assignments by person (workload), open
blockers by age

Revision ID: i8_assignments_open
Revises: i8_park_rollups
Create Date: 2026-11-28 23:45:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'i8_assignments_open'
down_revision = 'i8_park_rollups'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_staff_open', ['staff_id', 'project_id'], unique=False,
                              sqlite_where=sa.text('ended_at IS NULL'),
                              postgresql_where=sa.text('ended_at IS NULL'))
    open_blocker = sa.text("kind = 'blocker' AND resolved_at IS NULL")
    with op.batch_alter_table('progress_logs', schema=None) as batch_op:
        batch_op.create_index('ix_progress_logs_open_blockers_age', ['happened_on', 'id'],
                              unique=False, sqlite_where=open_blocker,
                              postgresql_where=open_blocker)


def downgrade():
    with op.batch_alter_table('progress_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_logs_open_blockers_age')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_staff_open',
                            sqlite_where=sa.text('ended_at IS NULL'),
                            postgresql_where=sa.text('ended_at IS NULL'))
