"""Publish sets (create, list, read, change, delete), their zip per preset, and export presets."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import Db, RuntimeDep, UserCaller, parse_uuid
from image_assistant.api.docs import PhotoId, SetId, errors, json_body
from image_assistant.api.shapes import iso, json_response, photo_json
from image_assistant.core import exports, gallery, presets, publish, render_ahead
from image_assistant.core.publish import FocalPoint
from image_assistant.errors import QueueUnavailable
from image_assistant.thumbnails.memory import release_memory
from image_assistant.thumbnails.publish import queue_renditions

router = APIRouter(tags=["publish"])
log = logging.getLogger("image_assistant.publish")

PhotoIds = Annotated[list[uuid.UUID], Field(max_length=publish.MAX_PHOTOS)]


class NewSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=publish.MAX_TITLE)
    photo_ids: PhotoIds = Field(default_factory=list)


class Point(BaseModel):
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)


class SetChange(BaseModel):
    """What to change; what is left out stays as it is. `photo_ids`: the whole set, in its new order."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=publish.MAX_TITLE)
    note: str | None = Field(default=None, max_length=publish.MAX_NOTE)
    photo_ids: PhotoIds | None = None
    focal_points: dict[uuid.UUID, Point] | None = None


class MorePhotos(BaseModel):
    model_config = ConfigDict(extra="forbid")
    photo_ids: PhotoIds


class NewPreset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    mode: str = Field(json_schema_extra={"enum": ["fit", "crop"]})
    width: int
    height: int | None = None
    quality: int = 85
    filename_pattern: str = Field(default=presets.DEFAULT_PATTERN, max_length=200)


def set_json(publish_set: Any, photos: list[publish.SetPhoto] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(publish_set.id),
        "title": publish_set.title,
        "note": publish_set.note,
        "created_at": iso(publish_set.created_at),
        "updated_at": iso(publish_set.updated_at),
        **extra,
    }
    if photos is not None:
        body["photo_count"] = len(photos)
        body["photos"] = [
            {**photo_json(p.row), "position": p.position, "focal_point": {"x": p.focal.x, "y": p.focal.y}}
            for p in photos
        ]
    return body


def _full(db: Db, publish_set: Any) -> Response:
    return json_response(set_json(publish_set, publish.set_photos(db, publish_set=publish_set)))


@router.post(
    "/api/publish-sets",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(NewSet),
    responses=errors(400, 401, 403, 404, 413, 422),
)
def create_set(body: Annotated[NewSet, JsonBody(NewSet)], caller: UserCaller, db: Db) -> Response:
    """A new set of the caller's photos, in the order given."""
    created = publish.create_set(db, user_id=caller.user_id, title=body.title, photo_ids=body.photo_ids)
    db.commit()
    response = _full(db, created)
    response.status_code = status.HTTP_201_CREATED
    return response


@router.get("/api/publish-sets", responses=errors(401, 403))
def list_sets(caller: UserCaller, db: Db) -> Response:
    summaries = publish.list_sets(db, user_id=caller.user_id)
    return json_response(
        {
            "publish_sets": [
                set_json(
                    s.publish_set,
                    photo_count=s.photo_count,
                    cover_id=str(s.cover_id) if s.cover_id else None,
                )
                for s in summaries
            ]
        }
    )


@router.get("/api/publish-sets/{set_id}", responses=errors(400, 401, 403, 404))
def get_set(set_id: SetId, caller: UserCaller, db: Db) -> Response:
    """The set with its `photos` in order, each with its `position` and `focal_point`."""
    return _full(db, publish.get_set(db, user_id=caller.user_id, set_id=parse_uuid(set_id, "set id")))


@router.put(
    "/api/publish-sets/{set_id}",
    openapi_extra=json_body(SetChange),
    responses=errors(400, 401, 403, 404, 413, 422),
)
def update_set(
    set_id: SetId, body: Annotated[SetChange, JsonBody(SetChange)], caller: UserCaller, db: Db
) -> Response:
    focal = None
    if body.focal_points is not None:
        focal = {pid: FocalPoint(p.x, p.y) for pid, p in body.focal_points.items()}
    changed = publish.update_set(
        db,
        user_id=caller.user_id,
        set_id=parse_uuid(set_id, "set id"),
        title=body.title,
        note=body.note,
        photo_ids=body.photo_ids,
        focal_points=focal,
    )
    db.commit()
    return _full(db, changed)


