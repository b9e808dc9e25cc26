"""A Photos library synced by the agent: all osxphotos reads arrives, changes made in Photos follow."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from image_assistant.agent.originals import NEEDS_MACOS
from tests.helpers.agent import (
    BURST,
    BURST_FRAMES,
    BURST_KEY,
    CLOUD,
    LIB14,
    Agent,
    add_raws_and_a_burst,
    album_members,
    all_photos,
    download,
    every_photo,
    on_disk,
    photos_db,
    sha256_bytes,
    sha256_file,
)
from tests.helpers.library import copy_library


def expected_facts(info: Any) -> dict[str, Any]:
    """The facts as osxphotos reads them, in the API's shape."""
    place = info.place
    exif = info.exif_info
    subtypes = [n for n, a in SUBTYPES if getattr(info, a)] + (["raw"] if info.israw or info.has_raw else [])
    camera = {
        "make": exif.camera_make,
        "model": exif.camera_model,
        "lens": exif.lens_model,
        "iso": exif.iso,
        "aperture": exif.aperture,
        "shutter": exif.shutter_speed,
        "focal_length": exif.focal_length,
    }
    return {
        "title": info.title or None,
        "description": info.description or None,
        "keywords": sorted(set(info.keywords)),
        "persons": sorted({p for p in info.persons if p != "_UNKNOWN_"}),
        "place": None
        if place is None or not place.name
        else {"name": place.name, "city": place.address.city, "country": place.address.country},
        "camera": camera if any(v is not None for v in camera.values()) else None,
        "subtypes": sorted(subtypes),
        "burst_id": info._info["burstUUID"] if info.burst else None,
        "burst_key": bool(info.burst and (info.burst_key or info.burst_selected)),
    }


SUBTYPES = (
    ("screenshot", "screenshot"), ("selfie", "selfie"), ("panorama", "panorama"), ("portrait", "portrait"),
    ("slow_mo", "slow_mo"), ("time_lapse", "time_lapse"), ("live", "live_photo"), ("burst", "burst"),
)  # fmt: skip


def expected_files(info: Any) -> dict[str, str]:
    """Every file of the asset on disk, by kind: its SHA-256."""
    found = {
        "original": info.path if not info.ismissing else None,
        "edited": info.path_edited if info.hasadjustments else None,
        "raw": info.path_raw if info.has_raw else None,
        "live_video": info.path_live_photo if info.live_photo else None,
        "edited_live_video": info.path_edited_live_photo if info.live_photo and info.hasadjustments else None,
    }
    return {kind: sha256_file(Path(path)) for kind, path in found.items() if on_disk(path)}


@pytest.mark.parametrize("name", [LIB14, CLOUD])
def test_a_photos_library_arrives_as_osxphotos_reads_it_and_a_second_pass_sends_nothing(
    agent: Agent, fixtures_dir: Path, tmp_path: Path, name: str
) -> None:
    library = copy_library(fixtures_dir, name, tmp_path)
    raws = add_raws_and_a_burst(library) if name == LIB14 else {}
    report = agent.sync("--library", str(library))
    db = photos_db(library)
    expected = every_photo(db)
    user = agent.user

    assert user.http.get("/api/sync/status").json()["photos"] == len(expected)
    visible = {p["photos_uuid"]: p for p in all_photos(user)}
    if name == LIB14:  # the timeline shows the burst as its key frame with a count; the frames behind it
        assert visible[BURST_KEY]["burst_count"] == 3 and not set(BURST_FRAMES) & set(visible)
        visible |= {p["photos_uuid"]: p for p in all_photos(user, burst_id=BURST)}
    hidden = {p["photos_uuid"]: p for p in all_photos(user, hidden=True)}
    local = {u for u, p in expected.items() if on_disk(p.path) and not p.ismissing}
    assert report["waiting_for_original"] == len(expected) - len(local)
    assert report["waiting_reasons"] == {NEEDS_MACOS: len(expected) - len(local)}
    assert report["uploads"] >= len(local)
    kinds_seen: set[str] = set()
    for uuid, info in expected.items():
        assert (uuid in hidden) == bool(info.hidden) and (uuid in visible) == (not info.hidden)
        got = hidden[uuid] if info.hidden else visible[uuid]
        assert (got["width"], got["height"]) == (info.width, info.height)
        assert datetime.fromisoformat(got["taken_at"]) == info.date
        assert datetime.fromisoformat(got["taken_at"]).utcoffset() == info.date.utcoffset()
        lat, lng = info.location
        if lat is None:
            assert got["location"] is None
        else:
            assert got["location"] == pytest.approx({"lat": lat, "lng": lng})
        assert got["is_favorite"] == bool(info.favorite)
        assert got["timezone"] == info.tzname
        assert got["media_type"] == ("live" if info.live_photo else "video" if info.ismovie else "photo")
        assert got["has_original"] == (uuid in local)

        detail = user.http.get(f"/api/photos/{got['id']}").json()
        facts = {key: detail[key] for key in expected_facts(info)}
        facts["subtypes"] = sorted(facts["subtypes"])
        want = expected_facts(info)
        camera, wanted_camera = facts.pop("camera"), want.pop("camera")
        assert facts == want, uuid
        assert camera == (None if wanted_camera is None else pytest.approx(wanted_camera)), uuid
        files = {f["kind"]: f["sha256"] for f in detail["files"]}
        assert files == expected_files(info), uuid
        kinds_seen |= set(files)
        for kind, digest in files.items():
            assert sha256_bytes(download(user, f"/api/photos/{got['id']}/download/{kind}")) == digest
    if name == LIB14:  # the synthetic RAWs and burst arrived
        assert kinds_seen >= {"original", "edited", "raw"}
        for uuid, data in raws.items():
            detail = user.http.get(f"/api/photos/{visible[uuid]['id']}").json()
            assert "raw" in detail["subtypes"]
            assert download(user, f"/api/photos/{detail['id']}/download/raw") == data
        frames = [expected[u] for u in [BURST_KEY, *BURST_FRAMES]]
        assert [f._info["burstUUID"] for f in frames] == [BURST] * 3
        assert len(db.photos()) == len(expected) - 2  # osxphotos alone drops the two unpicked frames
    else:
        assert "edited_live_video" in kinds_seen  # the edited Live Photo's video

    albums = {a["photos_uuid"]: a for a in user.http.get("/api/albums").json()["albums"]}
    for album_type, source in (("user", db.album_info), ("shared", db.album_info_shared)):
        for album in source:
            got = albums[album.uuid]
            assert (got["title"], got["album_type"]) == (album.title, album_type)
            assert got["folder_path"] == list(album.folder_names)
            members = [p.uuid for p in album.photos if p.uuid in expected and not expected[p.uuid].hidden]
            assert album_members(user, got["id"]) == members
    favorites = [a for a in albums.values() if a["album_type"] == "favorites"]
    assert len(favorites) == 1
    wanted = {u for u, p in expected.items() if p.favorite and not p.hidden}
    assert set(album_members(user, favorites[0]["id"])) == wanted
    if name == LIB14:
        assert [a["title"] for a in albums.values()].count("Test Album") == 2
        assert any(a["title"] == "EmptyAlbum" and a["photo_count"] == 0 for a in albums.values())

    again = agent.sync()
    assert again["metadata_sent"] == 0 and again["uploads"] == 0 and again["bytes_sent"] == 0
    assert again["albums_sent"] is False


