"""The `batchbook` command: database, demo data, users, integrity checks."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.db import Database
from app.services.core.clock import Clock
from app.services.core.errors import DomainError

if TYPE_CHECKING:
    from app.services.core.checkpoints import CheckpointStore


def _db() -> Database:
    return current_app.extensions["db"]  # type: ignore[no-any-return]


def _clock() -> Clock:
    return current_app.extensions["clock"]  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    for command in (db_group, seed_demo, user_group, audit_group, signatures_group, banner):
        app.cli.add_command(command)


@click.group("db", help="Schema migrations.")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from app import migrate

    migrate.upgrade(_db().url, revision)
    click.echo(f"Database at {revision}.")


@db_group.command("grant-app-role")
@click.argument("role")
@with_appcontext
def db_grant_app_role(role: str) -> None:
    """Grant an existing PostgreSQL ROLE what the app needs: no DELETE, no audit-trail UPDATE."""
    from app import migrate

    try:
        with _db().engine.begin() as connection:
            migrate.grant_app_role(connection, role)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Role {role} may read and add records, never delete them or edit the audit trail.")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from model changes (review it before committing)."""
    from app import migrate

    migrate.new_revision(_db().url, message)


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the demo data that is missing (running it twice changes nothing)."""
    from app.services.core.actors import SystemActor
    from app.services.demo import seed_demo as seed
    from app.web import relying_party, signing_policy

    try:
        with _db().session_scope() as session:
            # The demo people sign their approvals and releases under the plant's own policy.
            created = seed(
                session,
                actor=SystemActor.from_os(),
                clock=_clock(),
                rp=relying_party(),
                policy=signing_policy(),
            )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(
        f"Demo data: created {len(created)} records." if created else "Demo data: up to date."
    )


@click.group("user", help="Accounts.")
def user_group() -> None:
    pass


@user_group.command("create")
@click.option("--username", required=True)
@click.option("--full-name", required=True, help="The printed name used on signatures.")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.password_option(help="Prompted (hidden, twice) when not given.")
@with_appcontext
def user_create(username: str, full_name: str, roles: tuple[str, ...], password: str) -> None:
    """Create a personal account (the first admin of a new plant is made this way)."""
    from app.services.accounts.users import NewUser, create_user
    from app.services.core.actors import SystemActor

    try:
        with _db().session_scope() as session:
            user = create_user(
                session,
                actor=SystemActor.from_os(),
                new=NewUser(username, full_name, roles, password),
                clock=_clock(),
            )
            click.echo(f"Created {user.username} ({user.full_name}): {user.roles}.")
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


@user_group.command("identity-check")
@click.argument("username")
@click.option("--document-type", required=True, help="The identity document seen, e.g. passport.")
@click.option("--reference", required=True, help="The document's number.")
@with_appcontext
def user_identity_check(username: str, document_type: str, reference: str) -> None:
    """Record an identity check (how the first admin of a new plant becomes able to sign)."""
    from app.services.accounts.auth import find_user
    from app.services.core.actors import SystemActor
    from app.services.esign.signers import record_identity_check

    try:
        with _db().session_scope() as session:
            user = find_user(session, username)
            if user is None:
                raise click.ClickException(f"There is no user {username!r}.")
            record_identity_check(
                session,
                actor=SystemActor.from_os(),
                user_id=user.id,  # type: ignore[arg-type]
                document_type=document_type,
                document_reference=reference,
                clock=_clock(),
            )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Identity check of {username} recorded.")


@click.group("audit", help="The audit trail.")
def audit_group() -> None:
    pass


def _checkpoints() -> CheckpointStore:
    from app.services.core.checkpoints import CheckpointStore

    return CheckpointStore(current_app.extensions["settings"].audit_checkpoint_dir)


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Recompute the hash chain, check it against the signed checkpoints, and replay every
    governed record's status from it; exit 1 naming the first broken row, a truncation, a
    recomputed chain or a record changed behind the app's back."""
    from app.services.core.audit import verify_chain
    from app.services.core.checkpoints import check_chain
    from app.services.core.state_check import disagreements

    store = _checkpoints()
    with _db().session_scope() as session:
        report = verify_chain(session)
        against_checkpoints = check_chain(session, store)
        states = disagreements(session)
    broken = False
    if not report.ok:
        broken = True
        click.echo(
            f"Audit trail BROKEN at event #{report.broken_id}: {report.problem}. "
            f"{report.checked} events before it verified.",
            err=True,
        )
    for problem in against_checkpoints:
        broken = True
        click.echo(f"Audit trail BROKEN: {problem}.", err=True)
    for disagreement in states:
        broken = True
        click.echo(
            f"State DISAGREES with its evidence: {disagreement.record}: {disagreement.problem}.",
            err=True,
        )
    if broken:
        sys.exit(1)
    click.echo(
        f"Audit trail intact: {report.checked} events verified, against the signed checkpoints "
        f"in {store.folder}; every governed record's status agrees with its trail."
    )


