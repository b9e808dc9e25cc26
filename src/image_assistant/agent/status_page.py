"""The local status page on 127.0.0.1:5219: progress, counts, last sync, errors, "Sync now".

Loopback only. "Sync now" is a POST carrying a per-process token that only the page
knows, and requests whose Host is not this loopback address are refused, so another
web page cannot start passes (CSRF, DNS rebinding).
"""

from __future__ import annotations

import html
import json
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from image_assistant.agent.progress import Progress

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Image Assistant agent</title>
<style>
body{{font:15px/1.4 -apple-system,system-ui,sans-serif;margin:2rem;max-width:44rem;color:#222}}
table{{border-collapse:collapse}}td{{padding:.2rem 1rem .2rem 0}}
progress{{width:100%}}.err{{color:#a00;font-size:13px}}button{{font-size:15px;padding:.4rem 1rem}}
</style></head><body>
<h1>Image Assistant agent</h1>
<form method="post" action="/sync-now"><input type="hidden" name="token" value="{token}">
<button type="submit">Sync now</button></form>
<p><progress id="bar" max="{total}" value="{done}"></progress></p>
<table id="facts">{rows}</table>
<h2>Recent errors</h2><ul id="errors">{errors}</ul>
<script>
async function refresh(){{
  try{{const r=await fetch('/status.json');const s=await r.json();
    document.getElementById('bar').max=Math.max(s.uploads.total,1);
    document.getElementById('bar').value=s.uploads.done;}}catch(e){{}}
}}
setInterval(()=>{{refresh();}},2000);
setTimeout(()=>location.reload(),15000);
</script>
</body></html>"""


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def cloud_line(status: dict[str, Any]) -> str:
    cloud = status.get("cloud") or {}
    total, done = int(cloud.get("total") or 0), int(cloud.get("done") or 0)
    if not total:
        return "-"
    if status.get("phase") == "fetching":
        return f"downloading from iCloud: {done} of {total}"
    return f"downloaded from iCloud: {done} of {total}"


def waiting_line(status: dict[str, Any]) -> str:
    """How many originals wait, and why (e.g. "3 (2: fetching … needs macOS; 1: …)")."""
    count = int(status.get("waiting_for_original") or 0)
    reasons = status.get("waiting_reasons") or {}
    if not count or not reasons:
        return str(count)
    return f"{count} ({'; '.join(f'{n}: {why}' for why, n in sorted(reasons.items()))})"


def status_lines(status: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts shown on the page and by `agent status`, as (label, value)."""
    uploads, sent = status["uploads"], status["bytes"]
    rate = status.get("rate_bytes_per_s") or 0
    eta = status.get("eta_s")
    reachable = status.get("server_reachable")
    return [
        ("Phase", str(status["phase"])),
        ("Source", status.get("source") or "-"),
        ("Photos", str(status["photos"])),
        ("Albums", str(status["albums"])),
        ("Uploaded", f"{uploads['done']} of {uploads['total']}"),
        ("Bytes", f"{human_bytes(sent['done'])} of {human_bytes(sent['total'])}"),
        ("Rate", f"{human_bytes(rate)}/s" if rate else "-"),
        ("ETA", f"{eta} s" if eta is not None else "-"),
        ("iCloud", cloud_line(status)),
        ("Waiting for original", waiting_line(status)),
        ("Last successful sync", status.get("last_success_at") or "never"),
        ("Server", "unknown" if reachable is None else "reachable" if reachable else "unreachable"),
        *server_side_lines(status.get("server_side") or {}),
    ]


def server_side_lines(side: dict[str, Any]) -> list[tuple[str, str]]:
    """What the server holds for this device, as it last said (after each pass)."""
    if not side:
        return [("Server holds", "not asked yet")]
    return [
        ("Server holds", f"{side.get('photos')} photos, {side.get('albums')} albums"),
        ("Server waits for", f"{side.get('pending_uploads')} uploads"),
        ("Server's last sync", side.get("last_sync_at") or "never"),
        ("Server asked at", side.get("checked_at") or "-"),
    ]


class StatusPage:
    """A small HTTP server in a thread, reading a Progress and calling `on_sync_now`."""

    def __init__(self, progress: Progress, on_sync_now: Callable[[], None], port: int = 5219) -> None:
        self.progress = progress
        self.on_sync_now = on_sync_now
        self.token = secrets.token_urlsafe(24)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, name="status-page", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def render(self) -> str:
        status = self.progress.as_json()
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in status_lines(status)
        )
        errors = (
            "".join(
                f'<li class="err">{html.escape(e["at"])} {html.escape(e["message"])}</li>'
                for e in status["errors"]
            )
            or "<li>none</li>"
        )
        return PAGE.format(
            token=self.token,
            rows=rows,
            errors=errors,
            total=max(status["uploads"]["total"], 1),
            done=status["uploads"]["done"],
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        page = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                return

            def _host_ok(self) -> bool:
                host = (self.headers.get("host") or "").rsplit(":", 1)[0]
                return host in ("127.0.0.1", "localhost")

            def _send(
                self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.send_header("cache-control", "no-store")
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                if not self._host_ok():
                    self._send(403, b"forbidden", "text/plain")
                elif self.path == "/":
                    self._send(200, page.render().encode(), "text/html; charset=utf-8")
                elif self.path == "/status.json":
                    self._send(200, json.dumps(page.progress.as_json()).encode(), "application/json")
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                length = int(self.headers.get("content-length") or 0)
                form = parse_qs(self.rfile.read(min(length, 4096)).decode(errors="replace"))
                token = (form.get("token") or [""])[0]
                if self.path != "/sync-now":
                    self._send(404, b"not found", "text/plain")
                elif not self._host_ok() or not secrets.compare_digest(token, page.token):
                    self._send(403, b"forbidden", "text/plain")
                else:
                    page.on_sync_now()
                    self._send(303, b"", "text/plain", {"location": "/"})

        return Handler
