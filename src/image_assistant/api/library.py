"""The People and Places views: who and where the library shows, with counts and a cover."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from image_assistant.api.deps import Db, UserCaller
from image_assistant.api.docs import errors
from image_assistant.api.shapes import json_response, photo_json
from image_assistant.core import views

router = APIRouter(prefix="/api", tags=["photos"])


def _group_json(group: views.Group) -> dict[str, object]:
    return {
        "name": group.name,
        "country": group.country,
        "count": group.count,
        "cover": None if group.cover is None else photo_json(group.cover),
    }


@router.get("/people", responses=errors(401, 403))
def list_people(caller: UserCaller, db: Db) -> Response:
    """Named people with how many photos show them and a cover (their newest photo; no face crop)."""
    return json_response({"people": [_group_json(g) for g in views.people(db, user_id=caller.user_id)]})


@router.get("/places", responses=errors(401, 403))
def list_places(caller: UserCaller, db: Db) -> Response:
    """Places by name with their country, how many photos and a cover (the newest)."""
    found = views.places(db, user_id=caller.user_id)
    return json_response({"places": [_group_json(g) for g in found]})
