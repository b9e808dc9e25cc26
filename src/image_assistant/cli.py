"""The `image-assistant` command: thin wrappers that parse, call the core, and print."""

from __future__ import annotations

import functools
import logging
import os
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from image_assistant.agent.cli import agent
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


def _services(settings: Settings, *, long_lived: bool = False) -> Any:
    """The services, on a database migrated to head first.

    A long-lived process (serve, worker) migrates in a forked child, so Alembic's modules
    (~11 MiB) are never loaded into it.
    """
    from image_assistant.services import build_services

    if long_lived:
        _migrate_in_child(settings)
        return build_services(settings)
    from image_assistant.db.session import upgrade

    services = build_services(settings)
    upgrade(services.engine)
    return services


def _migrate_in_child(settings: Settings) -> None:
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=_migrate, args=(settings,), name="migrate")
    child.start()
    child.join()
    if child.exitcode != 0:
        raise click.ClickException("the database could not be migrated (see the log above)")


def _migrate(settings: Settings) -> None:
    from sqlalchemy.exc import OperationalError

    from image_assistant.db.session import make_engine, upgrade

    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine)
    except OperationalError as exc:  # the database is down or refuses us: no traceback for that
        click.echo(f"cannot reach the database: {exc.orig}", err=True)
        sys.exit(1)
    finally:
        engine.dispose()


