"""photo facts: what people typed into Photos, the place, camera, subtypes and bursts

Adds to `photos` title, description, keywords, persons, place, camera, subtypes, burst_id
and burst_key (`is_hidden` and `deleted_at` exist already); widens `resumable_uploads.kind`
for the `edited_live_video` kind.

The revision id stays 0006 (the name issue 12 gave it); it follows main's head when it
landed (0013), keeping one linear chain.

Revision ID: 0006
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0013"
branch_labels = None
depends_on = None

EMPTY_LIST = sa.text("'[]'")


def upgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("keywords", sa.JSON(), nullable=False, server_default=EMPTY_LIST))
        batch_op.add_column(sa.Column("persons", sa.JSON(), nullable=False, server_default=EMPTY_LIST))
        batch_op.add_column(sa.Column("place", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("camera", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("subtypes", sa.JSON(), nullable=False, server_default=EMPTY_LIST))
        batch_op.add_column(sa.Column("burst_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("burst_key", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_photos_burst", ["user_id", "burst_id"])
    with op.batch_alter_table("resumable_uploads", schema=None) as batch_op:
        batch_op.alter_column("kind", type_=sa.String(length=24), existing_type=sa.String(length=16))


def downgrade() -> None:
    op.execute("DELETE FROM resumable_uploads WHERE length(kind) > 16")  # edited_live_video uploads
    with op.batch_alter_table("resumable_uploads", schema=None) as batch_op:
        batch_op.alter_column("kind", type_=sa.String(length=16), existing_type=sa.String(length=24))
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_index("ix_photos_burst")
        for name in (
            "burst_key",
            "burst_id",
            "subtypes",
            "camera",
            "place",
            "persons",
            "keywords",
            "description",
            "title",
        ):
            batch_op.drop_column(name)
