"""Publish renditions made ahead by the queue: one photo of a set in one preset, cached in the
store, for a large set's download (the zip then copies them: core/exports.py).

A job is `{photo_id, source_key, sizes: [set id, preset name], kind: publish_rendition}`. The
set, the preset and the photo's focal point are read again when it runs, so a job for a photo
since removed, a preset since deleted or a rendition already made does nothing.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from image_assistant.core import exports, presets, publish
from image_assistant.core.presets import Preset
from image_assistant.db.models import PublishSet
from image_assistant.errors import AppError
from image_assistant.store.base import ObjectStore
from image_assistant.thumbnails.queue import PUBLISH_RENDITION, ThumbnailJob, ThumbnailQueue

log = logging.getLogger("image_assistant.publish")


def queue_renditions(
    queue: ThumbnailQueue, *, set_id: uuid.UUID, preset: Preset, items: list[exports.Item]
) -> None:
    """One job per item whose rendition is still to make (QueueUnavailable when the queue is away)."""
    for item in items:
        assert item.source is not None
        queue.enqueue(
            ThumbnailJob(
                str(item.photo_id), item.source.key, (str(set_id), preset.name), kind=PUBLISH_RENDITION
            )
        )


class PublishRunner:
    """Runs publish rendition jobs against one database and store."""

    def __init__(self, *, sessions: sessionmaker[DbSession], store: ObjectStore) -> None:
        self.sessions = sessions
        self.renderer = exports.Renderer(store)

    def run(self, job: ThumbnailJob) -> None:
        found = self._item(job)
        if found is None:
            log.info("publish job for photo %s has nothing to make; skipped", job.photo_id)
            return
        item, preset = found
        if self.renderer.prepare(item, preset):
            log.info("rendition of photo %s in %s made", item.photo_id, preset.name)

    def _item(self, job: ThumbnailJob) -> tuple[exports.Item, Preset] | None:
        try:
            set_value, preset_name = job.sizes
            set_id, photo_id = uuid.UUID(set_value), uuid.UUID(job.photo_id)
        except ValueError:
            return None
        with self.sessions() as db:
            publish_set = db.get(PublishSet, set_id)
            if publish_set is None:
                return None
            try:
                preset = presets.resolve(db, user_id=publish_set.user_id, name=preset_name)
                members = publish.members(db, publish_set)
                if not any(m.photo.id == photo_id for m in members):
                    return None
                plan = exports.plan(
                    db, title=publish_set.title, preset=preset, members=members, only=photo_id
                )
            except AppError:  # the preset was deleted, or the photo has no file any more
                return None
        item = plan.items[0]
        return (item, preset) if item.source is not None else None
