"""The status page and `agent status` show the server's side: what it holds for this device,
the uploads it still waits for, and the last sync it recorded."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.helpers.agent import Agent, make_jpeg
from tests.helpers.records import photo_record
from tests.helpers.server import free_port


def test_status_page_and_agent_status_show_what_the_server_holds(agent: Agent, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    make_jpeg(folder / "a.jpg", (1, 1, 1), taken="2024:03:03 03:03:03")
    make_jpeg(folder / "Trip" / "b.jpg", (2, 2, 2), taken="2024:03:03 03:03:04")
    port = free_port()
    process = agent.popen("run", "--folder", str(folder), "--interval", "3600", "--status-port", str(port))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not agent.status_file().get("server_side"):
            time.sleep(0.2)
        side = httpx.get(f"http://127.0.0.1:{port}/status.json").json()["server_side"]
        assert (side["photos"], side["albums"], side["pending_uploads"]) == (2, 1, 0)
        assert side["last_sync_at"]
        page = httpx.get(f"http://127.0.0.1:{port}").text
        assert "<td>Server holds</td><td>2 photos, 1 albums</td>" in page
        assert "<td>Server waits for</td><td>0 uploads</td>" in page
        assert f"<td>Server&#x27;s last sync</td><td>{side['last_sync_at']}</td>" in page
    finally:
        process.terminate()
        process.wait(timeout=30)

    # The server learns of a photo whose file it lacks (as from another pass): `agent status` asks it now.
    with agent.server.client(agent.device_token()) as device:
        assert device.post("/api/sync/photos", json={"photos": [photo_record()]}).status_code == 200
    lines = agent.run("status").stdout
    assert re.search(r"^Server holds: +3 photos, 1 albums$", lines, re.M), lines
    assert re.search(r"^Server waits for: +1 uploads$", lines, re.M), lines
    assert re.search(r"^Server's last sync: +\d{4}-\d\d-\d\dT", lines, re.M), lines
