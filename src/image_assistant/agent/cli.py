"""`image-assistant agent …`: pair, sync, run, status, install-service, uninstall-service."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from image_assistant.agent.client import (
    DEFAULT_RETRY_MAX_DELAY,
    DEFAULT_RETRY_WINDOW,
    AgentError,
    Backoff,
    DeviceRevoked,
    NotPaired,
    ServerClient,
    ServerUnreachable,
)
from image_assistant.agent.config import DEFAULT_INTERVAL, STATUS_PORT, AgentDir, Pairing, write_private
from image_assistant.agent.connection import CA_BUNDLE_ENV, checked_server_url
from image_assistant.agent.credentials import TokenStore
from image_assistant.agent.originals import OriginalFetcher
from image_assistant.agent.progress import Progress, read_status
from image_assistant.agent.runner import PassSettings, Scheduler, run_pass, server_probe
from image_assistant.agent.sources.base import Source
from image_assistant.agent.state import AgentState
from image_assistant.agent.sync import PassReport, reason_counts

FETCHER_ENV = "IMAGE_ASSISTANT_AGENT_ORIGINAL_FETCHER"
STAGING_ENV = "IMAGE_ASSISTANT_AGENT_STAGING_MAX"
EXIT_REVOKED = 3
EXIT_UNREACHABLE = 4


def _agent_dir(ctx: click.Context) -> AgentDir:
    return AgentDir(ctx.obj["config_dir"])


@click.group()
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="IMAGE_ASSISTANT_AGENT_DIR",
    default=None,
    help="Where the agent keeps pairing, state and status (env IMAGE_ASSISTANT_AGENT_DIR).",
)
@click.pass_context
def agent(ctx: click.Context, config_dir: Path | None) -> None:
    """The sync agent: keeps a Photos library or a folder in step with the server."""
    ctx.ensure_object(dict)
    ctx.obj["config_dir"] = config_dir
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")


# pairing


def _read_code() -> str | None:
    if sys.stdin.isatty():
        value: str = click.prompt("Code", default="", show_default=False)
        return value or None
    line = sys.stdin.readline()
    return line if line else None


def _connection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--ca-bundle",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        envvar=CA_BUNDLE_ENV,
        show_envvar=True,
        default=None,
        help="A PEM file of a private CA to trust besides the public ones (remembered).",
    )(command)
    return click.option(
        "--allow-http",
        is_flag=True,
        help="Allow plain http:// to a server that is not this machine (photos and token unencrypted).",
    )(command)


def _pair(
    ctx: click.Context,
    *,
    server: str,
    username: str,
    device_name: str | None,
    allow_http: bool,
    ca_bundle: Path | None,
) -> None:
    from image_assistant.agent.pairing import PairingFailed, default_device_name
    from image_assistant.agent.pairing import pair as do_pair

    try:
        do_pair(
            agent_dir=_agent_dir(ctx),
            server=server,
            username=username,
            device_name=device_name or default_device_name(),
            read_code=_read_code,
            say=click.echo,
            allow_http=allow_http,
            ca_bundle=str(ca_bundle.resolve()) if ca_bundle else None,
        )
    except (PairingFailed, AgentError) as exc:
        raise click.ClickException(str(exc)) from None


@agent.command()
@click.option("--server", required=True, help="The server's URL, e.g. https://photos.example.com")
@click.option("--username", required=True, help="Your account on the server.")
@click.option("--name", "device_name", default=None, help="A name for this device (default: host name).")
@_connection_options
@click.pass_context
def pair(
    ctx: click.Context,
    server: str,
    username: str,
    device_name: str | None,
    allow_http: bool,
    ca_bundle: Path | None,
) -> None:
    """Register this device and enter the 6-digit code from the gallery's Devices page.

    The server must be https:// unless it is this machine (or --allow-http is given).
    """
    _pair(
        ctx,
        server=server,
        username=username,
        device_name=device_name,
        allow_http=allow_http,
        ca_bundle=ca_bundle,
    )


# sources


def _source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--folder",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="A folder tree to sync.",
    )(command)
    return click.option(
        "--library",
        type=click.Path(exists=True, path_type=Path),
        help="A .photoslibrary bundle (default on macOS: the system library).",
    )(command)


def _remembered_source(agent_dir: AgentDir, library: Path | None, folder: Path | None) -> dict[str, str]:
    """The source given now (and remembered for `run` and the service), or the one remembered."""
    if library and folder:
        raise click.UsageError("give --library or --folder, not both")
    path = agent_dir.path / "source.json"
    if library or folder:
        chosen = {"kind": "library", "path": str(library.resolve())} if library else {}
        if folder:
            chosen = {"kind": "folder", "path": str(folder.resolve())}
        agent_dir.ensure()
        write_private(path, json.dumps(chosen))
        return chosen
    try:
        remembered: dict[str, str] = json.loads(path.read_text())
        return remembered
    except (OSError, ValueError):
        pass
    from image_assistant.agent.sources.photos_library import system_library

    found = system_library() if sys.platform == "darwin" else None
    if found is None:
        raise click.UsageError("say what to sync: --library PATH.photoslibrary or --folder PATH")
    return {"kind": "library", "path": str(found)}


def _make_source(chosen: dict[str, str], state: AgentState) -> Source:
    if chosen["kind"] == "folder":
        from image_assistant.agent.sources.folder import FolderSource

        return FolderSource(Path(chosen["path"]), cache=state)
    from image_assistant.agent.sources.photos_library import PhotosLibrarySource

    return PhotosLibrarySource(Path(chosen["path"]))


@contextmanager
def _session(agent_dir: AgentDir, backoff: Backoff) -> Iterator[tuple[ServerClient, AgentState, Progress]]:
    pairing = agent_dir.load_pairing()
    token = TokenStore(agent_dir).load(pairing.device_id) if pairing else None
    if pairing is None or token is None:
        raise NotPaired(
            "this agent is not paired; run `image-assistant agent pair --server URL --username NAME`"
        )
    # a hand-edited pairing must not send the token over plain http:// either
    server = checked_server_url(pairing.server, allow_http=pairing.allow_http)
    ca_bundle = os.environ.get(CA_BUNDLE_ENV) or pairing.ca_bundle
    with agent_dir.exclusive():
        state = AgentState(agent_dir.state_file)
        progress = Progress(agent_dir.status_file)
        progress.load_previous()
        client = ServerClient(
            server, token, backoff=backoff, on_reachable=progress.reachable, ca_bundle=ca_bundle
        )
        try:
            yield client, state, progress
        finally:
            client.close()
            state.close()


def _fail(exc: AgentError) -> None:
    code = (
        EXIT_REVOKED
        if isinstance(exc, DeviceRevoked)
        else EXIT_UNREACHABLE
        if isinstance(exc, ServerUnreachable)
        else 1
    )
    click.echo(f"Error: {exc}", err=True)
    sys.exit(code)


def _settings(
    agent_dir: AgentDir, chosen: dict[str, str], workers: int, resumable_mb: int, staging_max: str
) -> PassSettings:
    from image_assistant.agent.originals import Staging, parse_size

    try:
        budget = parse_size(staging_max)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--staging-max") from None
    return PassSettings(
        workers=workers,
        resumable_threshold=resumable_mb * 1024 * 1024,
        fetcher=_make_fetcher(chosen),
        staging=Staging(agent_dir.path / "staging", budget),
    )


def _make_fetcher(chosen: dict[str, str]) -> OriginalFetcher:
    """Who fetches originals that are only in iCloud: Photos on macOS, nobody elsewhere."""
    from image_assistant.agent.originals import NoFetcher, PhotosFetcher, load_fetcher

    library = Path(chosen["path"]) if chosen["kind"] == "library" else None
    spec = os.environ.get(FETCHER_ENV)
    if spec:  # a fetcher of one's own, `module:factory` (the tests' stand-ins)
        return load_fetcher(spec, library)
    if library is None:
        return NoFetcher("a folder source has no originals elsewhere")
    return PhotosFetcher(library)


def _backoff(retry_window: float, retry_max_delay: float) -> Backoff:
    return Backoff(window=retry_window, max_delay=retry_max_delay)


def _pass_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--retry-max-delay",
        type=click.FloatRange(min=0.1),
        default=DEFAULT_RETRY_MAX_DELAY,
        show_default=True,
        envvar="IMAGE_ASSISTANT_AGENT_RETRY_MAX_DELAY",
        show_envvar=True,
        help="Longest wait in seconds between two retries (they start at 1 s and double).",
    )(command)
    command = click.option(
        "--retry-window",
        type=click.FloatRange(min=0),
        default=DEFAULT_RETRY_WINDOW,
        show_default=True,
        envvar="IMAGE_ASSISTANT_AGENT_RETRY_WINDOW",
        show_envvar=True,
        help="Seconds a request retries network errors and 5xx before the pass gives up as "
        "'server unreachable' (`run` then tries again at the next pass).",
    )(command)
    command = click.option("--workers", default=4, show_default=True, help="Uploads at a time.")(command)
    command = click.option(
        "--staging-max",
        default="5GB",
        show_default=True,
        envvar=STAGING_ENV,
        show_envvar=True,
        help="Most disk space originals downloaded from iCloud may take while they wait for their "
        "upload (e.g. 500MB, 5GB); 10% of the disk is always kept free.",
    )(command)
    return click.option(
        "--resumable-above-mb",
        "resumable_mb",
        default=64,
        show_default=True,
        help="Files at least this large upload in resumable parts.",
    )(command)


@agent.command()
@_source_options
@_pass_options
@click.option("--json", "as_json", is_flag=True, help="Print the pass report as JSON.")
@click.pass_context
def sync(
    ctx: click.Context,
    library: Path | None,
    folder: Path | None,
    workers: int,
    resumable_mb: int,
    staging_max: str,
    retry_window: float,
    retry_max_delay: float,
    as_json: bool,
) -> None:
    """One pass: metadata, albums, deletions, then the binaries the server lacks.

    Exits 4 if the server stays unreachable for the whole retry window, 3 if the device was revoked.
    """
    agent_dir = _agent_dir(ctx)
    chosen = _remembered_source(agent_dir, library, folder)
    try:
        with _session(agent_dir, _backoff(retry_window, retry_max_delay)) as (client, state, progress):
            source = _make_source(chosen, state)
            with _progress_bar(progress, enabled=sys.stderr.isatty() and not as_json):
                report = run_pass(
                    source=source, state=state, client=client, progress=progress,
                    settings=_settings(agent_dir, chosen, workers, resumable_mb, staging_max),
                )  # fmt: skip
    except AgentError as exc:
        _fail(exc)
        return
    _print_report(report, as_json)


def _print_report(report: PassReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_json() | {"waiting_for_original_uuids": report.waiting_for_original}))
        return
    click.echo(
        f"{report.photos} photos, {report.albums} albums: {report.metadata_sent} metadata sent, "
        f"{report.uploads} uploaded ({report.bytes_sent} bytes), "
        f"{report.deleted_reported} deletions reported, "
        f"{'albums sent' if report.albums_sent else 'albums unchanged'}, {report.seconds:.1f} s"
    )
    if report.fetched_from_cloud:
        click.echo(f"{report.fetched_from_cloud} originals downloaded from iCloud and uploaded")
    if report.waiting_for_original:
        click.echo(f"{len(report.waiting_for_original)} waiting for their original:")
        for reason, count in sorted(reason_counts(report.waiting_reasons).items()):
            click.echo(f"  {count}: {reason}")
    for problem in report.problems + report.failed:
        click.echo(f"problem: {problem}", err=True)


@contextmanager
def _progress_bar(progress: Progress, *, enabled: bool) -> Iterator[None]:
    """A one-line bar on stderr while a pass runs in a terminal."""
    if not enabled:
        yield
        return
    done = threading.Event()

    def draw() -> None:
        while not done.wait(0.5):
            status = progress.as_json()
            up, total = status["uploads"]["done"], status["uploads"]["total"]
            width = 30
            filled = int(width * up / total) if total else 0
            line = f"\r{status['phase']:<10} [{'#' * filled}{'.' * (width - filled)}] {up}/{total}"
            click.echo(line, nl=False, err=True)
        click.echo("", err=True)

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


@agent.command()
@_source_options
@_pass_options
@click.option("--interval", default=DEFAULT_INTERVAL, show_default=True, help="Seconds between passes.")
@click.option(
    "--status-port",
    default=STATUS_PORT,
    show_default=True,
    envvar="IMAGE_ASSISTANT_AGENT_STATUS_PORT",
    show_envvar=True,
    help="Port of the local status page.",
)
@click.pass_context
def run(
    ctx: click.Context,
    library: Path | None,
    folder: Path | None,
    workers: int,
    resumable_mb: int,
    staging_max: str,
    retry_window: float,
    retry_max_delay: float,
    interval: int,
    status_port: int,
) -> None:
    """Sync now and every --interval seconds; serve the status page on 127.0.0.1.

    A pass that cannot reach the server within the retry window is recorded on the status
    page and tried again at the next pass (sooner once the server answers again), however
    long the outage lasts. Only a revoked device stops it (exit code 3), or SIGTERM / Ctrl-C:
    the uploads in flight finish (a large one at its next part), then it exits with 0.
    """
    from image_assistant.agent.status_page import StatusPage

    agent_dir = _agent_dir(ctx)
    chosen = _remembered_source(agent_dir, library, folder)
    try:
        with _session(agent_dir, _backoff(retry_window, retry_max_delay)) as (client, state, progress):
            source = _make_source(chosen, state)
            settings = _settings(agent_dir, chosen, workers, resumable_mb, staging_max)

            def one_pass() -> PassReport:
                return run_pass(
                    source=source,
                    state=state,
                    client=client,
                    progress=progress,
                    settings=settings,
                    stop=scheduler.stopping,
                )

            scheduler = Scheduler(interval, one_pass, probe=server_probe(client, progress))
            _stop_gracefully_on_signals(scheduler)
            try:
                page = StatusPage(progress, scheduler.sync_now, port=status_port)
            except OSError as exc:
                raise click.ClickException(
                    f"cannot serve the status page on port {status_port}: {exc}"
                ) from None
            page.start()
            click.echo(f"status page: http://127.0.0.1:{page.port}", err=True)
            try:
                scheduler.loop()
            finally:
                page.stop()
            click.echo("stopped", err=True)
    except AgentError as exc:
        _fail(exc)


def _stop_gracefully_on_signals(scheduler: Scheduler) -> None:
    """SIGTERM (launchd, systemd) or Ctrl-C ends the loop once what is in flight is done; the
    same signal again ends the process at once."""

    def asked(signum: int, _frame: Any) -> None:
        signal.signal(signum, signal.SIG_DFL)
        click.echo("stopping once the uploads in flight are done (again to stop at once)", err=True)
        scheduler.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, asked)


@agent.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """What the agent is doing, or did last: the same facts as the status page."""
    from image_assistant.agent.status_page import server_side_lines, status_lines

    agent_dir = _agent_dir(ctx)
    pairing = agent_dir.load_pairing()
    click.echo(f"Paired: {'no' if pairing is None else f'{pairing.device_name} with {pairing.server}'}")
    current = read_status(agent_dir.status_file)
    live = _server_side_now(agent_dir, pairing) if pairing is not None else None
    if current is None:
        click.echo("No sync has run yet.")
        for label, value in server_side_lines(live or {}) if live else []:
            click.echo(f"{label + ':':<22}{value}")
        return
    if live:
        current["server_side"] = live
    for label, value in status_lines(current):
        click.echo(f"{label + ':':<22}{value}")
    for error in current.get("errors", [])[-5:]:
        click.echo(f"error: {error['at']} {error['message']}")


def _server_side_now(agent_dir: AgentDir, pairing: Pairing) -> dict[str, Any] | None:
    """The server's counts for this device now (one try), or None to show the last recorded."""
    from image_assistant.agent.progress import server_side_of

    token = TokenStore(agent_dir).load(pairing.device_id)
    if token is None:
        return None
    try:
        server = checked_server_url(pairing.server, allow_http=pairing.allow_http)
        ca_bundle = os.environ.get(CA_BUNDLE_ENV) or pairing.ca_bundle
        with ServerClient(server, token, ca_bundle=ca_bundle) as client:
            return server_side_of(client.status())
    except AgentError:
        return None


