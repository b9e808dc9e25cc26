"""Running the server: `serve`, `worker`, `db upgrade`, and the thumbnail pipeline's commands."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import click

from image_assistant.cli.common import (
    configure_logging,
    data_dir_option,
    load_settings,
    opened_runtime,
)
from image_assistant.errors import QueueUnavailable
from image_assistant.store.base import TEMP_FILES_KEPT_SECONDS

if TYPE_CHECKING:
    from fastapi import FastAPI

    from image_assistant.runtime import Runtime
    from image_assistant.thumbnails.worker import ThumbnailWorker

log = logging.getLogger("image_assistant")


@click.command()
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

    from image_assistant.app import create_app

    settings = load_settings(data_dir)
    configure_logging(settings.log_level)
    with opened_runtime(settings, long_lived=True) as runtime:
        host = host or settings.api_host
        port = port or settings.api_port
        log.info(
            "serving on http://%s:%s (database: %s, store: %s)",
            host,
            port,
            runtime.engine.dialect.name,
            settings.storage_backend,
        )
        if no_worker:  # else the worker's reconciler sweeps, at start and every round
            runtime.store.sweep_temporary(older_than=TEMP_FILES_KEPT_SECONDS)
        announce_setup(runtime, f"http://{host}:{port}/")
        worker = None if no_worker else start_worker(runtime, None)
        options: dict[str, Any] = dict(
            host=host, port=port, access_log=False, log_config=None, timeout_graceful_shutdown=5
        )
        try:
            if workers == 1:
                uvicorn.run(create_app(runtime), **options)
            else:
                # Each API process builds its app from the environment; the data dir must reach it.
                os.environ["IMAGE_ASSISTANT_DATA_DIR"] = str(settings.data_dir.resolve())
                uvicorn.run(f"{__name__}:api_process_app", factory=True, workers=workers, **options)
        finally:
            if worker is not None:
                worker.stop()


def announce_setup(runtime: Runtime, address: str) -> None:
    """While no account exists: a new setup code, on the terminal only (never in the log)."""
    from image_assistant.core import setup
    from image_assistant.db.session import transaction

    with transaction(runtime.sessions) as session:
        code = setup.new_code(session, runtime.settings.data_dir)
    if code is not None:
        click.echo(
            f"No account yet: open {address} to create the first one (an administrator).\n"
            f"From another machine the page asks for this setup code: {code}\n"
            f"(also in {runtime.settings.data_dir / setup.CODE_FILE}, readable by this user only)",
            err=True,
        )


def api_process_app() -> FastAPI:
    """The app of one `serve --workers N` process (migrations and secrets are done by serve)."""
    from image_assistant.app import create_app
    from image_assistant.runtime import build_runtime

    settings = load_settings(None)
    configure_logging(settings.log_level)
    return create_app(build_runtime(settings))


def start_worker(runtime: Runtime, concurrency: int | None) -> ThumbnailWorker:
    from image_assistant.thumbnails.worker import ThumbnailWorker

    worker = ThumbnailWorker(
        settings=runtime.settings,
        sessions=runtime.sessions,
        store=runtime.store,
        queue=runtime.queue,
        concurrency=concurrency,
    )
    worker.start()
    return worker


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="Jobs run at once (default 5, env THUMBNAIL_CONCURRENCY).",
)
@data_dir_option
def worker(concurrency: int | None, data_dir: Path | None) -> None:
    """Run thumbnail workers alone (no API), against the configured database, store and queue."""
    settings = load_settings(data_dir)
    configure_logging(settings.log_level)
    with opened_runtime(settings, long_lived=True) as runtime:
        running = start_worker(runtime, concurrency)

        def _stop(signum: int, _frame: Any) -> None:
            log.info("%s received; stopping", signal.Signals(signum).name)
            running.request_stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        try:
            running.wait()
        finally:
            running.stop()


@click.group()
def thumbnails() -> None:
    """The thumbnail pipeline: state and re-queueing."""


@thumbnails.command("rebuild")
@click.option("--failed", "scope", flag_value="failed", help="Only photos whose thumbnails failed.")
@click.option("--all", "scope", flag_value="all", help="Every photo with an original (makes them anew).")
@data_dir_option
def thumbnails_rebuild(scope: str | None, data_dir: Path | None) -> None:
    """Re-queue thumbnail jobs: unfinished ones by default, or --failed, or --all."""
    from image_assistant.thumbnails.reconcile import rebuild

    chosen = cast(Literal["unfinished", "failed", "all"], scope or "unfinished")
    with opened_runtime(load_settings(data_dir)) as runtime:
        try:
            count = rebuild(sessions=runtime.sessions, queue=runtime.queue, scope=chosen)
        except QueueUnavailable as exc:
            raise click.ClickException(
                f"{exc.message}; is the queue reachable? (nothing lost: run this again)"
            ) from None
    click.echo(f"queued {count} photo(s) for thumbnails")


@thumbnails.command("status")
@data_dir_option
def thumbnails_status(data_dir: Path | None) -> None:
    """Photos per thumbnail state, and jobs waiting on the queue."""
    from image_assistant.thumbnails.reconcile import state_counts

    with opened_runtime(load_settings(data_dir)) as runtime:
        try:
            with runtime.sessions() as session:
                counts = state_counts(session)
            jobs = runtime.queue.counts()
        except QueueUnavailable as exc:
            raise click.ClickException(f"{exc.message}; is the queue reachable?") from None
        backend = runtime.queue.backend
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))
    click.echo(f"queue ({backend}): {jobs['queued']} queued, {jobs['scheduled']} scheduled")


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@data_dir_option
def db_upgrade(data_dir: Path | None) -> None:
    """Run Alembic migrations up to head."""
    with opened_runtime(load_settings(data_dir)):
        pass
    click.echo("database is at the newest schema")
