"""Publish sets: a user's named, ordered picks of photos, each with the focal point its crops keep."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core.gallery import _listed as gallery_listed
from image_assistant.core.gallery import visible
from image_assistant.db.models import Photo, PublishSet, PublishSetPhoto, utcnow
from image_assistant.errors import NotFound, Unprocessable

MAX_PHOTOS = 1000
MAX_TITLE = 200
MAX_NOTE = 10_000


@dataclass(frozen=True)
class FocalPoint:
    """Where a crop centres, as fractions of the photo's width and height (0-1)."""

    x: float = 0.5
    y: float = 0.5

    def __post_init__(self) -> None:
        if not (0.0 <= self.x <= 1.0 and 0.0 <= self.y <= 1.0):
            raise Unprocessable(
                "a focal point's x and y are fractions from 0 to 1", code="invalid_focal_point"
            )


@dataclass
class Member:
    """A photo of what is exported, in order, with the focal point its crops keep."""

    photo: Photo
    focal: FocalPoint = field(default_factory=FocalPoint)


@dataclass
class SetSummary:
    publish_set: PublishSet
    photo_count: int
    cover_id: uuid.UUID | None


@dataclass
class SetPhoto:
    row: Any  # a row of gallery.LISTED
    position: int
    focal: FocalPoint


def _title(value: str) -> str:
    title = value.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise Unprocessable(f"title must be 1-{MAX_TITLE} characters", code="invalid_title")
    return title