@click.group()
@click.version_option(package_name="image-assistant")
def main() -> None:
    """Image Assistant: your Photos library, in storage you own."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 5220, env IMAGE_ASSISTANT_API_PORT).")
@click.option("--no-worker", is_flag=True, help="Do not run the embedded thumbnail worker.")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="API processes sharing the port (each its own interpreter, so more cores are used).",
)
@data_dir_option
def serve(host: str | None, port: int | None, no_worker: bool, workers: int, data_dir: Path | None) -> None:
    """Run the API (and gallery) in one process; migrations run first."""
    import uvicorn

    from image_assistant.api.app import create_app

    settings = load_settings(data_dir)
    _configure_logging(settings.log_level)
    services = _services(settings, long_lived=True)
    host = host or settings.api_host
    port = port or settings.api_port
    logging.getLogger("image_assistant").info(
        "serving on http://%s:%s (database: %s, store: %s)",
        host,
        port,
        services.engine.dialect.name,
        settings.storage_backend,
    )
    worker = None if no_worker else _start_worker(services, None)
    options: dict[str, Any] = dict(
        host=host, port=port, access_log=False, log_config=None, timeout_graceful_shutdown=5
    )
    try:
        if workers == 1:
            uvicorn.run(create_app(services), **options)
        else:
            # Each API process builds its app from the environment; the data dir must reach it.
            os.environ["IMAGE_ASSISTANT_DATA_DIR"] = str(settings.data_dir.resolve())
            uvicorn.run(f"{__name__}:api_process_app", factory=True, workers=workers, **options)
    finally:
        if worker is not None:
            worker.stop()


def api_process_app() -> Any:
    """The app of one `serve --workers N` process (migrations and secrets are done by serve)."""
    from image_assistant.api.app import create_app
    from image_assistant.services import build_services

    settings = load_settings(None)
    _configure_logging(settings.log_level)
    return create_app(build_services(settings))


def _start_worker(services: Any, concurrency: int | None) -> Any:
    from image_assistant.thumbnails.worker import ThumbnailWorker

    worker = ThumbnailWorker(services, concurrency=concurrency)
    worker.start()
    return worker


@main.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="Jobs run at once (default 5, env THUMBNAIL_CONCURRENCY).",
)
@data_dir_option
def worker(concurrency: int | None, data_dir: Path | None) -> None:
    """Run thumbnail workers alone (no API), against the configured database, store and queue."""
    import signal

    settings = load_settings(data_dir)
    _configure_logging(settings.log_level)
    services = _services(settings, long_lived=True)
    running = _start_worker(services, concurrency)

    def _stop(signum: int, _frame: Any) -> None:
        logging.getLogger("image_assistant").info("%s received; stopping", signal.Signals(signum).name)
        running.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    running.wait()
    running.stop()
    services.close()


@main.group()
def thumbnails() -> None:
    """The thumbnail pipeline: state and re-queueing."""


@thumbnails.command("rebuild")
@click.option("--failed", "scope", flag_value="failed", help="Only photos whose thumbnails failed.")
@click.option("--all", "scope", flag_value="all", help="Every photo with an original (makes them anew).")
@data_dir_option
def thumbnails_rebuild(scope: str | None, data_dir: Path | None) -> None:
    """Re-queue thumbnail jobs: unfinished ones by default, or --failed, or --all."""
    from image_assistant.thumbnails.queue import QueueUnavailable
    from image_assistant.thumbnails.reconcile import rebuild

    services = _services(load_settings(data_dir))
    try:
        count = rebuild(sessions=services.sessions, queue=services.queue, scope=scope or "unfinished")  # type: ignore[arg-type]
    except QueueUnavailable as exc:
        raise click.ClickException(f"{exc}; is the queue reachable? (nothing lost: run this again)") from None
    finally:
        services.close()
    click.echo(f"queued {count} photo(s) for thumbnails")


@thumbnails.command("status")
@data_dir_option
def thumbnails_status(data_dir: Path | None) -> None:
    """Photos per thumbnail state, and jobs waiting on the queue."""
    from image_assistant.thumbnails.queue import QueueUnavailable
    from image_assistant.thumbnails.reconcile import state_counts

    services = _services(load_settings(data_dir))
    try:
        with services.sessions() as session:
            counts = state_counts(session)
        jobs = services.queue.counts()
    except QueueUnavailable as exc:
        raise click.ClickException(f"{exc}; is the queue reachable?") from None
    finally:
        services.close()
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))
    click.echo(f"queue ({services.queue.backend}): {jobs['queued']} queued, {jobs['scheduled']} scheduled")


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


@main.command("mount")
@click.argument("prefix")
@click.argument("mountpoint", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where rclone keeps hot data (default: <data dir>/mount-cache/<prefix>).",
)
@click.option(
    "--cache-max-size",
    default="10G",
    show_default=True,
    help="Most disk the local cache may use (at least 32M; K/M/G/T are binary units).",
)
@click.option(
    "--cache-max-age", default="24h", show_default=True, help="Cached data older than this is dropped."
)
@click.option(
    "--dry-run", is_flag=True, help="Print the rclone command (credentials stay in its environment)."
)
@data_dir_option
def mount_command(
    prefix: str,
    mountpoint: Path,
    cache_dir: Path | None,
    cache_max_size: str,
    cache_max_age: str,
    dry_run: bool,
    data_dir: Path | None,
) -> None:
    """Mount PREFIX of the S3 store (originals: read-only, video-projects: read-write) at MOUNTPOINT."""
    from image_assistant import mount

    settings = load_settings(data_dir)
    cache = mount.CacheLimits(
        directory=(cache_dir or settings.data_dir / "mount-cache" / prefix).resolve(),
        max_size=cache_max_size,
        max_age=cache_max_age,
    )
    try:
        plan = mount.plan_mount(settings, prefix, mountpoint.resolve(), cache)
        if dry_run:
            click.echo(plan.printable())
            return
        log_file = settings.data_dir.resolve() / "logs" / f"mount-{prefix}.log"
        mount.mount(plan, mountpoint.resolve(), log_file=log_file)
    except mount.MountError as exc:
        raise click.ClickException(str(exc)) from None
    mode = "read-only" if plan.read_only else "read-write"
    click.echo(f"mounted {prefix} ({mode}) at {mountpoint}; cache {cache.directory} up to {cache.max_size}")
    click.echo(f"note: {plan.cache_note()}")


@main.command("unmount")
@click.argument("mountpoint", type=click.Path(file_okay=False, path_type=Path))
def unmount_command(mountpoint: Path) -> None:
    """Unmount a mount made by `image-assistant mount`."""
    from image_assistant import mount

    try:
        mount.unmount(mountpoint.resolve())
    except mount.MountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"unmounted {mountpoint}")


main.add_command(agent)


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep:
            raise click.ClickException(f"{path}:{number}: expected NAME=value")
        values[name.strip()] = value.strip().strip("'\"")
    return values


@main.command("migrate-storage")
@click.option(
    "--target-env",
    "target_env",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A NAME=value file with the target's settings (DATABASE_URL, STORAGE_BACKEND=s3, MINIO_*...).",
)
@data_dir_option
def migrate_storage_command(target_env: Path, data_dir: Path | None) -> None:
    """Copy every row and object of this install to another database and store, verified by SHA-256.

    The source is the current configuration; the target database must be empty. Stop the
    server (and agents' syncs) first; nothing in the source is changed or deleted.
    """
    from image_assistant import migrate_storage
    from image_assistant.db.session import make_engine
    from image_assistant.services import make_store

    source = load_settings(data_dir)
    target_values = {"IMAGE_ASSISTANT_DATA_DIR": str(source.data_dir), **_read_env_file(target_env)}
    target = load_settings(None, **target_values)
    if target.sqlalchemy_url == source.sqlalchemy_url and target.storage_backend == source.storage_backend:
        raise click.ClickException("the target is the same database and store as the source")
    secret = source.secret()
    engines = make_engine(source.sqlalchemy_url), make_engine(target.sqlalchemy_url)
    try:
        report = migrate_storage.migrate(
            source_engine=engines[0],
            target_engine=engines[1],
            source_store=make_store(source, secret),
            target_store=make_store(target, target.jwt_secret or secret),
            progress=click.echo,
        )
    except migrate_storage.MigrationRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        for engine in engines:
            engine.dispose()
    rows = sum(report.rows.values())
    click.echo(f"copied {rows} rows and {report.objects} objects ({report.bytes} bytes), all verified")
    if report.missing:
        click.echo(f"{len(report.missing)} objects the database names were not in the source store:")
        for key in report.missing[:20]:
            click.echo(f"  {key}")
