"""The publish rendition cache kept to what is still needed: the worker's sweep removes cached
renditions (and notes of failures beside them) that no set or album link would use now, and the
render-ahead rows of downloads that were never fetched.

A rendition is needed while a set of its owner holds a photo whose shown file has its SHA-256,
in one of the owner's presets (built in or own, by signature) and, for a crop, at that photo's
focal point in the set; or while an active album link shows the photo in the link's preset.
Everything else (a set deleted, a photo taken out of every set, an edit arrived, a focal point
moved, a preset deleted or changed, a photo fetched alone) goes at the next sweep and is made
again when asked.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from image_assistant.core import exports, gallery, presets, render_ahead, shares
from image_assistant.core.publish import FocalPoint
from image_assistant.db.models import AlbumPhoto, Photo, PublishSet, PublishSetPhoto, Share
from image_assistant.errors import AppError
from image_assistant.store.base import ObjectStore

log = logging.getLogger("image_assistant.publish")
PREFIX = "renditions/"
KEYS_PER_SWEEP = 1000  # objects looked at per sweep; the next sweep goes on after the last one
FAILED = "-failed.txt"
Shown = tuple[uuid.UUID, FocalPoint, list[presets.Preset]]  # a photo, its focal point, its presets


@dataclass(frozen=True)
class SweepResult:
    removed: int  # cached renditions and notes deleted
    expired: int  # render-ahead rows deleted
    cursor: str  # where the next sweep goes on ("" to start over)


def sweep(
    sessions: sessionmaker[DbSession],
    store: ObjectStore,
    *,
    cursor: str,
    now: datetime,
    limit: int = KEYS_PER_SWEEP,
) -> SweepResult:
    """One bounded sweep: the `limit` cached objects after `cursor`, then expired render-ahead rows."""
    # Listed before the database is read: a rendition made for a set meanwhile is seen as needed.
    keys = list(islice(store.list_keys(PREFIX, start_after=cursor), limit))
    owners = {owner for owner in map(_owner, keys) if owner is not None}
    with sessions() as db:
        needed = needed_renditions(db, owners, now=now)
    removed = 0
    for key in keys:
        rendition = _rendition(key)
        if rendition is not None and _owner(key) is not None and rendition not in needed:
            store.delete(key)
            removed += 1
    with sessions() as db:
        expired = render_ahead.expire(db, now=now)
    if removed or expired:
        log.info(
            "publish sweep: %d cached rendition(s) removed, %d render-ahead row(s) expired", removed, expired
        )
    return SweepResult(removed, expired, keys[-1] if len(keys) == limit else "")


def needed_renditions(db: DbSession, owner_ids: Iterable[uuid.UUID], *, now: datetime) -> set[str]:
    """The keys of every rendition the owners' sets and active album links would use now."""
    needed: set[str] = set()
    for owner_id in owner_ids:
        own_presets = presets.list_presets(db, user_id=owner_id)
        members = db.execute(
            select(PublishSetPhoto.photo_id, PublishSetPhoto.focal_x, PublishSetPhoto.focal_y)
            .join(PublishSet, PublishSet.id == PublishSetPhoto.set_id)
            .join(Photo, Photo.id == PublishSetPhoto.photo_id)
            .where(PublishSet.user_id == owner_id, Photo.deleted_at.is_(None))
        ).all()
        shown: list[Shown] = [(photo_id, FocalPoint(x, y), own_presets) for photo_id, x, y in members]
        shown += _album_links(db, owner_id, now)
        found = exports.sources(db, list({photo_id for photo_id, _, _ in shown}))
        for photo_id, focal, used in shown:
            source = found.get(photo_id)
            if source is not None:
                needed.update(exports.rendition_key(owner_id, source, p, focal) for p in used)
    return needed


def _album_links(db: DbSession, owner_id: uuid.UUID, now: datetime) -> list[Shown]:
    """The photos the owner's active album links show, each in its link's preset."""
    links = db.scalars(select(Share).where(Share.user_id == owner_id, Share.album_id.is_not(None)))
    shown: list[Shown] = []
    for link in links:
        if shares.state(link, now) != "active":
            continue
        try:
            preset = presets.resolve(db, user_id=owner_id, name=link.preset)
        except AppError:  # its preset was deleted: the link shows nothing
            continue
        photo_ids = db.scalars(
            select(AlbumPhoto.photo_id)
            .join(Photo, Photo.id == AlbumPhoto.photo_id)
            .where(AlbumPhoto.album_id == link.album_id, *gallery.visible(owner_id))
        )
        shown += [(photo_id, FocalPoint(), [preset]) for photo_id in photo_ids]
    return shown


def _owner(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key.split("/")[1])
    except (IndexError, ValueError):
        return None


def _rendition(key: str) -> str | None:
    """The rendition a cached object is, or a note is beside; None for anything else (kept)."""
    if key.endswith(FAILED):
        return key.removesuffix(FAILED) + ".jpg"
    return key if key.endswith(".jpg") else None
