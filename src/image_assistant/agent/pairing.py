"""Pairing: register this machine with the server and trade the 6-digit code for a token."""

from __future__ import annotations

import hashlib
import platform
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from image_assistant.agent.client import RequestRejected, ServerClient
from image_assistant.agent.config import AgentDir, Pairing, default_config_dir, write_private
from image_assistant.agent.connection import checked_server_url
from image_assistant.agent.credentials import TokenStore

REREGISTER_CODES = {"code_expired", "code_burnt", "no_code"}  # older servers; a current one says invalid_code


@dataclass(frozen=True)
class DeviceFacts:
    hardware_id: str
    platform: str
    os_version: str


def _raw_machine_id() -> str:
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], capture_output=True, text=True, timeout=10
            ).stdout
            for line in out.splitlines():
                if "IOPlatformUUID" in line:
                    return line.split('"')[-2]
        except (OSError, subprocess.SubprocessError):
            pass
    for candidate in (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id")):
        try:
            return candidate.read_text().strip()
        except OSError:
            continue
    return f"{uuid.getnode():x}"


def source_identity(agent_dir: AgentDir) -> str | None:
    """What sets this config dir's agent apart from others on the same machine.

    The default config dir has none (its device stays the one it always was); any other gets
    a random id, kept in the dir, so two agents with their own dirs are two devices.
    """
    if agent_dir.path.expanduser().resolve() == default_config_dir().expanduser().resolve():
        return None
    path = agent_dir.path / "identity"
    try:
        return path.read_text().strip() or None
    except OSError:
        pass
    agent_dir.ensure()
    identity = uuid.uuid4().hex
    write_private(path, identity + "\n")
    return identity


def device_facts(agent_dir: AgentDir | None = None) -> DeviceFacts:
    """Facts the server keeps about this agent; the hardware id is a hash, not the raw id.

    It mixes the machine's id with the config dir's identity: each source (a Photos library,
    a folder) synced with its own config dir is its own device, revoked and paired on its own.
    """
    identity = source_identity(agent_dir) if agent_dir is not None else None
    seed = f"image-assistant:{_raw_machine_id()}" + (f":{identity}" if identity else "")
    hardware_id = hashlib.sha256(seed.encode()).hexdigest()[:32]
    if sys.platform == "darwin":
        return DeviceFacts(hardware_id, "macOS", platform.mac_ver()[0] or platform.release())
    return DeviceFacts(hardware_id, platform.system() or sys.platform, platform.release())


def default_device_name() -> str:
    return socket.gethostname().split(".")[0] or "My computer"


class PairingFailed(Exception):
    pass


def pair(
    *,
    agent_dir: AgentDir,
    server: str,
    username: str,
    device_name: str,
    read_code: Callable[[], str | None],
    say: Callable[[str], None],
    allow_http: bool = False,
    ca_bundle: str | None = None,
) -> Pairing:
    """Register, then ask for codes until one is accepted; a burnt or stale code re-registers.

    Plain http:// to another machine is refused before any connection unless `allow_http`.
    """
    server = checked_server_url(server, allow_http=allow_http)
    facts = device_facts(agent_dir)
    with ServerClient(server, ca_bundle=ca_bundle) as client:
        device_id = _register(client, username, device_name, facts)
        say("Enter the 6-digit code shown on the Devices page of the gallery.")
        while True:
            code = read_code()
            if code is None:
                raise PairingFailed("no code entered; run `image-assistant agent pair` again")
            code = code.strip()
            try:
                token = client.verify(device_id=device_id, code=code)
                break
            except RequestRejected as exc:
                if exc.code in REREGISTER_CODES:
                    device_id = _register(client, username, device_name, facts)
                    say(f"{exc.message}. A new code has been issued; read it on the Devices page.")
                elif exc.status == 400:
                    say(f"That code was not accepted: {exc.message}. Try again.")
                else:
                    raise
    pairing = Pairing(
        server=server,
        username=username,
        device_id=device_id,
        device_name=device_name,
        allow_http=allow_http,
        ca_bundle=ca_bundle,
    )
    agent_dir.save_pairing(pairing)
    where = TokenStore(agent_dir).save(device_id, token)
    say(f"Paired as {device_name!r} with {pairing.server}; token kept in {where}.")
    return pairing


def _register(client: ServerClient, username: str, name: str, facts: DeviceFacts) -> str:
    return client.register(
        username=username,
        name=name,
        hardware_id=facts.hardware_id,
        platform=facts.platform,
        os_version=facts.os_version,
    )
