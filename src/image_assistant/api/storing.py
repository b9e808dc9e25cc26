"""After a device's binary is in the store: point the photo at it, log it, queue thumbnails.

One place for every way a binary arrives: PUT of an original, an edited version or a Live
video, a multipart POST with its metadata, and the end of a resumable upload.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session as DbSession

from image_assistant.core import binaries, sync
from image_assistant.core.devices import DeviceRef
from image_assistant.db.models import Photo
from image_assistant.services import Services
from image_assistant.thumbnails.jobs import enqueue, mark_queued

log = logging.getLogger("image_assistant.uploads")


def filename_for(db: DbSession, photo: Photo, kind: str) -> str:
    """The file name a binary of this kind is stored under (the photo's, unless declared)."""
    row = binaries.find_binary(db, photo=photo, kind=kind)
    return (row.filename if row is not None and row.filename else None) or photo.filename


def record_stored(
    services: Services,
    db: DbSession,
    device: DeviceRef,
    photo: Photo,
    kind: str,
    *,
    key: str,
    sha256: str,
    size: int,
    started_at: datetime,
) -> None:
    """Point the photo at the stored object, log the upload, commit, drop a replaced object."""
    if kind == "original":
        replaced = sync.record_original(db, photo=photo, key=key, sha256=sha256, size=size)
        # In this very commit: a pending photo without a queued time looks stuck to the
        # reconciler, which would queue a second job for it.
        mark_queued(photo)
    else:
        filename = filename_for(db, photo, kind)
        replaced = binaries.record_binary(
            db, photo=photo, kind=kind, filename=filename, key=key, sha256=sha256, size=size
        )
    sync.log_sync(
        db,
        device_id=device.id,
        sync_type="upload",
        started_at=started_at,
        photos_synced=1,
        bytes_received=size,
    )
    db.commit()
    if kind == "original":
        enqueue(services.queue, photo.id, key)  # sessions keep their objects' values past a commit
    if replaced is not None:
        try:
            services.store.delete(replaced)
        except Exception:  # the new object is safe; an orphan is only wasted space
            log.warning("could not delete a replaced %s", kind)
