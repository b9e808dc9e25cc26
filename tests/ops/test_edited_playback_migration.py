"""Migration 0026: a video's edit and an edited Live video stored before edits had playback
renditions get one, which the worker makes, so the edit plays; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from image_assistant.db.session import alembic_config
from tests.helpers.server import Accounts, fresh_postgres_database
from tests.helpers.thumbnails import jpeg, launch, start_worker
from tests.helpers.videos import make_video
from tests.ops.test_month_counts_migration import _engine
from tests.thumbnails.test_playback import declare_edit, played_width, send_video

EDIT_ROWS = "SELECT count(*) FROM playback_renditions WHERE kind IN ('edited', 'edited_live_video')"


@contextmanager
def _database(backend: str) -> Iterator[dict[str, str]]:
    if backend == "sqlite":
        yield {}
        return
    with fresh_postgres_database("ia_edit_playback") as url:
        yield {"DATABASE_URL": url}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migration_0026_gives_edits_stored_before_it_their_playback(backend: str, tmp_path: Path) -> None:
    with _database(backend) as db_env:
        server = launch(tmp_path, backend, db_env, serve_args=("--no-worker",))
        accounts = Accounts(server)
        engine = _engine(server.env, server.data_dir)
        worker = None
        try:
            device = accounts.device()
            http = device.owner.http
            video = send_video(device, make_video(width=320, height=240, frames=4), "IMG_0001.MOV")
            declare_edit(device, video, "edited", make_video(width=256, height=144, frames=4))
            live = make_video(width=320, height=240, frames=4)
            still = send_video(device, jpeg(320, 240), "IMG_0002.HEIC", live=live)
            declare_edit(
                device,
                still,
                "edited_live_video",
                make_video(width=192, height=144, frames=4),
                live_video_sha256=hashlib.sha256(live).hexdigest(),
            )
            # The database as it was when these edits arrived: no rendition of either.
            config = alembic_config(engine)
            command.downgrade(config, "0025")
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM playback_renditions WHERE kind LIKE 'edited%'"))
            command.upgrade(config, "head")
            with engine.connect() as conn:
                assert conn.execute(text(EDIT_ROWS)).scalar() == 2
            worker = start_worker(server.env, tmp_path / "worker.log")
            edited = played_width(http, video, "edited")
            assert (edited["video"]["width"], edited["video"]["height"]) == (256, 144)
            motion = played_width(http, still, "edited", kind="live_video")
            assert (motion["video"]["width"], motion["video"]["height"]) == (192, 144)
            assert motion["video"]["audio"] == []
        finally:
            if worker is not None:
                worker.stop()
            engine.dispose()
            accounts.close()
            server.stop()