@router.post(
    "/api/publish-sets/{set_id}/photos",
    openapi_extra=json_body(MorePhotos),
    responses=errors(400, 401, 403, 404, 413, 422),
)
def add_photos(
    set_id: SetId, body: Annotated[MorePhotos, JsonBody(MorePhotos)], caller: UserCaller, db: Db
) -> Response:
    """Append photos to the set (those it holds already keep their place)."""
    changed = publish.add_photos(
        db, user_id=caller.user_id, set_id=parse_uuid(set_id, "set id"), photo_ids=body.photo_ids
    )
    db.commit()
    return _full(db, changed)


@router.delete(
    "/api/publish-sets/{set_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(400, 401, 403, 404)
)
def delete_set(set_id: SetId, caller: UserCaller, db: Db) -> Response:
    publish.delete_set(db, user_id=caller.user_id, set_id=parse_uuid(set_id, "set id"))
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _trimmed(body: Iterator[bytes]) -> Iterator[bytes]:
    """The zip's bytes; then the heap pages its photos passed through go back to the system."""
    try:
        yield from body
    finally:
        release_memory()


def zip_response(plan: exports.Plan, runtime: RuntimeDep) -> StreamingResponse:
    renderer = exports.Renderer(runtime.store)
    body = _trimmed(exports.stream_zip(plan, renderer, now=datetime.now(UTC)))
    headers = {"Content-Disposition": f'attachment; filename="{plan.zip_name}"', "Cache-Control": "no-store"}
    return StreamingResponse(body, media_type="application/zip", headers=headers)


def _set_plan(db: Db, *, user_id: uuid.UUID, set_id: uuid.UUID, preset: str) -> exports.Plan:
    chosen = presets.resolve(db, user_id=user_id, name=preset)
    publish_set = publish.get_set(db, user_id=user_id, set_id=set_id)
    return exports.plan(db, title=publish_set.title, preset=chosen, members=publish.members(db, publish_set))


def _plan_and_progress(
    db: Db, runtime: RuntimeDep, user_id: uuid.UUID, set_id: str, preset: str
) -> tuple[exports.Plan, dict[str, Any] | None]:
    """The set's zip plan in `preset`, and its rendering progress while the queue makes it."""
    wanted = parse_uuid(set_id, "set id")
    plan = _set_plan(db, user_id=user_id, set_id=wanted, preset=preset)
    return plan, _rendering(db, runtime, wanted, plan)


@router.get(
    "/api/publish-sets/{set_id}/download",
    responses={
        **errors(400, 401, 403, 404, 409, 422),
        200: {"content": {"application/zip": {}}},
        202: {"description": 'a large set being rendered: `{"state": "rendering", "done", "total"}`'},
    },
)
def download(
    set_id: SetId,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    preset: str = Query(min_length=1, max_length=64),
) -> Response:
    """The set as a zip of one preset's renditions, streamed as they are made; a photo that
    cannot be made is named in REPORT.txt inside it (409 when none has its original yet). A set
    of more than PUBLISH_ASYNC_PHOTOS photos whose renditions are not all made answers 202 with
    the progress while the queue makes them: ask again until the zip comes (copied from the cache)."""
    plan, progress = _plan_and_progress(db, runtime, caller.user_id, set_id, preset)
    if progress is not None:
        response = json_response(progress, status_code=status.HTTP_202_ACCEPTED)
        response.headers["Retry-After"] = "2"
        return response
    return zip_response(plan, runtime)


@router.get("/api/publish-sets/{set_id}/download/state", responses=errors(400, 401, 403, 404, 409, 422))
def download_state(
    set_id: SetId,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    preset: str = Query(min_length=1, max_length=64),
) -> Response:
    """Whether the set's zip in a preset would stream now (`{"state": "ready", "done", "total"}`)
    or is being rendered (`{"state": "rendering", ...}`, queued as the download does): the set
    page asks this, never the zip itself, until it lets the browser save the zip."""
    plan, progress = _plan_and_progress(db, runtime, caller.user_id, set_id, preset)
    total = len(plan.items)
    return json_response(progress or {"state": "ready", "done": total, "total": total})


