"""Share links: owners make, list and revoke them; anyone holding a token sees that share only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import Db, RuntimeDep, UserCaller, parse_uuid
from image_assistant.api.docs import AlbumId, SetId, ShareToken, errors, json_body
from image_assistant.api.publish import zip_response
from image_assistant.api.shapes import iso, json_response
from image_assistant.core import exports, shares
from image_assistant.db.models import Photo, Share
from image_assistant.errors import AppError, NotFound
from image_assistant.runtime import Runtime

router = APIRouter(tags=["shares"])
PASSWORD_HEADER = "x-share-password"
PASS_COOKIE = "ia_share_pass"


class NewShare(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_in: int = Field(ge=shares.MIN_EXPIRY, le=shares.MAX_EXPIRY, description="seconds")
    password: str | None = Field(default=None, max_length=1024)
    preset: str = Field(default="web-2048", min_length=1, max_length=64)
    allow_download: bool = False


class Unlock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=1024)


def share_json(share: Share, title: str) -> dict[str, Any]:
    return {
        "id": str(share.id),
        "kind": "publish_set" if share.set_id is not None else "album",
        "set_id": str(share.set_id) if share.set_id else None,
        "album_id": str(share.album_id) if share.album_id else None,
        "title": title,
        "preset": share.preset,
        "allow_download": share.allow_download,
        "has_password": share.password_hash is not None,
        "state": shares.state(share),
        "expires_at": iso(share.expires_at),
        "revoked_at": iso(share.revoked_at),
        "view_count": share.view_count,
        "last_viewed_at": iso(share.last_viewed_at),
        "created_at": iso(share.created_at),
    }


def _created(request: Request, made: shares.Created, title: str) -> Response:
    url = str(request.base_url).rstrip("/") + f"/s/{made.token}"
    body = {"token": made.token, "url": url, **share_json(made.share, title)}
    return json_response(body, status_code=status.HTTP_201_CREATED)


@router.post(
    "/api/publish-sets/{set_id}/shares",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(NewShare),
    responses=errors(400, 401, 403, 404, 413, 422),
)
def share_set(
    set_id: SetId, body: Annotated[NewShare, JsonBody(NewShare)], request: Request, caller: UserCaller, db: Db
) -> Response:
    """A link to the set in one preset; its `token` is shown this once (only its hash is kept)."""
    made = shares.create(db, user_id=caller.user_id, set_id=parse_uuid(set_id, "set id"), **body.model_dump())
    db.commit()
    return _created(request, made, shares.contents(db, made.share).title)


@router.get("/api/publish-sets/{set_id}/shares", responses=errors(400, 401, 403, 404))
def set_shares(set_id: SetId, caller: UserCaller, db: Db) -> Response:
    rows = shares.list_own(db, user_id=caller.user_id, set_id=parse_uuid(set_id, "set id"))
    return json_response({"shares": [share_json(s, t) for s, t in rows]})


@router.post(
    "/api/albums/{album_id}/shares",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(NewShare),
    responses=errors(400, 401, 403, 404, 413, 422),
)
def share_album(
    album_id: AlbumId,
    body: Annotated[NewShare, JsonBody(NewShare)],
    request: Request,
    caller: UserCaller,
    db: Db,
) -> Response:
    """A link to the album as it is whenever it is opened (it follows the album's changes)."""
    made = shares.create(
        db, user_id=caller.user_id, album_id=parse_uuid(album_id, "album id"), **body.model_dump()
    )
    db.commit()
    return _created(request, made, shares.contents(db, made.share).title)


@router.get("/api/albums/{album_id}/shares", responses=errors(400, 401, 403, 404))
def album_shares(album_id: AlbumId, caller: UserCaller, db: Db) -> Response:
    """The links to one of the caller's albums, with their state, expiry and view counts."""
    rows = shares.list_own(db, user_id=caller.user_id, album_id=parse_uuid(album_id, "album id"))
    return json_response({"shares": [share_json(s, t) for s, t in rows]})


@router.get("/api/shares", responses=errors(401, 403))
def own_shares(caller: UserCaller, db: Db) -> Response:
    """The caller's links with their state, expiry and view counts (tokens are never shown again)."""
    return json_response(
        {"shares": [share_json(s, t) for s, t in shares.list_own(db, user_id=caller.user_id)]}
    )


@router.delete("/api/shares/{token}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 403, 404))
def revoke(token: ShareToken, caller: UserCaller, db: Db) -> Response:
    """Revoke one of the caller's links, by its token or its id; it answers 410 from now on."""
    shares.revoke(db, user_id=caller.user_id, key=token)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- what a token opens -------------------------------------------------------------------------


def _limits(request: Request) -> tuple[shares.RateLimit, shares.RateLimit]:
    """Per client address: all requests, and failed ones (unknown token, wrong password)."""
    state = request.app.state
    if not hasattr(state, "share_limits"):
        state.share_limits = (
            shares.RateLimit(limit=600, window=60),
            shares.RateLimit(limit=20, window=60),
        )
    limits: tuple[shares.RateLimit, shares.RateLimit] = state.share_limits
    return limits


@contextmanager
def _guarded(request: Request) -> Iterator[None]:
    every, failed = _limits(request)
    client = request.client.host if request.client else "-"
    every.hit(client)
    failed.check(client)
    try:
        yield
    except AppError as exc:
        if exc.status in (401, 404):
            failed.hit(client)
        raise


def _open(request: Request, db: Db, token: str) -> Share:
    with _guarded(request):
        share = shares.find_live(db, token)
        shares.check_access(
            share, password=request.headers.get(PASSWORD_HEADER), pass_cookie=request.cookies.get(PASS_COOKIE)
        )
        return share


@router.get("/api/shares/{token}", responses=errors(401, 404, 410, 429))
def open_share(token: ShareToken, request: Request, db: Db) -> Response:
    """The shared photos in order, for the public page (counts a view). A password goes in
    `X-Share-Password`, or once to `…/unlock`."""
    share = _open(request, db, token)
    shown = shares.contents(db, share)
    plan = exports.plan_names(shown.title, shown.preset, shown.members)
    shares.count_view(db, share)
    db.commit()
    body = {
        "title": shown.title,
        "note": shown.note,
        "preset": shown.preset.as_json(),
        "allow_download": share.allow_download,
        "expires_at": iso(share.expires_at),
        "photos": [
            {
                "id": str(m.photo.id),
                "number": i + 1,
                "name": name,
                "width": m.photo.width,
                "height": m.photo.height,
                "has_thumbnail": m.photo.thumbnail_medium_key is not None,
            }
            for i, (m, name) in enumerate(zip(shown.members, plan, strict=True))
        ],
    }
    return json_response(body)


@router.post(
    "/api/shares/{token}/unlock",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra=json_body(Unlock),
    responses=errors(400, 401, 404, 410, 413, 422, 429),
)
def unlock(
    token: ShareToken, body: Annotated[Unlock, JsonBody(Unlock)], request: Request, db: Db
) -> Response:
    """Check the link's password once; a cookie then lets the page load its pictures."""
    with _guarded(request):
        share = shares.find_live(db, token)
        shares.check_access(share, password=body.password, pass_cookie=None)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if share.password_hash is not None:
        response.set_cookie(
            PASS_COOKIE,
            shares.unlock_pass(share),
            max_age=shares.UNLOCK_SECONDS,
            path=f"/api/shares/{token}",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


def _member_plan(db: Db, share: Share, photo_id: str) -> tuple[exports.Plan, exports.Item]:
    shown = shares.contents(db, share)
    wanted = parse_uuid(photo_id, "photo id")
    members = [m for m in shown.members if m.photo.id == wanted]
    if not members:
        raise NotFound("no such photo in this share", code="photo_not_found")
    plan = exports.plan(db, title=shown.title, preset=shown.preset, members=shown.members, only=wanted)
    return plan, plan.items[0]


@router.get("/api/shares/{token}/photos/{photo_id}", responses=errors(400, 401, 403, 404, 409, 410, 429))
def shared_photo(
    token: ShareToken, photo_id: str, request: Request, runtime: RuntimeDep, db: Db, download: bool = False
) -> Response:
    """One shared photo in the share's preset (`?download=true`: as a file, when allowed)."""
    share = _open(request, db, token)
    if download:
        shares.require_download(share)
    plan, item = _member_plan(db, share, photo_id)
    db.close()
    if item.source is None:
        raise NotFound("this photo is not on the server yet", code="original_not_uploaded")
    pieces, _ = exports.Renderer(runtime.store).pieces(item, plan.preset)
    disposition = "attachment" if download else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{item.name}"',
        "Cache-Control": "private, max-age=300",
    }
    return Response(b"".join(pieces), media_type="image/jpeg", headers=headers)


@router.get("/api/shares/{token}/photos/{photo_id}/thumbnail", responses=errors(400, 401, 404, 410, 429))
def shared_thumbnail(
    token: ShareToken, photo_id: str, request: Request, runtime: RuntimeDep, db: Db
) -> Response:
    """The medium (600 px) thumbnail of a shared photo, for the page's grid."""
    share = _open(request, db, token)
    _, item = _member_plan(db, share, photo_id)
    photo = db.get(Photo, item.photo_id)
    key = photo.thumbnail_medium_key if photo is not None else None
    db.close()
    if key is None:
        raise NotFound("the thumbnail is not ready", code="thumbnail_not_ready")
    return _stream(runtime, key)


def _stream(runtime: Runtime, key: str) -> Response:
    chunks = runtime.store.open(key)
    first = next(chunks, b"")

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    return StreamingResponse(
        body(), media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"}
    )


@router.get(
    "/api/shares/{token}/download",
    responses={**errors(401, 403, 404, 409, 410, 429), 200: {"content": {"application/zip": {}}}},
)
def download_share(token: ShareToken, request: Request, runtime: RuntimeDep, db: Db) -> StreamingResponse:
    """Every shared photo in the share's preset, as a zip (when the link allows downloads)."""
    share = _open(request, db, token)
    shares.require_download(share)
    shown = shares.contents(db, share)
    plan = exports.plan(db, title=shown.title, preset=shown.preset, members=shown.members)
    db.close()
    return zip_response(plan, runtime)
