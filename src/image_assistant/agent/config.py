"""Where the agent keeps its files, and what pairing left behind (server, device)."""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from image_assistant.agent.errors import AlreadyRunning

ENV_DIR = "IMAGE_ASSISTANT_AGENT_DIR"
STATUS_PORT = 5219
DEFAULT_INTERVAL = 300


def default_config_dir() -> Path:
    """The per-user config dir: Application Support on macOS, XDG elsewhere."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Image Assistant Agent"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "image-assistant-agent"


@dataclass
class Pairing:
    """What the agent remembers about the server it is paired with (no secrets)."""

    server: str
    username: str
    device_id: str
    device_name: str
    allow_http: bool = False  # plain http:// to a remote host was asked for with --allow-http
    ca_bundle: str | None = None  # a private CA to trust, given at pairing


class AgentDir:
    """The agent's config dir: pairing.json, token fallback, state database, status file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = (path or default_config_dir()).expanduser()

    def ensure(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.path

    @property
    def pairing_file(self) -> Path:
        return self.path / "pairing.json"

    @property
    def token_file(self) -> Path:
        return self.path / "token"

    @property
    def state_file(self) -> Path:
        return self.path / "state.sqlite3"

    @property
    def status_file(self) -> Path:
        return self.path / "status.json"

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """One sync at a time per config dir (`agent run` holds it while it runs)."""
        self.ensure()
        with open(self.path / "agent.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AlreadyRunning(
                    "another agent is running with this config dir (`agent run` or the service); "
                    "use its status page's Sync now, or stop it first"
                ) from None
            yield

    def load_pairing(self) -> Pairing | None:
        try:
            data = json.loads(self.pairing_file.read_text())
        except (OSError, ValueError):
            return None
        ca_bundle = data.get("ca_bundle")
        return Pairing(
            **{k: str(data[k]) for k in ("server", "username", "device_id", "device_name")},
            allow_http=data.get("allow_http") is True,
            ca_bundle=str(ca_bundle) if ca_bundle else None,
        )

    def save_pairing(self, pairing: Pairing) -> None:
        self.ensure()
        write_private(self.pairing_file, json.dumps(asdict(pairing), indent=2) + "\n")


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, replacing it atomically."""
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(temp, 0o600)
    os.replace(temp, path)