@agent.command("install-service")
@click.option("--no-load", is_flag=True, help="Only write the file; do not load it.")
@click.pass_context
def install_service(ctx: click.Context, no_load: bool) -> None:
    """Run the agent in the background at login (launchd on macOS, systemd --user on Linux)."""
    from image_assistant.agent import service

    agent_dir = _agent_dir(ctx)
    if agent_dir.load_pairing() is None:
        raise click.ClickException("pair first: `image-assistant agent pair --server URL --username NAME`")
    unit = service.service_file(agent_dir.path.resolve())
    problems = service.install(unit, load=not no_load)
    click.echo(f"wrote {unit.path}")
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)


@agent.command("uninstall-service")
@click.option("--no-load", is_flag=True, help="Only remove the file; do not unload it.")
@click.pass_context
def uninstall_service(ctx: click.Context, no_load: bool) -> None:
    """Stop and remove the background service."""
    from image_assistant.agent import service

    unit = service.service_file(_agent_dir(ctx).path.resolve())
    problems = service.uninstall(unit, load=not no_load)
    click.echo(f"removed {unit.path}")
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)


# setup: every step above, guided


@agent.command()
@click.option("--server", default=None, help="The server's URL, e.g. https://photos.example.com")
@click.option("--username", default=None, help="Your account on the server.")
@click.option("--name", "device_name", default=None, help="A name for this device (default: host name).")
@_source_options
@_connection_options
@click.option("--no-service", is_flag=True, help="Do not install the background service.")
@click.option("--no-load", is_flag=True, help="Write the service file but do not load it.")
@click.option("--no-sync", is_flag=True, help="Do not run the first pass now.")
@click.option("--status-port", default=STATUS_PORT, show_default=True, help="Port of the local status page.")
@click.option("--yes", "-y", is_flag=True, help="Ask nothing: take the flags and the defaults.")
@click.pass_context
def setup(
    ctx: click.Context,
    server: str | None,
    username: str | None,
    device_name: str | None,
    library: Path | None,
    folder: Path | None,
    allow_http: bool,
    ca_bundle: Path | None,
    no_service: bool,
    no_load: bool,
    no_sync: bool,
    status_port: int,
    yes: bool,
) -> None:
    """Guided start: choose the library, check it can be read, pair, install the service, and
    run the first pass. Every question is also a flag; --yes asks none (the pairing code is
    then read from stdin)."""
    agent_dir = _agent_dir(ctx)
    server = server or _ask(yes, "Server address (https://…)", "--server")
    try:
        checked_server_url(server, allow_http=allow_http)  # before anything else is asked or read
    except AgentError as exc:
        raise click.ClickException(str(exc)) from None
    username = username or _ask(yes, "Your account on the server", "--username")
    chosen = _chosen_source(library, folder, yes)
    _wait_until_readable(chosen, yes)
    _remembered_source(agent_dir, *_as_paths(chosen))
    pairing = agent_dir.load_pairing()
    if pairing and pairing.server == server.rstrip("/") and pairing.username == username:
        click.echo(f"Already paired as {pairing.device_name!r} with {pairing.server}.")
    else:
        _pair(ctx, server=server, username=username, device_name=device_name,
              allow_http=allow_http, ca_bundle=ca_bundle)  # fmt: skip
    if not no_service and (yes or click.confirm("Run the agent in the background at login?", default=True)):
        _install_service(agent_dir, load=not no_load)
    if not no_sync:
        click.echo("First pass (later ones run in the background):")
        _first_pass(agent_dir, chosen)
    click.echo(f"Status page: http://127.0.0.1:{status_port} (while the agent runs)")


