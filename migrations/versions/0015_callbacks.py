"""the monthly callback sample (回访抽样) of finished milestones

Revision ID: i14_callbacks
Revises: i14_ratings
Create Date: 2026-12-05 12:00:51.337909

"""
from alembic import op
import sqlalchemy as sa


revision = 'i14_callbacks'
down_revision = 'i14_ratings'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('callback_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('rating_id', sa.Integer(), nullable=True),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_callback_items_milestone_id_milestones'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_callback_items_park_id_parks')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_callback_items_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rating_id'], ['ratings.id'], name=op.f('fk_callback_items_rating_id_ratings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_items')),
    sa.UniqueConstraint('month', 'milestone_id', name='uq_callback_items_month_milestone')
    )
    with op.batch_alter_table('callback_items', schema=None) as batch_op:
        batch_op.create_index('ix_callback_items_month_park', ['month', 'park_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_items_project_id'), ['project_id'], unique=False)



def downgrade():
    with op.batch_alter_table('callback_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_items_project_id'))
        batch_op.drop_index('ix_callback_items_month_park')

    op.drop_table('callback_items')
