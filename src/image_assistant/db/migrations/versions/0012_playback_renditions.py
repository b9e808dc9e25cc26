"""renditions: files the server derives for browsers (a video's playback MP4); edited thumbnails

`playback_renditions` holds one row per source file that needs one (the original of a video, a Live
video) with its job state; `photos.thumbnail_of_edit` says the thumbnails show the edited version
(the original's are then kept beside them).

Files stored before: every stored video original and Live video gets a pending rendition, and
every photo with a stored edit is pending again with the edit as its source; neither has a
queued time, so the reconciler queues them (a batch per round).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "playback_renditions",
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("source_key", sa.String(length=1024), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("object_key", sa.String(length=1024), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("photo_id", "kind"),
    )
    op.create_index("ix_playback_renditions_status", "playback_renditions", ["status"])
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("thumbnail_of_edit", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "INSERT INTO playback_renditions"
        " (photo_id, kind, source_key, source_sha256, status, attempts, updated_at) "
        "SELECT f.photo_id, f.kind, f.object_key, f.sha256, 'pending', 0, CURRENT_TIMESTAMP "
        "FROM photo_files f JOIN photos p ON p.id = f.photo_id "
        "WHERE f.object_key IS NOT NULL AND p.deleted_at IS NULL "
        "AND (f.kind = 'live_video' OR (f.kind = 'original' AND p.media_type = 'video'))"
    )
    edit = (
        "FROM photo_files f WHERE f.photo_id = photos.id AND f.kind = 'edited' "
        "AND f.object_key IS NOT NULL AND f.declared_sha256 IS NOT NULL"
    )
    op.execute(
        f"UPDATE photos SET thumbnail_source_key = (SELECT f.object_key {edit}), "
        f"thumbnail_source_sha256 = (SELECT f.sha256 {edit}), thumbnail_status = 'pending', "
        f"thumbnail_error = NULL, thumbnail_attempts = 0, thumbnail_queued_at = NULL, "
        f"thumbnail_started_at = NULL WHERE deleted_at IS NULL AND EXISTS (SELECT 1 {edit})"
    )


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("thumbnail_of_edit")
    op.drop_index("ix_playback_renditions_status", table_name="playback_renditions")
    op.drop_table("playback_renditions")
