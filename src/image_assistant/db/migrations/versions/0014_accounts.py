"""Accounts in the browser: disabled accounts, last sign-in, sessions' client and last use,
one-time account links (invitations, password resets) and the first-run setup code.

Revision ID: 0014
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        users.add_column(sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("sessions") as sessions:
        sessions.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        sessions.add_column(sa.Column("client", sa.String(255), nullable=False, server_default=""))
        sessions.add_column(sa.Column("address", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "account_links",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_account_links_user_id", "account_links", ["user_id"])
    op.create_table(
        "server_setup",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_setup")
    op.drop_index("ix_account_links_user_id", "account_links")
    op.drop_table("account_links")
    with op.batch_alter_table("sessions") as sessions:
        sessions.drop_column("address")
        sessions.drop_column("client")
        sessions.drop_column("last_seen_at")
    with op.batch_alter_table("users") as users:
        users.drop_column("last_sign_in_at")
        users.drop_column("disabled_at")
