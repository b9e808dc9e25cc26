"""The staging folder's budget for originals downloaded from iCloud (pure logic, no server)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from image_assistant.agent.originals import Staging, parse_size


def test_sizes_read_as_people_write_them() -> None:
    assert [parse_size(t) for t in ("5GB", "500mb", "750M", "1048576", "1.5 KB")] == [
        5 * 1024**3, 500 * 1024**2, 750 * 1024**2, 1048576, 1536,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown size unit"):
        parse_size("5 parsecs")


def test_a_second_copy_waits_for_room_and_a_released_copy_is_deleted(tmp_path: Path) -> None:
    staging = Staging(tmp_path / "staging", max_bytes=100)
    staging.clean()
    stop = threading.Event()
    assert staging.reserve(60, stop) is None
    first = staging.new_slot()
    (first / "a.jpg").write_bytes(b"x" * 60)
    waited: list[float] = []

    def second() -> None:
        started = time.monotonic()
        assert staging.reserve(60, stop) is None
        waited.append(time.monotonic() - started)

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.3)
    assert waited == [] and staging.used == 60  # 60 + 60 > 100: it waits
    staging.release(first, 60)
    thread.join(5)
    assert waited and waited[0] >= 0.3 and staging.used == 60
    assert not first.exists()


def test_a_file_beyond_the_budget_never_waits_and_leftovers_are_cleaned(tmp_path: Path) -> None:
    staging = Staging(tmp_path / "staging", max_bytes=100)
    staging.root.mkdir(parents=True)
    (staging.root / "left-by-a-kill").mkdir()
    (staging.root / "left-by-a-kill" / "half.jpg").write_bytes(b"half")
    staging.clean()
    assert list(staging.root.iterdir()) == []
    reason = staging.reserve(101, threading.Event())
    assert reason is not None and reason.startswith("larger than the staging budget")
    assert staging.used == 0
