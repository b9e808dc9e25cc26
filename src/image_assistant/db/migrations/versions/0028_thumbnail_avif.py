"""thumbnail_avif: the grid's AVIF thumbnails (400 and 640 px) are made

Their keys follow from the photo's (store/keys.py), so one flag says they exist. Photos
thumbnailed before have it false until the reconciler's backfill makes them. A plain ADD and
DROP COLUMN: batch mode would rebuild `photos` on SQLite and lose its word index's triggers.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "photos", sa.Column("thumbnail_avif", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("photos", "thumbnail_avif")
