"""One Settings object, read from the environment (the original design's names kept)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from image_assistant.core.throttle import Rate

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """Seconds in `30d`, `12h`, `15m`, `45s` or a bare number of seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30d, 12h, 15m, 3600)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class Settings(BaseSettings):
    """Every setting of the server; see docs/configuration.md for each one."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    data_dir: Path = Field(default=Path("data"), alias="IMAGE_ASSISTANT_DATA_DIR")
    api_host: str = Field(default="127.0.0.1", alias="IMAGE_ASSISTANT_API_HOST")
    api_port: int = Field(default=5220, alias="IMAGE_ASSISTANT_API_PORT")
    cors_origin: str = Field(default="", alias="CORS_ORIGIN")

    database_url: str = Field(default="", alias="DATABASE_URL")
    database_postgres_host: str = Field(default="", alias="DATABASE_POSTGRES_HOST")
    database_postgres_port: int = Field(default=5432, alias="DATABASE_POSTGRES_PORT")
    database_postgres_user: str = Field(default="", alias="DATABASE_POSTGRES_USER")
    database_postgres_password: str = Field(default="", alias="DATABASE_POSTGRES_PASSWORD")
    database_postgres_name: str = Field(default="", alias="DATABASE_POSTGRES_NAME")

    storage_backend: Literal["local", "s3"] = Field(default="local", alias="STORAGE_BACKEND")
    storage_local_path: Path | None = Field(default=None, alias="STORAGE_LOCAL_PATH")
    minio_endpoint: str = Field(default="localhost:9000", alias="MINIO_ENDPOINT")
    minio_public_endpoint: str = Field(default="", alias="MINIO_PUBLIC_ENDPOINT")
    minio_access_key: str = Field(default="", alias="MINIO_ACCESS_KEY")
    minio_secret_key: str = Field(default="", alias="MINIO_SECRET_KEY")
    minio_bucket: str = Field(default="photos", alias="MINIO_BUCKET")
    minio_use_ssl: bool = Field(default=False, alias="MINIO_USE_SSL")
    minio_region: str = Field(default="us-east-1", alias="MINIO_REGION")

    redis_url: str = Field(default="", alias="REDIS_URL")

    # Prefixes of the S3 store `image-assistant mount` may mount, each `name:ro` or `name:rw`.
    mount_prefixes: str = Field(default="originals:ro,video-projects:rw", alias="MOUNT_PREFIXES")

    # Thumbnails: the `thumbnail-processor` queue (SQLite file in the data dir, or Redis with REDIS_URL).
    thumbnail_queue: str = Field(default="thumbnail-processor", alias="THUMBNAIL_QUEUE")
    thumbnail_concurrency: int = Field(default=5, ge=1, le=64, alias="THUMBNAIL_CONCURRENCY")
    thumbnail_max_attempts: int = Field(default=3, ge=1, le=20, alias="THUMBNAIL_MAX_ATTEMPTS")
    # Attempt n+1 waits THUMBNAIL_RETRY_DELAY * 2**(n-1) after attempt n failed.
    thumbnail_retry_delay: str = Field(default="30s", alias="THUMBNAIL_RETRY_DELAY")
    # A photo queued this long and not started is queued again by the reconciler.
    thumbnail_stuck_after: str = Field(default="15m", alias="THUMBNAIL_STUCK_AFTER")
    # A running job's worker renews its claim every third of this; a claim older than this
    # means the worker is gone, and the reconciler queues the job again.
    thumbnail_lease: str = Field(default="60s", alias="THUMBNAIL_LEASE")
    thumbnail_reconcile_every: str = Field(default="1m", alias="THUMBNAIL_RECONCILE_EVERY")
    thumbnail_jpeg_quality: int = Field(default=82, ge=30, le=100, alias="THUMBNAIL_JPEG_QUALITY")
    thumbnail_avif_quality: int = Field(default=45, ge=20, le=100, alias="THUMBNAIL_AVIF_QUALITY")
    # A set of more photos than this downloads once the queue has rendered it (202 until then).
    publish_async_photos: int = Field(default=50, ge=0, alias="PUBLISH_ASYNC_PHOTOS")
    # How often the worker rewrites the sidecar (<original key>.json) of photos whose facts changed.
    sidecar_sweep_every: str = Field(default="5m", alias="SIDECAR_SWEEP_EVERY")
    # How often the worker removes cached publish renditions nothing needs any more (core/rendition_sweep.py).
    publish_sweep_every: str = Field(default="10m", alias="PUBLISH_SWEEP_EVERY")

    jwt_secret: str = Field(default="", alias="JWT_SECRET")
    jwt_expires_in: str = Field(default="30d", alias="JWT_EXPIRES_IN")
    session_expires_in: str = Field(default="7d", alias="SESSION_EXPIRES_IN")
    presign_expires_in: str = Field(default="1h", alias="PRESIGN_EXPIRES_IN")

    max_upload_bytes: int = Field(default=20 * 1024**3, alias="MAX_UPLOAD_BYTES")
    max_json_bytes: int = Field(default=8 * 1024**2, alias="MAX_JSON_BYTES")
    # Parts of a resumable upload left untouched this long are deleted.
    resumable_upload_expires_in: str = Field(default="24h", alias="RESUMABLE_UPLOAD_EXPIRES_IN")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    # Account links: an invitation lets a new person set their password; a reset, an existing one.
    invitation_expires_in: str = Field(default="7d", alias="INVITATION_EXPIRES_IN")
    password_reset_expires_in: str = Field(default="1d", alias="PASSWORD_RESET_EXPIRES_IN")
    # The address people reach the gallery at (for links made outside a request, e.g. the CLI).
    public_url: str = Field(default="", alias="PUBLIC_URL")
    # Tests only: seconds a replacing upload waits between its stored object and its commit.
    test_pause_before_commit: float = Field(
        default=0, ge=0, le=600, alias="IMAGE_ASSISTANT_TEST_PAUSE_BEFORE_COMMIT"
    )
    # Tests only: seconds each thumbnail job waits after its claim (a job longer than a lease).
    test_job_pause: float = Field(default=0, ge=0, le=600, alias="IMAGE_ASSISTANT_TEST_JOB_PAUSE")
    # Tests only: seconds a thumbnail job waits between being taken off the queue and its claim.
    test_claim_pause: float = Field(default=0, ge=0, le=600, alias="IMAGE_ASSISTANT_TEST_CLAIM_PAUSE")
    # Tests only: password hashes at argon2's minimum cost (the suite makes thousands of them).
    test_cheap_password_hashes: bool = Field(
        default=False, alias="IMAGE_ASSISTANT_TEST_CHEAP_PASSWORD_HASHES"
    )
    # Requests per client address (in each API process's memory) to each pairing route.
    pairing_client_rate: str = Field(default="20/10m", alias="PAIRING_CLIENT_RATE")
    # Wrong passwords from one client address (all accounts) before its tries are slowed down.
    login_client_failures: int = Field(default=20, ge=1, alias="LOGIN_CLIENT_FAILURES")

    @model_validator(mode="after")
    def _check(self) -> Settings:
        for name in (
            "jwt_expires_in",
            "session_expires_in",
            "presign_expires_in",
            "resumable_upload_expires_in",
            "thumbnail_retry_delay",
            "thumbnail_stuck_after",
            "thumbnail_lease",
            "thumbnail_reconcile_every",
            "invitation_expires_in",
            "password_reset_expires_in",
            "sidecar_sweep_every",
            "publish_sweep_every",
        ):
            parse_duration(getattr(self, name))
        Rate.parse(self.pairing_client_rate)
        if self.jwt_secret and len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters (or unset, to generate one)")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_URL must start with http:// or https://")
        if self.storage_backend == "s3" and not (self.minio_access_key and self.minio_secret_key):
            raise ValueError("STORAGE_BACKEND=s3 needs MINIO_ACCESS_KEY and MINIO_SECRET_KEY")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL, else the DATABASE_POSTGRES_* parts, else SQLite in the data dir."""
        url = self.database_url
        if not url and self.database_postgres_host:
            auth = quote(self.database_postgres_user, safe="")
            if self.database_postgres_password:
                auth += ":" + quote(self.database_postgres_password, safe="")
            url = (
                f"postgresql://{auth}@{self.database_postgres_host}:"
                f"{self.database_postgres_port}/{self.database_postgres_name or 'image_assistant'}"
            )
        if not url:
            return f"sqlite:///{(self.data_dir / 'image-assistant.db').resolve()}"
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def local_store_root(self) -> Path:
        return (self.storage_local_path or self.data_dir / "objects").resolve()

    @property
    def s3_endpoint_url(self) -> str:
        return _with_scheme(self.minio_endpoint, self.minio_use_ssl)

    @property
    def jwt_ttl(self) -> int:
        return parse_duration(self.jwt_expires_in)

    @property
    def session_ttl(self) -> int:
        return parse_duration(self.session_expires_in)

    @property
    def invitation_ttl(self) -> int:
        return parse_duration(self.invitation_expires_in)

    @property
    def password_reset_ttl(self) -> int:
        return parse_duration(self.password_reset_expires_in)

    @property
    def presign_ttl(self) -> int:
        return parse_duration(self.presign_expires_in)

    @property
    def resumable_upload_ttl(self) -> int:
        return parse_duration(self.resumable_upload_expires_in)

    @property
    def upload_staging_dir(self) -> Path:
        """Where parts of resumable uploads wait until the whole file has arrived."""
        return (self.data_dir / "uploads").resolve()

    @property
    def thumbnail_retry_seconds(self) -> int:
        return parse_duration(self.thumbnail_retry_delay)

    @property
    def thumbnail_stuck_seconds(self) -> int:
        return parse_duration(self.thumbnail_stuck_after)

    @property
    def thumbnail_lease_seconds(self) -> int:
        return max(3, parse_duration(self.thumbnail_lease))

    @property
    def thumbnail_reconcile_seconds(self) -> int:
        return max(1, parse_duration(self.thumbnail_reconcile_every))

    @property
    def sidecar_sweep_seconds(self) -> int:
        return max(1, parse_duration(self.sidecar_sweep_every))

    @property
    def publish_sweep_seconds(self) -> int:
        return max(1, parse_duration(self.publish_sweep_every))

    @property
    def queue_path(self) -> Path:
        """The embedded queue's SQLite file (used when REDIS_URL is unset)."""
        return (self.data_dir / "queue.db").resolve()

    def secret(self) -> str:
        """JWT_SECRET, or the one generated and kept (0600) in the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt_secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".jwt_secret.{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)  # first writer wins; others read its secret
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()


def _with_scheme(endpoint: str, use_ssl: bool) -> str:
    if endpoint.startswith(("http://", "https://")):
        return endpoint
    return ("https://" if use_ssl else "http://") + endpoint
