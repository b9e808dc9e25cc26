"""thumbnail job bookkeeping: attempts, when queued, when started

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("thumbnail_attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("thumbnail_queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("thumbnail_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("thumbnail_started_at")
        batch_op.drop_column("thumbnail_queued_at")
        batch_op.drop_column("thumbnail_attempts")
