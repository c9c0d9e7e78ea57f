"""the enterprise's online rating is one per project and target, whatever link it came
through (a new link does not make the approvals rateable again)

Revision ID: i14_ratings_per_target
Revises: i14_callbacks
Create Date: 2026-12-05 12:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'i14_ratings_per_target'
down_revision = 'i14_callbacks'
branch_labels = None
depends_on = None

ONLINE_MILESTONE = sa.text("source = 'online' AND milestone_id IS NOT NULL")
ONLINE_SERVICE = sa.text("source = 'online' AND milestone_id IS NULL")
LINK_MILESTONE = sa.text('milestone_id IS NOT NULL')
LINK_SERVICE = sa.text('milestone_id IS NULL')


def upgrade():
    op.drop_index('uq_ratings_link_milestone', table_name='ratings')
    op.drop_index('uq_ratings_link_project', table_name='ratings')
    op.create_index('uq_ratings_online_milestone', 'ratings', ['project_id', 'milestone_id'],
                    unique=True, sqlite_where=ONLINE_MILESTONE, postgresql_where=ONLINE_MILESTONE)
    op.create_index('uq_ratings_online_service', 'ratings', ['project_id'], unique=True,
                    sqlite_where=ONLINE_SERVICE, postgresql_where=ONLINE_SERVICE)


def downgrade():
    op.drop_index('uq_ratings_online_service', table_name='ratings')
    op.drop_index('uq_ratings_online_milestone', table_name='ratings')
    op.create_index('uq_ratings_link_project', 'ratings', ['link_id'], unique=True,
                    sqlite_where=LINK_SERVICE, postgresql_where=LINK_SERVICE)
    op.create_index('uq_ratings_link_milestone', 'ratings', ['link_id', 'milestone_id'],
                    unique=True, sqlite_where=LINK_MILESTONE, postgresql_where=LINK_MILESTONE)
