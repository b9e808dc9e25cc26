"""Settings: every one documented, PostgreSQL parts assembled, unsafe values refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from image_assistant.config import Settings, parse_duration
from tests.helpers.server import REPO

DOCS = REPO / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    for field in Settings.model_fields.values():
        assert f"`{field.alias}`" in text, f"{field.alias} is not in docs/configuration.md"


def test_postgres_parts_make_a_url_and_database_url_wins() -> None:
    parts = Settings(
        DATABASE_POSTGRES_HOST="db.local",
        DATABASE_POSTGRES_PORT=25444,
        DATABASE_POSTGRES_USER="lilith",
        DATABASE_POSTGRES_PASSWORD="p@ss/word",
        DATABASE_POSTGRES_NAME="image_assistant",
    )
    assert parts.sqlalchemy_url == "postgresql+psycopg://lilith:p%40ss%2Fword@db.local:25444/image_assistant"
    url = Settings(DATABASE_URL="postgres://u@h/d", DATABASE_POSTGRES_HOST="ignored")
    assert url.sqlalchemy_url == "postgresql+psycopg://u@h/d"
    assert Settings(IMAGE_ASSISTANT_DATA_DIR="/tmp/x").sqlalchemy_url.startswith("sqlite:////tmp/x/")


def test_durations_parse_and_nonsense_is_refused() -> None:
    assert parse_duration("30d") == 30 * 86400
    assert parse_duration("15m") == 900
    assert parse_duration("3600") == 3600
    with pytest.raises(ValueError):
        Settings(JWT_EXPIRES_IN="forever")


def test_unsafe_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="32 characters"):
        Settings(JWT_SECRET="short")
    with pytest.raises(ValueError, match="MINIO_ACCESS_KEY"):
        Settings(STORAGE_BACKEND="s3")


def cli(*args: str, env: dict[str, str], input: str = "") -> subprocess.CompletedProcess[str]:
    from tests.helpers.server import CLI

    return subprocess.run([CLI, *args], env=env, input=input, capture_output=True, text=True, timeout=120)


def test_cli_users_and_db_upgrade_on_a_fresh_data_dir(tmp_path: Path) -> None:
    import os
    import sqlite3

    env = {**os.environ, "IMAGE_ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    assert cli("db", "upgrade", env=env).returncode == 0
    assert cli("db", "upgrade", env=env).returncode == 0  # idempotent
    made = cli("users", "create", "alice", "--admin", env=env, input="correct-horse\n")
    assert made.returncode == 0 and "created user alice (admin)" in made.stdout
    again = cli("users", "create", "alice", env=env, input="correct-horse\n")
    assert again.returncode != 0 and "already exists" in again.stderr and "Traceback" not in again.stderr
    weak = cli("users", "create", "bob", env=env, input="short\n")
    assert weak.returncode != 0 and "at least 10" in weak.stderr
    bad_name = cli("users", "create", "../bob", env=env, input="long-enough-password\n")
    assert bad_name.returncode != 0 and "username" in bad_name.stderr
    listing = cli("users", "list", env=env).stdout
    assert "alice\tadmin" in listing and "bob" not in listing
    db = sqlite3.connect(tmp_path / "data" / "image-assistant.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {row[1] for row in db.execute("SELECT type, name FROM sqlite_master WHERE type='index'")}
    assert {"ix_photos_timeline", "ix_album_photos_order"} <= indexes
    stored_hash = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and "correct-horse" not in stored_hash


def test_a_bad_setting_is_one_clear_line(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "IMAGE_ASSISTANT_DATA_DIR": str(tmp_path), "STORAGE_BACKEND": "s3"}
    result = cli("db", "upgrade", env=env)
    assert result.returncode != 0
    assert "MINIO_ACCESS_KEY" in result.stderr and "Traceback" not in result.stderr


def test_serve_against_a_database_that_is_down_says_so_in_a_line_and_exits(tmp_path: Path) -> None:
    import os
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {
        **os.environ,
        "IMAGE_ASSISTANT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/test",
    }
    for command in (("serve", "--port", "0"), ("worker",)):
        result = cli(*command, env=env)
        assert result.returncode != 0, command
        assert "cannot reach the database" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
