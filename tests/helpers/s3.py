"""Real backing services for the tests: find the shared tools and start the S3 server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from image_assistant.store.s3 import S3Store

S3_HOST = "127.0.0.1"
S3_PORT = 7480
START_TIMEOUT_SECONDS = 300
_START_SCRIPT = Path("tools/s3-server/start.sh")
_STOP_SCRIPT = Path("tools/s3-server/stop.sh")
_REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


_s3_server: S3Server | None = None


def shared_dir() -> Path:
    """The shared directory holding `tools/s3-server/start.sh`."""
    candidates = [Path(p) for p in [os.environ.get("IA_SHARED_DIR")] if p]
    candidates += [_REPO_ROOT.parent / "shared", Path("/work/shared")]
    for candidate in candidates:
        if (candidate / _START_SCRIPT).is_file():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise RuntimeError(f"no shared directory with {_START_SCRIPT} (tried {tried})")


_warming: threading.Thread | None = None


def warm_up_s3_server() -> None:
    """Start the S3 server in the background, so its boot overlaps the tests that need none."""
    global _warming
    if _warming is None:
        _warming = threading.Thread(target=_warm_up, name="s3-server-start", daemon=True)
        _warming.start()


def _warm_up() -> None:
    try:
        _ensure_s3_server()
    except Exception:  # noqa: BLE001 - the first test that needs the server starts it and says why
        pass


def ensure_s3_server() -> S3Server:
    """The running S3 server (waiting for one started in the background first)."""
    if _warming is not None and _warming is not threading.current_thread():
        _warming.join()
    return _ensure_s3_server()


def _ensure_s3_server() -> S3Server:
    """The running S3 server, started by the shared `start.sh` when needed.

    A server left full by earlier runs (its in-memory store frees deleted data only hours
    later) hangs on writes: it is restarted empty before the first test uses it.
    """
    global _s3_server
    if _s3_server is None or not _is_listening(_s3_server.endpoint):
        found = _known_running_server() or _start_s3_server()
        if not _takes_writes(found):
            subprocess.run(["bash", str(shared_dir() / _STOP_SCRIPT)], capture_output=True, timeout=120)
            found = _start_s3_server()
        _s3_server = found
    return _s3_server


def _takes_writes(server: S3Server) -> bool:
    """Whether a small object can be written and removed within a few seconds."""
    from botocore.config import Config

    client = raw_client(server, Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}))
    bucket = f"ia-probe-{uuid.uuid4().hex[:8]}"
    try:
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="probe", Body=b"x" * 1024)
        client.delete_object(Bucket=bucket, Key="probe")
        client.delete_bucket(Bucket=bucket)
        return True
    except Exception:
        return False


def collect_garbage() -> None:
    """Free what deleted objects still hold in the S3 server now, not hours later (best effort)."""
    conf = Path(os.environ.get("CEPH_DIR", "/tmp/ia-s3-server")) / "ceph.conf"
    if _s3_server is None or not conf.is_file() or shutil.which("radosgw-admin") is None:
        return
    subprocess.run(
        ["radosgw-admin", "-c", str(conf), "gc", "process", "--include-all"],
        capture_output=True,
        timeout=300,
        check=False,
    )


def _known_running_server() -> S3Server | None:
    """The server named by S3_* variables in the environment, if it is listening."""
    endpoint = os.environ.get("S3_ENDPOINT")
    access_key = os.environ.get("S3_ACCESS_KEY")
    secret_key = os.environ.get("S3_SECRET_KEY")
    if not (endpoint and access_key and secret_key):
        return None
    if not _is_listening(endpoint):
        return None
    return S3Server(endpoint=endpoint, access_key=access_key, secret_key=secret_key)


def _start_s3_server() -> S3Server:
    """Run `start.sh` (idempotent) and read the three `export NAME=value` lines it ends with."""
    script = shared_dir() / _START_SCRIPT
    try:
        result = subprocess.run(
            ["bash", str(script)],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"{script} did not finish in {START_TIMEOUT_SECONDS} s; stderr:\n{_tail(exc.stderr)}"
        ) from exc
    if result.returncode != 0:
        raise RuntimeError(
            f"{script} failed with exit code {result.returncode}; stderr:\n{_tail(result.stderr)}"
        )
    return _parse_exports(result.stdout, script)


def _parse_exports(stdout: str, script: Path) -> S3Server:
    exports: dict[str, str] = {}
    for line in stdout.strip().splitlines()[-3:]:
        name, _, value = line.removeprefix("export ").partition("=")
        exports[name.strip()] = value.strip().strip("'\"")
    try:
        return S3Server(
            endpoint=exports["S3_ENDPOINT"],
            access_key=exports["S3_ACCESS_KEY"],
            secret_key=exports["S3_SECRET_KEY"],
        )
    except KeyError as exc:
        raise RuntimeError(
            f"{script} did not print export {exc.args[0]}=...; stdout ended with:\n{_tail(stdout)}"
        ) from None


def _is_listening(endpoint: str) -> bool:
    """Whether the endpoint's host and port accept TCP connections."""
    address = urlsplit(endpoint)
    try:
        with socket.create_connection((address.hostname or S3_HOST, address.port or S3_PORT), timeout=1):
            return True
    except OSError:
        return False


def _tail(text: str | bytes | None, lines: int = 20) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").splitlines()[-lines:])


def raw_client(server: S3Server, config: Any = None) -> Any:
    """A plain boto3 client, for looking behind the adapter's back and for cleaning up."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=config,
    )


def remove_bucket(server: S3Server, bucket: str) -> None:
    """Empty and delete a test bucket: the shared S3 server keeps everything in memory."""
    from botocore.exceptions import ClientError

    client = raw_client(server)
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])
        for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        client.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise


def make_s3_store(server: S3Server, bucket: str, public_endpoint_url: str | None = None) -> S3Store:
    """The S3 store adapter on `bucket` of the test S3 server."""
    from image_assistant.store.s3 import S3Store

    return S3Store(
        endpoint_url=server.endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        bucket=bucket,
        public_endpoint_url=public_endpoint_url,
    )
