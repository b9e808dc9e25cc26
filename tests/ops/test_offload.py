"""Offloading originals: a user's originals mounted in a library's own layout, checked first.

On the real S3 server, through FUSE: the mounted tree equals the fixture library's originals
folder by path and SHA-256; `agent offload-check` passes after a full sync and names what is
missing once an object is deleted; `migrate-keys` moves objects stored under the older names.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.agent import CLOUD, Agent, paired_agent
from tests.helpers.library import copy_library
from tests.helpers.s3 import ensure_s3_server, make_s3_store, remove_bucket
from tests.helpers.server import Accounts, Server, start_server


def tree(root: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file under `root`."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@dataclass
class Synced:
    server: Server
    agent: Agent
    library: Path
    bucket: str


@pytest.fixture(scope="module")
def synced(
    s3_env: dict[str, str], fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Synced]:
    """A server on the real S3 store, and the cloud fixture library fully synced to it."""
    bucket = f"ia-offload-{secrets.token_hex(4)}"
    tmp = tmp_path_factory.mktemp("offload")
    server = start_server(tmp, "s3", s3_env | {"MINIO_BUCKET": bucket})
    accounts = Accounts(server)
    try:
        agent = paired_agent(server, accounts, tmp / "agent")
        library = copy_library(fixtures_dir, CLOUD, tmp)
        report = agent.sync("--library", str(library))
        assert report["uploads"] > 0 and not report["failed"]
        yield Synced(server, agent, library, bucket)
    finally:
        accounts.close()
        server.stop()
        remove_bucket(ensure_s3_server(), bucket)
    assert "Traceback" not in server.log_text()


def test_a_users_originals_mount_exactly_as_the_librarys_originals_folder(
    synced: Synced, tmp_path: Path
) -> None:
    point = tmp_path / "mounted"
    mounted = synced.server.cli(
        "mount", "originals", str(point), "--user", synced.agent.user.username,
        "--cache-dir", str(tmp_path / "cache"), "--cache-max-size", "64M",
    )  # fmt: skip
    assert f"mounted originals of {synced.agent.user.username} (read-only)" in mounted.stdout
    try:
        expected = tree(synced.library / "originals")
        assert len(expected) == 21 and "0/0FFBE909-7142-4299-BA6F-9B6E7E8FB338_3.mov" in expected
        assert tree(point) == expected
        with pytest.raises(OSError):
            (point / "new.jpeg").write_bytes(b"nope")
    finally:
        synced.server.cli("unmount", str(point))
    stranger = synced.server.cli("mount", "originals", str(point), "--user", "nobody-here", check=False)
    assert stranger.returncode == 1 and "no user named 'nobody-here'" in stranger.stderr


def test_offload_check_passes_after_a_full_sync_and_names_a_deleted_object(synced: Synced) -> None:
    ok = synced.agent.run("offload-check")
    assert "21 files in the originals on this disk" in ok.stdout
    assert "on the server, identical (SHA-256): 21" in ok.stdout
    assert "not on this disk (nothing to offload): 12" in ok.stdout
    assert ok.stdout.rstrip().endswith("every original here is safely on the server")

    store = make_s3_store(ensure_s3_server(), synced.bucket)
    owner = next(iter(store.list_keys("originals/"))).split("/")[1]
    gone = f"originals/{owner}/9/9488FC07-B06D-40F2-9F8F-5BE76D7E8215.jpeg"
    saved = b"".join(store.open(gone))
    store.delete(gone)
    try:
        failed = synced.agent.run("offload-check", check=False)
        assert failed.returncode == 1
        assert "missing on the server: 1" in failed.stdout
        assert (
            "missing: 9488FC07-B06D-40F2-9F8F-5BE76D7E8215 9/9488FC07-B06D-40F2-9F8F-5BE76D7E8215.jpeg"
            in (failed.stdout)
        )
        assert "NOT safe to offload" in failed.stderr
    finally:
        import io

        store.put(gone, io.BytesIO(saved), content_type="image/jpeg")


def test_migrate_keys_moves_objects_stored_under_the_older_names(synced: Synced) -> None:
    """Before, an original's key took its file name's extension (IMG_0021.JPG → .jpg) and a
    Live Photo's video was under live/ (not beside its photo as `<UUID>_3.mov`)."""
    store = make_s3_store(ensure_s3_server(), synced.bucket)
    database = synced.server.data_dir / "image-assistant.db"
    with sqlite3.connect(database) as db:
        stored = [
            key for (key,) in db.execute("SELECT object_key FROM photo_files WHERE object_key IS NOT NULL")
        ]
    legacy = {
        key: key.removesuffix(".jpeg") + ".jpg"
        for key in stored
        if key.startswith("originals/") and key.endswith(".jpeg")
    }
    legacy |= {
        key: key.replace("originals/", "live/", 1).removesuffix("_3.mov") + ".mov"
        for key in stored
        if key.endswith("_3.mov")
    }
    assert len(legacy) == 17
    for new, old in legacy.items():  # as an older server left them
        store.copy(new, old, content_type="application/octet-stream")
        store.delete(new)
    with sqlite3.connect(database) as db:
        for new, old in legacy.items():
            db.execute("UPDATE photo_files SET object_key = ? WHERE object_key = ?", (old, new))
            db.execute(
                "UPDATE photos SET thumbnail_source_key = ? WHERE thumbnail_source_key = ?", (old, new)
            )
    assert synced.agent.run("offload-check", check=False).returncode == 1  # not where the library has them

    moved = synced.server.cli("migrate-keys")
    assert (
        moved.stdout.startswith("moved 17 files (") and f"{len(stored) - 17} already in place" in moved.stdout
    )
    keys = set(store.list_keys("originals/")) | set(store.list_keys("live/"))
    assert set(legacy) <= keys and not set(legacy.values()) & keys
    with sqlite3.connect(database) as db:
        sources = {k for (k,) in db.execute("SELECT thumbnail_source_key FROM photos")}
        assert sources and not sources & set(legacy.values())
    assert synced.agent.run("offload-check").returncode == 0
    again = synced.server.cli("migrate-keys").stdout
    assert again.startswith(f"moved 0 files (0 bytes); {len(stored)} already")
