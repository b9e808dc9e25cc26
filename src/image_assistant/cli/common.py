"""What every command shares: settings from the environment, the runtime, logging, one-line errors."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from image_assistant.errors import AppError

if TYPE_CHECKING:
    from image_assistant.config import Settings
    from image_assistant.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


class FriendlyGroup(click.Group):
    """Every command's failures are one line on stderr, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AppError as exc:
            raise click.ClickException(exc.message) from None


def load_settings(data_dir: Path | None, **overrides: Any) -> Settings:
    from pydantic import ValidationError

    from image_assistant.config import Settings

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


@contextmanager
def opened_runtime(settings: Settings, *, long_lived: bool = False) -> Iterator[Runtime]:
    """The runtime on a database migrated to head first, closed however the command ends.

    A long-lived process (serve, worker) migrates in a forked child, so Alembic's modules
    (~11 MiB) are never loaded into it.
    """
    from image_assistant.runtime import build_runtime

    if long_lived:
        _migrate_in_child(settings)
    runtime = build_runtime(settings)
    try:
        if not long_lived:
            from image_assistant.db.session import upgrade

            upgrade(runtime.engine)
        yield runtime
    finally:
        runtime.close()


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


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escaped(value: str) -> str:
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def escape_controls(record: logging.LogRecord) -> bool:
    """A log line is one line: control characters in its message and values are written escaped
    (a path with %0a cannot forge a line, nor %00 write a NUL); tracebacks keep their lines."""
    if isinstance(record.msg, str):
        record.msg = _escaped(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(
            arg if isinstance(arg, int | float) else _escaped(str(arg)) for arg in record.args
        )
    return True


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(escape_controls)
    # Their debug output carries request headers and signatures: never below WARNING.
    for noisy in ("botocore", "boto3", "s3transfer", "urllib3", "httpx", "httpcore", "multipart"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
