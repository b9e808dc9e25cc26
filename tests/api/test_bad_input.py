"""Bad input gets a clear JSON error with the right status, and changes nothing."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.helpers.records import body_and_sha, photo_record, records_over_days
from tests.helpers.server import Accounts, Server


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    assert "Traceback" not in response.text
    if code:
        assert body["error"]["code"] == code


def photo_count(accounts_device) -> int:
    return accounts_device.http.get("/api/sync/status").json()["photos"]


def test_malformed_json_is_400(accounts: Accounts) -> None:
    device = accounts.device()
    response = device.http.post(
        "/api/sync/photos", content=b'{"photos": [', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(
    "photos",
    [
        [],
        records_over_days(101),
        [photo_record(width="wide")],
        [photo_record(surprise=1)],
        [photo_record(photos_uuid="../../etc/passwd")],
        [photo_record(filename="../evil.jpg")],
        [photo_record(filename="a/b.jpg")],
        [photo_record(checksum_sha256="abc")],
        [photo_record(location_lat=123.0)],
        [photo_record(media_type="hologram")],
    ],
    ids=[
        "empty",
        "101",
        "wrong-type",
        "unknown-field",
        "uuid-path",
        "dotdot-name",
        "slash-name",
        "short-sha",
        "latitude",
        "media-type",
    ],
)
def test_invalid_batches_are_422_and_store_nothing(accounts: Accounts, photos: list) -> None:
    device = accounts.device()
    batch = [photo_record(), *photos] if photos else []
    response = device.http.post("/api/sync/photos", json={"photos": batch})
    assert_error(response, 422, "validation_error")
    assert "details" in response.json()["error"]
    assert photo_count(device) == 0


def test_the_same_uuid_twice_in_a_batch_is_refused(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    response = device.http.post("/api/sync/photos", json={"photos": [record, record]})
    assert_error(response, 422, "duplicate_photos_uuid")
    assert photo_count(device) == 0


def test_wrong_content_type_is_415(accounts: Accounts) -> None:
    device = accounts.device()
    response = device.http.post("/api/sync/photos", content=b"x", headers={"content-type": "text/plain"})
    assert_error(response, 415)


def test_malformed_multipart_is_400(accounts: Accounts) -> None:
    device = accounts.device()
    garbage = device.http.post(
        "/api/sync/photos",
        content=b"--nope\r\ngarbage",
        headers={"content-type": "multipart/form-data; boundary=zzz"},
    )
    assert garbage.status_code in (400, 422) and "error" in garbage.json()
    no_metadata = device.http.post("/api/sync/photos", files={"file": ("a.jpg", b"abc", "image/jpeg")})
    assert_error(no_metadata, 400, "malformed_multipart")
    bad_json = device.http.post("/api/sync/photos", files={"metadata": (None, "{nope")})
    assert_error(bad_json, 400, "malformed_json")
    assert photo_count(device) == 0


def test_multipart_with_a_wrong_checksum_stores_nothing(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record(checksum_sha256="0" * 64)
    response = device.http.post(
        "/api/sync/photos",
        files={"metadata": (None, json.dumps(record)), "file": ("a.jpg", b"not those bytes", "image/jpeg")},
    )
    assert_error(response, 400, "checksum_mismatch")
    assert photo_count(device) == 0


def test_a_wrong_checksum_keeps_the_previous_original(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    uid = record["photos_uuid"]
    device.http.post("/api/sync/photos", json={"photos": [record]})
    body, sha = body_and_sha()
    device.http.put(f"/api/sync/photos/{uid}/original", content=body, headers={"x-content-sha256": sha})
    other, _ = body_and_sha(seed=b"other")
    response = device.http.put(
        f"/api/sync/photos/{uid}/original", content=other, headers={"x-content-sha256": "1" * 64}
    )
    assert_error(response, 400, "checksum_mismatch")
    photo = device.owner.http.get("/api/photos").json()["photos"][0]
    link = device.owner.http.get(f"/api/photos/{photo['id']}/download").json()["url"]
    assert httpx.get(link).content == body


def test_upload_without_any_checksum_is_refused(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    device.http.post("/api/sync/photos", json={"photos": [record]})
    response = device.http.put(f"/api/sync/photos/{record['photos_uuid']}/original", content=b"abc")
    assert_error(response, 400, "checksum_required")
    bad = device.http.put(
        f"/api/sync/photos/{record['photos_uuid']}/original",
        content=b"abc",
        headers={"x-content-sha256": "xyz"},
    )
    assert_error(bad, 400, "invalid_checksum")


def test_upload_for_unknown_or_invalid_photos_uuid(accounts: Accounts) -> None:
    device = accounts.device()
    _, sha = body_and_sha()
    unknown = device.http.put(
        "/api/sync/photos/6E0A0C0D-1111-4222-8333-444455556666/original",
        content=b"a",
        headers={"x-content-sha256": sha},
    )
    assert_error(unknown, 404, "photo_not_found")
    invalid = device.http.put(
        "/api/sync/photos/not-a-uuid/original", content=b"a", headers={"x-content-sha256": sha}
    )
    assert_error(invalid, 400, "invalid_id")
    dotted = device.http.put(
        "/api/sync/photos/..%2F..%2Fx/original", content=b"a", headers={"x-content-sha256": sha}
    )
    assert dotted.status_code in (400, 404) and "error" in dotted.json()


def raw_put(server: Server, path: str, token: str, sha: str, declared: int, body: bytes) -> bytes:
    """A PUT whose body differs from its Content-Length, then the client closes its side."""
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    with socket.create_connection((host, port), timeout=10) as sock:
        head = (
            f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"X-Content-SHA256: {sha}\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
        return answer


def test_a_body_shorter_than_content_length_stores_nothing(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    device.http.post("/api/sync/photos", json={"photos": [record]})
    body, sha = body_and_sha(size=10_000)
    raw_put(server, f"/api/sync/photos/{record['photos_uuid']}/original", device.token, sha, 20_000, body)
    time.sleep(0.5)
    assert device.http.get("/api/sync/pending").json()["photos_uuids"] == [record["photos_uuid"]]


def test_a_body_longer_than_content_length_stores_nothing(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    device.http.post("/api/sync/photos", json={"photos": [record]})
    body, sha = body_and_sha(size=10_000)
    raw_put(server, f"/api/sync/photos/{record['photos_uuid']}/original", device.token, sha, 5_000, body)
    time.sleep(0.5)
    assert device.http.get("/api/sync/pending").json()["photos_uuids"] == [record["photos_uuid"]]


def test_a_body_over_the_limit_is_413(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    device.http.post("/api/sync/photos", json={"photos": [record]})
    limit = int(server.env["MAX_UPLOAD_BYTES"])
    declared = device.http.put(
        f"/api/sync/photos/{record['photos_uuid']}/original",
        content=b"x" * (limit + 1),
        headers={"x-content-sha256": "0" * 64},
    )
    assert_error(declared, 413, "payload_too_large")

    def chunks():
        for _ in range(limit // (1 << 20) + 2):
            yield b"y" * (1 << 20)

    streamed = device.http.put(
        f"/api/sync/photos/{record['photos_uuid']}/original",
        content=chunks(),
        headers={"x-content-sha256": "0" * 64},
    )
    assert_error(streamed, 413, "payload_too_large")
    assert device.http.get("/api/sync/pending").json()["photos_uuids"] == [record["photos_uuid"]]
    huge_json = device.http.post(
        "/api/sync/photos", content=b" " * (9 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert_error(huge_json, 413, "payload_too_large")


def test_a_batch_without_a_valid_token_is_refused_before_its_body_is_read(server: Server) -> None:
    """A stranger's body (here over the JSON limit, streamed without a length) is never taken in."""

    def chunks():
        for _ in range(10):
            yield b" " * (1 << 20)

    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        for headers, code in (
            ({}, "not_authenticated"),
            ({"authorization": "Bearer not.a.token"}, "token_invalid"),
        ):
            response = anonymous.post(
                "/api/sync/photos", content=chunks(), headers={"content-type": "application/json", **headers}
            )
            assert_error(response, 401, code)


