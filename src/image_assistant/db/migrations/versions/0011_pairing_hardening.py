"""pairing: wrong codes counted per account, re-pair requests kept apart from the active device

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pairing_locks",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("pending_platform", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pending_os_version", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("pending_os_version")
        batch_op.drop_column("pending_platform")
        batch_op.drop_column("pending_name")
    op.drop_table("pairing_locks")