def _ask(yes: bool, question: str, flag: str) -> str:
    if yes:
        raise click.UsageError(f"{flag} is needed with --yes")
    answer: str = click.prompt(question)
    return answer.strip()


def _chosen_source(library: Path | None, folder: Path | None, yes: bool) -> dict[str, str]:
    if library and folder:
        raise click.UsageError("give --library or --folder, not both")
    if library or folder:
        kind, path = ("library", library) if library else ("folder", folder)
        return {"kind": kind, "path": str(Path(str(path)).resolve())}
    from image_assistant.agent.sources.photos_library import system_library

    found = system_library() if sys.platform == "darwin" else None
    if found is not None and (yes or click.confirm(f"Sync the Photos library {found}?", default=True)):
        return {"kind": "library", "path": str(found)}
    if yes:
        raise click.UsageError("no system Photos library found: give --library PATH or --folder PATH")
    path = click.prompt("Path of a .photoslibrary or a folder", type=click.Path(exists=True, path_type=Path))
    kind = "library" if path.suffix == ".photoslibrary" else "folder"
    return {"kind": kind, "path": str(path.resolve())}


def _as_paths(chosen: dict[str, str]) -> tuple[Path | None, Path | None]:
    path = Path(chosen["path"])
    return (path, None) if chosen["kind"] == "library" else (None, path)


