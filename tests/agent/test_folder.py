"""A plain folder synced by the agent: sub-folders as albums, new, changed and deleted files, Live pairs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.agent import Agent, album_members, all_photos, download, make_jpeg


def test_a_folder_syncs_with_sub_folders_as_albums_then_new_changed_and_deleted_files(
    agent: Agent, tmp_path: Path
) -> None:
    root = tmp_path / "Card"
    make_jpeg(root / "a.jpg", (200, 0, 0), taken="2024:05:01 10:00:00", offset="+02:00", gps=(52.5, 13.25))
    make_jpeg(root / "Trip" / "b.jpg", (0, 200, 0), taken="2024:05:02 11:30:00")
    make_jpeg(root / "Trip" / "Day 2" / "c.jpg", (0, 0, 200), taken="2024:05:03 09:15:00")
    (root / "Trip" / "Day 2" / "clip.mov").write_bytes(os.urandom(300_000))
    (root / "Trip" / "broken.jpg").write_bytes(b"not a jpeg at all")  # unreadable EXIF: still synced
    (root / ".DS_Store").write_bytes(b"junk")

    first = agent.sync("--folder", str(root))
    assert (first["photos"], first["albums"], first["uploads"]) == (5, 2, 5)
    user = agent.user
    photos = {p["filename"]: p for p in all_photos(user)}
    assert set(photos) == {"a.jpg", "b.jpg", "c.jpg", "clip.mov", "broken.jpg"}
    assert photos["a.jpg"]["taken_at"] == "2024-05-01T10:00:00+02:00"
    assert photos["a.jpg"]["location"] == pytest.approx({"lat": 52.5, "lng": 13.25})
    assert (photos["a.jpg"]["width"], photos["a.jpg"]["height"]) == (64, 48)
    assert photos["clip.mov"]["media_type"] == "video"
    albums = {a["title"]: a for a in user.http.get("/api/albums").json()["albums"]}
    assert albums["Trip"]["folder_path"] == [] and albums["Day 2"]["folder_path"] == ["Trip"]
    assert len(album_members(user, albums["Day 2"]["id"])) == 2
    for name in ("a.jpg", "clip.mov"):
        path = root / name if name == "a.jpg" else root / "Trip" / "Day 2" / name
        assert download(user, f"/api/photos/{photos[name]['id']}/download") == path.read_bytes()

    make_jpeg(root / "Trip" / "d.jpg", (9, 9, 9), taken="2024:05:04 08:00:00")
    make_jpeg(root / "a.jpg", (1, 2, 3), taken="2024:05:01 10:00:00", offset="+02:00")
    (root / "Trip" / "Day 2" / "c.jpg").unlink()
    deleted = photos["c.jpg"]
    second = agent.sync()
    assert second["metadata_sent"] == 2 and second["uploads"] == 2
    assert second["deleted_reported"] == 1 and second["albums_sent"] is True
    photos = {p["filename"]: p for p in all_photos(user)}
    assert set(photos) == {"a.jpg", "b.jpg", "d.jpg", "clip.mov", "broken.jpg"}
    assert user.http.get(f"/api/photos/{deleted['id']}").json()["deleted_at"] is not None
    removed = user.http.get("/api/photos", params={"deleted": "true"}).json()["photos"]
    assert [p["id"] for p in removed] == [deleted["id"]]  # out of the timeline, in the removed view
    kept = list((agent.server.data_dir / "objects" / "originals").rglob(f"{deleted['photos_uuid']}.jpeg"))
    assert len(kept) == 1  # but its file is kept
    assert download(user, f"/api/photos/{photos['a.jpg']['id']}/download") == (root / "a.jpg").read_bytes()
    assert photos["a.jpg"]["location"] is None

    third = agent.sync()
    assert (third["metadata_sent"], third["uploads"], third["deleted_reported"]) == (0, 0, 0)


def test_a_photo_and_a_mov_of_the_same_name_in_a_folder_sync_as_one_live_photo(
    agent: Agent, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    make_jpeg(folder / "IMG_0042.JPG", (4, 4, 4), taken="2024:07:07 07:07:07")
    motion = os.urandom(50_000)
    (folder / "IMG_0042.MOV").write_bytes(motion)
    report = agent.sync("--folder", str(folder))
    assert report["photos"] == 1 and report["uploads"] == 2
    (photo,) = all_photos(agent.user)
    assert photo["filename"] == "IMG_0042.JPG" and photo["media_type"] == "live"
    assert download(agent.user, f"/api/photos/{photo['id']}/download/live_video") == motion
