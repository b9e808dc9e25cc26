"""How many photos each month of a user's library holds (the timeline scrubber's rail), from the
stored `month_counts` (migration 0021) rather than a count over every photo.

The table counts the photos a library listing shows that are in no burst: not hidden, not
removed. Every write that changes one of those facts or a photo's month hands its changes here,
one upsert per batch, months in order (concurrent batches lock the rows in the same order).
A burst shows as one frame whose month can move with its frames' facts: bursts are few, so
they are counted when asked, from the `ix_photos_burst` index.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.models import MonthCount, Photo

TABLE: Table = MonthCount.__table__  # type: ignore[assignment]


def month_of(at: datetime) -> str:
    """A moment's UTC month, "YYYY-MM"."""
    return at.astimezone(UTC).strftime("%Y-%m")


def counted(photo: Mapping[Any, Any]) -> bool:
    """Whether the table counts this photo (a row or values with the Photo's names)."""
    return photo.get("deleted_at") is None and not photo["is_hidden"] and photo["burst_id"] is None


def facts(photo: Photo) -> dict[str, Any]:
    """What the counts depend on, of a loaded Photo."""
    return {name: getattr(photo, name) for name in ("sort_at", "deleted_at", "is_hidden", "burst_id")}


class Changes:
    """What a batch of writes does to one user's month counts."""

    def __init__(self, user_id: uuid.UUID) -> None:
        self.user_id = user_id
        self.deltas: Counter[str] = Counter()

    def photo(self, before: Mapping[Any, Any] | None, after: Mapping[Any, Any] | None) -> None:
        """A photo created (no `before`), changed, or gone (no `after`); each needs `sort_at`,
        `is_hidden`, `burst_id` and `deleted_at` (none: not removed)."""
        if before is not None and counted(before):
            self.deltas[month_of(before["sort_at"])] -= 1
        if after is not None and counted(after):
            self.deltas[month_of(after["sort_at"])] += 1

    def save(self, db: DbSession) -> None:
        """Add the changes to the stored counts: one statement, nothing when nothing changed."""
        rows = [
            {"user_id": self.user_id, "month": month, "photo_count": n}
            for month, n in sorted(self.deltas.items())
            if n != 0
        ]
        if not rows:
            return
        dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(TABLE).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[TABLE.c.user_id, TABLE.c.month],
            set_={"photo_count": TABLE.c.photo_count + statement.excluded.photo_count},
        )
        db.execute(statement)
        self.deltas.clear()


def stored(db: DbSession, *, user_id: uuid.UUID) -> Counter[str]:
    """The stored counts of a user's photos in no burst, by month."""
    rows = db.execute(
        select(TABLE.c.month, TABLE.c.photo_count).where(TABLE.c.user_id == user_id, TABLE.c.photo_count > 0)
    )
    return Counter({month: int(n) for month, n in rows})
