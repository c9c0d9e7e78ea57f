"""index of projects by name (imports match ledger rows by name; the list's search)

Revision ID: i15_project_name_index
Revises: i20_supervision
Create Date: 2026-12-06 04:20:00.945037

"""
from alembic import op


revision = 'i15_project_name_index'
down_revision = 'i20_supervision'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_projects_name', 'projects', ['name'], unique=False)


def downgrade():
    op.drop_index('ix_projects_name', table_name='projects')
