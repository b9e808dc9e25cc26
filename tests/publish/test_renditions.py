"""Zips of a set per preset: sizes, crops around the focal point, sRGB without metadata, the edited
version used, no enlarging, a report for what is missing; the CLI writes the same files."""

from __future__ import annotations

import re

import pytest
import pyvips

from tests.helpers.publish import jpeg, mean, metadata_fields, photo_ids, send_photo, unzip
from tests.helpers.records import photo_record
from tests.helpers.server import Accounts


def test_each_preset_makes_clean_srgb_files_of_the_right_size_named_in_order(accounts: Accounts) -> None:
    device = accounts.device()
    red, blue = jpeg(3000, 2000, colour=(220, 30, 30)), jpeg(3000, 2000, colour=(30, 30, 220))
    plain = send_photo(device, jpeg(2400, 3000, colour=(30, 200, 30)))
    edited = send_photo(device, red, edited=blue)
    split = send_photo(device, jpeg(3000, 2000, split=True))
    small = send_photo(device, jpeg(800, 600))
    ids = photo_ids(device, [plain, edited, split, small])
    http = device.owner.http
    set_id = http.post("/api/publish-sets", json={"title": "Shoot 2026-11-01", "photo_ids": ids}).json()["id"]
    http.put(f"/api/publish-sets/{set_id}", json={"focal_points": {ids[2]: {"x": 1.0, "y": 0.5}}})

    web = http.get(f"/api/publish-sets/{set_id}/download", params={"preset": "web-2048"})
    assert web.status_code == 200, web.text
    assert web.headers["content-type"] == "application/zip"
    files = unzip(web.content)
    names = [f"shoot-2026-11-01-{n:02d}.jpg" for n in range(1, 5)]
    assert sorted(files) == ["REPORT.txt", *names]
    sizes = {n: pyvips.Image.new_from_buffer(files[n], "") for n in names}
    assert [(i.width, i.height) for i in sizes.values()] == [
        (1638, 2048),
        (2048, 1365),
        (2048, 1365),
        (800, 600),
    ]
    assert (
        "shoot-2026-11-01-04.jpg" in files["REPORT.txt"].decode()
        and "not enlarged" in files["REPORT.txt"].decode()
    )
    for name in names:
        assert metadata_fields(files[name]) == [], name
        assert sizes[name].interpretation == "srgb" and sizes[name].bands == 3
        assert b"Secret" not in files[name] and b"CameraMaker" not in files[name]
    edit = pyvips.Image.new_from_buffer(files[names[1]], "")
    r, g, b = (edit.extract_band(i).avg() for i in range(3))
    assert b > 180 and r < 80, "the edited version (blue) is what is exported, not the red original"

    square = unzip(http.get(f"/api/publish-sets/{set_id}/download", params={"preset": "square-1080"}).content)
    for name in names[:3]:
        image = pyvips.Image.new_from_buffer(square[name], "")
        assert (image.width, image.height) == (1080, 1080)
    assert mean(square[names[2]]) > 180, "the crop keeps the focal point at the right edge (white)"
    assert pyvips.Image.new_from_buffer(square[names[3]], "").width == 600  # 600x600: not enlarged
    http.put(f"/api/publish-sets/{set_id}", json={"focal_points": {ids[2]: {"x": 0.0, "y": 0.5}}})
    left = unzip(http.get(f"/api/publish-sets/{set_id}/download", params={"preset": "square-1080"}).content)
    assert mean(left[names[2]]) < 70, "a new focal point is a new crop (black left edge), not the cached one"

    story = unzip(
        http.get(f"/api/publish-sets/{set_id}/download", params={"preset": "story-1080x1920"}).content
    )
    assert pyvips.Image.new_from_buffer(story[names[0]], "").height == 1920
    clean = unzip(
        http.get(f"/api/publish-sets/{set_id}/download", params={"preset": "original-clean"}).content
    )
    full = pyvips.Image.new_from_buffer(clean[names[0]], "")
    assert (full.width, full.height) == (2400, 3000) and metadata_fields(clean[names[0]]) == []
    assert b"Secret" not in clean[names[0]] and b"GPS" not in clean[names[0]]
    assert abs(mean(clean[names[0]]) - mean(jpeg(2400, 3000, colour=(30, 200, 30)))) < 2


def test_missing_originals_are_reported_in_the_zip_or_refused_before_it_starts(accounts: Accounts) -> None:
    device = accounts.device()
    waiting = photo_record()
    device.http.post("/api/sync/photos", json={"photos": [waiting]})
    stored = send_photo(device, jpeg(1200, 800))
    waiting_id, stored_id = photo_ids(device, [waiting, stored])
    http = device.owner.http
    only_waiting = http.post("/api/publish-sets", json={"title": "Later", "photo_ids": [waiting_id]}).json()[
        "id"
    ]
    refused = http.get(f"/api/publish-sets/{only_waiting}/download", params={"preset": "web-2048"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "originals_missing"
    both = http.post(
        "/api/publish-sets", json={"title": "Mixed", "photo_ids": [waiting_id, stored_id]}
    ).json()["id"]
    files = unzip(http.get(f"/api/publish-sets/{both}/download", params={"preset": "web-2048"}).content)
    assert sorted(files) == ["REPORT.txt", "mixed-02.jpg"]
    report = files["REPORT.txt"].decode()
    assert re.search(rf"mixed-01\.jpg \(photo {waiting_id}\): missing", report), report


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)  # the CLI reads what the API wrote
def test_the_cli_writes_a_sets_renditions_into_a_folder(accounts: Accounts, scratch) -> None:
    device = accounts.device()
    records = [send_photo(device, jpeg(2400, 1800)), send_photo(device, jpeg(1600, 2000))]
    ids = photo_ids(device, records)
    set_id = device.owner.http.post("/api/publish-sets", json={"title": "Cli", "photo_ids": ids}).json()["id"]
    server = accounts.server
    result = server.cli(
        "publish",
        set_id,
        "--preset",
        "portrait-1080x1350",
        "--to",
        str(scratch / "out"),
        "--user",
        device.owner.username,
    )
    assert "wrote 2 of 2" in result.stdout
    made = sorted(p.name for p in (scratch / "out").iterdir())
    assert made == ["cli-01.jpg", "cli-02.jpg"]
    for name in made:
        image = pyvips.Image.new_from_file(str(scratch / "out" / name))
        assert (image.width, image.height) == (1080, 1350)
    other = accounts.user()
    refused = server.cli(
        "publish",
        set_id,
        "--preset",
        "web-2048",
        "--to",
        str(scratch / "x"),
        "--user",
        other.username,
        check=False,
    )
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
