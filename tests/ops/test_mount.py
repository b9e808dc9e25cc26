"""`image-assistant mount`: S3 prefixes as local files through rclone + FUSE, for real."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from image_assistant.config import Settings
from image_assistant.ops import mount
from image_assistant.runtime import make_store
from image_assistant.store.s3 import S3Store
from tests.helpers.s3 import ensure_s3_server, remove_bucket
from tests.helpers.server import CLI


@pytest.fixture(scope="module")
def env(s3_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data = tmp_path_factory.mktemp("mount-data")
    made = {
        **os.environ,
        **s3_env,
        "MINIO_BUCKET": f"ia-mount-{secrets.token_hex(4)}",
        "IMAGE_ASSISTANT_DATA_DIR": str(data),
    }
    yield made
    remove_bucket(ensure_s3_server(), made["MINIO_BUCKET"])


@pytest.fixture(scope="module")
def store(env: dict[str, str]) -> S3Store:
    settings = Settings(**{k: v for k, v in env.items() if k.isupper() and k[0] != "_"})
    made = make_store(settings, "s" * 40)
    assert isinstance(made, S3Store)
    return made


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def mounted(env: dict[str, str], tmp_path: Path) -> Iterator[callable]:
    made: list[Path] = []

    def mount(prefix: str, *extra: str) -> Path:
        point = tmp_path / prefix
        result = run(
            env, "mount", prefix, str(point), "--cache-dir", str(tmp_path / f"cache-{prefix}"), *extra
        )
        assert result.returncode == 0, result.stderr
        assert "note: the cache stays within" in result.stdout
        made.append(point)
        return point

    yield mount
    for point in made:
        if os.path.ismount(point):
            run(env, "unmount", str(point))


def wait_for(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def exists(store: S3Store, key: str) -> bool:
    try:
        store.head(key)
        return True
    except Exception:
        return False


def test_a_file_written_through_video_projects_reaches_the_store(mounted, store: S3Store) -> None:
    point = mounted("video-projects")
    data = secrets.token_bytes(3 * 1024 * 1024)
    (point / "renders").mkdir()
    (point / "renders" / "cut-1.mov").write_bytes(data)
    wait_for(lambda: exists(store, "video-projects/renders/cut-1.mov"))
    assert b"".join(store.open("video-projects/renders/cut-1.mov")) == data


def test_an_original_reads_identical_through_a_read_only_originals_mount(mounted, store: S3Store) -> None:
    data = secrets.token_bytes(2 * 1024 * 1024)
    key = "originals/0f0e0d0c-0000-4000-8000-000000000001/D/D79B8D77-BFFC-460B-9312-034F2877D35B.jpg"
    store.put(key, io.BytesIO(data), content_type="image/jpeg")
    point = mounted("originals")
    path = point / key.removeprefix("originals/")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    with pytest.raises(OSError):
        (point / "new.txt").write_bytes(b"nope")


def disk_usage(root: Path) -> int:
    """What the cache really takes on disk: its files are sparse, so blocks, not sizes."""
    total = 0
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except FileNotFoundError:  # evicted while we looked
                pass
    return total


def test_the_cache_never_uses_more_disk_than_its_size_while_reading_more(
    mounted, store: S3Store, tmp_path: Path
) -> None:
    size, count, bound = 4 * 1024 * 1024, 20, 48 * 1024 * 1024
    for i in range(count):
        store.put(
            f"originals/cache-test/file-{i}.bin", io.BytesIO(secrets.token_bytes(size)), content_type="x/y"
        )
    point = mounted("originals", "--cache-max-size", "48M")
    cache_root = tmp_path / "cache-originals"
    samples: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            samples.append(disk_usage(cache_root))
            time.sleep(0.02)

    def read(i: int) -> int:
        return len((point / "cache-test" / f"file-{i}.bin").read_bytes())

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        # Two readers at once, no pause: the cache fills as fast as rclone is let download.
        with ThreadPoolExecutor(max_workers=2) as readers:
            assert list(readers.map(read, range(count))) == [size] * count
        elapsed = time.monotonic() - started
        time.sleep(1)  # and a second after, while rclone evicts what the readers left
    finally:
        stop.set()
        watcher.join()
    assert count * size > bound
    assert len(samples) > elapsed / 0.05, f"only {len(samples)} samples in {elapsed:.1f} s"
    assert max(samples) > bound // 2, "the cache was hardly used: the test proves nothing"
    assert max(samples) <= bound, f"cache peaked at {max(samples)} bytes on disk, over {bound}"


def test_the_cache_split_leaves_room_for_what_rclone_adds_between_evictions() -> None:
    for text in ("32M", "48M", "100M", "256M", "1G", "10G", "2T"):
        budget = mount.cache_budget(mount.parse_size(text))
        burst = max(mount.BWLIMIT_BURST, budget.bwlimit / 64)
        between_evictions = burst + budget.bwlimit * 2 * mount.EVICT_INTERVAL_MS / 1000
        assert budget.rclone_max_size + between_evictions + budget.bound / 64 <= budget.bound, text
        assert budget.bwlimit >= 16 * 1024 * 1024, text


def test_dry_run_prints_the_command_without_secrets(env: dict[str, str]) -> None:
    result = run(env, "mount", "video-projects", "/tmp/never-mounted", "--dry-run", "--cache-max-size", "2G")
    assert result.returncode == 0
    assert "--vfs-cache-mode full" in result.stdout
    # 2G bound: rclone evicts down to 2G - 2G/8 every 250 ms, downloading at most 434M/s.
    assert "--vfs-cache-max-size 1792M" in result.stdout
    assert "--vfs-cache-poll-interval 250ms" in result.stdout and "--bwlimit off:434M" in result.stdout
    assert env["MINIO_SECRET_KEY"] not in result.stdout and env["MINIO_ACCESS_KEY"] not in result.stdout


def test_a_cache_too_small_for_the_headroom_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "mount", "originals", str(tmp_path / "m"), "--cache-max-size", "20M")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "too small: use at least 32M" in result.stderr
    assert not (tmp_path / "m").exists()


def test_unknown_prefixes_and_local_store_get_one_clear_line(env: dict[str, str], tmp_path: Path) -> None:
    unknown = run(env, "mount", "secrets", str(tmp_path / "m"))
    assert unknown.returncode != 0 and "not mountable" in unknown.stderr and "Traceback" not in unknown.stderr
    local = run({**env, "STORAGE_BACKEND": "local"}, "mount", "originals", str(tmp_path / "m"))
    assert local.returncode != 0 and "STORAGE_BACKEND=s3" in local.stderr
    missing = run({**env, "PATH": "/nonexistent"}, "mount", "originals", str(tmp_path / "m"))
    assert missing.returncode != 0 and "rclone is not installed" in missing.stderr
