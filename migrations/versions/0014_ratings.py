"""the enterprise's ratings (five dimensions) and the bad-review cases (差评整改)

Revision ID: i14_ratings
Revises: i17_joint_handling
Create Date: 2026-12-05 11:44:00.375664

"""
from alembic import op
import sqlalchemy as sa


revision = 'i14_ratings'
down_revision = 'i17_joint_handling'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('openness', sa.Integer(), nullable=False),
    sa.Column('standards', sa.Integer(), nullable=False),
    sa.Column('convenience', sa.Integer(), nullable=False),
    sa.Column('courtesy', sa.Integer(), nullable=False),
    sa.Column('discipline', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('online', 'callback')", name=op.f('ck_ratings_source_known')),
    sa.CheckConstraint('openness BETWEEN 1 AND 5 AND standards BETWEEN 1 AND 5 AND convenience BETWEEN 1 AND 5 AND courtesy BETWEEN 1 AND 5 AND discipline BETWEEN 1 AND 5', name=op.f('ck_ratings_scores_1_to_5')),
    sa.ForeignKeyConstraint(['link_id'], ['enterprise_links.id'], name=op.f('fk_ratings_link_id_enterprise_links'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_ratings_milestone_id_milestones'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_ratings_park_id_parks')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_ratings_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_ratings_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings'))
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ratings_milestone_id'), ['milestone_id'], unique=False)
        batch_op.create_index('ix_ratings_park_submitted', ['park_id', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ratings_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ratings_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index('uq_ratings_link_milestone', ['link_id', 'milestone_id'], unique=True, sqlite_where=sa.text('milestone_id IS NOT NULL'), postgresql_where=sa.text('milestone_id IS NOT NULL'))
        batch_op.create_index('uq_ratings_link_project', ['link_id'], unique=True, sqlite_where=sa.text('milestone_id IS NULL'), postgresql_where=sa.text('milestone_id IS NULL'))

    op.create_table('satisfaction_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('rating_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('contact_name', sa.String(length=50), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('assignee_staff_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('classification', sa.String(length=10), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('classified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rectification', sa.Text(), nullable=True),
    sa.Column('rectified_on', sa.Date(), nullable=True),
    sa.Column('panel_members', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_how', sa.String(length=12), nullable=True),
    sa.Column('close_note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("classification IS NULL OR classification IN ('simple', 'complex')", name=op.f('ck_satisfaction_cases_classification_known')),
    sa.CheckConstraint("kind IN ('low_rating', 'complaint')", name=op.f('ck_satisfaction_cases_kind_known')),
    sa.CheckConstraint("status IN ('open', 'classified', 'rectified', 'closed')", name=op.f('ck_satisfaction_cases_status_known')),
    sa.ForeignKeyConstraint(['assignee_staff_id'], ['staff.id'], name=op.f('fk_satisfaction_cases_assignee_staff_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_satisfaction_cases_park_id_parks')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_satisfaction_cases_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rating_id'], ['ratings.id'], name=op.f('fk_satisfaction_cases_rating_id_ratings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_cases'))
    )
    with op.batch_alter_table('satisfaction_cases', schema=None) as batch_op:
        batch_op.create_index('ix_satisfaction_cases_park_status_due', ['park_id', 'status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_cases_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_cases_rating_id'), ['rating_id'], unique=False)



def downgrade():
    with op.batch_alter_table('satisfaction_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_satisfaction_cases_rating_id'))
        batch_op.drop_index(batch_op.f('ix_satisfaction_cases_project_id'))
        batch_op.drop_index('ix_satisfaction_cases_park_status_due')

    op.drop_table('satisfaction_cases')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('uq_ratings_link_project', sqlite_where=sa.text('milestone_id IS NULL'), postgresql_where=sa.text('milestone_id IS NULL'))
        batch_op.drop_index('uq_ratings_link_milestone', sqlite_where=sa.text('milestone_id IS NOT NULL'), postgresql_where=sa.text('milestone_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_ratings_staff_id'))
        batch_op.drop_index(batch_op.f('ix_ratings_project_id'))
        batch_op.drop_index('ix_ratings_park_submitted')
        batch_op.drop_index(batch_op.f('ix_ratings_milestone_id'))

    op.drop_table('ratings')