def test_changes_made_in_photos_reach_the_server_without_re_uploading_originals(
    agent: Agent, fixtures_dir: Path, tmp_path: Path
) -> None:
    library = copy_library(fixtures_dir, LIB14, tmp_path)
    agent.sync("--library", str(library))
    user = agent.user
    before = {p["photos_uuid"]: p for p in all_photos(user)}
    pumpkins2, pumpkins3, tulips = (
        "D79B8D77-BFFC-460B-9312-034F2877D35B",
        "1EB2B765-0765-43BA-A90C-0D0580E6172C",
        "6191423D-8DB8-4D4C-92BE-9BBBA308AAC4",
    )
    with sqlite3.connect(library / "database" / "Photos.sqlite") as conn:
        conn.create_function("NSCoreDataTriggerUpdateAffectedObjectValue", -1, lambda *_: None)
        conn.execute("UPDATE ZASSET SET ZFAVORITE = 1 WHERE ZUUID = ?", (pumpkins2,))
        conn.execute(
            "UPDATE ZADDITIONALASSETATTRIBUTES SET ZTITLE = 'Renamed in Photos' "
            "WHERE ZASSET = (SELECT Z_PK FROM ZASSET WHERE ZUUID = ?)",
            (pumpkins2,),
        )
        conn.execute(
            "DELETE FROM Z_28ASSETS WHERE Z_3ASSETS = (SELECT Z_PK FROM ZASSET WHERE ZUUID = ?)", (pumpkins3,)
        )
    render = Path(photos_db(library).get_photo(tulips).path_edited)
    new_edit = render.read_bytes() + b"\x00new edit"
    render.write_bytes(new_edit)
    raw = "D05A5FE3-15FB-49A1-A15D-AB3DA6F8B068"  # its original was only "in iCloud" so far
    assert before[raw]["has_original"] is False
    arrived = os.urandom(100_000)
    (library / "originals" / "D" / f"{raw}.dng").write_bytes(arrived)

    report = agent.sync()
    assert report["metadata_sent"] == 3  # the favorite, the new edit, the original now on disk
    assert report["albums_sent"] is True
    assert report["uploads"] == 2 and report["bytes_sent"] == len(new_edit) + len(arrived)
    after = {p["photos_uuid"]: p for p in all_photos(user)}
    assert after[pumpkins2]["is_favorite"] is True
    assert user.http.get(f"/api/photos/{after[pumpkins2]['id']}").json()["title"] == "Renamed in Photos"
    farm = next(a for a in user.http.get("/api/albums").json()["albums"] if a["title"] == "Pumpkin Farm")
    assert pumpkins3 not in album_members(user, farm["id"]) and len(album_members(user, farm["id"])) == 2
    assert download(user, f"/api/photos/{after[tulips]['id']}/download/edited") == new_edit
    assert download(user, f"/api/photos/{after[raw]['id']}/download") == arrived
    original = Path(photos_db(library).get_photo(tulips).path)
    assert download(user, f"/api/photos/{before[tulips]['id']}/download") == original.read_bytes()
