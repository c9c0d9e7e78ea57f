"""the enterprise's confirmation of each service-order version

Revision ID: i14_order_confirmations
Revises: i14_enterprise_links
Create Date: 2026-12-05 08:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'i14_order_confirmations'
down_revision = 'i14_enterprise_links'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'order_confirmations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('doc_version', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=True),
        sa.Column('signer_name', sa.String(length=50), nullable=False),
        sa.Column('signer_title', sa.String(length=50), nullable=False),
        sa.Column('signer_phone', sa.String(length=20), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['generated_documents.id'],
                                name=op.f('fk_order_confirmations_document_id_generated_documents'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['link_id'], ['enterprise_links.id'],
                                name=op.f('fk_order_confirmations_link_id_enterprise_links'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_order_confirmations_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_confirmations')),
        sa.UniqueConstraint('document_id', name=op.f('uq_order_confirmations_document_id')),
    )
    with op.batch_alter_table('order_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_confirmations_project_id'), ['project_id'],
                              unique=False)


def downgrade():
    op.drop_table('order_confirmations')
