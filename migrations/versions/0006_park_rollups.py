"""park rollups for the leadership dashboard

Revision ID: i8_park_rollups
Revises: i7_api_tokens
Create Date: 2026-11-28 20:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'i8_park_rollups'
down_revision = 'i7_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'park_rollups',
        sa.Column('park_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('period_days', sa.Integer(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['park_id'], ['parks.id'],
                                name=op.f('fk_park_rollups_park_id_parks'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('park_id', name=op.f('pk_park_rollups')),
    )


def downgrade():
    op.drop_table('park_rollups')
