"""`flask --app crm crm ...` commands."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from crm.errors import DomainError
from crm.extensions import db

crm_cli = AppGroup("crm", help="Daiban commands: demo data, users, the worker.")


@crm_cli.command("demo")
def demo_command():
    """Load the Nantong demo data (does nothing when it is loaded already)."""
    from crm.demo.loader import DEMO_LOGINS, DEMO_PASSWORD, load_demo
    from crm.i18n import today

    counts = load_demo(today())
    db.session.commit()
    if not counts:
        click.echo("Demo data is already loaded.")
    else:
        click.echo("Demo data loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo(f"Demo logins (password {DEMO_PASSWORD}):")
    for username, _, role, description in DEMO_LOGINS:
        click.echo(f"  {username:<11} {role.value:<13} {description}")


@crm_cli.command("generate")
@click.option("--projects", type=click.IntRange(1), required=True, help="How many projects to add.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same city).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day the city is generated for (default: today).")
def generate_command(projects, seed, today):
    """Add a synthetic city in bulk (parks, staff, projects, milestones, logs) for benchmarks."""
    import time

    from crm.demo.bulk import analyze, generate
    from crm.i18n import today as local_today

    started = time.perf_counter()
    counts = generate(projects, today.date() if today else local_today(), seed, echo=click.echo)
    db.session.commit()
    loaded = time.perf_counter() - started
    click.echo(f"Loaded in {loaded:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    analyze()
    click.echo(f"Statistics refreshed in {time.perf_counter() - started - loaded:.1f} s; "
               f"total {time.perf_counter() - started:.1f} s.")


@crm_cli.command("seed")
def seed_command():
    """Seed reference data (the approval-item catalogue) into an empty database."""
    from crm.milestones.services.plans import seed_catalogue

    added = seed_catalogue()
    db.session.commit()
    click.echo(f"Approval items added: {added}")


@crm_cli.command("calendar-import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, required=True, help="The year the file schedules.")
def calendar_import_command(path, year):
    """Load a year's holiday schedule (lines "2027-01-01 休" / "2027-02-06 班") and recompute
    every running deadline."""
    from pathlib import Path

    from crm.milestones.services.schedules import decode, import_schedule

    try:
        result = import_schedule(decode(Path(path).read_bytes()), year, source=Path(path).name)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException("nothing saved:\n" + "\n".join(str(e) for e in exc.messages)) from exc
    db.session.commit()
    click.echo(f"{year}: {result.days_off} days off, {result.working_days} working days loaded "
               f"({result.removed} old overrides removed); {result.recompute.changed} of "
               f"{result.recompute.open} open deadlines changed.")


@crm_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", required=True,
              help="Who imports (an admin, or a park manager: their parks only).")
@click.option("--kind", type=click.Choice(["projects", "progress", "roster"]), default="projects",
              show_default=True)
@click.option("--mode", type=click.Choice(["create", "upsert", "update"]), default="upsert",
              show_default=True, help="create only / create and update / update only")
@click.option("--park", "park_name", help="The park of rows that name none (a roster's park).")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def import_command(path, username, kind, mode, park_name, dry_run):
    """Import a ledger or a roster (.xlsx or .csv) as one batch, here and now (no worker):
    the same checks and services as the import page; the batch shows on that page."""
    from pathlib import Path

    from crm.audit import services as audit
    from crm.auth.permissions import Action, can
    from crm.auth.scope import visible_park_ids, visible_parks
    from crm.auth.services import find_by_username
    from crm.imports.models import ImportBatch
    from crm.imports.services import batches

    user = find_by_username(username)
    if user is None or not can(user, Action.IMPORT):
        raise click.ClickException(f"{username!r} is not a user who may import")
    parks = visible_parks(user)
    park = next((p for p in parks if p.name == park_name), None) if park_name else None
    if park_name and park is None:
        raise click.ClickException(f"{park_name!r} is not one of {username}'s parks")
    audit.set_actor(db.session, user.id)
    try:
        batch = batches.create_batch(kind=kind, mode=mode, park=park, filename=Path(path).name,
                                     data=Path(path).read_bytes(), actor_id=user.id)
        batches.request_check(batch)
        outcome = batches.run(batch, write=False, park_ids=visible_park_ids(user))
        batches.finish(batch, outcome, write=False)
        if not dry_run:
            # The commit starts from a clean session, as the commit job does.
            batch_id = batch.id
            db.session.commit()
            db.session.close()
            user = find_by_username(username)
            audit.set_actor(db.session, user.id)
            batch = db.session.get(ImportBatch, batch_id)
            batches.request_commit(batch)
            outcome = batches.run(batch, write=True, park_ids=visible_park_ids(user))
            batches.finish(batch, outcome, write=True)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException("nothing imported:\n" + "\n".join(str(e) for e in exc.messages)) from exc
    db.session.commit()
    counts = outcome.counts
    click.echo(f"batch {batch.id} {'checked' if dry_run else 'imported'}: {counts['new']} new, "
               f"{counts['update']} updated, {counts['unchanged']} unchanged, "
               f"{counts['error']} with errors")
    for error in outcome.errors[:50]:
        click.echo(f"  {error['sheet']} row {error['row']} {error['column']}: {error['message']}")
    if len(outcome.errors) > 50:
        click.echo(f"  ... {len(outcome.errors) - 50} more (download them from the batch's page)")


@crm_cli.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name")
@click.option("--role", type=click.Choice(["admin", "leader", "park_manager", "consultant", "agent"]),
              required=True)
@click.password_option()
def create_user_command(username, display_name, role, password):
    """Create a user (the password is asked for twice)."""
    from crm.auth.services import create_user, find_by_username

    if find_by_username(username):
        raise click.ClickException(f"user {username!r} exists already")
    try:
        create_user(username, display_name, role, password)
    except DomainError as exc:
        raise click.ClickException(f"password too weak: {exc}") from exc
    db.session.commit()
    click.echo(f"Created {username} ({role}).")


@crm_cli.command("set-password")
@click.argument("username")
@click.password_option()
def set_password_command(username, password):
    """Set a user's password (ends their sessions)."""
    from crm.auth.services import find_by_username, set_password

    user = find_by_username(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        set_password(user, password)
    except DomainError as exc:
        raise click.ClickException(f"password too weak: {exc}") from exc
    db.session.commit()
    click.echo(f"Password of {username} changed.")


token_cli = AppGroup("token", help="Personal API tokens.")
crm_cli.add_command(token_cli)


@token_cli.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
def token_create_command(username, name):
    """Create an API token for USERNAME and print it (it is shown only this once)."""
    from crm.auth.services import create_token, find_by_username

    user = find_by_username(username)
    if user is None or not user.active:
        raise click.ClickException(f"no active user {username!r}")
    token, secret = create_token(user, name)
    db.session.commit()
    click.echo(secret)


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke_command(token_id):
    """Revoke the API token with this id (takes effect at once)."""
    from crm.auth.models import ApiToken
    from crm.auth.services import revoke_token

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"no token {token_id}")
    revoke_token(token)
    db.session.commit()
    click.echo(f"Token {token_id} ({token.prefix}…) revoked.")


@token_cli.command("list")
@click.argument("username")
def token_list_command(username):
    """List USERNAME's API tokens."""
    from crm.auth.services import find_by_username, tokens_of

    user = find_by_username(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    for token in tokens_of(user):
        state = "revoked" if token.revoked_at else "active"
        click.echo(f"{token.id:>5}  {token.prefix}…  {state:<8}  {token.name}")


@crm_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--no-scheduler", is_flag=True, help="Do not run RQ's scheduler in this worker.")
@click.option("--no-fork", is_flag=True,
              help="Run jobs in the worker process (faster; no isolation between jobs).")
@click.argument("queues", nargs=-1)
def worker_command(burst, no_scheduler, no_fork, queues):
    """Run an RQ worker with the app loaded (jobs run in the app context)."""
    from crm.worker import run_worker

    app = current_app._get_current_object()
    run_worker(app, list(queues) or None, burst=burst, with_scheduler=not no_scheduler,
               fork=not no_fork)


def register_cli(app: Flask) -> None:
    app.cli.add_command(crm_cli)
