"""/openapi.json tells the truth: every body, id and error answer, checked against the live server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.server import Accounts, Server

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
# Checks of what the server answers against the document. Two of schemathesis' checks are left
# out on purpose: `positive_data_acceptance` (a well-formed cursor or pairing code can still be a
# wrong one: 400 is the truth) and `unsupported_method` (DELETE /api/devices/register reaches the
# DELETE /api/devices/{device_id} route, whose malformed id is a documented 400 invalid_id).
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "allow_header_conformance",
        "ignored_auth",
    ]
)


def spec(server: Server) -> dict[str, Any]:
    with server.client() as http:
        document: dict[str, Any] = http.get("/openapi.json").json()
    return document


def test_every_request_body_of_the_sync_routes_is_documented(server: Server) -> None:
    paths = spec(server)["paths"]
    batch = paths["/api/sync/photos"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"] == {"$ref": "#/components/schemas/PhotoBatch"}
    assert set(batch["multipart/form-data"]["schema"]["properties"]) == {"metadata", "file"}
    assert "AlbumSync" in str(paths["/api/sync/albums"]["post"]["requestBody"])
    assert "UploadStart" in str(paths["/api/sync/uploads"]["post"]["requestBody"])
    patch = paths["/api/sync/uploads/{upload_id}"]["patch"]
    assert "application/octet-stream" in patch["requestBody"]["content"]
    assert any(p["name"] == "Upload-Offset" for p in patch["parameters"])
    put = paths["/api/sync/photos/{photos_uuid}/{kind}"]["put"]
    assert "application/octet-stream" in put["requestBody"]["content"]


def test_ids_are_uuids_and_errors_are_listed_in_the_one_shape(server: Server) -> None:
    document = spec(server)
    photo = document["paths"]["/api/photos/{photo_id}"]["get"]
    (photo_id,) = [p for p in photo["parameters"] if p["name"] == "photo_id"]
    assert photo_id["schema"]["format"] == "uuid"
    assert {"400", "401", "403", "404"} <= set(photo["responses"])
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")) and "content" in answer:
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }
    assert "ErrorBody" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_a_wrong_method_is_405_with_every_allowed_method(server: Server) -> None:
    with server.client() as http:
        answer = http.request("PUT", "/api/users")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"
    assert set(answer.headers["allow"].split(", ")) == {"GET", "POST"}


def schemathesis_run(server: Server, token: str, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    """A schemathesis run against the live server, started (read it with `communicate`)."""
    command = [
        SCHEMATHESIS,
        "run",
        f"{server.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        # Every operation is still tested, and the coverage phase (each constraint's edges) does
        # not depend on this: it bounds the random cases of the fuzzing and stateful phases.
        "--max-examples",
        "8",
        "--seed",
        "20261202",
        "--generation-database",
        "none",
        "--exclude-path",
        "/api/auth/logout",  # it would end the session the run signs in with
        "--no-color",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        *extra,
    ]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path
    )


@pytest.mark.parametrize("server", ["sqlite", "postgres"], indirect=True)
def test_generated_requests_get_documented_answers_and_never_a_server_error(
    server: Server, accounts: Accounts, tmp_path: Path
) -> None:
    device = accounts.device()
    # The user's routes and the device's at once: apart, each run waits on its own requests.
    as_user = schemathesis_run(server, device.owner.token, tmp_path, "--exclude-path-regex", "^/api/sync/")
    as_device = schemathesis_run(server, device.token, tmp_path, "--include-path-regex", "^/api/sync/")
    for run in (as_user, as_device):
        out, _ = run.communicate(timeout=900)
        assert run.returncode == 0, out[-6000:]
    assert "Traceback" not in server.log_text()
