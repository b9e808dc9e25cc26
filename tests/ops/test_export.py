"""`image-assistant export`: albums as nested folders, names kept and made unique, every kind with its
sidecar, resumable; and the round trip: the export synced as a folder into another account."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.helpers.agent import album_members, all_photos, download, make_jpeg, paired_agent, sha256_file
from tests.helpers.records import body_and_sha, photo_record
from tests.helpers.s3 import ensure_s3_server, make_s3_store
from tests.helpers.server import Accounts, Device, Server


def jpeg(path: Path, shade: int) -> bytes:
    make_jpeg(path, (shade, 100, 200 - shade), taken=f"2024:05:0{shade % 9 + 1} 10:00:00")
    return path.read_bytes()


def send(device: Device, record: dict[str, Any], files: dict[str, bytes]) -> None:
    """Metadata declaring `files` (kind → bytes), then each file, as the agent sends them."""
    for kind, body in files.items():
        sha = sha256_file_bytes(body)
        record["checksum_sha256" if kind == "original" else f"{kind}_sha256"] = sha
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
    for kind, body in files.items():
        path = f"/api/sync/photos/{record['photos_uuid']}/{kind}"
        put = device.http.put(path, content=body, headers={"x-content-sha256": sha256_file_bytes(body)})
        assert put.status_code == 200, put.text


def sha256_file_bytes(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def test_export_lays_out_albums_and_names_then_resumes_and_round_trips_through_a_folder_source(
    library_server: Server, tmp_path: Path
) -> None:
    accounts = Accounts(library_server)
    try:
        device = accounts.device()
        scratch = tmp_path / "made"
        loose_a, loose_b = jpeg(scratch / "1.jpg", 1), jpeg(scratch / "2.jpg", 2)
        live, in_two = jpeg(scratch / "3.jpg", 3), jpeg(scratch / "4.jpg", 4)
        live_video, edited = body_and_sha(30_000, b"mov")[0], jpeg(scratch / "4e.jpg", 5)
        records = [photo_record(filename="IMG_1.JPG") for _ in range(4)]
        records[2].update(filename="IMG_3.JPG", media_type="live", live_video_filename="IMG_3.MOV")
        records[3].update(filename="IMG_4.JPG", edited_filename="IMG_4.jpeg")
        send(device, records[0], {"original": loose_a})
        send(device, records[1], {"original": loose_b})
        send(device, records[2], {"original": live, "live_video": live_video})
        send(device, records[3], {"original": in_two, "edited": edited})
        uuids = [r["photos_uuid"] for r in records]
        italy, family = "A0000000-0000-0000-0000-000000000001", "A0000000-0000-0000-0000-000000000002"
        albums = [
            {
                "photos_uuid": italy,
                "title": "Italy",
                "folder_path": ["Trips"],
                "photos": [uuids[2], uuids[3]],
            },
            {"photos_uuid": family, "title": "Family", "photos": [uuids[3]]},
        ]
        assert (
            device.http.post("/api/sync/albums", json={"albums": albums, "complete": True}).status_code == 200
        )

        dest = tmp_path / "Export"
        first = library_server.cli("export", str(dest), "--user", device.owner.username)
        assert "8 files copied" in first.stdout and "export: 8/8" in first.stderr
        files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
        assert files == sorted(
            [
                "IMG_1.JPG", "IMG_1.JPG.json", "IMG_1 (2).JPG", "IMG_1 (2).JPG.json",
                "Trips/Italy/IMG_3.JPG", "Trips/Italy/IMG_3.MOV", "Trips/Italy/IMG_3.JPG.json",
                "Trips/Italy/IMG_4.JPG", "Trips/Italy/IMG_4_edited.jpeg", "Trips/Italy/IMG_4.JPG.json",
                "Family/IMG_4.JPG", "Family/IMG_4_edited.jpeg", "Family/IMG_4.JPG.json",
            ]
        )  # fmt: skip
        assert (dest / "Trips/Italy/IMG_3.MOV").read_bytes() == live_video
        assert {(dest / "IMG_1.JPG").read_bytes(), (dest / "IMG_1 (2).JPG").read_bytes()} == {
            loose_a,
            loose_b,
        }
        sidecar = json.loads((dest / "Family/IMG_4.JPG.json").read_text())
        assert sidecar["photos_uuid"] == uuids[3]
        assert sorted(sidecar["albums"]) == [["Family"], ["Trips", "Italy"]]
        assert {f["kind"]: f["sha256"] for f in sidecar["files"]} == {
            "original": sha256_file_bytes(in_two),
            "edited": sha256_file_bytes(edited),
        }

        again = library_server.cli("export", str(dest), "--user", device.owner.username)
        assert "0 files copied" in again.stdout and "8 already there, 0 sidecars written" in again.stdout
        (dest / "Trips/Italy/IMG_3.MOV").unlink()
        (dest / "IMG_1.JPG").write_bytes(b"truncated")
        resumed = library_server.cli("export", str(dest), "--user", device.owner.username)
        assert "2 files copied" in resumed.stdout and "6 already there" in resumed.stdout
        assert (dest / "Trips/Italy/IMG_3.MOV").read_bytes() == live_video

        # The round trip: the edited versions go aside (a folder source reads them as photos of their own).
        for path in dest.rglob("*_edited.*"):
            path.unlink()
        agent = paired_agent(library_server, accounts, tmp_path / "agent")
        agent.sync("--folder", str(dest))
        back = all_photos(agent.user)
        by_uuid = {
            p["photos_uuid"]: sha256_file_bytes(download(agent.user, f"/api/photos/{p['id']}/download"))
            for p in back
        }
        assert sorted(by_uuid.values()) == sorted(
            sha256_file_bytes(b) for b in (loose_a, loose_b, live, in_two, in_two)
        )  # the photo in two albums comes back once per album
        live_back = next(p for p in back if p["filename"] == "IMG_3.JPG")
        assert live_back["media_type"] == "live"
        paths = {
            (*a["folder_path"], a["title"]): a["id"]
            for a in agent.user.http.get("/api/albums").json()["albums"]
        }
        assert set(paths) == {("Trips", "Italy"), ("Family",)}
        italy = sorted(by_uuid[u] for u in album_members(agent.user, paths[("Trips", "Italy")]))
        assert italy == sorted([sha256_file_bytes(live), sha256_file_bytes(in_two)])
        assert [by_uuid[u] for u in album_members(agent.user, paths[("Family",)])] == [
            sha256_file_bytes(in_two)
        ]
        assert sha256_file(dest / "Family/IMG_4.JPG") == sha256_file_bytes(in_two)
    finally:
        accounts.close()


def test_export_from_s3_streams_each_file_and_names_what_the_store_lacks(
    s3_postgres_server: Server, tmp_path: Path
) -> None:
    accounts = Accounts(s3_postgres_server)
    try:
        device = accounts.device()
        kept, lost = body_and_sha(40_000, b"kept")[0], body_and_sha(30_000, b"lost")[0]
        records = [photo_record(filename="kept.jpg"), photo_record(filename="lost.jpg")]
        send(device, records[0], {"original": kept})
        send(device, records[1], {"original": lost})
        store = make_s3_store(ensure_s3_server(), s3_postgres_server.env["MINIO_BUCKET"])
        lost_uuid = records[1]["photos_uuid"]
        keys = store.list_keys("originals/")
        lost_key = next(k for k in keys if f"/{lost_uuid}." in k and not k.endswith(".json"))
        store.delete(lost_key)

        dest = tmp_path / "out"
        result = s3_postgres_server.cli("export", str(dest), "--user", device.owner.username, check=False)
        assert result.returncode == 1 and f"missing in the store: {lost_key}" in result.stdout
        assert (dest / "kept.jpg").read_bytes() == kept and not (dest / "lost.jpg").exists()
        assert json.loads((dest / "lost.jpg.json").read_text())["photos_uuid"] == records[1]["photos_uuid"]
    finally:
        accounts.close()