def _rendering(db: Db, runtime: RuntimeDep, set_id: uuid.UUID, plan: exports.Plan) -> dict[str, Any] | None:
    """The progress of a large set whose renditions are still being made in the queue (queued
    here unless another request queued them); None when the zip streams now."""
    db.close()  # no connection is held while the store is asked (or the zip streams)
    if len(plan.items) <= runtime.settings.publish_async_photos:
        return None
    waiting = exports.unready(plan, runtime.store)
    if not waiting:
        render_ahead.release(db, set_id=set_id, preset=plan.preset.name)  # committed: nothing held
        return None
    if not _render_ahead(db, runtime, set_id, plan, waiting):
        return None
    return {"state": "rendering", "done": len(plan.items) - len(waiting), "total": len(plan.items)}


def _render_ahead(
    db: Db, runtime: RuntimeDep, set_id: uuid.UUID, plan: exports.Plan, waiting: list[exports.Item]
) -> bool:
    """Queue the renditions still to make, unless a request (of any API process) queued them
    already; False when the queue is away (the zip then streams as it renders)."""
    if not render_ahead.claim(db, set_id=set_id, plan=plan, now=datetime.now(UTC)):
        return True
    try:
        queue_renditions(runtime.queue, set_id=set_id, preset=plan.preset, items=waiting)
    except QueueUnavailable as exc:
        log.warning("renditions of set %s could not be queued (streaming instead): %s", set_id, exc)
        render_ahead.release(db, set_id=set_id, preset=plan.preset.name)
        return False
    return True


JPEG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/jpeg": {}}}}


def rendition_response(item: exports.Item, preset: presets.Preset, runtime: RuntimeDep) -> Response:
    """The item's rendition (made once, then from the store's cache), named for the share sheet."""
    pieces, _ = exports.Renderer(runtime.store).pieces(item, preset)
    headers = {
        "Content-Disposition": f'attachment; filename="{item.name}"',
        "Cache-Control": "private, max-age=300",
    }
    return Response(b"".join(pieces), media_type="image/jpeg", headers=headers)


@router.get(
    "/api/publish-sets/{set_id}/photos/{photo_id}/rendition",
    responses={**errors(400, 401, 403, 404, 409, 422), **JPEG},
)
def set_rendition(
    set_id: SetId,
    photo_id: PhotoId,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    preset: str = Query(min_length=1, max_length=64),
) -> Response:
    """One photo of the set in a preset, named as in the set's zip (what Share… hands to apps);
    409 `originals_missing` while its file is not on the server."""
    chosen = presets.resolve(db, user_id=caller.user_id, name=preset)
    publish_set = publish.get_set(db, user_id=caller.user_id, set_id=parse_uuid(set_id, "set id"))
    item = exports.set_photo(
        db,
        title=publish_set.title,
        preset=chosen,
        members=publish.members(db, publish_set),
        photo_id=parse_uuid(photo_id, "photo id"),
    )
    db.close()
    return rendition_response(item, chosen, runtime)


@router.get("/api/photos/{photo_id}/rendition", responses={**errors(400, 401, 403, 404, 409, 422), **JPEG})
def photo_rendition(
    photo_id: PhotoId,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    preset: str = Query(min_length=1, max_length=64),
) -> Response:
    """A photo on its own in a preset (the lightbox's Share…), named as a set of one after its
    file name; 409 `originals_missing` while its file is not on the server."""
    chosen = presets.resolve(db, user_id=caller.user_id, name=preset)
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    item = exports.lone_photo(db, photo=photo, preset=chosen)
    db.close()
    return rendition_response(item, chosen, runtime)


@router.get("/api/presets", responses=errors(401, 403))
def list_presets(caller: UserCaller, db: Db) -> dict[str, Any]:
    """The built-in presets, then the caller's own."""
    return {"presets": [p.as_json() for p in presets.list_presets(db, user_id=caller.user_id)]}


@router.post(
    "/api/presets",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(NewPreset),
    responses=errors(400, 401, 403, 409, 413, 422),
)
def create_preset(
    body: Annotated[NewPreset, JsonBody(NewPreset)], caller: UserCaller, db: Db
) -> dict[str, Any]:
    """A preset of the caller's own: `fit` in a long edge of `width`, or `crop` to width x height."""
    preset = presets.validate(
        name=body.name,
        mode=body.mode,
        width=body.width,
        height=body.height,
        quality=body.quality,
        filename_pattern=body.filename_pattern,
    )
    presets.create(db, user_id=caller.user_id, preset=preset)
    db.commit()
    return preset.as_json()


@router.delete("/api/presets/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 403, 404))
def delete_preset(name: str, caller: UserCaller, db: Db) -> Response:
    presets.delete(db, user_id=caller.user_id, name=name)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
