"""assignments.automatic (chosen by the rule or by hand); index of progress logs by author
(the workload view's "last progress log")

Revision ID: i4_agents
Revises: 0001
Create Date: 2026-11-28 19:09:44.549177

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i4_agents'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('automatic', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('progress_logs', schema=None) as batch_op:
        batch_op.create_index('ix_progress_logs_author_happened', ['author_id', 'happened_on'], unique=False)


def downgrade():
    with op.batch_alter_table('progress_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_logs_author_happened')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('automatic')