def test_gallery_ids_and_sizes_are_validated(accounts: Accounts) -> None:
    device = accounts.device()
    device.http.post("/api/sync/photos", json={"photos": [photo_record()]})
    user = device.owner.http
    photo_id = user.get("/api/photos").json()["photos"][0]["id"]
    assert_error(user.get("/api/photos/not-a-uuid"), 400, "invalid_id")
    assert_error(user.get("/api/albums/123"), 400, "invalid_id")
    assert_error(user.delete("/api/devices/xyz"), 400, "invalid_id")
    assert_error(user.get("/api/photos", params={"album_id": "nope"}), 400, "invalid_id")
    assert_error(user.get(f"/api/photos/{photo_id}/thumbnail/huge"), 400, "invalid_size")
    assert_error(user.get(f"/api/photos/{photo_id}/thumbnail/small"), 404, "thumbnail_not_ready")
    assert_error(user.get(f"/api/photos/{photo_id}/download"), 404, "original_not_uploaded")
    assert_error(user.get(f"/api/photos/{photo_id}/download/original"), 404, "original_not_uploaded")
    assert_error(user.get(f"/api/photos/{photo_id}/download/edited"), 404, "version_not_found")
    assert_error(user.get(f"/api/photos/{photo_id}/download/thumbnail"), 422, "validation_error")
    assert_error(user.get("/api/photos", params={"cursor": "!!!"}), 400, "invalid_cursor")
    assert_error(user.get("/api/photos", params={"cursor": "eyJ4IjoxfQ"}), 400, "invalid_cursor")
    assert_error(user.get("/api/photos", params={"limit": 0}), 422, "validation_error")
    assert_error(user.get("/api/photos/00000000-0000-4000-8000-000000000000"), 404, "photo_not_found")


