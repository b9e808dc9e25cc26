"""thumbnail_avif: the grid's AVIF thumbnails (400 and 640 px) are made

Their keys follow from the photo's (store/keys.py), so one flag says they exist. Photos
thumbnailed before have it false until the reconciler's backfill makes them.

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
    with op.batch_alter_table("photos") as batch_op:
        batch_op.add_column(
            sa.Column("thumbnail_avif", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("photos") as batch_op:
        batch_op.drop_column("thumbnail_avif")
