"""playback renditions of edits stored before they had any

Storing a video's edited version (`edited`) or an edited Live video (`edited_live_video`) queues
its playback rendition since edits have renditions; those stored before have no row, so the
original played until the device sent the edit again. Each gets a pending rendition, as the
ingest path makes (core.files `_needs_playback`); without a queued time, the reconciler queues
them (a batch per round).

Revision ID: 0026
Revises: 0025
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO playback_renditions"
        " (photo_id, kind, source_key, source_sha256, status, attempts, updated_at) "
        "SELECT f.photo_id, f.kind, f.object_key, f.sha256, 'pending', 0, CURRENT_TIMESTAMP "
        "FROM photo_files f JOIN photos p ON p.id = f.photo_id "
        "WHERE f.object_key IS NOT NULL AND p.deleted_at IS NULL "
        "AND (f.kind = 'edited_live_video' OR (f.kind = 'edited' "
        "AND (p.media_type = 'video' OR f.content_type LIKE 'video/%'))) "
        "AND NOT EXISTS (SELECT 1 FROM playback_renditions r "
        "WHERE r.photo_id = f.photo_id AND r.kind = f.kind)"
    )


def downgrade() -> None:
    """Nothing to undo: the rows are those the ingest path makes."""
