"""spreadsheet imports: batches, saved mappings, audit events tagged with their batch

Revision ID: i15_imports
Revises: i14_ratings_per_target
Create Date: 2026-12-05 15:15:33.569763

"""
from alembic import op
import sqlalchemy as sa


revision = 'i15_imports'
down_revision = 'i14_ratings_per_target'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('failure', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reverted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_batches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_import_batches_park_id_parks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_park_id'), ['park_id'], unique=False)

    op.create_table('import_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_import_mappings_park_id_parks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mappings')),
    sa.UniqueConstraint('park_id', 'kind', 'name', name='uq_import_mappings_name')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_row', sa.Boolean(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_events_import_batch_id'), ['import_batch_id'], unique=False)



def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_import_batch_id'))
        batch_op.drop_column('created_row')
        batch_op.drop_column('import_batch_id')

    op.drop_table('import_mappings')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batches_park_id'))

    op.drop_table('import_batches')