def test_unknown_routes_and_methods_answer_in_the_same_shape(server: Server) -> None:
    with server.client() as http:
        assert_error(http.get("/api/nothing-here"), 404)
        assert_error(http.delete("/api/auth/login"), 405)
        assert_error(http.get("/api/photos"), 401, "not_authenticated")
        assert_error(http.get("/api/photos", headers={"authorization": "Basic abc"}), 401, "token_invalid")


def test_local_presigned_urls_refuse_tampering_and_expiry(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    device.http.post("/api/sync/photos", json={"photos": [record]})
    body, sha = body_and_sha()
    device.http.put(
        f"/api/sync/photos/{record['photos_uuid']}/original", content=body, headers={"x-content-sha256": sha}
    )
    photo_id = device.owner.http.get("/api/photos").json()["photos"][0]["id"]
    url = device.owner.http.get(f"/api/photos/{photo_id}/download").json()["url"]
    redirect = device.owner.http.get(f"/api/photos/{photo_id}/download", params={"redirect": "true"})
    assert redirect.status_code == 302 and httpx.get(redirect.headers["location"]).content == body
    signature = "X-Amz-Signature" if server.backend == "s3" else "signature"
    query = parse_qs(urlsplit(url).query)
    value = query[signature][0]
    tampered = url.replace(
        f"{signature}={value}", f"{signature}={value[:-1]}{'0' if value[-1] != '0' else '1'}"
    )
    assert httpx.get(tampered).status_code == 403
    if server.backend != "s3":
        expired = url.replace(f"expires={query['expires'][0]}", "expires=1000000000")
        response = httpx.get(expired)
        assert response.status_code == 403
        other_key = url.replace("/originals/", "/originals/../")
        assert httpx.get(other_key).status_code in (400, 403, 404)


def test_nothing_secret_reaches_the_server_log(server: Server, accounts: Accounts) -> None:
    user = accounts.user()
    device_id = accounts.register(user)
    code = accounts.code_for(user, device_id)
    verify = httpx.post(f"{server.url}/api/devices/verify", json={"device_id": device_id, "code": code})
    token = verify.json()["token"]
    httpx.post(
        f"{server.url}/api/auth/login", json={"username": user.username, "password": "wrong-" + user.password}
    )
    body, sha = body_and_sha(seed=b"secret-bytes")
    log = server.log_text()
    for secret in (
        user.password,
        user.token,
        token,
        code,
        (server.data_dir / "jwt_secret").read_text().strip(),
    ):
        assert secret not in log
    assert "signature=" not in log
