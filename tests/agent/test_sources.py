"""What a folder holds beyond pixels (RAW+JPEG pairs, EXIF camera, XMP title/caption/keywords), and
several sources on one machine: each config dir its own device, neither touching the other."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.agent import Agent, album_members, all_photos, download, paired_agent
from tests.helpers.server import Accounts, Server

XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title><rdf:Alt><rdf:li xml:lang="de">Am Strand</rdf:li><rdf:li xml:lang="x-default">On the beach</rdf:li>
</rdf:Alt></dc:title>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Sunset at Ørsted, 5 &amp; 6</rdf:li></rdf:Alt>
</dc:description>
<dc:subject><rdf:Bag><rdf:li>beach</rdf:li><rdf:li>sunset</rdf:li><rdf:li>beach</rdf:li></rdf:Bag></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def jpeg_with_facts(path: Path, *, xmp: str | None = None) -> None:
    """A small JPEG with a camera in its EXIF and, optionally, an XMP packet."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "FUJIFILM", "X-T1"
    details = exif.get_ifd(0x8769)
    details.update({0x9003: "2024:06:01 18:00:00", 0xA434: "XF18-55mm", 0x8827: 400, 0x829D: 3.6,
                    0x829A: 0.008, 0x920A: 20.5})  # fmt: skip
    extra: dict[str, Any] = {"xmp": xmp.encode()} if xmp else {}
    Image.new("RGB", (40, 30), (90, 120, 200)).save(path, exif=exif, **extra)


def test_a_folder_pairs_raw_with_jpeg_and_reads_camera_title_caption_and_keywords(
    agent: Agent, tmp_path: Path
) -> None:
    root = tmp_path / "Camera"
    jpeg_with_facts(root / "DSCF0001.JPG", xmp=XMP)
    raw = os.urandom(120_000)
    (root / "DSCF0001.RAF").write_bytes(raw)
    (root / "DSCF0002.DNG").write_bytes(os.urandom(50_000))  # RAW alone: its own photo, RAW its original
    jpeg_with_facts(root / "IMG_0003.JPG")
    (root / "IMG_0003.CR2").write_bytes(os.urandom(60_000))
    (root / "IMG_0003.MOV").write_bytes(os.urandom(40_000))  # RAW+JPEG and Live at once

    report = agent.sync("--folder", str(root))
    assert (report["photos"], report["uploads"]) == (3, 6)
    photos = {p["filename"]: p for p in all_photos(agent.user)}
    assert set(photos) == {"DSCF0001.JPG", "DSCF0002.DNG", "IMG_0003.JPG"}
    detail = agent.user.http.get(f"/api/photos/{photos['DSCF0001.JPG']['id']}").json()
    assert (detail["title"], detail["description"]) == ("On the beach", "Sunset at Ørsted, 5 & 6")
    assert detail["keywords"] == ["beach", "sunset"] and detail["subtypes"] == ["raw"]
    assert detail["camera"] == pytest.approx(
        {"make": "FUJIFILM", "model": "X-T1", "lens": "XF18-55mm", "iso": 400, "aperture": 3.6,
         "shutter": 0.008, "focal_length": 20.5}
    )  # fmt: skip
    assert {f["kind"]: f["filename"] for f in detail["files"]} == {
        "original": "DSCF0001.JPG",
        "raw": "DSCF0001.RAF",
    }
    assert download(agent.user, f"/api/photos/{detail['id']}/download/raw") == raw
    lone = agent.user.http.get(f"/api/photos/{photos['DSCF0002.DNG']['id']}").json()
    assert lone["subtypes"] == ["raw"] and [f["kind"] for f in lone["files"]] == ["original"]
    both = agent.user.http.get(f"/api/photos/{photos['IMG_0003.JPG']['id']}").json()
    assert sorted(both["subtypes"]) == ["live", "raw"] and both["title"] is None
    assert sorted(f["kind"] for f in both["files"]) == ["live_video", "original", "raw"]

    jpeg_with_facts(root / "DSCF0001.JPG", xmp=XMP.replace("On the beach", "At the sea"))
    again = agent.sync()
    assert (again["metadata_sent"], again["uploads"]) == (1, 1)
    assert agent.user.http.get(f"/api/photos/{detail['id']}").json()["title"] == "At the sea"


def test_two_agents_on_one_machine_are_two_devices_that_never_revoke_or_touch_each_other(
    agent_server: Server, accounts: Accounts, tmp_path: Path
) -> None:
    from tests.helpers.agent import make_jpeg

    first = paired_agent(agent_server, accounts, tmp_path / "library-agent")
    second = paired_agent(agent_server, accounts, tmp_path / "card-agent", user=first.user)
    assert first.device_id() != second.device_id()
    for name, agent in (("Library", first), ("Card", second)):
        make_jpeg(tmp_path / name / "Album" / f"{name}.jpg", (1, 2, 3), taken="2024:01:01 10:00:00")
        agent.sync("--folder", str(tmp_path / name))
    devices = first.user.http.get("/api/devices").json()["devices"]
    assert sorted(d["status"] for d in devices) == ["active", "active"]

    (tmp_path / "Library" / "Album" / "Library.jpg").unlink()  # the first source loses its only photo
    make_jpeg(tmp_path / "Library" / "Other" / "new.jpg", (4, 5, 6), taken="2024:01:02 10:00:00")
    report = first.sync()  # still accepted: pairing the second agent did not revoke the first
    assert report["deleted_reported"] == 1 and report["albums_sent"] is True
    assert second.sync()["metadata_sent"] == 0
    albums = {a["title"]: a for a in first.user.http.get("/api/albums").json()["albums"]}
    assert set(albums) == {"Album", "Other"}  # the card's album kept, the library's old one gone
    assert [p["filename"] for p in all_photos(first.user)] != []
    names = {p["photos_uuid"]: p["filename"] for p in all_photos(first.user)}
    assert [names[u] for u in album_members(first.user, albums["Album"]["id"])] == ["Card.jpg"]
