"""joint handling of approvals (联合办理) and the promise's margin in working days

Revision ID: i17_joint_handling
Revises: i14_order_confirmations
Create Date: 2026-12-05 11:22:15.383002

"""
import warnings

from alembic import op
import sqlalchemy as sa


revision = 'i17_joint_handling'
down_revision = 'i14_order_confirmations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('joint_handlings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('extension_workdays', sa.Integer(), nullable=True),
    sa.Column('extension_doc_no', sa.String(length=100), nullable=True),
    sa.Column('extension_approved_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('extension_workdays IS NULL OR extension_workdays > 0', name=op.f('ck_joint_handlings_extension_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_joint_handlings_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_joint_handlings_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_joint_handlings'))
    )
    op.create_index('ix_joint_handlings_project_id', 'joint_handlings', ['project_id'])
    with warnings.catch_warnings():
        # SQLite rebuilds the table; reflecting it cannot read the expression index on users.
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection of expression-based')
        with op.batch_alter_table('milestones', schema=None) as batch_op:
            batch_op.add_column(sa.Column('joint_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key('fk_milestones_joint_id_joint_handlings',
                                        'joint_handlings', ['joint_id'], ['id'],
                                        ondelete='SET NULL')
    op.create_index('ix_milestones_joint_id', 'milestones', ['joint_id'])
    op.add_column('project_forecasts', sa.Column('promise_margin_workdays', sa.Integer(),
                                                 nullable=True))
    # Every stored forecast is recomputed by the next refresh (which stores the margin).
    op.execute("UPDATE project_forecasts SET computed_on = '2000-01-01'")


def downgrade():
    with op.batch_alter_table('project_forecasts', schema=None) as batch_op:
        batch_op.drop_column('promise_margin_workdays')

    op.drop_index('ix_milestones_joint_id', table_name='milestones')
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection of expression-based')
        with op.batch_alter_table('milestones', schema=None) as batch_op:
            batch_op.drop_constraint('fk_milestones_joint_id_joint_handlings',
                                     type_='foreignkey')
            batch_op.drop_column('joint_id')

    op.drop_index('ix_joint_handlings_project_id', table_name='joint_handlings')

    op.drop_table('joint_handlings')
