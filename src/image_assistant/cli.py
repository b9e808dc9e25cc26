"""The `image-assistant` command: thin wrappers that parse, call the core, and print."""

from __future__ import annotations

import functools
import logging
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from image_assistant.config import Settings
from image_assistant.errors import AppError

F = TypeVar("F", bound=Callable[..., Any])


def load_settings(data_dir: Path | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(overrides)
    if data_dir is not None:
        values["IMAGE_ASSISTANT_DATA_DIR"] = data_dir
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise click.ClickException(f"configuration: {problems}") from None


def data_dir_option(command: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Where the SQLite file, objects and secrets live (env IMAGE_ASSISTANT_DATA_DIR).",
    )(command)


def friendly_errors(command: F) -> F:
    """Core errors become one line on stderr, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AppError as exc:
            raise click.ClickException(exc.message) from None

    return wrapper  # type: ignore[return-value]


def _services(settings: Settings) -> Any:
    from image_assistant.db.session import upgrade
    from image_assistant.services import build_services

    services = build_services(settings)
    upgrade(services.engine)
    return services


@click.group()
@click.version_option(package_name="image-assistant")
def main() -> None:
    """Image Assistant: your Photos library, in storage you own."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 5220, env IMAGE_ASSISTANT_API_PORT).")
@click.option("--no-worker", is_flag=True, help="Do not run the embedded thumbnail worker.")
@data_dir_option
def serve(host: str | None, port: int | None, no_worker: bool, data_dir: Path | None) -> None:
    """Run the API (and gallery) in one process; migrations run first."""
    import uvicorn

    from image_assistant.api.app import create_app

    settings = load_settings(data_dir)
    _configure_logging(settings.log_level)
    services = _services(settings)
    app = create_app(services)
    host = host or settings.api_host
    port = port or settings.api_port
    logging.getLogger("image_assistant").info(
        "serving on http://%s:%s (database: %s, store: %s)",
        host,
        port,
        services.engine.dialect.name,
        settings.storage_backend,
    )
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None, timeout_graceful_shutdown=5)


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Their debug output carries request headers and signatures: never below WARNING.
    for noisy in ("botocore", "boto3", "s3transfer", "urllib3", "httpx", "httpcore", "multipart"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@data_dir_option
def db_upgrade(data_dir: Path | None) -> None:
    """Run Alembic migrations up to head."""
    services = _services(load_settings(data_dir))
    services.close()
    click.echo("database is at the newest schema")


@main.group()
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
@friendly_errors
def users_create(name: str, admin: bool, data_dir: Path | None) -> None:
    """Create an account; the password comes from a prompt, or from stdin when piped."""
    from image_assistant.core import accounts
    from image_assistant.db.session import transaction

    password = _read_password()
    services = _services(load_settings(data_dir))
    with transaction(services.sessions) as session:
        user = accounts.create_user(session, username=name, password=password, is_admin=admin)
        click.echo(f"created user {user.username}{' (admin)' if admin else ''}")
    services.close()


@users.command("list")
@data_dir_option
def users_list(data_dir: Path | None) -> None:
    """List accounts."""
    from image_assistant.core import accounts

    services = _services(load_settings(data_dir))
    with services.sessions() as session:
        for user in accounts.list_users(session):
            click.echo(f"{user.username}\t{'admin' if user.is_admin else 'user'}\t{user.id}")
    services.close()


@main.group()
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

    services = _services(load_settings(data_dir))
    with services.sessions() as session:
        rows = [(d, u) for d, u in core.list_all(session, username=username) if core.code_is_live(d)]
    services.close()
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

    services = _services(load_settings(data_dir))
    with services.sessions() as session:
        rows = core.list_all(session, username=username)
    services.close()
    click.echo("ID\tUSER\tNAME\tPLATFORM\tSTATUS\tLAST SYNC")
    for device, owner in rows:
        click.echo(
            f"{device.id}\t{owner}\t{device.name}\t{device.platform}\t{device.status}\t{_when(device.last_sync_at)}"
        )


@devices.command("revoke")
@click.argument("device_id")
@data_dir_option
@friendly_errors
def devices_revoke(device_id: str, data_dir: Path | None) -> None:
    """Deactivate a device; its token stops working at once."""
    from image_assistant.core import devices as core
    from image_assistant.db.session import transaction

    try:
        ident = uuid.UUID(device_id)
    except ValueError:
        raise click.ClickException("device id must be a UUID (see `image-assistant devices list`)") from None
    services = _services(load_settings(data_dir))
    with transaction(services.sessions) as session:
        device = core.revoke(session, device_id=ident, user_id=None)
        click.echo(f"revoked device {device.id} ({device.name})")
    services.close()
