"""Which large sets' renditions are queued to be made ahead of their zip: a row per set and
preset in the database, so every API process (and one restarted) queues a set once, not once each.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from image_assistant.core.exports import Plan, rendition_key
from image_assistant.db.models import PublishRender
from image_assistant.db.session import rows_changed

# Renditions still missing this long after they were queued are queued again (a lost job).
REQUEUE_AFTER = timedelta(minutes=5)


def plan_digest(plan: Plan) -> str:
    """What the plan renders: its renditions' keys, so that a changed set is queued again."""
    keys = [
        rendition_key(item.owner_id, item.source, plan.preset, item.focal) if item.source else "-"
        for item in plan.items
    ]
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def claim(db: DbSession, *, set_id: uuid.UUID, plan: Plan, now: datetime) -> bool:
    """True when the caller is to queue the plan's missing renditions now: nothing is queued for
    this set and preset, or it was queued for other renditions or more than REQUEUE_AFTER ago.
    False when another request (of any process) queued them. Committed either way."""
    digest = plan_digest(plan)
    try:
        db.execute(
            insert(PublishRender).values(
                set_id=set_id, preset=plan.preset.name, plan_digest=digest, queued_at=now
            )
        )
        db.commit()
        return True
    except IntegrityError:  # queued already (or the set is gone: the update then finds nothing)
        db.rollback()
    taken = db.execute(
        update(PublishRender)
        .where(
            PublishRender.set_id == set_id,
            PublishRender.preset == plan.preset.name,
            or_(PublishRender.queued_at < now - REQUEUE_AFTER, PublishRender.plan_digest != digest),
        )
        .values(plan_digest=digest, queued_at=now)
    )
    db.commit()
    return rows_changed(taken) == 1


def expire(db: DbSession, *, now: datetime) -> int:
    """Forget what was queued more than REQUEUE_AFTER ago (a 202 no download followed: the next
    one queues anew either way); returns how many rows went. Committed."""
    gone = db.execute(delete(PublishRender).where(PublishRender.queued_at < now - REQUEUE_AFTER))
    db.commit()
    return rows_changed(gone)


def release(db: DbSession, *, set_id: uuid.UUID, preset: str) -> None:
    """Nothing is queued for the set in this preset any more: its zip was served, or the queue
    was away. The next download that finds renditions missing queues them again."""
    db.execute(delete(PublishRender).where(PublishRender.set_id == set_id, PublishRender.preset == preset))
    db.commit()
