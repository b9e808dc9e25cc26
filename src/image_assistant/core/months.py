"""How many items each month of a user's library holds (the timeline scrubber's rail), from the
stored `month_counts` (migration 0021) rather than a count over every photo.

The table counts what the library's timeline lists: photos neither hidden nor removed, a burst
once, in the month of its lead frame (gallery._BURST_LEAD: a key frame, else the first; the
earliest of those). Every write that changes a photo's month or one of those facts hands the
photo's facts before and after to `Changes`, which adds them up and saves them in one upsert
per batch, months in order (concurrent batches lock the rows in the same order). A burst's
lead can move with any of its frames: when a batch changes a frame, the bursts it touched are
read once, after the writes, and their leads before (the batch's changes undone) and after
are compared.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, Uuid, bindparam, select, text
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.models import MonthCount, Photo

TABLE: Table = MonthCount.__table__  # type: ignore[assignment]
# What the counts depend on; a change of any of these can move a burst's lead.
FACTS = ("id", "sort_at", "deleted_at", "is_hidden", "burst_id", "burst_key")


def month_of(at: datetime) -> str:
    """A moment's UTC month, "YYYY-MM"."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return f"{at.year:04d}-{at.month:02d}"


def _shown(photo: Mapping[Any, Any]) -> bool:
    return photo.get("deleted_at") is None and not photo["is_hidden"]


def facts(photo: Photo) -> dict[str, Any]:
    """The FACTS of a loaded Photo."""
    return {name: getattr(photo, name) for name in FACTS}


class Changes:
    """What a batch of writes does to one user's month counts."""

    def __init__(self, user_id: uuid.UUID) -> None:
        self.user_id = user_id
        self.deltas: Counter[str] = Counter()
        self.frames_before: dict[uuid.UUID, Mapping[Any, Any] | None] = {}  # burst frames changed
        self.bursts: set[str] = set()

    def photo(self, before: Mapping[Any, Any] | None, after: Mapping[Any, Any]) -> None:
        """A photo created (no `before`) or changed, with its FACTS before and after (a missing
        `deleted_at`: not removed). Call `save` once the batch's writes are done."""
        if before is not None and before["burst_id"] is not None or after["burst_id"] is not None:
            self._frame(before, after)
        if before is not None and before["burst_id"] is None and _shown(before):
            self.deltas[month_of(before["sort_at"])] -= 1
        if after["burst_id"] is None and _shown(after):
            self.deltas[month_of(after["sort_at"])] += 1

    def _frame(self, before: Mapping[Any, Any] | None, after: Mapping[Any, Any]) -> None:
        if before is not None and all(before.get(name) == after.get(name) for name in FACTS[1:]):
            return
        self.frames_before.setdefault(after["id"], before)
        self.bursts.update(b["burst_id"] for b in (before, after) if b is not None and b["burst_id"])

    def save(self, db: DbSession) -> None:
        """Add the changes to the stored counts (the writes done): nothing when nothing changed."""
        if self.bursts:
            self._count_bursts(db)
        changed = sorted((month, n) for month, n in self.deltas.items() if n != 0)
        if changed:
            _add(db, self.user_id, changed)
        self.deltas.clear()
        self.frames_before.clear()
        self.bursts.clear()

    def _count_bursts(self, db: DbSession) -> None:
        """Each touched burst's lead month now, and before this batch, from one read."""
        columns = [Photo.__table__.c[name] for name in FACTS]
        now = [
            row._mapping
            for row in db.execute(
                select(*columns).where(Photo.user_id == self.user_id, Photo.burst_id.in_(sorted(self.bursts)))
            )
        ]
        changed, present = self.frames_before, {row["id"] for row in now}
        then = [changed[row["id"]] if row["id"] in changed else row for row in now]
        then += [frame for photo_id, frame in changed.items() if photo_id not in present]
        for month in _lead_months(frame for frame in then if frame is not None):
            self.deltas[month] -= 1
        for month in _lead_months(now):
            self.deltas[month] += 1


def _lead_months(frames: Iterable[Mapping[Any, Any]]) -> list[str]:
    """The month of each burst's lead among these frames (hidden and removed ones skipped)."""
    leads: dict[str, tuple[bool, datetime]] = {}
    for frame in frames:
        if frame["burst_id"] is None or not _shown(frame):
            continue
        rank = (not frame["burst_key"], frame["sort_at"])
        if frame["burst_id"] not in leads or rank < leads[frame["burst_id"]]:
            leads[frame["burst_id"]] = rank
    return [month_of(at) for _, at in leads.values()]


_ADD = (
    "ON CONFLICT (user_id, month) DO UPDATE SET photo_count = month_counts.photo_count + excluded.photo_count"
)
# One short statement for any number of months: on PostgreSQL two text parameters (psycopg
# dumps them faster than lists), on SQLite one JSON object (a third of an executemany's cost).
_PG_ADD = text(
    "INSERT INTO month_counts (user_id, month, photo_count) SELECT :user_id, month, n FROM"
    " unnest(string_to_array(:months, ','), string_to_array(:counts, ',')::int[]) AS changes (month, n) "
    + _ADD
).bindparams(bindparam("user_id", type_=Uuid()))
_SQLITE_ADD = text(
    "INSERT INTO month_counts (user_id, month, photo_count) SELECT :user_id, key, value"
    " FROM json_each(:changes) WHERE true " + _ADD  # WHERE: SQLite's upsert after a SELECT needs one
).bindparams(bindparam("user_id", type_=Uuid()))


def _add(db: DbSession, user_id: uuid.UUID, changed: list[tuple[str, int]]) -> None:
    """Add to the stored counts, months in order (concurrent batches lock rows in one order)."""
    connection = db.connection()  # a Core statement: the session's ORM execute costs as much again
    if connection.dialect.name == "postgresql":
        months, counts = ",".join(m for m, _ in changed), ",".join(str(n) for _, n in changed)
        connection.execute(_PG_ADD, {"user_id": user_id, "months": months, "counts": counts})
    else:
        connection.execute(_SQLITE_ADD, {"user_id": user_id, "changes": json.dumps(dict(changed))})


def stored(db: DbSession, *, user_id: uuid.UUID) -> list[tuple[str, int]]:
    """The stored counts of a user's library, newest month first."""
    rows = db.execute(
        select(TABLE.c.month, TABLE.c.photo_count)
        .where(TABLE.c.user_id == user_id, TABLE.c.photo_count > 0)
        .order_by(TABLE.c.month.desc())
    )
    return [(month, int(n)) for month, n in rows]