@audit_group.command("checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Sign the audit chain's head now and append it to the checkpoint log."""
    store = _checkpoints()
    with _db().session_scope() as session:
        checkpoint = store.write(session, clock=_clock())
    if checkpoint is None:
        click.echo("The audit trail is empty: nothing to checkpoint yet.")
        return
    click.echo(
        f"Checkpoint written to {store.folder}: event #{checkpoint.event_id} "
        f"({checkpoint.events} events), hash {checkpoint.row_hash[:16]}…, key {checkpoint.key_id}."
    )


@click.group("signatures", help="Electronic signatures.")
def signatures_group() -> None:
    pass


@signatures_group.command("verify")
@click.option("--batch", "batch_no", help="Only the signatures of this batch.")
@click.option("--record", help="Only the signatures of one record, as TYPE:ID (e.g. sop:3).")
@click.option("--all", "everything", is_flag=True, help="Every signature.")
@with_appcontext
def signatures_verify(batch_no: str | None, record: str | None, everything: bool) -> None:
    """Re-check signatures cryptographically and against the live records; exit 1 on any failure."""
    from app.services.esign.reverify import reverify
    from app.web import relying_party

    if sum(bool(x) for x in (batch_no, record, everything)) != 1:
        raise click.UsageError("Give exactly one of --batch NO, --record TYPE:ID or --all.")
    target = None
    if record:
        record_type, _, record_id = record.partition(":")
        if not record_id:
            raise click.UsageError("--record takes TYPE:ID, e.g. sop:3.")
        target = (record_type, record_id)
    with _db().session_scope() as session:
        checked, findings = reverify(session, rp=relying_party(), batch_no=batch_no, record=target)
    for finding in findings:
        click.echo(
            f"FAILED signature #{finding.signature_id} on {finding.record}: {finding.problem}",
            err=True,
        )
    if checked == 0:
        if everything:
            click.echo("There are no signatures yet.")
            return
        click.echo("No signatures matched (check the batch number or record).", err=True)
        sys.exit(1)
    if findings:
        click.echo(f"{len(findings)} problem(s) in {checked} signatures checked.", err=True)
        sys.exit(1)
    click.echo(f"All {checked} signatures verified.")


@click.command("banner")
@click.option("--port", default=8000, show_default=True)
@with_appcontext
def banner(port: int) -> None:
    """Print where the app is and, in demo mode, who can sign in."""
    from app.services.demo import DEMO_PASSWORD, DEMO_PEOPLE

    settings = current_app.extensions["settings"]
    click.echo(f"\n  Batchbook is starting on http://localhost:{port}/\n")
    if settings.demo:
        click.echo(f"  Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for username, name, roles in DEMO_PEOPLE:
            click.echo(f"    {username:<8} {name:<16} {', '.join(roles)}")
        click.echo("")


def main() -> None:
    """Entry point of the `batchbook` console script."""
    from app import create_app

    FlaskGroup(create_app=lambda: create_app(), help=__doc__)(prog_name="batchbook")
