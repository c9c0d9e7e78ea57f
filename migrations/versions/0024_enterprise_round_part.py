"""the enterprise's part of a round report (filled on its progress page)

Revision ID: i20_enterprise_part
Revises: i15_project_name_index
Create Date: 2026-12-06 06:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


revision = 'i20_enterprise_part'
down_revision = 'i15_project_name_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'enterprise_round_parts',
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('progress', sa.Text(), nullable=False),
        sa.Column('investment_completed', sa.Integer(), nullable=True),
        sa.Column('needs', sa.Text(), nullable=True),
        sa.Column('contact_name', sa.String(length=50), nullable=False),
        sa.Column('contact_phone', sa.String(length=30), nullable=True),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint('investment_completed IS NULL OR investment_completed >= 0',
                           name=op.f('ck_enterprise_round_parts_investment_not_negative')),
        sa.ForeignKeyConstraint(['report_id'], ['round_reports.id'],
                                name=op.f('fk_enterprise_round_parts_report_id_round_reports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('report_id', name=op.f('pk_enterprise_round_parts')),
    )


def downgrade():
    op.drop_table('enterprise_round_parts')
