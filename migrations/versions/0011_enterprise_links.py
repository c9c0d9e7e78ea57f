"""enterprise links: the enterprise's progress page (/e/<token>) and its views

Revision ID: i14_enterprise_links
Revises: i17_critical_index
Create Date: 2026-12-05 08:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'i14_enterprise_links'
down_revision = 'i17_critical_index'
branch_labels = None
depends_on = None

ACTIVE = sa.text('revoked_at IS NULL')


def upgrade():
    op.create_table(
        'enterprise_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('salt', sa.String(length=32), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_enterprise_links_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_enterprise_links_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_enterprise_links_token_hash')),
    )
    with op.batch_alter_table('enterprise_links', schema=None) as batch_op:
        batch_op.create_index('uq_enterprise_links_active', ['project_id'], unique=True,
                              sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_table(
        'enterprise_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['link_id'], ['enterprise_links.id'],
                                name=op.f('fk_enterprise_views_link_id_enterprise_links'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_views')),
    )
    with op.batch_alter_table('enterprise_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_views_link_id'), ['link_id'], unique=False)


def downgrade():
    op.drop_table('enterprise_views')
    op.drop_table('enterprise_links')
