"""Test helpers for the agent: a paired agent run as a user runs it, through its CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.server import CLI, Accounts, Server, User

# No keychain exists on the test machines; make that explicit so the 0600 file is used.
AGENT_ENV = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
LIB14 = "Test-14.0.0.photoslibrary"
CLOUD = "Test-Cloud-13.1.photoslibrary"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Agent:
    """One agent config dir, paired with `user` on `server`."""

    server: Server
    user: User
    config_dir: Path
    cli: str = CLI  # another installation's `image-assistant` (the lean agent-only one)
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGE_ASSISTANT_")}
        env.update(AGENT_ENV)
        env.update(self.extra_env)
        return env

    def argv(self, *args: str) -> list[str]:
        return [self.cli, "agent", "--config-dir", str(self.config_dir), *args]

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.argv(*args), env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(f"agent {args} exited {result.returncode}: {result.stderr}{result.stdout}")
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def sync(self, *args: str) -> dict[str, Any]:
        """One `agent sync --json` pass; its report."""
        result = self.run("sync", "--json", *args)
        report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return report

    def status_file(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.config_dir / "status.json").read_text())
            return data
        except (OSError, ValueError):
            return {}

    def device_token(self) -> str:
        owner, token = (self.config_dir / "token").read_text().split("\n")[:2]
        return token

    def device_id(self) -> str:
        return str(json.loads((self.config_dir / "pairing.json").read_text())["device_id"])


def wait_for_code(user: User, timeout: float = 30) -> tuple[str, str]:
    """The pending device and its code, as the signed-in user sees them on the Devices page."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for device in user.http.get("/api/devices").json()["devices"]:
            if device["status"] == "pending" and device.get("verification_code"):
                return device["id"], device["verification_code"]
        time.sleep(0.1)
    raise AssertionError("the agent never registered a device")


def start_pairing(agent: Agent, name: str = "Test Mac") -> subprocess.Popen[str]:
    return subprocess.Popen(
        agent.argv("pair", "--server", agent.server.url, "--username", agent.user.username, "--name", name),
        env=agent.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def paired_agent(
    server: Server, accounts: Accounts, config_dir: Path, cli: str = CLI, user: User | None = None
) -> Agent:
    agent = Agent(server, user or accounts.user(), config_dir, cli)
    process = start_pairing(agent)
    _, code = wait_for_code(agent.user)
    out, err = process.communicate(code + "\n", timeout=60)
    assert process.returncode == 0, err + out
    return agent


def all_photos(user: User, *, hidden: bool = False, burst_id: str | None = None) -> list[dict[str, Any]]:
    """Every photo of the timeline (or, with `hidden`, of the Hidden album; or a burst's frames)."""
    photos: list[dict[str, Any]] = []
    cursor = None
    view = {"hidden": "true"} if hidden else {"burst_id": burst_id} if burst_id else {}
    while True:
        params: dict[str, Any] = {"limit": 500} | view
        if cursor:
            params["cursor"] = cursor
        body = user.http.get("/api/photos", params=params).json()
        photos += body["photos"]
        cursor = body.get("next_cursor")
        if not cursor:
            return photos


def album_members(user: User, album_id: str) -> list[str]:
    members: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        body = user.http.get(f"/api/albums/{album_id}", params=params).json()
        members += [p["photos_uuid"] for p in body["photos"]]
        cursor = body.get("next_cursor")
        if not cursor:
            return members


def download(user: User, path: str) -> bytes:
    """Follow a pre-signed URL the API hands out, as a browser would."""
    link = user.http.get(path)
    assert link.status_code == 200, link.text
    response = httpx.get(link.json()["url"], timeout=60)
    assert response.status_code == 200
    return response.content


def photos_db(library: Path) -> Any:
    """The library as osxphotos reads it: what the agent should have sent."""
    import logging

    import osxphotos

    logging.getLogger("osxphotos").setLevel(logging.ERROR)
    return osxphotos.PhotosDB(dbfile=str(library))


def every_photo(db: Any) -> dict[str, Any]:
    """What the agent should send: osxphotos' photos plus every burst frame nobody picked."""
    photos = {p.uuid: p for p in db.photos()}
    for info in list(photos.values()):
        for frame in info.burst_photos:
            if not frame.intrash:
                photos.setdefault(frame.uuid, frame)
    return photos


BURST = "7A2C1E2B-0000-4000-8000-00000000B0B0"
BURST_KEY, BURST_FRAMES = (
    "D79B8D77-BFFC-460B-9312-034F2877D35B",
    ["1EB2B765-0765-43BA-A90C-0D0580E6172C", "F12384F6-CD17-4151-ACBA-AE0E3688539E"],
)
RAW_PAIRS = ["A92D9C26-3A50-4197-9388-CB5F7DB9FA91", "4D521201-92AC-43E5-8F7C-59BC41C37A96"]


def add_raws_and_a_burst(library: Path) -> dict[str, bytes]:
    """Make a copied Test-14 library hold what the fixture lacks: the RAW files of its two
    RAW+JPEG pairs (where Photos keeps them: beside the original as `<stem>_4.<ext>`) and a
    burst of three frames, one picked as key, two nobody picked. Returns the RAWs by uuid."""
    import sqlite3

    raws = {}
    for uuid in RAW_PAIRS:
        data = os.urandom(70_000)
        (library / "originals" / uuid[0] / f"{uuid}_4.cr2").write_bytes(data)
        raws[uuid] = data
    with sqlite3.connect(library / "database" / "Photos.sqlite") as conn:
        conn.create_function("NSCoreDataTriggerUpdateAffectedObjectValue", -1, lambda *_: None)
        conn.execute(
            "UPDATE ZASSET SET ZAVALANCHEUUID = ?, ZAVALANCHEPICKTYPE = 24 WHERE ZUUID = ?",
            (BURST, BURST_KEY),
        )
        for uuid in BURST_FRAMES:
            conn.execute(
                "UPDATE ZASSET SET ZAVALANCHEUUID = ?, ZAVALANCHEPICKTYPE = 2, ZVISIBILITYSTATE = 2 "
                "WHERE ZUUID = ?",
                (BURST, uuid),
            )
    return raws


def on_disk(path: str | None) -> bool:
    return bool(path) and Path(str(path)).is_file()


def make_jpeg(
    path: Path,
    color: tuple[int, int, int],
    *,
    taken: str,
    offset: str | None = None,
    gps: tuple[float, float] | None = None,
) -> None:
    """A small JPEG with EXIF: when it was taken (and the offset), and where."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    details = exif.get_ifd(0x8769)
    details[0x9003] = taken
    if offset:
        details[0x9011] = offset
    if gps:
        lat, lng = gps
        exif.get_ifd(0x8825).update(
            {
                1: "N" if lat >= 0 else "S",
                2: (abs(lat), 0.0, 0.0),
                3: "E" if lng >= 0 else "W",
                4: (abs(lng), 0.0, 0.0),
            }
        )
    Image.new("RGB", (64, 48), color).save(path, exif=exif)


def wait_until(check: Callable[[], Any], timeout: float, message: str) -> None:
    """Until `check()` is true (an HTTP error counts as not yet), else fail with `message`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(message)