def _unique(photo_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    if len(photo_ids) > MAX_PHOTOS:
        raise Unprocessable(f"a set holds at most {MAX_PHOTOS} photos", code="too_many_photos")
    if len(set(photo_ids)) != len(photo_ids):
        raise Unprocessable("a photo appears twice in photo_ids", code="duplicate_photo")
    return list(photo_ids)


def _check_owned(db: DbSession, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> None:
    """Every id is one of the user's visible photos; else 404 naming those that are not."""
    found: set[uuid.UUID] = set()
    for start in range(0, len(photo_ids), 500):
        chunk = list(photo_ids[start : start + 500])
        found.update(db.scalars(select(Photo.id).where(Photo.id.in_(chunk), *visible(user_id))))
    missing = [str(p) for p in photo_ids if p not in found]
    if missing:
        raise NotFound("no such photo", code="photo_not_found", details={"photo_ids": missing[:50]})


def create_set(
    db: DbSession, *, user_id: uuid.UUID, title: str, photo_ids: Sequence[uuid.UUID]
) -> PublishSet:
    ids = _unique(photo_ids)
    _check_owned(db, user_id, ids)
    publish_set = PublishSet(user_id=user_id, title=_title(title), note="")
    db.add(publish_set)
    db.flush()
    _insert_members(db, publish_set.id, ids, {})
    return publish_set


def _insert_members(
    db: DbSession, set_id: uuid.UUID, photo_ids: list[uuid.UUID], focal: dict[uuid.UUID, FocalPoint]
) -> None:
    if not photo_ids:
        return
    rows = [
        {
            "set_id": set_id,
            "photo_id": pid,
            "position": i,
            "focal_x": focal.get(pid, FocalPoint()).x,
            "focal_y": focal.get(pid, FocalPoint()).y,
        }
        for i, pid in enumerate(photo_ids)
    ]
    db.execute(insert(PublishSetPhoto), rows)


def get_set(db: DbSession, *, user_id: uuid.UUID, set_id: uuid.UUID) -> PublishSet:
    publish_set = db.get(PublishSet, set_id)
    if publish_set is None or publish_set.user_id != user_id:
        raise NotFound("no such publish set", code="publish_set_not_found")
    return publish_set


def list_sets(db: DbSession, *, user_id: uuid.UUID) -> list[SetSummary]:
    """The user's sets, last changed first, with their photo count and first photo."""
    sets = list(
        db.scalars(
            select(PublishSet).where(PublishSet.user_id == user_id).order_by(PublishSet.updated_at.desc())
        )
    )
    if not sets:
        return []
    ids = [s.id for s in sets]
    counts: dict[uuid.UUID, int] = dict(
        db.execute(
            select(PublishSetPhoto.set_id, func.count())
            .where(PublishSetPhoto.set_id.in_(ids))
            .group_by(PublishSetPhoto.set_id)
        ).all()  # a Result has keys(): dict() would take it for a mapping
    )
    covers: dict[uuid.UUID, uuid.UUID] = dict(
        db.execute(
            select(PublishSetPhoto.set_id, PublishSetPhoto.photo_id).where(
                PublishSetPhoto.set_id.in_(ids), PublishSetPhoto.position == 0
            )
        ).all()
    )
    return [SetSummary(s, counts.get(s.id, 0), covers.get(s.id)) for s in sets]


def set_photos(db: DbSession, *, publish_set: PublishSet) -> list[SetPhoto]:
    """The set's photos in its order, as the timeline lists them, with their focal points."""
    query = (
        gallery_listed()  # the timeline's own select: every join its columns need
        .add_columns(PublishSetPhoto.position, PublishSetPhoto.focal_x, PublishSetPhoto.focal_y)
        .join(PublishSetPhoto, PublishSetPhoto.photo_id == Photo.id)
        .where(PublishSetPhoto.set_id == publish_set.id, Photo.deleted_at.is_(None))
        .order_by(PublishSetPhoto.position)
    )
    return [SetPhoto(row, row.position, FocalPoint(row.focal_x, row.focal_y)) for row in db.execute(query)]


def member_ids(db: DbSession, set_id: uuid.UUID) -> list[uuid.UUID]:
    query = select(PublishSetPhoto.photo_id).where(PublishSetPhoto.set_id == set_id)
    return list(db.scalars(query.order_by(PublishSetPhoto.position)))


def update_set(
    db: DbSession,
    *,
    user_id: uuid.UUID,
    set_id: uuid.UUID,
    title: str | None = None,
    note: str | None = None,
    photo_ids: Sequence[uuid.UUID] | None = None,
    focal_points: dict[uuid.UUID, FocalPoint] | None = None,
) -> PublishSet:
    """Change what is given: title, note, the photos in their new order, focal points."""
    publish_set = get_set(db, user_id=user_id, set_id=set_id)
    if title is not None:
        publish_set.title = _title(title)
    if note is not None:
        if len(note) > MAX_NOTE:
            raise Unprocessable(f"note must be at most {MAX_NOTE} characters", code="invalid_note")
        publish_set.note = note
    rows = {
        r.photo_id: r for r in db.scalars(select(PublishSetPhoto).where(PublishSetPhoto.set_id == set_id))
    }
    focal = {pid: FocalPoint(r.focal_x, r.focal_y) for pid, r in rows.items()}
    ids = (
        _unique(photo_ids)
        if photo_ids is not None
        else [r.photo_id for r in sorted(rows.values(), key=lambda r: r.position)]
    )
    if photo_ids is not None:
        _check_owned(db, user_id, [p for p in ids if p not in rows])
    if focal_points:
        strangers = [str(p) for p in focal_points if p not in ids]
        if strangers:
            raise Unprocessable(
                "focal points name photos that are not in the set",
                code="photo_not_in_set",
                details={"photo_ids": strangers[:50]},
            )
        focal.update(focal_points)
    db.execute(delete(PublishSetPhoto).where(PublishSetPhoto.set_id == set_id))
    _insert_members(db, set_id, ids, focal)
    publish_set.updated_at = utcnow()  # a new order is a change too
    db.flush()
    return publish_set


def add_photos(
    db: DbSession, *, user_id: uuid.UUID, set_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]
) -> PublishSet:
    """Append photos the set does not hold yet, in the order given."""
    current = member_ids(db, get_set(db, user_id=user_id, set_id=set_id).id)
    known = set(current)
    new = [p for p in dict.fromkeys(photo_ids) if p not in known]
    return update_set(db, user_id=user_id, set_id=set_id, photo_ids=[*current, *new])


def delete_set(db: DbSession, *, user_id: uuid.UUID, set_id: uuid.UUID) -> None:
    db.delete(get_set(db, user_id=user_id, set_id=set_id))


def members(db: DbSession, publish_set: PublishSet) -> list[Member]:
    """The set's photos in order with their focal points, for an export."""
    rows = db.execute(
        select(Photo, PublishSetPhoto.focal_x, PublishSetPhoto.focal_y)
        .join(PublishSetPhoto, PublishSetPhoto.photo_id == Photo.id)
        .where(PublishSetPhoto.set_id == publish_set.id, Photo.deleted_at.is_(None))
        .order_by(PublishSetPhoto.position)
    )
    return [Member(photo, FocalPoint(x, y)) for photo, x, y in rows]
