"""One rendition at a time (what Share… hands to apps): a set's photo named as in its zip, a photo
on its own from the lightbox; clean JPEGs from the rendition cache; other people's sets, unknown
presets and photos not in the set refused."""

from __future__ import annotations

import uuid

import pyvips

from tests.helpers.publish import jpeg, metadata_fields, photo_ids, send_photo
from tests.helpers.records import photo_record
from tests.helpers.server import Accounts


def test_a_sets_photo_comes_in_the_preset_named_as_in_the_zip(accounts: Accounts) -> None:
    device = accounts.device()
    records = [send_photo(device, jpeg(3000, 2000, colour=(20 * i, 90, 160))) for i in range(3)]
    ids = photo_ids(device, records)
    http = device.owner.http
    order = [ids[2], ids[0], ids[1]]
    set_id = http.post("/api/publish-sets", json={"title": "Shoot 2026-11-01", "photo_ids": order}).json()[
        "id"
    ]
    for n, photo_id in enumerate(order, start=1):
        got = http.get(
            f"/api/publish-sets/{set_id}/photos/{photo_id}/rendition", params={"preset": "square-1080"}
        )
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "image/jpeg"
        assert got.headers["content-disposition"] == f'attachment; filename="shoot-2026-11-01-{n:02d}.jpg"'
        image = pyvips.Image.new_from_buffer(got.content, "")
        assert (image.width, image.height) == (1080, 1080)
        assert metadata_fields(got.content) == [] and b"Secret" not in got.content
    again = http.get(
        f"/api/publish-sets/{set_id}/photos/{order[0]}/rendition", params={"preset": "square-1080"}
    )
    zipped = http.get(f"/api/publish-sets/{set_id}/download", params={"preset": "square-1080"})
    assert zipped.status_code == 200
    assert again.content in zipped.content  # the cached rendition, the same bytes as the zip's


def test_a_photo_on_its_own_comes_in_the_preset_named_after_its_file(accounts: Accounts) -> None:
    device = accounts.device()
    record = send_photo(device, jpeg(2400, 1600), filename="IMG_4242.JPG")
    (photo_id,) = photo_ids(device, [record])
    got = device.owner.http.get(f"/api/photos/{photo_id}/rendition", params={"preset": "web-2048"})
    assert got.status_code == 200, got.text
    assert got.headers["content-disposition"] == 'attachment; filename="img_4242-01.jpg"'
    image = pyvips.Image.new_from_buffer(got.content, "")
    assert (image.width, image.height) == (2048, 1365) and metadata_fields(got.content) == []


def test_renditions_of_what_is_not_yours_or_not_there_are_refused(accounts: Accounts) -> None:
    device = accounts.device()
    stored = send_photo(device, jpeg(1200, 800))
    waiting = photo_record()
    device.http.post("/api/sync/photos", json={"photos": [waiting]})
    other = send_photo(device, jpeg(1200, 800))
    stored_id, waiting_id, other_id = photo_ids(device, [stored, waiting, other])
    http = device.owner.http
    set_id = http.post(
        "/api/publish-sets", json={"title": "Mine", "photo_ids": [stored_id, waiting_id]}
    ).json()["id"]
    stranger = accounts.user().http
    cases = [
        (
            stranger,
            f"/api/publish-sets/{set_id}/photos/{stored_id}/rendition",
            "web-2048",
            404,
            "publish_set_not_found",
        ),
        (stranger, f"/api/photos/{stored_id}/rendition", "web-2048", 404, "photo_not_found"),
        (
            http,
            f"/api/publish-sets/{set_id}/photos/{stored_id}/rendition",
            "billboard",
            422,
            "unknown_preset",
        ),
        (http, f"/api/photos/{stored_id}/rendition", "billboard", 422, "unknown_preset"),
        (http, f"/api/publish-sets/{set_id}/photos/{other_id}/rendition", "web-2048", 404, "photo_not_found"),
        (
            http,
            f"/api/publish-sets/{set_id}/photos/{waiting_id}/rendition",
            "web-2048",
            409,
            "originals_missing",
        ),
        (http, f"/api/photos/{waiting_id}/rendition", "web-2048", 409, "originals_missing"),
        (http, f"/api/photos/{uuid.uuid4()}/rendition", "web-2048", 404, "photo_not_found"),
        (
            http,
            f"/api/publish-sets/{uuid.uuid4()}/photos/{stored_id}/rendition",
            "web-2048",
            404,
            "publish_set_not_found",
        ),
    ]
    for client, path, preset, status, code in cases:
        response = client.get(path, params={"preset": preset})
        assert response.status_code == status, (path, preset, response.text)
        assert response.json()["error"]["code"] == code, (path, response.text)
    assert http.get("/api/photos/not-a-uuid/rendition", params={"preset": "web-2048"}).status_code == 400
    assert http.get(f"/api/photos/{stored_id}/rendition").status_code == 422  # no preset named