def _wait_until_readable(chosen: dict[str, str], yes: bool) -> None:
    """Check the source can be read; if not, say who needs access and check again on Enter."""
    from image_assistant.agent.permissions import full_disk_access_help, unreadable_reason

    while (reason := unreadable_reason(chosen["kind"], Path(chosen["path"]))) is not None:
        click.echo(full_disk_access_help(reason), err=True)
        if yes or not _enter_pressed():
            raise click.ClickException(
                "the source cannot be read yet; run setup again once access is granted"
            )
        click.echo("Checking again…")
    click.echo(f"Can read {chosen['path']}.")


def _enter_pressed() -> bool:
    click.echo("Press Enter to check again (Ctrl-D to stop).", err=True)
    return bool(sys.stdin.readline())


def _install_service(agent_dir: AgentDir, *, load: bool) -> None:
    from image_assistant.agent import service

    unit = service.service_file(agent_dir.path.resolve())
    problems = service.install(unit, load=load)
    click.echo(f"Service written: {unit.path}{'' if load else ' (not loaded)'}")
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)


def _first_pass(agent_dir: AgentDir, chosen: dict[str, str]) -> None:
    try:
        with _session(agent_dir, Backoff()) as (client, state, progress):
            source = _make_source(chosen, state)
            with _progress_bar(progress, enabled=sys.stderr.isatty()):
                settings = _settings(agent_dir, chosen, 4, 64, os.environ.get(STAGING_ENV, "5GB"))
                report = run_pass(source=source, state=state, client=client, progress=progress,
                                  settings=settings)  # fmt: skip
    except AgentError as exc:
        _fail(exc)
        return
    _print_report(report, as_json=False)


