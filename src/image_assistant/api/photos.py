"""The timeline, one photo, and pre-signed links to its files and thumbnails."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from image_assistant.api.deps import Db, RuntimeDep, UserCaller, parse_uuid
from image_assistant.api.docs import PhotoId, errors
from image_assistant.api.links import presigned, presigned_url
from image_assistant.api.shapes import json_response, photo_detail_json, photo_json
from image_assistant.core import files, gallery
from image_assistant.core.files import FileKind
from image_assistant.errors import BadRequest, NotFound
from image_assistant.store.keys import THUMBNAIL_SIZES

router = APIRouter(prefix="/api/photos", tags=["photos"])


def _moment(value: str, name: str, *, end_of_day: bool = False) -> datetime:
    """A date (YYYY-MM-DD, UTC) or an ISO 8601 date-time with its zone."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(
            f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 time", code="invalid_date"
        ) from exc
    if moment.tzinfo is None:
        raise BadRequest(f"{name} needs its time zone (Z or ±hh:mm)", code="invalid_date")
    return moment


def photo_filters(
    q: str | None = Query(
        default=None,
        max_length=200,
        description="words, each the start of a word of the photo's title, caption, keywords, people, "
        "place, albums or file name (case and accents do not matter)",
    ),
    subtype: Literal[
        "screenshot", "selfie", "panorama", "portrait", "slow_mo", "time_lapse", "live", "burst", "raw"
    ]
    | None = Query(default=None),
    person: str | None = Query(default=None, max_length=200, description="a named person in the photo"),
    place: str | None = Query(default=None, max_length=200, description="the name of the photo's place"),
    album_id: str | None = Query(default=None, max_length=64, json_schema_extra={"format": "uuid"}),
    favorite: bool | None = Query(default=None, description="only favorites (true) or only the others"),
    media_type: Literal["photo", "video", "live"] | None = Query(default=None),
    date_from: str | None = Query(
        default=None,
        alias="from",
        max_length=40,
        description="taken on or after: YYYY-MM-DD (UTC) or ISO time",
    ),
    date_to: str | None = Query(
        default=None,
        alias="to",
        max_length=40,
        description="taken on or before this day (or before this time)",
    ),
    hidden: bool = Query(default=False, description="true: only hidden photos (the Hidden album)"),
    deleted: bool = Query(default=False, description="true: only photos removed from the library"),
    burst_id: str | None = Query(
        default=None, min_length=1, max_length=64, description="the frames of this burst"
    ),
) -> gallery.Filters:
    """The query parameters every listing of the timeline takes."""
    return gallery.Filters(
        query=q,
        subtype=subtype,
        person=person,
        place=place,
        view=_view(album_id=album_id, hidden=hidden, deleted=deleted, burst_id=burst_id),
        burst_id=burst_id,
        album_id=parse_uuid(album_id, "album_id") if album_id is not None else None,
        favorite=favorite,
        media_type=media_type,
        taken_from=None if date_from is None else _moment(date_from, "from"),
        taken_to=None if date_to is None else _moment(date_to, "to", end_of_day=True),
    )


def _view(*, album_id: str | None, hidden: bool, deleted: bool, burst_id: str | None) -> gallery.View:
    """The one view asked for: an album, the Hidden album, removed photos, a burst, or the library."""
    asked = {
        "album_id": (album_id is not None, gallery.View.LIBRARY),
        "hidden": (hidden, gallery.View.HIDDEN),
        "deleted": (deleted, gallery.View.DELETED),
        "burst_id": (burst_id is not None, gallery.View.BURST),
    }
    chosen = [view for given, view in asked.values() if given]
    if len(chosen) > 1:
        raise BadRequest("choose one of album_id, hidden, deleted and burst_id", code="conflicting_filters")
    return chosen[0] if chosen else gallery.View.LIBRARY


FiltersDep = Annotated[gallery.Filters, Depends(photo_filters)]


@router.get("", responses=errors(400, 401, 403, 404, 422))
def list_photos(
    caller: UserCaller,
    db: Db,
    filters: FiltersDep,
    limit: int = Query(default=100, ge=1, le=500),
    cursor: str | None = Query(default=None, max_length=512),
    direction: Literal["older", "newer"] = Query(
        default="older", description="from the cursor on to older photos, or the page just newer"
    ),
    before: str | None = Query(
        default=None, max_length=40, description="start at this moment: only photos taken before it"
    ),
) -> Response:
    """The library newest first, a burst as one item with `burst_count` (or what the filters and
    views leave of it: an album, the Hidden album, removed photos, a burst's frames), a page at a time: pass
    `next_cursor` on; a page opened inside the timeline (`before`, or a cursor) also has
    `prev_cursor`, which with `direction=newer` gives the page above it."""
    page = gallery.timeline(
        db,
        user_id=caller.user_id,
        filters=filters,
        after=cursor,
        before=None if before is None else _moment(before, "before"),
        newer=direction == "newer",
        limit=limit,
    )
    return json_response(
        {
            "photos": [photo_json(p) for p in page.photos],
            "next_cursor": page.next_cursor,
            "prev_cursor": page.prev_cursor,
        }
    )


