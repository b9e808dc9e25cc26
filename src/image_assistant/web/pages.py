"""Gallery pages: one HTML shell for every page, the built front-end under /static.

Pages other than /login need a signed-in session (the `ia_session` cookie); without one
the browser is sent to /login and comes back after signing in. The front-end itself is
built from frontend/ by `npm run build` (scripts/install does it) into static/dist/.
"""

from __future__ import annotations

import hashlib
import html
import json
import mimetypes
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from image_assistant.api.deps import SESSION_COOKIE, Db, RuntimeDep
from image_assistant.core import accounts
from image_assistant.db.models import User
from image_assistant.errors import AppError

mimetypes.add_type("application/manifest+json", ".webmanifest")

STATIC_DIR = Path(__file__).resolve().parent / "static"
DIST_DIR = STATIC_DIR / "dist"

# Scripts, styles and fonts only from this server; pictures and videos may come from the
# object store's pre-signed URLs (another origin with S3).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self'",
        "img-src 'self' data: blob: http: https:",
        "media-src 'self' blob: http: https:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title} · Image Assistant</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="manifest" href="/static/manifest.webmanifest">
<link rel="apple-touch-icon" href="/static/icons/icon-192.png">
<meta name="theme-color" content="#0a66d8">
<link rel="stylesheet" href="/static/dist/main.css?v={version}">
<script type="module" src="/static/dist/main.js?v={version}"></script>{preload}
</head>
<body>
<script type="application/json" id="ia-user">{user}</script>
<div id="app"><noscript>The gallery needs JavaScript.</noscript></div>
</body>
</html>
"""

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Image Assistant</title></head>
<body><h1>The gallery has not been built</h1>
<p>Run <code>scripts/install</code> (it needs Node.js 18 or newer) and restart the server.</p>
</body></html>
"""

# Photos asks for its first page as soon as the bundle runs; asked from the HTML instead, it
# arrives while the bundle loads (the same URL as frontend/src/grid.js `pager` makes, or the
# browser warns that the preload went unused: tests/gallery/test_keyboard.py checks).
FIRST_PAGE = '\n<link rel="preload" href="/api/photos?limit=100" as="fetch" crossorigin="anonymous">'

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=4)
def _version(built_at: float) -> str:
    """A short hash of the built bundle, so a new build is never served from a stale cache."""
    digest = hashlib.sha256(str(built_at).encode())
    for name in ("main.js", "main.css"):
        digest.update((DIST_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def _user_json(user: User | None) -> str:
    """Who is signed in, for the page to show at once (no round trip); safe inside <script>."""
    if user is None:
        return "null"
    body = {"id": str(user.id), "username": user.username, "is_admin": user.is_admin}
    return json.dumps(body).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(title: str, user: User | None = None, *, preload: str = "") -> Response:
    bundle = DIST_DIR / "main.js"
    if not bundle.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503)
    version = _version(bundle.stat().st_mtime)
    body = SHELL.format(title=html.escape(title), version=version, user=_user_json(user), preload=preload)
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"}
    return HTMLResponse(body, headers=headers)


def _signed_in(request: Request, runtime: RuntimeDep, db: Db) -> User | None:
    """The user of the session cookie, if it is a live session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = runtime.signer.read(token)
        if claims.kind != "session":
            return None
        return accounts.active_session_user(db, claims.subject)
    except AppError:
        return None


def _gallery_page(request: Request, runtime: RuntimeDep, db: Db, title: str) -> Response:
    user = _signed_in(request, runtime, db)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = "" if target == "/" else f"?next={quote(target, safe='')}"
        return RedirectResponse(f"/login{query}", status_code=303)
    first_page = request.url.path == "/" and not request.url.query
    return _page(title, user, preload=FIRST_PAGE if first_page else "")


@router.get("/login")
def login_page(request: Request, runtime: RuntimeDep, db: Db) -> Response:
    if _signed_in(request, runtime, db) is not None:
        return RedirectResponse("/", status_code=303)
    return _page("Sign in")


# The gallery's pages for a signed-in person (the page's script routes by the address).
GALLERY_PAGES = {
    "/": "Photos",
    "/albums": "Albums",
    "/albums/{album_id}": "Album",
    "/people": "People",
    "/places": "Places",
    "/sync": "Sync",
    "/devices": "Devices",
    "/devices/add": "Add a device",
    "/account": "Account",
    "/admin/accounts": "People",
    "/sets": "Publish sets",
    "/sets/presets": "Export presets",  # before /sets/{set_id}, which would take it
    "/sets/{set_id}": "Publish set",
}


def _gallery_route(title: str) -> Callable[[Request, RuntimeDep, Db], Response]:
    def page(request: Request, runtime: RuntimeDep, db: Db) -> Response:
        return _gallery_page(request, runtime, db, title)

    return page


for _path, _title in GALLERY_PAGES.items():
    router.add_api_route(_path, _gallery_route(_title), methods=["GET"])


@router.get("/welcome")
def welcome_page() -> Response:
    """An invitation or reset link (its token is in the fragment, read by the page)."""
    return _page("Welcome")


@router.get("/s/{token}")
def share_page(token: str) -> Response:
    """The public page of a share link: no sign-in; the page asks the share API with the token."""
    response = _page("Shared photos")
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response


SERVICE_WORKER = Path(__file__).resolve().parent / "sw.js"


@router.get("/sw.js")
def service_worker() -> Response:
    """The service worker, at the top so its scope is the whole gallery; it names the build it
    caches, so a new build is a new worker (installed now, in charge at the next open)."""
    bundle = DIST_DIR / "main.js"
    version = _version(bundle.stat().st_mtime) if bundle.is_file() else "none"
    body = SERVICE_WORKER.read_text().replace("__BUILD__", version)
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": "default-src 'self'"}
    return Response(body, media_type="text/javascript", headers=headers)


def install(app: FastAPI) -> None:
    """Add the gallery's pages and its static files to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
