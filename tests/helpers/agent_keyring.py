"""A stand-in OS keychain for the agent tests: a keyring backend kept in a JSON file.

The agent runs in a process of its own: `keychain_env()` gives the variables that select this
backend there (PYTHON_KEYRING_BACKEND=tests.helpers.agent_keyring.FileKeychain, with the
repository on PYTHONPATH so that it imports) and name the file (TEST_KEYCHAIN_FILE).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend


class FileKeychain(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ["TEST_KEYCHAIN_FILE"])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path().read_text())
            return data
        except (OSError, ValueError):
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}/{username}", None)
        self._path().write_text(json.dumps(data))


def keychain_env(keychain_file: Path) -> dict[str, str]:
    """What an agent process needs to keep its token in a FileKeychain at `keychain_file`."""
    return {
        "PYTHON_KEYRING_BACKEND": f"{__name__}.{FileKeychain.__qualname__}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "TEST_KEYCHAIN_FILE": str(keychain_file),
    }
