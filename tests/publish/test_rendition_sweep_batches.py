"""The publish sweep's work is bounded: each sweep looks at a batch of cached objects after the
last one the previous sweep saw, then starts over; objects that are not renditions stay."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path

from image_assistant.core.rendition_sweep import sweep
from image_assistant.db.session import make_engine, make_session_factory, upgrade
from image_assistant.store.local import LocalStore


def test_each_sweep_looks_at_one_batch_after_the_last_and_then_starts_over(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    (tmp_path / "objects").mkdir()
    store = LocalStore(tmp_path / "objects", signing_key=b"k")
    gone_owner = uuid.uuid4()  # no such user any more: nothing of theirs is needed
    keys = sorted(f"renditions/{gone_owner}/{n:064x}/fit-2048-q85.jpg" for n in range(5))
    keys.append(f"renditions/{gone_owner}/{9:064x}/fit-2048-q85-failed.txt")
    for key in [*keys, f"renditions/{gone_owner}/README", "renditions/zz-not-an-owner/a.jpg"]:
        store.put(key, io.BytesIO(b"x"), content_type="image/jpeg")
    now = datetime.now(UTC)
    try:
        first = sweep(sessions, store, cursor="", now=now, limit=4)
        assert (first.removed, first.cursor) == (4, keys[3])
        assert sorted(store.list_keys("renditions/")) == [
            *keys[4:],
            f"renditions/{gone_owner}/README",
            "renditions/zz-not-an-owner/a.jpg",
        ]
        second = sweep(sessions, store, cursor=first.cursor, now=now, limit=4)
        assert (second.removed, second.cursor) == (2, "renditions/zz-not-an-owner/a.jpg")
        third = sweep(sessions, store, cursor=second.cursor, now=now, limit=4)
        assert (third.removed, third.cursor) == (0, "")  # the end: the next sweep starts over
        again = sweep(sessions, store, cursor="", now=now, limit=4)
        assert (again.removed, again.cursor) == (0, "")
        assert sorted(store.list_keys("renditions/")) == [
            f"renditions/{gone_owner}/README",
            "renditions/zz-not-an-owner/a.jpg",
        ]
    finally:
        engine.dispose()
