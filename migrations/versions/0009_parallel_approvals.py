"""parallel approvals: dependencies between approval items (catalogue and plans), starting
in parallel anyway, statutory extensions, forecasts, project-level promises

Revision ID: i17_parallel
Revises: i12_hardening
Create Date: 2026-12-04 18:34:29

The seeded catalogue items get their dependencies, and the plans already drawn from them get
the same dependencies (the forecasts are computed by the worker's first refresh).
"""
from alembic import op
import sqlalchemy as sa

# The seeded catalogue's dependencies at the time of this migration (code -> codes needed).
SEEDED_REQUIRES = {
    "energy_review": "filing_record", "land_preexam": "filing_record",
    "eia_book": "filing_record", "eia_form": "filing_record",
    "verification": "land_preexam energy_review", "land_title": "land_preexam",
    "land_planning_permit": "land_title",
    "works_planning_permit": "land_planning_permit",
    "drawing_review": "land_planning_permit", "fire_design_review": "land_planning_permit",
    "construction_permit": "works_planning_permit drawing_review fire_design_review eia_book eia_form",
}

revision = 'i17_parallel'
down_revision = 'i12_hardening'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('commitment_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.Column('approval_mode', sa.String(length=20), nullable=True),
    sa.Column('start_code', sa.String(length=40), nullable=False),
    sa.Column('end_code', sa.String(length=40), nullable=False),
    sa.Column('limit_workdays', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('limit_workdays > 0', name=op.f('ck_commitment_rules_limit_positive')),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_commitment_rules_park_id_parks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_rules'))
    )
    op.create_table('project_forecasts',
    sa.Column('project_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('forecast_on', sa.Date(), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('promise_start_on', sa.Date(), nullable=True),
    sa.Column('promise_due_on', sa.Date(), nullable=True),
    sa.Column('promise_end_on', sa.Date(), nullable=True),
    sa.Column('end_forecast_on', sa.Date(), nullable=True),
    sa.Column('computed_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_project_forecasts_park_id_parks')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_forecasts_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['commitment_rules.id'], name=op.f('fk_project_forecasts_rule_id_commitment_rules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_project_forecasts'))
    )
    op.create_index('ix_project_forecasts_park', 'project_forecasts', ['park_id', 'promise_due_on'],
                    unique=False)

    op.create_table('milestone_dependencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('requires_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('milestone_id <> requires_id', name=op.f('ck_milestone_dependencies_not_itself')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_milestone_dependencies_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_milestone_dependencies_milestone_id_milestones'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_milestone_dependencies_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requires_id'], ['milestones.id'], name=op.f('fk_milestone_dependencies_requires_id_milestones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone_dependencies')),
    sa.UniqueConstraint('milestone_id', 'requires_id', name='uq_milestone_dependencies_pair')
    )
    op.create_index(op.f('ix_milestone_dependencies_project_id'), 'milestone_dependencies',
                    ['project_id'], unique=False)
    op.create_index(op.f('ix_milestone_dependencies_requires_id'), 'milestone_dependencies',
                    ['requires_id'], unique=False)

    # Plain ADD COLUMN (SQLite has it): no table copy.
    op.add_column('approval_items', sa.Column('requires', sa.String(length=400), nullable=False,
                  server_default=''))
    op.add_column('approval_items', sa.Column('extension_allowance', sa.Integer(), nullable=False,
                  server_default='10'))

    op.add_column('milestones', sa.Column('parallel_reason', sa.Text(), nullable=True))
    op.add_column('milestones', sa.Column('extension_workdays', sa.Integer(), nullable=True))
    op.add_column('milestones', sa.Column('extension_doc_no', sa.String(length=100), nullable=True))
    op.add_column('milestones', sa.Column('extension_approved_on', sa.Date(), nullable=True))
    op.add_column('milestones', sa.Column('original_due_on', sa.Date(), nullable=True))
    op.add_column('milestones', sa.Column('forecast_on', sa.Date(), nullable=True))
    op.add_column('milestones', sa.Column('slack_workdays', sa.Integer(), nullable=True))
    op.add_column('milestones', sa.Column('critical', sa.Boolean(), nullable=False,
                  server_default=sa.false()))

    items = sa.table('approval_items', sa.column('code'), sa.column('requires'),
                     sa.column('district_id'))
    for code, requires in SEEDED_REQUIRES.items():
        op.execute(items.update().where(items.c.code == code, items.c.district_id.is_(None),
                                        items.c.requires == '').values(requires=requires))
    # Plans drawn before: the same dependencies between their catalogue milestones.
    op.execute(sa.text("""
        INSERT INTO milestone_dependencies (project_id, milestone_id, requires_id, created_at)
        SELECT m.project_id, m.id, r.id, CURRENT_TIMESTAMP
        FROM milestones m
        JOIN approval_items i ON i.id = m.approval_item_id
        JOIN milestones r ON r.project_id = m.project_id AND r.id <> m.id
        JOIN approval_items ri ON ri.id = r.approval_item_id
        WHERE i.requires <> ''
          AND (' ' || i.requires || ' ') LIKE ('% ' || ri.code || ' %')
    """))



def downgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_column('critical')
        batch_op.drop_column('slack_workdays')
        batch_op.drop_column('forecast_on')
        batch_op.drop_column('original_due_on')
        batch_op.drop_column('extension_approved_on')
        batch_op.drop_column('extension_doc_no')
        batch_op.drop_column('extension_workdays')
        batch_op.drop_column('parallel_reason')

    with op.batch_alter_table('approval_items', schema=None) as batch_op:
        batch_op.drop_column('extension_allowance')
        batch_op.drop_column('requires')

    with op.batch_alter_table('milestone_dependencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestone_dependencies_requires_id'))
        batch_op.drop_index(batch_op.f('ix_milestone_dependencies_project_id'))

    op.drop_table('milestone_dependencies')
    with op.batch_alter_table('project_forecasts', schema=None) as batch_op:
        batch_op.drop_index('ix_project_forecasts_park')

    op.drop_table('project_forecasts')
    op.drop_table('commitment_rules')
