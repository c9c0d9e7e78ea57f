"""index of milestones on a critical path (the dashboards' bottleneck lists)

Revision ID: i17_critical_index
Revises: i17_parallel
Create Date: 2026-12-05 08:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'i17_critical_index'
down_revision = 'i17_parallel'
branch_labels = None
depends_on = None

CRITICAL = sa.text('critical')


def upgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index('ix_milestones_critical', ['park_id', 'name', 'forecast_on'],
                              unique=False, sqlite_where=CRITICAL, postgresql_where=CRITICAL)


def downgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_milestones_critical', sqlite_where=CRITICAL,
                            postgresql_where=CRITICAL)
