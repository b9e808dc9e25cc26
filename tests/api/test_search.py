"""Search and filters of GET /api/photos (and /months), People and Places, on SQLite (FTS5) and
PostgreSQL (tsvector + GIN): every filter, accents and case, prefixes, album titles, hidden photos."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.helpers.records import photo_record
from tests.helpers.server import Accounts, Device, Server

BACKENDS = pytest.mark.parametrize("server", ["sqlite", "postgres"], indirect=True)


@dataclass
class Library:
    device: Device
    http: httpx.Client
    names: dict[str, str]  # photos_uuid → filename
    album_id: str


def listed(http: httpx.Client, **params: str) -> list[str]:
    """Filenames of every page of the listing, in order."""
    names, cursor = [], None
    while True:
        query = {**params, "limit": "7", **({"cursor": cursor} if cursor else {})}
        response = http.get("/api/photos", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        names += [p["filename"] for p in page["photos"]]
        cursor = page["next_cursor"]
        if not cursor:
            return names


@pytest.fixture(scope="module")
def library(server: Server) -> Iterator[Library]:
    made = Accounts(server)
    device = made.device()
    records = [
        photo_record(
            filename="CREME.JPG",
            taken_at="2024-05-01T10:00:00Z",
            title="Crème brûlée",
            keywords=["Dessert", "café"],
            persons=["Zoé Martin", "Ana"],
            is_favorite=True,
        ),
        photo_record(
            filename="SEINE.JPG",
            taken_at="2024-04-01T10:00:00Z",
            description="Evening by the Seine",
            place={"name": "Paris", "city": "Paris", "country": "France"},
            persons=["Zoé Martin"],
        ),
        photo_record(
            filename="SCREEN.PNG",
            taken_at="2023-12-24T10:00:00Z",
            subtypes=["screenshot"],
            place={"name": "Lyon", "city": "Lyon", "country": "France"},
        ),
        photo_record(filename="LIVE.HEIC", taken_at="2023-06-01T10:00:00Z", subtypes=["live", "selfie"]),
        photo_record(filename="BURST_1.JPG", taken_at="2023-05-01T10:00:00Z", burst_id="B1", burst_key=True),
        photo_record(filename="RAW.DNG", taken_at="2022-01-01T10:00:00Z", subtypes=["raw", "panorama"]),
        photo_record(
            filename="CLIP.MOV",
            taken_at="2022-02-01T10:00:00Z",
            media_type="video",
            content_type="video/quicktime",
        ),
        photo_record(
            filename="SECRET.JPG", taken_at="2024-05-02T10:00:00Z", title="Crème secrète", is_hidden=True
        ),
    ]
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    album = {
        "photos_uuid": str(uuid.uuid4()),
        "title": "Vacances d'été",
        "photos": [records[1]["photos_uuid"], records[2]["photos_uuid"]],
    }
    assert device.http.post("/api/sync/albums", json={"albums": [album]}).status_code == 200
    album_id = device.owner.http.get("/api/albums").json()["albums"][0]["id"]
    yield Library(device, device.owner.http, {r["photos_uuid"]: r["filename"] for r in records}, album_id)
    made.close()


@BACKENDS
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("creme", ["CREME.JPG"]),  # title, accents off
        ("BRÛL", ["CREME.JPG"]),  # prefix, case
        ("cafe", ["CREME.JPG"]),  # keyword
        ("zoe", ["CREME.JPG", "SEINE.JPG"]),  # people
        ("zoé mart", ["CREME.JPG", "SEINE.JPG"]),  # two words, both prefixes
        ("zoe ana", ["CREME.JPG"]),  # every word must match
        ("seine", ["SEINE.JPG"]),  # caption
        ("paris", ["SEINE.JPG"]),  # place
        ("france", ["SEINE.JPG", "SCREEN.PNG"]),  # country
        ("vacances ete", ["SEINE.JPG", "SCREEN.PNG"]),  # album title
        ("burst", ["BURST_1.JPG"]),  # file name
        ("secret", []),  # a hidden photo is found only in the Hidden view
        ("nothing-like-this", []),
        ("%_*\"'", None),  # no words: no narrowing
    ],
)
def test_one_search_over_every_text(library: Library, q: str, expected: list[str] | None) -> None:
    found = listed(library.http, q=q)
    if expected is None:
        assert len(found) == 7
    else:
        assert found == expected


@BACKENDS
def test_every_filter_alone_and_together(library: Library) -> None:
    http = library.http
    assert listed(http, favorite="true") == ["CREME.JPG"]
    assert listed(http, media_type="video") == ["CLIP.MOV"]
    assert listed(http, subtype="screenshot") == ["SCREEN.PNG"]
    assert listed(http, subtype="selfie") == ["LIVE.HEIC"]
    assert listed(http, subtype="live") == ["LIVE.HEIC"]
    assert listed(http, subtype="panorama") == listed(http, subtype="raw") == ["RAW.DNG"]
    assert listed(http, subtype="burst") == ["BURST_1.JPG"]
    assert listed(http, person="Zoé Martin") == ["CREME.JPG", "SEINE.JPG"]
    assert listed(http, person="Zoe Martin") == []  # a person is named exactly
    assert listed(http, place="Paris") == ["SEINE.JPG"]
    assert listed(http, album_id=library.album_id) == ["SEINE.JPG", "SCREEN.PNG"]
    assert listed(http, **{"from": "2023-01-01", "to": "2023-12-31"}) == [
        "SCREEN.PNG",
        "LIVE.HEIC",
        "BURST_1.JPG",
    ]
    assert listed(http, q="france", album_id=library.album_id, **{"from": "2024-01-01"}) == ["SEINE.JPG"]
    assert listed(http, q="zoe", favorite="true") == ["CREME.JPG"]
    months = http.get("/api/photos/months", params={"q": "france"}).json()["months"]
    assert months == [{"month": "2024-04", "count": 1}, {"month": "2023-12", "count": 1}]
    assert http.get("/api/photos", params={"subtype": "painting"}).status_code == 422
    assert http.get("/api/photos", params={"q": "x" * 201}).status_code == 422


@BACKENDS
def test_people_and_places_count_their_photos_with_a_cover(library: Library) -> None:
    people = library.http.get("/api/people").json()["people"]
    assert [(p["name"], p["count"]) for p in people] == [("Zoé Martin", 2), ("Ana", 1)]
    assert people[0]["cover"]["filename"] == "CREME.JPG"  # the newest
    places = library.http.get("/api/places").json()["places"]
    assert [(p["name"], p["country"], p["count"]) for p in places] == [
        ("Lyon", "France", 1),
        ("Paris", "France", 1),
    ]
    assert places[1]["cover"]["filename"] == "SEINE.JPG"


@BACKENDS
def test_a_changed_photo_or_album_is_found_by_its_new_words(library: Library, accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record(filename="A.JPG", title="Avant")
    device.http.post("/api/sync/photos", json={"photos": [record]})
    http = device.owner.http
    assert listed(http, q="avant") == ["A.JPG"]
    record.update(title="Après", keywords=["Montagne"])
    device.http.post("/api/sync/photos", json={"photos": [record]})
    assert listed(http, q="avant") == [] and listed(http, q="apres montag") == ["A.JPG"]
    album = {"photos_uuid": str(uuid.uuid4()), "title": "Hiver", "photos": [record["photos_uuid"]]}
    device.http.post("/api/sync/albums", json={"albums": [album]})
    assert listed(http, q="hiver") == ["A.JPG"]
    album["title"] = "Printemps"
    device.http.post("/api/sync/albums", json={"albums": [album]})
    assert listed(http, q="hiver") == [] and listed(http, q="printemps") == ["A.JPG"]
    device.http.post("/api/sync/albums", json={"albums": [], "complete": True})
    assert listed(http, q="printemps") == []
    assert listed(accounts.user().http, q="apres") == []  # another user finds nothing of it


@BACKENDS
def test_words_shorter_and_longer_than_the_indexed_prefixes(accounts: Accounts) -> None:
    """PostgreSQL indexes the first six letters of each word (core/search.py PREFIX_LENGTH): a
    longer query word must still begin a word whole, a shorter one any word it begins."""
    device = accounts.device()
    records = [
        photo_record(
            filename="IMG_0042.JPG",
            taken_at="2024-05-02T10:00:00Z",
            title="Graduation à Marseille",
            persons=["Zoé Martin"],
        ),
        photo_record(filename="IMG_0043.JPG", taken_at="2024-05-01T10:00:00Z", title="Martinique"),
    ]
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    http = device.owner.http
    both = ["IMG_0042.JPG", "IMG_0043.JPG"]
    assert listed(http, q="graduat") == listed(http, q="GRADUATION") == ["IMG_0042.JPG"]
    assert listed(http, q="graduations") == []
    assert listed(http, q="marseil") == ["IMG_0042.JPG"]
    assert listed(http, q="marseillaise") == []
    assert listed(http, q="martin") == listed(http, q="m") == both
    assert listed(http, q="martini") == ["IMG_0043.JPG"]
    assert listed(http, q="zoe martini") == []
    assert listed(http, q="marti zo graduati") == ["IMG_0042.JPG"]
    assert listed(http, q="img 004") == both
    assert listed(http, q="0042") == ["IMG_0042.JPG"]
