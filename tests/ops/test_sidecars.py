"""The self-describing store: a JSON sidecar beside each original, rewritten when the photo changes."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers.agent import wait_until
from tests.helpers.records import body_and_sha, photo_record
from tests.helpers.server import Accounts, Server


def sidecar(server: Server, photos_uuid: str) -> dict[str, Any]:
    found = list((server.data_dir / "objects" / "originals").rglob(f"{photos_uuid}.*.json"))
    return json.loads(found[0].read_text()) if found else {}


def test_a_sidecar_beside_the_original_describes_the_photo_and_follows_its_changes(
    library_server: Server,
) -> None:
    accounts = Accounts(library_server)
    try:
        device = accounts.device()
        body, sha = body_and_sha(10_000)
        raw, raw_sha = body_and_sha(12_000, b"raw")
        record = photo_record(
            filename="IMG_7.JPG",
            checksum_sha256=sha,
            raw_sha256=raw_sha,
            raw_filename="IMG_7.CR2",
            title="Harbour",
            keywords=["boats"],
            place={"name": "Vernazza", "city": "Vernazza", "country": "Italy"},
        )
        uid = record["photos_uuid"]
        assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
        assert device.http.put(f"/api/sync/photos/{uid}/original", content=body).status_code == 200
        put_raw = device.http.put(
            f"/api/sync/photos/{uid}/raw", content=raw, headers={"x-content-sha256": raw_sha}
        )
        assert put_raw.status_code == 200
        album = {"photos_uuid": "B0000000-0000-0000-0000-000000000001", "title": "Italy",
                 "folder_path": ["Trips"], "photos": [uid]}  # fmt: skip
        assert device.http.post("/api/sync/albums", json={"albums": [album]}).status_code == 200

        # A sweep may write the sidecar between the raw and the album; the next one adds the album.
        def complete() -> bool:
            written = sidecar(library_server, uid)
            return len(written.get("files", [])) == 2 and bool(written.get("albums"))

        wait_until(complete, 30, "no sidecar with both files and the album written")
        first = sidecar(library_server, uid)
        assert first["photos_uuid"] == uid and first["filename"] == "IMG_7.JPG"
        assert first["albums"] == [["Trips", "Italy"]] and first["is_favorite"] is False
        assert (first["title"], first["keywords"], first["place"]["name"]) == (
            "Harbour",
            ["boats"],
            "Vernazza",
        )
        assert [(f["kind"], f["filename"], f["size"], f["sha256"]) for f in first["files"]] == [
            ("original", "IMG_7.JPG", 10_000, sha),
            ("raw", "IMG_7.CR2", 12_000, raw_sha),
        ]

        changed = {**record, "title": "Harbour at dusk", "keywords": ["boats", "dusk"], "is_favorite": True}
        assert device.http.post("/api/sync/photos", json={"photos": [changed]}).status_code == 200
        wait_until(
            lambda: sidecar(library_server, uid)["title"] == "Harbour at dusk",
            30,
            "the sidecar was not rewritten",
        )
        again = sidecar(library_server, uid)
        assert again["keywords"] == ["boats", "dusk"] and again["is_favorite"] is True
        assert again["albums"] == [["Trips", "Italy"]]

        verified = library_server.cli("verify", "--user", device.owner.username)
        assert "0 orphaned" in verified.stdout  # a sidecar is named by its original
    finally:
        accounts.close()
