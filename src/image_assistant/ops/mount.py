"""Mount one prefix of the S3 store as local files with rclone, behind a bounded VFS cache."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from image_assistant.config import Settings
from image_assistant.errors import OperationFailed

REMOTE = "imageassistant"
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)$", re.IGNORECASE)
_AGE = re.compile(r"^\d+(ms|s|m|h|d|w|M|y)$")
_UNITS = {"": 1 << 10, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}  # rclone's: bare = KiB

# rclone 1.60 evicts only when its cleaner runs: every --vfs-cache-poll-interval, or when a write
# into the cache fails with ENOSPC. Between two runs nothing stops the cache growing as fast as
# files are read (measured here: 80 MB read at 105 MiB/s all in a 48M cache before its 2 s poll,
# and still 58 MiB in a 32M one with a 250 ms poll). So the user's
# bound is split: rclone evicts down to a smaller size every EVICT_INTERVAL_MS, and --bwlimit caps
# what it can download in between: at most the token bucket (it starts empty and refills, when
# idle, up to 4 MiB or 1/64 s of the rate, whichever is more) plus the rate times twice the
# interval (for a late tick or a slow cleaning pass). rclone counts the bytes of cached ranges;
# the disk also holds a metadata file per cached file and rounds files up to 4 KiB blocks: up to
# 8 KiB a file, reserved as 1/64 of the bound (files of 512 KiB or more on average).
# docs/deploy.md states the rule.
EVICT_INTERVAL_MS = 250
PER_OWNER_PREFIXES = ("originals", "edited", "live")
BWLIMIT_BURST = 4 << 20
MIN_HEADROOM = 16 << 20


class MountError(OperationFailed):
    """A mount that cannot be made or undone; the message says what to do."""

    code = "mount_failed"


@dataclass(frozen=True)
class CacheLimits:
    directory: Path
    max_size: str = "10G"
    max_age: str = "24h"


@dataclass(frozen=True)
class CacheBudget:
    """How the user's bound on the cache's disk use is split so that rclone stays inside it."""

    bound: int  # bytes the cache may use on disk, as the user asked
    rclone_max_size: int  # what rclone evicts down to every EVICT_INTERVAL_MS
    bwlimit: int  # bytes/s rclone may download, so that it cannot outrun its evictions


def cache_budget(bound: int) -> CacheBudget:
    """Split `bound` (bytes) into rclone's own cache size and the download rate it may fill it at."""
    headroom = max(bound // 8, MIN_HEADROOM)
    if bound < 2 * headroom:
        least, spare = format_size(2 * MIN_HEADROOM), format_size(MIN_HEADROOM)
        raise MountError(
            f"--cache-max-size {format_size(bound)} is too small: use at least {least}"
            f" ({spare} of it is headroom for what rclone reads between two evictions)"
        )
    room = headroom - bound // 64  # what is left once the per-file overhead is set aside
    window = 2 * EVICT_INTERVAL_MS / 1000
    rate = min((room - BWLIMIT_BURST) / window, room / (window + 1 / 64))
    bwlimit = int(rate) >> 20 << 20  # whole MiB/s, rounded down
    return CacheBudget(bound=bound, rclone_max_size=bound - headroom, bwlimit=bwlimit)


def parse_size(text: str) -> int:
    """`512M`, `10G`, `1.5T` → bytes; binary units, and a bare number is KiB as in rclone."""
    match = _SIZE.match(text.strip())
    if not match:
        raise MountError(f"--cache-max-size {text!r} must look like 512M or 10G")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def format_size(size: int) -> str:
    """Bytes → rclone's notation, exact to the KiB below: `10G`, `1792M`, `23040K`."""
    for unit, factor in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size // 1024}K"


@dataclass(frozen=True)
class MountPlan:
    """The rclone command and the environment that carries the credentials."""

    argv: list[str]
    env: dict[str, str]
    read_only: bool
    cache: CacheBudget

    def cache_note(self) -> str:
        """What the bound covers and what it cannot, in the user's terms."""
        bound, share = format_size(self.cache.bound), format_size(self.cache.rclone_max_size)
        return (
            f"the cache stays within {bound} of disk: rclone evicts down to {share} every"
            f" {EVICT_INTERVAL_MS} ms and downloads at most {format_size(self.cache.bwlimit)}/s so"
            f" it cannot outrun that. Not covered: open files larger than {share} (alone or"
            f" together) and written files not yet uploaded, which can take the cache past {bound}."
        )

    def printable(self) -> str:
        return " ".join(self.argv)


def allowed_prefixes(settings: Settings) -> dict[str, bool]:
    """Prefix name → read-only?, from MOUNT_PREFIXES (`originals:ro,video-projects:rw`)."""
    prefixes: dict[str, bool] = {}
    for item in settings.mount_prefixes.split(","):
        name, _, mode = item.strip().partition(":")
        if not name:
            continue
        if not _PREFIX.match(name) or mode not in ("ro", "rw"):
            raise MountError(f"MOUNT_PREFIXES entry {item.strip()!r} must look like name:ro or name:rw")
        prefixes[name] = mode == "ro"
    return prefixes


def remote_env(settings: Settings) -> dict[str, str]:
    """rclone's remote, defined in environment variables so no secret is on a command line."""
    endpoint = settings.s3_endpoint_url
    key = f"RCLONE_CONFIG_{REMOTE.upper()}_"
    return {
        key + "TYPE": "s3",
        key + "PROVIDER": "Other",
        key + "ENV_AUTH": "false",
        key + "ACCESS_KEY_ID": settings.minio_access_key,
        key + "SECRET_ACCESS_KEY": settings.minio_secret_key,
        key + "ENDPOINT": endpoint,
        key + "REGION": settings.minio_region,
        key + "FORCE_PATH_STYLE": "true",
        key + "NO_CHECK_BUCKET": "true",
    }


def plan_mount(
    settings: Settings, prefix: str, mountpoint: Path, cache: CacheLimits, owner_id: uuid.UUID | None = None
) -> MountPlan:
    """The rclone mount of `prefix`; with `owner_id`, only that user's files, read-only, in the
    Photos.app layout of a library's originals folder (`<U[0]>/<UUID>.<ext>`)."""
    if settings.storage_backend != "s3":
        raise MountError(
            "mount needs STORAGE_BACKEND=s3; the local store is already a directory: "
            f"{settings.local_store_root}"
        )
    prefixes = allowed_prefixes(settings)
    if prefix not in prefixes:
        raise MountError(f"prefix {prefix!r} is not mountable; MOUNT_PREFIXES allows: {', '.join(prefixes)}")
    budget = cache_budget(parse_size(cache.max_size))
    if not _AGE.match(cache.max_age):
        raise MountError(f"--cache-max-age {cache.max_age!r} must look like 30m, 24h or 7d")
    read_only = prefixes[prefix] or owner_id is not None
    remote = f"{REMOTE}:{settings.minio_bucket}/{prefix}"
    if owner_id is not None:
        if prefix not in PER_OWNER_PREFIXES:
            raise MountError(f"--user needs a prefix of photo files: {', '.join(PER_OWNER_PREFIXES)}")
        remote += f"/{uuid.UUID(str(owner_id))}"
    argv = [
        "rclone",
        "mount",
        remote,
        str(mountpoint),
        "--vfs-cache-mode",
        "full",
        "--cache-dir",
        str(cache.directory),
        "--vfs-cache-max-size",
        format_size(budget.rclone_max_size),
        "--vfs-cache-max-age",
        cache.max_age,
        "--vfs-cache-poll-interval",
        f"{EVICT_INTERVAL_MS}ms",
        "--bwlimit",
        f"off:{format_size(budget.bwlimit)}",  # UP:DOWN: only downloads fill the cache unasked
        "--vfs-write-back",
        "2s",
        "--dir-cache-time",
        "30s",
    ]
    if read_only:
        argv.append("--read-only")
    if owner_id is not None:
        argv += ["--exclude", "*.json"]  # sidecars beside the files: not in a library's layout
    return MountPlan(argv=argv, env=remote_env(settings), read_only=read_only, cache=budget)


def check_tools() -> None:
    """rclone and FUSE must be present; say how to get them when they are not."""
    if shutil.which("rclone") is None:
        raise MountError(
            "rclone is not installed: `apt-get install rclone fuse3` (Debian) or `brew install rclone`"
        )
    if platform.system() == "Linux":
        if not os.path.exists("/dev/fuse"):
            raise MountError("FUSE is not available here (/dev/fuse is missing): load the fuse module")
        if shutil.which("fusermount3") is None and shutil.which("fusermount") is None:
            raise MountError("fusermount is missing: `apt-get install fuse3`")


def mount(plan: MountPlan, mountpoint: Path, *, log_file: Path, timeout: float = 30) -> None:
    """Start rclone in the background and wait until the mountpoint is live."""
    check_tools()
    mountpoint.mkdir(parents=True, exist_ok=True)
    if os.path.ismount(mountpoint):
        raise MountError(f"{mountpoint} is already a mount point; unmount it first")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **plan.env}
    argv = [*plan.argv, "--daemon", "--log-file", str(log_file), "--log-level", "NOTICE"]
    # rclone's AWS SDK fails on AWS_CA_BUNDLE ("unsupported transport"); rclone's own flag works.
    ca_bundle = env.pop("AWS_CA_BUNDLE", "")
    if ca_bundle and env.get(f"RCLONE_CONFIG_{REMOTE.upper()}_ENDPOINT", "").startswith("https://"):
        argv += ["--ca-cert", ca_bundle]
    # No pipes: the daemonised rclone would hold them open and the call would never return.
    result = subprocess.run(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise MountError(f"rclone could not mount: {_last_line(_tail(log_file)) or 'see ' + str(log_file)}")
    deadline = time.monotonic() + timeout
    while not os.path.ismount(mountpoint):
        if time.monotonic() > deadline:
            raise MountError(f"rclone did not mount {mountpoint} in {timeout:.0f}s; see {log_file}")
        time.sleep(0.2)


def unmount(mountpoint: Path) -> None:
    if not os.path.ismount(mountpoint):
        raise MountError(f"{mountpoint} is not mounted")
    if platform.system() == "Linux":
        tool = shutil.which("fusermount3") or shutil.which("fusermount") or "umount"
        argv = [tool, "-u", str(mountpoint)] if "fusermount" in tool else [tool, str(mountpoint)]
    else:
        argv = ["umount", str(mountpoint)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise MountError(f"could not unmount {mountpoint}: {_last_line(result.stderr)}")


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return ""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
