"""photo_files: every file of a photo (original, edited, Live video…) as one row kind

The original moves out of `photos` (original_key, original_sha256) and the edited versions
and Live videos out of `photo_binaries`; the thumbnails remember the file they are made from
(`thumbnail_source_key`, `thumbnail_source_sha256`).

Revision ID: 0005
Revises: 0004
"""

import mimetypes

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 1000


def _content_type(filename: str) -> str:
    return mimetypes.guess_type(filename or "")[0] or "application/octet-stream"


def upgrade() -> None:
    photo_files = op.create_table(
        "photo_files",
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("filename", sa.String(length=512), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("declared_sha256", sa.String(length=64), nullable=True),
        sa.Column("object_key", sa.String(length=1024), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("photo_id", "kind"),
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thumbnail_source_key", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("thumbnail_source_sha256", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    _move_originals(connection, photo_files)
    _move_binaries(connection, photo_files)
    op.execute(
        "UPDATE photos SET thumbnail_source_key = original_key, thumbnail_source_sha256 = original_sha256"
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("original_key")
        batch_op.drop_column("original_sha256")
    op.drop_table("photo_binaries")


def _move_originals(connection: sa.Connection, photo_files: sa.Table) -> None:
    photos = sa.table(
        "photos",
        sa.column("id", sa.Uuid()),
        sa.column("filename", sa.String()),
        sa.column("content_type", sa.String()),
        sa.column("checksum_sha256", sa.String()),
        sa.column("original_key", sa.String()),
        sa.column("original_sha256", sa.String()),
        sa.column("file_size", sa.BigInteger()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    rows = connection.execute(sa.select(photos).where(photos.c.original_key.is_not(None))).fetchall()
    values = [
        {
            "photo_id": row.id,
            "kind": "original",
            "filename": row.filename or "",
            "content_type": row.content_type or "application/octet-stream",
            "declared_sha256": row.checksum_sha256 or row.original_sha256,
            "object_key": row.original_key,
            "sha256": row.original_sha256,
            "size": row.file_size,
            "stored_at": row.updated_at,
            "updated_at": row.updated_at,
        }
        for row in rows
    ]
    for start in range(0, len(values), BATCH):
        connection.execute(photo_files.insert(), values[start : start + BATCH])


def _move_binaries(connection: sa.Connection, photo_files: sa.Table) -> None:
    binaries = sa.table(
        "photo_binaries",
        sa.column("photo_id", sa.Uuid()),
        sa.column("kind", sa.String()),
        sa.column("filename", sa.String()),
        sa.column("declared_sha256", sa.String()),
        sa.column("object_key", sa.String()),
        sa.column("stored_sha256", sa.String()),
        sa.column("size", sa.BigInteger()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    rows = connection.execute(sa.select(binaries)).fetchall()
    values = [
        {
            "photo_id": row.photo_id,
            "kind": row.kind,
            "filename": row.filename or "",
            "content_type": _content_type(row.filename),
            "declared_sha256": row.declared_sha256,
            "object_key": row.object_key,
            "sha256": row.stored_sha256,
            "size": row.size,
            "stored_at": row.updated_at if row.object_key else None,
            "updated_at": row.updated_at,
        }
        for row in rows
    ]
    for start in range(0, len(values), BATCH):
        connection.execute(photo_files.insert(), values[start : start + BATCH])


def downgrade() -> None:
    op.create_table(
        "photo_binaries",
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=512), nullable=False),
        sa.Column("declared_sha256", sa.String(length=64), nullable=True),
        sa.Column("object_key", sa.String(length=1024), nullable=True),
        sa.Column("stored_sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("photo_id", "kind"),
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_key", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("original_sha256", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE photos SET original_key = (SELECT object_key FROM photo_files f WHERE f.photo_id = photos.id"
        " AND f.kind = 'original'), original_sha256 = (SELECT sha256 FROM photo_files f"
        " WHERE f.photo_id = photos.id AND f.kind = 'original')"
    )
    op.execute(
        "INSERT INTO photo_binaries (photo_id, kind, filename, declared_sha256, object_key, stored_sha256,"
        " size, updated_at) SELECT photo_id, kind, filename, declared_sha256, object_key, sha256, size,"
        " updated_at FROM photo_files WHERE kind IN ('edited', 'live_video')"
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("thumbnail_source_key")
        batch_op.drop_column("thumbnail_source_sha256")
    op.drop_table("photo_files")
