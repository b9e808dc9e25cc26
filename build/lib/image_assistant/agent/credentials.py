"""The device token: in the OS keychain through keyring, or a 0600 file where there is none."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from image_assistant.agent.config import AgentDir, write_private

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "image-assistant-agent"
log = logging.getLogger("image_assistant.agent")


def _usable_keyring() -> KeyringBackend | None:
    """The keyring backend, unless it is the do-nothing one (no keychain on this machine)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        return None
    return backend


class TokenStore:
    """Keeps one token per device id; says where it put it."""

    def __init__(self, agent_dir: AgentDir) -> None:
        self.agent_dir = agent_dir

    def save(self, device_id: str, token: str) -> str:
        """Store the token; returns "keychain" or the fallback file's path."""
        backend = _usable_keyring()
        if backend is not None:
            try:
                backend.set_password(SERVICE, device_id, token)
                self.agent_dir.token_file.unlink(missing_ok=True)
                return "keychain"
            except Exception:  # a locked or broken keychain: fall back to the file
                log.warning("the keychain refused the token; keeping it in a private file")
        self.agent_dir.ensure()
        write_private(self.agent_dir.token_file, f"{device_id}\n{token}\n")
        return str(self.agent_dir.token_file)

    def load(self, device_id: str) -> str | None:
        backend = _usable_keyring()
        if backend is not None:
            try:
                token = backend.get_password(SERVICE, device_id)
                if token:
                    return str(token)
            except Exception:
                log.warning("the keychain could not be read; trying the private file")
        try:
            owner, token = self.agent_dir.token_file.read_text().split("\n")[:2]
        except (OSError, ValueError):
            return None
        return token if owner == device_id and token else None

    def forget(self, device_id: str) -> None:
        backend = _usable_keyring()
        if backend is not None:
            try:
                backend.delete_password(SERVICE, device_id)
            except Exception:
                pass
        self.agent_dir.token_file.unlink(missing_ok=True)
