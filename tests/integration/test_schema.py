"""The committed Alembic history builds exactly the models' schema (SQLite and PostgreSQL)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_migrated_schema_matches_the_models(app):
    import warnings

    from crm.extensions import db

    with app.app_context():
        with db.engine.connect() as conn, warnings.catch_warnings():
            # Expression indexes (lower(username)) are not reflected; the next test checks it.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_usernames_are_unique_whatever_their_case(app, world):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from crm.extensions import db
    from tests import factories

    with app.app_context():
        with pytest.raises(IntegrityError):
            factories.user("Manager_A", "agent")
        db.session.rollback()


def test_database_refuses_what_the_rules_forbid(app, world):
    """Constraints hold even if application code is bypassed."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from crm.extensions import db
    from tests import factories

    with app.app_context():
        with pytest.raises(IntegrityError):  # investment below 1亿元
            factories.project(db.session.merge(world.park_a), investment=9999)
        db.session.rollback()
        a1 = db.session.merge(world.projects["a1"])
        with pytest.raises(IntegrityError):  # a second active lead agent
            factories.assign(a1, db.session.merge(world.staff["agent_a2"]), "lead_agent")
        db.session.rollback()
        a1 = db.session.merge(world.projects["a1"])
        factories.assign(a1, db.session.merge(world.staff["agent_a2"]), "helper")  # helpers: any number
        db.session.rollback()
        with pytest.raises(IntegrityError):  # duplicate project code
            park = db.session.merge(world.park_a)
            factories.project(park, code="2405-320612-89-01-123453")
            factories.project(park, code="2405-320612-89-01-123453")
        db.session.rollback()
