"""Views of the library beyond albums: the named people and the places in it (with counts and a
cover each), and the conditions that narrow the timeline to one person, place or kind of photo."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session as DbSession

from image_assistant.core.gallery import _listed, visible
from image_assistant.core.search import _elements, _place_name, at_place, has_person
from image_assistant.db.models import Photo

MAX_GROUPS = 500


@dataclass
class Group:
    """Photos sharing a person or a place: its name, how many, and the newest one as cover."""

    name: str
    country: str | None
    count: int
    cover: Any  # a row of gallery.LISTED, or None


def people(db: DbSession, *, user_id: uuid.UUID) -> list[Group]:
    """The named people of the library, most photographed first."""
    elements = _elements(db, Photo.persons)
    counted = (
        select(elements.c.value, func.count(), func.max(Photo.sort_at))
        .select_from(Photo)
        .join(elements, true())
        .where(*visible(user_id))
        .group_by(elements.c.value)
    )
    groups: list[tuple[str, str | None, int, Any]] = [
        (str(name), None, int(n), last) for name, n, last in db.execute(counted)
    ]
    return _with_covers(db, user_id, groups, lambda name: has_person(db, name))


def places(db: DbSession, *, user_id: uuid.UUID) -> list[Group]:
    """The places of the library by name (with their country), most photographed first."""
    name = _place_name()
    counted = (
        select(name, func.max(Photo.place["country"].as_string()), func.count(), func.max(Photo.sort_at))
        .where(*visible(user_id), name.is_not(None))
        .group_by(name)
    )
    groups = [(str(n), country, int(c), last) for n, country, c, last in db.execute(counted)]
    return _with_covers(db, user_id, groups, at_place)


def _with_covers(
    db: DbSession,
    user_id: uuid.UUID,
    groups: list[tuple[str, str | None, int, Any]],
    where: Callable[[str], ColumnElement[bool]],
) -> list[Group]:
    groups.sort(key=lambda g: (-g[2], g[0].casefold()))
    found = []
    for name, country, count, last in groups[:MAX_GROUPS]:
        cover = db.execute(
            _listed().where(*visible(user_id), where(name), Photo.sort_at == last).limit(1)
        ).first()
        found.append(Group(name, country, count, cover))
    return found