@agent.command("offload-check")
@_source_options
@click.pass_context
def offload_check(ctx: click.Context, library: Path | None, folder: Path | None) -> None:
    """Is every original on this disk on the server, byte-identical (SHA-256), under the name the
    library's originals folder uses? Exits 0 only when all are (see docs/offload.md)."""
    from image_assistant.agent import offload
    from image_assistant.agent.status_page import human_bytes

    agent_dir = _agent_dir(ctx)
    chosen = _remembered_source(agent_dir, library, folder)
    try:
        with _session(agent_dir, Backoff()) as (client, state, _progress):
            snapshot = _make_source(chosen, state).read()
            originals_dir = Path(chosen["path"]) / "originals" if chosen["kind"] == "library" else None
            mine, elsewhere = offload.local_originals(snapshot.assets, originals_dir)
            report = offload.compare(mine, client.stored_originals(), elsewhere)
    except AgentError as exc:
        _fail(exc)
        return
    click.echo(f"{report.checked} files in the originals on this disk ({human_bytes(report.checked_bytes)})")
    click.echo(
        f"  on the server, identical (SHA-256): {report.identical} ({human_bytes(report.identical_bytes)})"
    )
    click.echo(f"  missing on the server: {len(report.missing)} ({human_bytes(report.missing_bytes)})")
    click.echo(f"  different on the server: {len(report.different)}")
    click.echo(f"  stored under another name: {len(report.misplaced)}")
    click.echo(f"  not on this disk (nothing to offload): {report.not_on_disk}")
    for label, items in (("missing", report.missing), ("different", report.different),
                         ("misplaced", report.misplaced)):  # fmt: skip
        for item in items:
            click.echo(f"{label}: {item.photos_uuid} {item.relative or item.path}")
    if not report.all_safe:
        click.echo("NOT safe to offload: run `image-assistant agent sync` and check again", err=True)
        sys.exit(1)
    click.echo("every original here is safely on the server")
