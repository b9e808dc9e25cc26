"""Accounts and devices from the command line: `users …`, `devices …`."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click

from image_assistant.cli.common import data_dir_option, load_settings, opened_runtime


@click.group()
def users() -> None:
    """User accounts."""


def _read_password() -> str:
    if sys.stdin.isatty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@users.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Let this user manage accounts.")
@data_dir_option
def users_create(name: str, admin: bool, data_dir: Path | None) -> None:
    """Create an account; the password comes from a prompt, or from stdin when piped."""
    from image_assistant.core import accounts
    from image_assistant.db.session import transaction

    password = _read_password()
    with opened_runtime(load_settings(data_dir)) as runtime, transaction(runtime.sessions) as session:
        user = accounts.create_user(session, username=name, password=password, is_admin=admin)
        username = user.username
    click.echo(f"created user {username}{' (admin)' if admin else ''}")


@users.command("list")
@data_dir_option
def users_list(data_dir: Path | None) -> None:
    """List accounts."""
    from image_assistant.core import accounts

    with opened_runtime(load_settings(data_dir)) as runtime, runtime.sessions() as session:
        for user in accounts.list_users(session):
            click.echo(f"{user.username}\t{'admin' if user.is_admin else 'user'}\t{user.id}")


@users.command("passwd")
@click.argument("name")
@data_dir_option
def users_passwd(name: str, data_dir: Path | None) -> None:
    """Set an account's password (prompt, or stdin when piped); its sessions are signed out."""
    from image_assistant.core import people
    from image_assistant.db.session import transaction

    password = _read_password()
    with opened_runtime(load_settings(data_dir)) as runtime, transaction(runtime.sessions) as session:
        people.set_password(session, people.find_by_name(session, name), password)
    click.echo(f"password of {name} changed; its sessions are signed out")


def _set_disabled(name: str, data_dir: Path | None, disabled: bool) -> None:
    from image_assistant.core import people
    from image_assistant.db.session import transaction

    with opened_runtime(load_settings(data_dir)) as runtime, transaction(runtime.sessions) as session:
        people.set_disabled(session, people.find_by_name(session, name), disabled)


@users.command("disable")
@click.argument("name")
@data_dir_option
def users_disable(name: str, data_dir: Path | None) -> None:
    """Disable an account: its sessions and devices stop at once; its photos are kept."""
    _set_disabled(name, data_dir, True)
    click.echo(f"disabled {name}")


@users.command("enable")
@click.argument("name")
@data_dir_option
def users_enable(name: str, data_dir: Path | None) -> None:
    """Enable a disabled account again (it signs in anew; its devices work again)."""
    _set_disabled(name, data_dir, False)
    click.echo(f"enabled {name}")


@users.command("invite")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Let this user manage accounts.")
@click.option("--url", "base_url", default=None, help="The gallery's address (default: PUBLIC_URL).")
@data_dir_option
def users_invite(name: str, admin: bool, base_url: str | None, data_dir: Path | None) -> None:
    """Create an account without a password and print the one-time link that sets it."""
    from image_assistant.core import account_links, accounts
    from image_assistant.db.session import transaction

    settings = load_settings(data_dir)
    base = base_url or settings.public_url or f"http://{settings.api_host}:{settings.api_port}"
    with opened_runtime(settings) as runtime, transaction(runtime.sessions) as session:
        user = accounts.create_user(session, username=name, password=None, is_admin=admin)
        link = account_links.issue(
            session, user=user, purpose=account_links.INVITATION, ttl_seconds=settings.invitation_ttl
        )
    click.echo(
        f"invited {name}; send them this link (it works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC):"
    )
    click.echo(link.url(base))


@click.group()
def devices() -> None:
    """Paired and pending devices."""


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@devices.command("pending")
@click.option("--username", default=None, help="Only this user's devices.")
@data_dir_option
def devices_pending(username: str | None, data_dir: Path | None) -> None:
    """Pending devices with their 6-digit code and when it expires."""
    from image_assistant.core import devices as core

    with opened_runtime(load_settings(data_dir)) as runtime, runtime.sessions() as session:
        rows = [(d, u) for d, u in core.list_all(session, username=username) if core.code_is_live(d)]
    if not rows:
        click.echo("no device is waiting for its code")
        return
    click.echo("ID\tUSER\tNAME\tCODE\tEXPIRES")
    for device, owner in rows:
        click.echo(
            f"{device.id}\t{owner}\t{device.name}\t{device.verification_code}\t{_when(device.code_expires_at)}"
        )


@devices.command("list")
@click.option("--username", default=None, help="Only this user's devices.")
@data_dir_option
def devices_list(username: str | None, data_dir: Path | None) -> None:
    """Every device with its status and last sync."""
    from image_assistant.core import devices as core

    with opened_runtime(load_settings(data_dir)) as runtime, runtime.sessions() as session:
        rows = core.list_all(session, username=username)
    click.echo("ID\tUSER\tNAME\tPLATFORM\tSTATUS\tLAST SYNC")
    for device, owner in rows:
        click.echo(
            f"{device.id}\t{owner}\t{device.name}\t{device.platform}\t{device.status}\t{_when(device.last_sync_at)}"
        )


@devices.command("revoke")
@click.argument("device_id")
@data_dir_option
def devices_revoke(device_id: str, data_dir: Path | None) -> None:
    """Deactivate a device; its token stops working at once."""
    from image_assistant.core import devices as core
    from image_assistant.db.session import transaction

    try:
        ident = uuid.UUID(device_id)
    except ValueError:
        raise click.ClickException("device id must be a UUID (see `image-assistant devices list`)") from None
    with opened_runtime(load_settings(data_dir)) as runtime, transaction(runtime.sessions) as session:
        device = core.revoke(session, device_id=ident, user_id=None)
        line = f"revoked device {device.id} ({device.name})"
    click.echo(line)
