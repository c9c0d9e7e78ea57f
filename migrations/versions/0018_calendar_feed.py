"""the deadline calendar feed: a secret per user

Revision ID: i16_calendar_feed
Revises: i15_imports
Create Date: 2026-12-05 16:26:31.470054

"""
from alembic import op
import sqlalchemy as sa


revision = 'i16_calendar_feed'
down_revision = 'i15_imports'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_calendar_token_hash'), ['calendar_token_hash'], unique=True)



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_calendar_token_hash'))
        batch_op.drop_column('calendar_token_hash')
        batch_op.drop_column('calendar_salt')

