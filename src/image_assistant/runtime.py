"""The long-lived parts of one server process (or a test), built once from Settings."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from image_assistant.config import Settings
from image_assistant.core import passwords
from image_assistant.core.files import PhotoFiles
from image_assistant.core.resumable import ResumableUploads
from image_assistant.core.throttle import Backoff, Rate, RateLimit
from image_assistant.core.tokens import TokenSigner
from image_assistant.db.session import GrowthAnalyzer, make_engine, make_session_factory
from image_assistant.store.base import ObjectStore
from image_assistant.thumbnails.queue import ThumbnailQueue, make_queue


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore
    signer: TokenSigner
    queue: ThumbnailQueue
    analyzer: GrowthAnalyzer
    files: PhotoFiles
    uploads: ResumableUploads
    guards: Guards

    def close(self) -> None:
        self.queue.close()
        self.engine.dispose()


@dataclass
class Guards:
    """This process's limits on unauthenticated tries (core/throttle.py)."""

    register: RateLimit
    verify: RateLimit
    login_account: Backoff  # wrong passwords for one account, from one client
    login_everywhere: Backoff  # wrong passwords for one account, from all clients: short waits only
    login_client: Backoff  # wrong passwords from one client, for all accounts

    @classmethod
    def from_settings(cls, settings: Settings) -> Guards:
        rate = Rate.parse(settings.pairing_client_rate)
        window = 15 * 60
        return cls(
            register=RateLimit(rate, what="pairing requests"),
            verify=RateLimit(rate, what="pairing codes"),
            login_account=Backoff(free=5, window=window, longest=300, what="wrong passwords"),
            login_everywhere=Backoff(free=50, window=window, longest=5, what="wrong passwords"),
            login_client=Backoff(
                free=settings.login_client_failures, window=window, longest=900, what="wrong passwords"
            ),
        )


def make_store(settings: Settings, secret: str) -> ObjectStore:
    """The object store STORAGE_BACKEND names, built from its settings."""
    if settings.storage_backend == "s3":
        from image_assistant.store.s3 import S3Store

        store = S3Store(
            endpoint_url=settings.s3_endpoint_url,
            access_key=settings.minio_access_key,
            secret_key=settings.minio_secret_key,
            bucket=settings.minio_bucket,
            region=settings.minio_region,
            public_endpoint_url=settings.minio_public_endpoint or None,
        )
        store.ensure_bucket()
        return store
    from image_assistant.store.local import LocalStore

    signing_key = hmac.new(secret.encode(), b"local-object-urls", hashlib.sha256).digest()
    settings.local_store_root.mkdir(parents=True, exist_ok=True)
    return LocalStore(settings.local_store_root, signing_key=signing_key)


def build_runtime(settings: Settings) -> Runtime:
    passwords.use_cheap_hashes(settings.test_cheap_password_hashes)
    secret = settings.secret()
    engine = make_engine(settings.sqlalchemy_url)
    store = make_store(settings, secret)
    queue = make_queue(settings)
    files = PhotoFiles(
        store=store,
        queue=queue,
        max_bytes=settings.max_upload_bytes,
        pause_before_commit=settings.test_pause_before_commit,
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        store=store,
        signer=TokenSigner(secret),
        queue=queue,
        analyzer=GrowthAnalyzer(engine),
        files=files,
        uploads=ResumableUploads(
            files=files,
            staging_dir=settings.upload_staging_dir,
            ttl_seconds=settings.resumable_upload_ttl,
            max_bytes=settings.max_upload_bytes,
        ),
        guards=Guards.from_settings(settings),
    )
