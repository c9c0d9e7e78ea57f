"""supervision rounds: reports_ready (a large round's reports are written by a worker)

Revision ID: i20_round_reports_ready
Revises: i20_enterprise_part
Create Date: 2026-12-06 06:45:00.000000

"""
import sqlalchemy as sa
from alembic import op


revision = 'i20_round_reports_ready'
down_revision = 'i20_enterprise_part'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('supervision_rounds', sa.Column('reports_ready', sa.Boolean(), nullable=False,
                                                  server_default=sa.true()))


def downgrade():
    with op.batch_alter_table('supervision_rounds') as batch:
        batch.drop_column('reports_ready')
