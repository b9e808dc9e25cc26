"""Operations commands: `mount`, `unmount`, `migrate-storage`, `verify`, `export`."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import click

from image_assistant.cli.common import data_dir_option, load_settings, opened_runtime

if TYPE_CHECKING:
    from image_assistant.runtime import Runtime


@click.command("mount")
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
@click.option(
    "--user",
    "username",
    default=None,
    help="Only this user's files, read-only, laid out as a Photos library's originals folder.",
)
@data_dir_option
def mount_command(
    prefix: str,
    mountpoint: Path,
    cache_dir: Path | None,
    cache_max_size: str,
    cache_max_age: str,
    dry_run: bool,
    username: str | None,
    data_dir: Path | None,
) -> None:
    """Mount PREFIX of the S3 store (originals: read-only, video-projects: read-write) at MOUNTPOINT.

    With --user NAME: that user's originals as `<first hex char>/<UUID>.<ext>`, the relative
    paths of their Photos library's own originals folder (see docs/offload.md).
    """
    from image_assistant.ops import mount

    settings = load_settings(data_dir)
    owner_id = None
    if username is not None:
        with opened_runtime(settings) as runtime:
            owner_id = _user_id(runtime, username)
    cache = mount.CacheLimits(
        directory=(cache_dir or settings.data_dir / "mount-cache" / prefix).resolve(),
        max_size=cache_max_size,
        max_age=cache_max_age,
    )
    plan = mount.plan_mount(settings, prefix, mountpoint.resolve(), cache, owner_id)
    if dry_run:
        click.echo(plan.printable())
        return
    log_file = settings.data_dir.resolve() / "logs" / f"mount-{prefix}.log"
    mount.mount(plan, mountpoint.resolve(), log_file=log_file)
    mode = "read-only" if plan.read_only else "read-write"
    whose = f" of {username}" if username else ""
    click.echo(
        f"mounted {prefix}{whose} ({mode}) at {mountpoint}; cache {cache.directory} up to {cache.max_size}"
    )
    click.echo(f"note: {plan.cache_note()}")


@click.command("unmount")
@click.argument("mountpoint", type=click.Path(file_okay=False, path_type=Path))
def unmount_command(mountpoint: Path) -> None:
    """Unmount a mount made by `image-assistant mount`."""
    from image_assistant.ops import mount

    mount.unmount(mountpoint.resolve())
    click.echo(f"unmounted {mountpoint}")


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


@click.command("migrate-storage")
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
    from image_assistant.db.session import make_engine
    from image_assistant.ops import migrate_storage
    from image_assistant.runtime import make_store

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
    finally:
        for engine in engines:
            engine.dispose()
    rows = sum(report.rows.values())
    click.echo(f"copied {rows} rows and {report.objects} objects ({report.bytes} bytes), all verified")
    if report.missing:
        click.echo(f"{len(report.missing)} objects the database names were not in the source store:")
        for key in report.missing[:20]:
            click.echo(f"  {key}")


def _user_id(runtime: Runtime, username: str | None) -> uuid.UUID | None:
    if username is None:
        return None
    from sqlalchemy import select

    from image_assistant.db.models import User

    with runtime.sessions() as db:
        user_id = db.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise click.ClickException(f"no user named {username!r} (see `image-assistant users list`)")
    return user_id


@click.command("verify")
@click.option("--sample", type=click.IntRange(min=1), default=None, help="Check N files chosen at random.")
@click.option("--repair", is_flag=True, help="Ask the agents again for missing and damaged files.")
@click.option("--user", "username", default=None, help="Only this user's photos.")
@click.option(
    "--jobs", type=click.IntRange(min=1, max=64), default=4, show_default=True, help="Files read at once."
)
@data_dir_option
def verify_command(
    sample: int | None, repair: bool, username: str | None, jobs: int, data_dir: Path | None
) -> None:
    """Re-read every stored file, compare size and SHA-256 with the database, list orphans.

    Exits 1 when anything is missing, damaged or orphaned.
    """
    from image_assistant.ops import verify
    from image_assistant.ops.progress import ProgressLine

    bars: list[ProgressLine] = []

    def on_start(total: int) -> verify.Advance:
        bars.append(ProgressLine("verify", total))
        return bars[0].advance

    with opened_runtime(load_settings(data_dir)) as runtime:
        report = verify.verify(
            sessions=runtime.sessions,
            store=runtime.store,
            user_id=_user_id(runtime, username),
            sample=sample,
            jobs=jobs,
            on_start=on_start,
        )
        bars[0].finish()
        for line in verify.iter_report_lines(report):
            click.echo(line)
        missing = sum(p.state == "missing" for p in report.problems)
        damaged = len(report.problems) - missing
        click.echo(
            f"checked {report.checked} files ({report.bytes / 1e6:.1f} MB): "
            f"{missing} missing, {damaged} damaged, {len(report.orphans)} orphaned"
        )
        if repair and report.problems:
            count = verify.repair(runtime.sessions, report.problems)
            click.echo(f"repair: {count} files wanted again; the agents send them on their next pass")
    if not report.clean:
        sys.exit(1)


@click.command("export")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--user", "username", default=None, help="Only this user's library (else DEST/<user>/ each).")
@click.option(
    "--jobs", type=click.IntRange(min=1, max=64), default=4, show_default=True, help="Files copied at once."
)
@data_dir_option
def export_command(dest: Path, username: str | None, jobs: int, data_dir: Path | None) -> None:
    """Copy the library out to DEST as plain files: a folder per album, each photo with a JSON sidecar.

    Run it again to finish or refresh an export: files already there are not copied again.
    """
    from sqlalchemy import select

    from image_assistant.db.models import User
    from image_assistant.ops import export
    from image_assistant.ops.progress import ProgressLine

    bars: list[ProgressLine] = []

    def on_start(total: int) -> export.Advance:
        bars.append(ProgressLine("export", total))
        return bars[0].advance

    root = dest.resolve()
    with opened_runtime(load_settings(data_dir)) as runtime:
        user_id = _user_id(runtime, username)
        if user_id is not None:
            users = [(user_id, root)]
        else:
            with runtime.sessions() as db:
                users = [
                    (uid, root / export.safe_name(name))
                    for uid, name in db.execute(select(User.id, User.username))
                ]
        report = export.export(
            sessions=runtime.sessions, store=runtime.store, users=users, jobs=jobs, on_start=on_start
        )
        bars[0].finish()
    for key in report.missing:
        click.echo(f"missing in the store: {key}")
    click.echo(
        f"exported to {root}: {report.copied} files copied ({report.bytes / 1e6:.1f} MB), "
        f"{report.unchanged} already there, {report.sidecars_written} sidecars written"
    )
    if report.missing:
        sys.exit(1)


@click.command("migrate-keys")
@data_dir_option
def migrate_keys_command(data_dir: Path | None) -> None:
    """Move stored files to the keys the current naming gives (Photos.app's: `<UUID>.jpeg`).

    Each object is copied with its SHA-256 checked before its row moves, then the old one is
    deleted; running it again moves nothing. Stop the server and workers first.
    """
    from image_assistant.ops import rekey

    with opened_runtime(load_settings(data_dir)) as runtime:
        report = rekey.rekey(sessions=runtime.sessions, store=runtime.store)
    click.echo(f"moved {report.moved} files ({report.bytes} bytes); {report.unchanged} already in place")
    for key in report.missing:
        click.echo(f"missing in the store (left as is): {key}")
    if report.missing:
        sys.exit(1)
