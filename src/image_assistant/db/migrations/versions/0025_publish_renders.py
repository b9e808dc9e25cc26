"""publish_renders: which large sets' renditions are queued, shared by every API process

A set above PUBLISH_ASYNC_PHOTOS answers its download with 202 while the queue renders it. Each
API process kept "queued already" in its own memory, so a second process (or a restarted one)
queued the whole set again. One row per set and preset now says it, with when and for which
renditions (a digest of their keys); the row goes when the zip is served or the set is deleted.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publish_renders",
        sa.Column(
            "set_id", sa.Uuid(), sa.ForeignKey("publish_sets.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("preset", sa.String(length=64), primary_key=True),
        sa.Column("plan_digest", sa.String(length=64), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("publish_renders")