@router.get("/months", responses=errors(400, 401, 403, 404, 422))
def list_months(caller: UserCaller, db: Db, filters: FiltersDep) -> Response:
    """How many photos each month holds (UTC months, newest first), with the listing's filters:
    what the timeline scrubber draws."""
    months = gallery.month_counts(db, user_id=caller.user_id, filters=filters)
    return json_response({"months": [{"month": m, "count": n} for m, n in months]})


@router.get("/{photo_id}", responses=errors(400, 401, 403, 404))
def get_photo(photo_id: PhotoId, caller: UserCaller, db: Db) -> Response:
    """One photo (hidden and removed ones too) with the facts in Photos and its stored `files`."""
    detail = gallery.photo_detail(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    return json_response(photo_detail_json(detail))


@router.post("/{photo_id}/restore", responses=errors(400, 401, 403, 404))
def restore(photo_id: PhotoId, caller: UserCaller, db: Db) -> Response:
    """Bring a photo removed from the library back into it; answers the photo."""
    detail = gallery.restore(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    return json_response(photo_detail_json(detail))


@router.get("/{photo_id}/albums", responses=errors(400, 401, 403, 404))
def photo_albums(photo_id: PhotoId, caller: UserCaller, db: Db) -> Response:
    """The albums the photo is in: `{albums: [{id, title, folder_path}]}`."""
    albums = gallery.photo_albums(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    return json_response(
        {
            "albums": [
                {"id": str(a.id), "title": a.title, "folder_path": list(a.folder_path or [])} for a in albums
            ]
        }
    )


@router.get("/{photo_id}/download", responses=errors(400, 401, 403, 404, 422))
def download(
    photo_id: PhotoId,
    request: Request,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    redirect: bool = False,
) -> Response:
    """A pre-signed URL of the original (1 h); `?redirect=true` answers 302 to it."""
    return download_file(photo_id, FileKind.ORIGINAL, request, caller, runtime, db, redirect)


@router.get("/{photo_id}/download/{kind}", responses=errors(400, 401, 403, 404, 422))
def download_file(
    photo_id: PhotoId,
    kind: FileKind,
    request: Request,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    redirect: bool = False,
) -> Response:
    """A pre-signed URL of one file of the photo (original, edited version, Live video…), for 1 h."""
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    row = files.find_file(db, photo_id=photo.id, kind=kind)
    if row is None or row.object_key is None:
        if kind is FileKind.ORIGINAL:
            raise NotFound("the original has not been uploaded yet", code="original_not_uploaded")
        raise NotFound(f"no {kind.value} of this photo on the server", code="version_not_found")
    return presigned(request, runtime, row.object_key, redirect=redirect, filename=row.filename or None)


@router.get("/{photo_id}/thumbnail/{size}", responses=errors(400, 401, 403, 404, 422))
def thumbnail(
    photo_id: PhotoId,
    size: Annotated[str, Path(json_schema_extra={"enum": list(THUMBNAIL_SIZES)})],
    request: Request,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    redirect: bool = False,
    version: Literal["current", "original"] = "current",
) -> Response:
    """A pre-signed URL of the small (200 px), medium (600) or large (1200) JPEG thumbnail, or the
    grid's avif400 or avif640 AVIF one (1 h): of the version shown (the edited one when there is
    one), or with `?version=original` of the original."""
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    key = gallery.thumbnail_of(photo, size=size, version=version)
    return presigned(request, runtime, key, redirect=redirect)


@router.get("/{photo_id}/playback", responses=errors(400, 401, 403, 404, 422))
def playback(
    photo_id: PhotoId,
    request: Request,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    kind: Literal["original", "live_video"] = "original",
    version: Literal["current", "original"] = "current",
) -> Response:
    """What a browser plays for the photo's video (or `?kind=live_video`, its Live Photo motion):
    of the version shown (the edited one when there is one), or with `?version=original` of the
    original; a pre-signed URL of its H.264 MP4 (or of the video itself when browsers play it as
    it is), a poster image, and which `version` it is (edited, original). 404 with
    `details.state` (none, pending, processing, failed) otherwise."""
    found = gallery.playback(
        db,
        user_id=caller.user_id,
        photo_id=parse_uuid(photo_id, "photo id"),
        kind=FileKind(kind),
        version=version,
    )
    poster = presigned_url(request, runtime, found.poster_key) if found.poster_key else None
    return json_response(
        {
            "url": presigned_url(request, runtime, found.key),
            "content_type": found.content_type,
            "poster": poster,
            "version": "edited" if found.edited else "original",
        }
    )
