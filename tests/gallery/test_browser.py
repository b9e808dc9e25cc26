"""The web gallery in a real headless Chromium against a real `image-assistant serve`.

Browser tests run on the SQLite server only (the pages are the same on every backend; the
API tests cover the others). Thumbnails: when the server runs the thumbnail pipeline the
tests wait for it and expect real images; without it they expect placeholders. Either way
each tile is checked against the thumbnail state the API reports for its photo.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.helpers.browser import chromium, new_context, sign_in, snap, wait_for_thumbnails, wait_until
from tests.helpers.library import LibraryPhoto, copy_library, sync_library
from tests.helpers.records import photo_record
from tests.helpers.server import Accounts, Device, Server, User

LIBRARY = "Test-14.0.0.photoslibrary"
# The shared server fixture runs on every backend; the browser tests need only one.
SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


@dataclass
class Library:
    """The fixture library synced by one user's device, and the API's view of it."""

    owner: User
    device: Device
    photos: list[LibraryPhoto]
    albums: list[dict[str, Any]]
    listing: list[dict[str, Any]]
    api_albums: list[dict[str, Any]]


def walk(http: Any, path: str = "/api/photos", **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = http.get(path, params={**params, **({"cursor": cursor} if cursor else {})}).json()
        seen.extend(page["photos"])
        cursor = page["next_cursor"]
        if not cursor:
            return seen


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as (_, launched):
        yield launched


@pytest.fixture(scope="module")
def library(
    server: Server, fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Library]:
    made = Accounts(server)
    device = made.device()
    path = copy_library(fixtures_dir, LIBRARY, tmp_path_factory.mktemp("gallery"))
    photos, albums = sync_library(device.http, path)
    wait_for_thumbnails(device.owner.http, server.url)
    listing = walk(device.owner.http)
    api_albums = device.owner.http.get("/api/albums").json()["albums"]
    yield Library(device.owner, device, photos, albums, listing, api_albums)
    made.close()


class Watched:
    """A page whose script errors and blocked (CSP) loads are collected, and its requests."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", self._console)
        page.on("request", lambda request: self.requests.append(request.url))

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(f"console: {message.text}")

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    made = new_context(browser, server.url)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Watched]:
    watched = Watched(context.new_page())
    yield watched
    watched.assert_clean()


def tile_states(page: Page) -> list[dict[str, Any]]:
    return page.eval_on_selector_all(
        ".tile",
        """tiles => tiles.map(t => {
            const img = t.querySelector('img');
            const box = t.getBoundingClientRect();
            return {id: t.dataset.id, cls: t.className, w: box.width, h: box.height,
                    label: img ? img.alt : (t.querySelector('.ph')?.getAttribute('aria-label') ?? ''),
                    img: !!img, loaded: !!img && img.complete && img.naturalWidth > 0,
                    mark: !!t.querySelector('.mark'),
                    group: t.closest('.row').dataset.group, index: Number(t.dataset.index)};
        })""",
    )


def all_tiles(page: Page, *, loaded: bool = False) -> list[dict[str, Any]]:
    """Every tile of the grid, top to bottom: the grid keeps only the rows near the screen in
    the page, so this scrolls through it (waiting for each screen's thumbnails with `loaded`)."""
    page.evaluate("window.scrollTo(0, 0)")
    seen: dict[int, dict[str, Any]] = {}
    for _ in range(1000):
        if loaded:
            wait_until(
                lambda: all(t["loaded"] or not t["img"] for t in tile_states(page)),
                timeout=20,
                what="thumbnails",
            )
        for tile in tile_states(page):
            seen.setdefault(tile["index"], tile)
        at_end = page.evaluate("scrollY + innerHeight >= document.documentElement.scrollHeight - 2")
        if at_end and page.locator(".grid-end.is-done").count():
            break
        page.evaluate("window.scrollBy(0, 600)")
        page.wait_for_timeout(50)
    assert sorted(seen) == list(range(len(seen))), "every tile once, none skipped"
    return [seen[i] for i in sorted(seen)]


def expected_state(photo: dict[str, Any]) -> str:
    if photo["thumbnails"]["small"]:
        return "ready"
    if photo["thumbnail_status"] == "failed":
        return "failed"
    return "pending" if photo["has_original"] else "waiting"


# page positions of the first 40 tiles in the page: {index: [x, y, width, height]}
BOXES = """ts => Object.fromEntries(ts.filter(t => t.dataset.index < 40).map(t => {
    const b = t.getBoundingClientRect();
    return [t.dataset.index, [b.x, b.y + scrollY, b.width, b.height]];
}))"""


def scroll_to_end(page: Page) -> None:
    """Scroll like a reader: a screen at a time, until the grid says it has shown everything."""
    for _ in range(400):
        if page.locator(".grid-end.is-done").count():
            return
        page.mouse.wheel(0, 900)
        page.wait_for_timeout(60)
    raise AssertionError("the grid never reached its end")


# -- sign-in ---------------------------------------------------------------------------------


@SQLITE
def test_pages_need_a_session_and_sign_out_ends_it(page: Watched, accounts: Accounts) -> None:
    user = accounts.user()
    p = page.page
    for path in ("/", "/albums", "/sync", "/devices", f"/albums/{uuid.uuid4()}"):
        p.goto(path)
        assert "/login" in p.url, path
    p.goto("/devices")
    expect(p.get_by_role("button", name="Sign in")).to_be_visible()
    p.get_by_label("Username").fill(user.username)
    p.get_by_label("Password").fill("not the password")
    p.get_by_role("button", name="Sign in").click()
    expect(p.get_by_role("alert")).to_have_text("Wrong username or password.")
    snap(p, "login-refused")
    p.get_by_label("Password").fill(user.password)
    p.get_by_role("button", name="Sign in").click()
    p.wait_for_url(re.compile(r"/devices$"))  # back where the user was going
    expect(p.get_by_role("heading", name="Devices", exact=True)).to_be_visible()
    assert p.request.get("/api/auth/me").json()["username"] == user.username
    p.get_by_role("button", name="Sign out").click()
    p.wait_for_url(re.compile(r"/login$"))
    assert p.request.get("/api/auth/me").status == 401
    p.goto("/")
    assert "/login" in p.url


# -- albums ----------------------------------------------------------------------------------


@SQLITE
def test_albums_keep_their_folders_counts_and_covers(page: Watched, library: Library) -> None:
    p = page.page
    sign_in(p, library.owner.username, library.owner.password, path="/albums")
    cards = p.locator(".album-card")
    expect(cards).to_have_count(len(library.api_albums))
    titles = p.locator(".album-title").all_inner_texts()
    assert "2019-10/11 Paris Clermont" in titles
    assert titles.count("Test Album") == 2
    for album in library.api_albums:
        card = p.locator(f'.album-card[data-album-id="{album["id"]}"]')
        folders = card.evaluate(
            """el => {
                const path = [];
                let d = el.closest('details.folder');
                while (d) {
                    path.unshift(d.dataset.folder);
                    d = d.parentElement.closest('details.folder');
                }
                return path;
            }"""
        )
        # every enclosing folder, outermost first: ["Folder1", "Folder1/SubFolder2"]
        expected = ["/".join(album["folder_path"][: i + 1]) for i in range(len(album["folder_path"]))]
        assert folders == expected, album["title"]
        assert card.locator(".album-title").inner_text() == album["title"]
        noun = "photo" if album["photo_count"] == 1 else "photos"
        assert f"{album['photo_count']} {noun}" in card.locator(".album-meta").inner_text()
        cover = album["cover"]
        has_img = card.locator(".cover img").count() == 1
        assert has_img == bool(cover and cover["thumbnail_status"] == "completed"), album["title"]
    assert p.locator('details.folder[data-folder="Folder1/SubFolder2"] .album-title').all_inner_texts() == [
        "AlbumInFolder"
    ]
    snap(p, "albums", full_page=True)
    pumpkins = next(a for a in library.api_albums if a["title"] == "Pumpkin Farm")
    p.locator(f'.album-card[data-album-id="{pumpkins["id"]}"]').click()
    p.wait_for_url(re.compile(rf"/albums/{pumpkins['id']}$"))
    expect(p.get_by_role("heading", name="Pumpkin Farm")).to_be_visible()
    expect(p.locator(".grid-end.is-done")).to_be_visible()
    in_order = walk(library.owner.http, f"/api/albums/{pumpkins['id']}")
    assert [t["id"] for t in all_tiles(p)] == [ph["id"] for ph in in_order]
    album_order = next(a["photos"] for a in library.albums if a["title"] == "Pumpkin Farm")
    assert [ph["photos_uuid"] for ph in in_order] == album_order
    snap(p, "album-pumpkin-farm")


@SQLITE
def test_favorites_and_shared_albums_are_marked_and_favorites_come_first(
    page: Watched, accounts: Accounts
) -> None:
    device = accounts.device()
    records = [photo_record(filename=f"K_{i}.JPG") for i in range(3)]
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    uuids = [r["photos_uuid"] for r in records]
    albums = [
        {"photos_uuid": str(uuid.uuid4()), "title": "Trip", "album_type": "user", "photos": uuids},
        {"photos_uuid": str(uuid.uuid4()), "title": "Family", "album_type": "shared", "photos": uuids[:1]},
        {
            "photos_uuid": str(uuid.uuid4()),
            "title": "Favorites",
            "album_type": "favorites",
            "photos": uuids[1:],
        },
    ]
    response = device.http.post("/api/sync/albums", json={"albums": albums, "complete": True})
    assert response.status_code == 200, response.text
    p = page.page
    sign_in(p, device.owner.username, device.owner.password, path="/albums")
    expect(p.locator(".album-card")).to_have_count(3)
    assert p.locator(".album-title").all_inner_texts()[0] == "Favorites"
    kinds = {
        card.locator(".album-title").inner_text(): card.locator(".kind").all_inner_texts()
        for card in p.locator(".album-card").all()
    }
    assert kinds == {"Favorites": ["♥ Favorites"], "Family": ["Shared"], "Trip": []}


@SQLITE
def test_album_filter_on_photos_page_shows_only_that_album(page: Watched, library: Library) -> None:
    p = page.page
    sign_in(p, library.owner.username, library.owner.password)
    raw = next(a for a in library.api_albums if a["title"] == "Raw")
    p.get_by_label("Album").select_option(raw["id"])
    p.wait_for_url(re.compile(rf"\?album={raw['id']}$"))
    expect(p.locator(".grid-end.is-done")).to_be_visible()
    expected = walk(library.owner.http, album_id=raw["id"])
    assert [t["id"] for t in all_tiles(p)] == [ph["id"] for ph in expected]
    assert len(expected) == raw["photo_count"]
    p.get_by_role("button", name="Months").click()  # remembered for the next visit
    expect(p.get_by_role("button", name="Months")).to_have_attribute("aria-pressed", "true")
    expect(p.locator(".grid-end.is-done")).to_be_visible()
    months = {ph["taken_at"][:7] for ph in expected}
    groups = [t["group"] for t in all_tiles(p)]
    assert list(dict.fromkeys(groups)) == sorted(months, reverse=True)
    assert [t["id"] for t in all_tiles(p)] == [ph["id"] for ph in expected]
    p.get_by_role("button", name="Days").click()


# -- the grid --------------------------------------------------------------------------------


@SQLITE
def test_grid_shows_every_photo_as_thumbnail_or_placeholder_by_its_state(
    page: Watched, library: Library
) -> None:
    p = page.page
    sign_in(p, library.owner.username, library.owner.password)
    expect(p.locator(".grid-end.is-done")).to_be_visible()
    by_id = {photo["id"]: photo for photo in library.listing}
    tiles = all_tiles(p, loaded=True)
    assert [t["id"] for t in tiles] == [photo["id"] for photo in library.listing]
    for tile in tiles:
        photo = by_id[tile["id"]]
        state = expected_state(photo)
        assert f"is-{state}" in tile["cls"], (photo["filename"], tile["cls"])
        assert tile["img"] == (state == "ready")
        assert tile["loaded"] == (state == "ready")  # the 302 to the pre-signed URL gave a picture
        assert tile["mark"] == (state == "failed")
        assert photo["filename"] in tile["label"]  # alt text, or the placeholder's label
        ratio = photo["width"] / photo["height"]
        assert tile["w"] / tile["h"] == pytest.approx(min(max(ratio, 0.25), 5), rel=0.03)
        day = photo["taken_at"][:10] if photo["taken_at"] else "undated"
        assert tile["group"] == day
    p.evaluate("window.scrollTo(0, 0)")
    groups = list(dict.fromkeys(t["group"] for t in tiles))
    # The virtual grid redraws the rows near the top on the next frames after the jump.
    top_heading = "g => [...document.querySelectorAll('.group-title')].some(h => h.dataset.group === g)"
    p.wait_for_function(top_heading, arg=groups[0])
    headings = p.eval_on_selector_all(
        ".group-title", "hs => hs.sort((a, b) => a.dataset.top - b.dataset.top).map(h => h.dataset.group)"
    )
    assert headings and headings == groups[: len(headings)]
    snap(p, "photos")


@dataclass
class BigLibrary:
    owner: User
    count: int
    expected: list[str]


@pytest.fixture(scope="module")
def big_library(server: Server) -> Iterator[BigLibrary]:
    """A few hundred synthetic photos (metadata only) over many days, in varied shapes."""
    made = Accounts(server)
    device = made.device()
    shapes = [(4032, 3024), (3024, 4032), (4000, 2250), (1080, 1920), (2048, 2048), (6000, 1500)]
    records = [
        photo_record(
            taken_at=f"2024-{1 + i // 60:02d}-{1 + (i // 4) % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+01:00",
            filename=f"SYN_{i:04d}.JPG",
            width=shapes[i % len(shapes)][0],
            height=shapes[i % len(shapes)][1],
        )
        for i in range(330)
    ]
    for start in range(0, len(records), 100):
        response = device.http.post("/api/sync/photos", json={"photos": records[start : start + 100]})
        assert response.status_code == 200, response.text
    expected = [photo["id"] for photo in walk(device.owner.http)]
    assert len(expected) == len(records)
    yield BigLibrary(device.owner, len(records), expected)
    made.close()


@SQLITE
def test_jumping_to_the_end_with_the_end_key_still_loads_every_page(
    page: Watched, big_library: BigLibrary
) -> None:
    p = page.page
    sign_in(p, big_library.owner.username, big_library.owner.password)
    p.locator(".tile").first.wait_for()
    for _ in range(200):  # End as fast as a key repeats, also while a page is on its way
        if p.locator(".grid-end.is-done").count():
            break
        p.keyboard.press("End")
        p.wait_for_timeout(15)
    expect(p.locator(".grid-end.is-done")).to_contain_text(f"{big_library.count} photos")
    assert [t["id"] for t in all_tiles(p)] == big_library.expected


@SQLITE
def test_a_few_hundred_photos_scroll_to_the_end_each_shown_once_without_layout_jumps(
    page: Watched, big_library: BigLibrary
) -> None:
    expected = big_library.expected
    p = page.page
    sign_in(p, big_library.owner.username, big_library.owner.password)
    p.locator(".tile").first.wait_for()
    first_screen = sorted(tile_states(p), key=lambda t: t["index"])[:40]
    first_boxes = p.eval_on_selector_all(
        ".tile",
        BOXES,
    )
    snap(p, "scroll-start")
    scroll_to_end(p)
    snap(p, "scroll-end")
    tiles = all_tiles(p)
    shown = [t["id"] for t in tiles]
    assert len(shown) == len(set(shown)), "a photo was shown twice"
    assert shown == expected, "the grid must show exactly the timeline, newest first, with no gaps"
    expect(p.locator(".grid-end")).to_contain_text(f"{big_library.count} photos")
    # what was on screen did not move while later pages arrived
    p.evaluate("window.scrollTo(0, 0)")
    p.wait_for_timeout(100)
    after = p.eval_on_selector_all(
        ".tile",
        BOXES,
    )
    on_screen = [i for i, box in first_boxes.items() if box[1] < 860]
    assert len(on_screen) >= 10
    for i in on_screen:
        assert after[i] == pytest.approx(first_boxes[i], abs=0.5), f"tile {i} moved"
    assert [t["id"] for t in first_screen] == shown[: len(first_screen)]
    page_requests = [u for u in page.requests if "/api/photos?" in u]
    assert len(page_requests) == math.ceil(big_library.count / 100), page_requests
    groups = list(dict.fromkeys(t["group"] for t in tiles))
    assert groups == sorted(groups, reverse=True)
    # only the rows near the screen are in the page
    assert p.locator(".tile").count() < big_library.count / 2


# -- the lightbox ----------------------------------------------------------------------------


OPEN = '.pswp[data-state="open"]'


def slide_name(p: Page) -> str:
    return p.locator(".pswp-cap-name").inner_text().replace("♥", "").strip()


@SQLITE
def test_lightbox_opens_moves_with_arrow_keys_and_closes_with_escape(page: Watched, library: Library) -> None:
    p = page.page
    sign_in(p, library.owner.username, library.owner.password)
    expect(p.locator(".grid-end.is-done")).to_be_visible()
    listing = library.listing
    p.locator(".tile").nth(0).click()
    expect(p.locator(OPEN)).to_be_visible()
    assert slide_name(p) == listing[0]["filename"]
    expect(p.locator(".pswp-cap-time")).not_to_have_text("Date unknown")
    assert f"{listing[0]['width']} × {listing[0]['height']}" in p.locator(".pswp-cap-facts").inner_text()
    check_slide(p, listing[0])
    snap(p, "lightbox")
    p.keyboard.press("ArrowRight")
    expect(p.locator(".pswp-cap-name")).to_contain_text(listing[1]["filename"])
    check_slide(p, listing[1])
    p.keyboard.press("ArrowRight")
    expect(p.locator(".pswp-cap-name")).to_contain_text(listing[2]["filename"])
    p.keyboard.press("ArrowLeft")
    expect(p.locator(".pswp-cap-name")).to_contain_text(listing[1]["filename"])
    p.keyboard.press("Escape")
    expect(p.locator(".pswp")).to_have_count(0)
    focused = p.evaluate("document.activeElement.dataset.id")
    assert focused == listing[1]["id"], "focus returns to the photo the lightbox closed on"
    # from the keyboard alone: Enter on a focused tile opens it
    p.keyboard.press("Enter")
    expect(p.locator(OPEN)).to_be_visible()
    expect(p.locator(".pswp-cap-name")).to_contain_text(listing[1]["filename"])
    p.keyboard.press("Escape")
    expect(p.locator(".pswp")).to_have_count(0)


def check_slide(p: Page, photo: dict[str, Any]) -> None:
    """The current slide shows the large (or medium) thumbnail when the API has one, else a note."""
    slide = p.locator(".pswp__item[aria-hidden='false'], .pswp__item:not([aria-hidden])").filter(
        has=p.locator(".pswp__zoom-wrap")
    )
    if photo["thumbnails"]["large"] or photo["thumbnails"]["medium"]:
        size = "large" if photo["thumbnails"]["large"] else "medium"
        image = p.locator(f'.pswp__img[src*="/api/photos/{photo["id"]}/thumbnail/{size}"]')
        expect(image).to_have_count(1)
        wait_until(
            lambda: image.evaluate("i => i.complete && i.naturalWidth > 0"), timeout=10, what="large image"
        )
        assert photo["filename"] in (image.get_attribute("alt") or "")
    else:
        expect(slide.locator(".pswp-note").first).to_contain_text(photo["filename"])


@SQLITE
def test_download_button_yields_the_original_bytes(page: Watched, library: Library) -> None:
    p = page.page
    sign_in(p, library.owner.username, library.owner.password)
    expect(p.locator(".grid-end.is-done")).to_be_visible()
    index, photo = next((i, ph) for i, ph in enumerate(library.listing) if ph["has_original"])
    checksum = next(
        lp.record["checksum_sha256"]
        for lp in library.photos
        if lp.record["photos_uuid"] == photo["photos_uuid"]
    )
    p.locator(".tile").nth(index).click()
    expect(p.locator(OPEN)).to_be_visible()
    expect(p.locator(".pswp-cap-name")).to_contain_text(photo["filename"])
    with p.expect_download() as info:
        p.get_by_role("link", name="Download original").click()
    download = info.value
    assert download.suggested_filename == photo["filename"]
    assert hashlib.sha256(Path(download.path()).read_bytes()).hexdigest() == checksum
    missing = next((i for i, ph in enumerate(library.listing) if not ph["has_original"]), None)
    if missing is not None:  # no button for an original that is not on the server yet
        p.keyboard.press("Escape")
        expect(p.locator(".pswp")).to_have_count(0)
        p.locator(".tile").nth(missing).click()
        expect(p.locator(".pswp-cap-name")).to_contain_text(library.listing[missing]["filename"])
        expect(p.get_by_role("link", name="Download original")).to_be_hidden()


# -- sync dashboard and devices -------------------------------------------------------------


@SQLITE
def test_sync_dashboard_shows_devices_totals_and_recent_runs(page: Watched, accounts: Accounts) -> None:
    device = accounts.device()
    records = [photo_record(filename=f"D_{i}.JPG") for i in range(7)]
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    status = device.owner.http.get("/api/sync/status").json()
    p = page.page
    sign_in(p, device.owner.username, device.owner.password, path="/sync")
    totals = p.locator('[data-section="totals"]')
    expect(totals.locator(".stat").filter(has_text="Photos").locator("dd")).to_have_text("7")
    expect(totals.locator(".stat").filter(has_text="Uploads waiting").locator("dd")).to_have_text(
        str(status["pending_uploads"])
    )
    thumbs = p.locator('[data-section="thumbnails"]')
    for label, key in (("Pending", "pending"), ("Failed", "failed")):
        expect(thumbs.locator(".stat").filter(has_text=label).locator("dd")).to_have_text(
            str(status["thumbnails"][key])
        )
    row = p.locator(f'tr[data-device-id="{device.id}"]')
    expect(row).to_contain_text("Test Mac")
    expect(row).to_contain_text("macOS 14.5")
    expect(row).to_contain_text("active")
    expect(row.locator('[data-field="photos-synced"]')).to_have_text("7")
    runs = p.locator('section[aria-labelledby="logs-h"] tbody tr')
    expect(runs).to_have_count(1)  # one pass, however many calls it made
    expect(runs.first).to_contain_text("Test Mac")
    expect(runs.first.locator('[data-field="photos-sent"]')).to_contain_text("7")
    snap(p, "sync")


@SQLITE
def test_devices_page_shows_pending_code_and_revoking_stops_the_token(
    page: Watched, accounts: Accounts
) -> None:
    owner = accounts.user()
    pending_id = accounts.register(owner)
    code = accounts.code_for(owner, pending_id)
    paired = accounts.device(owner)
    assert paired.http.get("/api/sync/status").status_code == 200
    p = page.page
    sign_in(p, owner.username, owner.password, path="/devices")
    card = p.locator(f'.device.pending[data-device-id="{pending_id}"]')
    expect(card.locator(".code")).to_have_text(code)
    left = card.locator(".countdown")
    expect(left).to_have_text(re.compile(r"^(9|10):\d\d$"))
    first = left.inner_text()
    wait_until(lambda: left.inner_text() != first, timeout=5, what="the countdown to tick")
    snap(p, "devices")
    p.once("dialog", lambda dialog: dialog.accept())
    p.locator(f'.device[data-device-id="{paired.id}"]').get_by_role("button", name="Revoke").click()
    expect(p.locator(f'.revoked .device[data-device-id="{paired.id}"]')).to_be_visible()
    assert paired.http.get("/api/sync/status").status_code == 401
    snap(p, "devices-revoked")


@SQLITE
def test_devices_page_says_pairing_is_locked_after_too_many_wrong_codes(
    page: Watched, accounts: Accounts
) -> None:
    owner = accounts.user()
    with accounts.server.client() as http:
        for _ in range(2):
            device_id = accounts.register(owner)
            code = accounts.code_for(owner, device_id)
            wrong = f"{(int(code) + 1) % 1_000_000:06d}"
            for _ in range(5):
                http.post("/api/devices/verify", json={"device_id": device_id, "code": wrong})
    p = page.page
    sign_in(p, owner.username, owner.password, path="/devices")
    expect(p.locator(".pairing-locked")).to_contain_text("pairing locked until")


# -- privacy, phone width, self-contained ---------------------------------------------------


@SQLITE
def test_another_user_sees_none_of_it(page: Watched, library: Library, accounts: Accounts) -> None:
    other = accounts.user()
    p = page.page
    sign_in(p, other.username, other.password)
    expect(p.locator(".grid-end.is-done")).to_contain_text("No photos yet")
    expect(p.locator(".tile")).to_have_count(0)
    p.goto("/albums")
    expect(p.locator(".albums .empty")).to_be_visible()
    expect(p.locator(".album-card")).to_have_count(0)
    p.goto("/devices")
    expect(p.locator(".device")).to_have_count(0)
    p.goto("/sync")
    expect(p.locator('[data-section="totals"] .stat').first.locator("dd")).to_have_text("0")
    theirs = library.listing[0]["id"]
    assert p.request.get(f"/api/photos/{theirs}/thumbnail/small?redirect=true", max_redirects=0).status == 404
    assert p.request.get(f"/api/photos/{theirs}/download?redirect=true", max_redirects=0).status == 404
    album = library.api_albums[0]["id"]
    p.goto(f"/albums/{album}")
    expect(p.get_by_role("heading", name="Album not found")).to_be_visible()
    page.errors.clear()  # the 404 of someone else's album is logged by the browser, as it should be


@SQLITE
def test_phone_width_and_nothing_loaded_from_elsewhere(
    browser: Browser, server: Server, library: Library
) -> None:
    context = new_context(browser, server.url, phone=True)
    watched = Watched(context.new_page())
    p = watched.page
    try:
        sign_in(p, library.owner.username, library.owner.password)
        expect(p.locator(".grid-end.is-done")).to_be_visible()
        for path, name in (
            ("/", "phone-photos"),
            ("/albums", "phone-albums"),
            ("/sync", "phone-sync"),
            ("/devices", "phone-devices"),
        ):
            if path != "/":
                p.get_by_role("link", name=name.split("-")[1].capitalize(), exact=True).click()
                p.wait_for_url(re.compile(rf"{path}$"))
            p.locator("main h1").wait_for()
            p.wait_for_load_state("networkidle")
            overflow = p.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is wider than a phone"
            snap(p, name)
        p.get_by_role("link", name="Photos", exact=True).click()
        p.locator(".tile").first.tap()
        expect(p.locator(OPEN)).to_be_visible()
        snap(p, "phone-lightbox")
        watched.assert_clean()
        foreign = [u for u in watched.requests if not u.startswith(server.url) and not u.startswith("data:")]
        assert foreign == [], "every script, style, font and image comes from the server itself"
    finally:
        context.close()


# -- videos and failed previews --------------------------------------------------------------


def tiny_video() -> bytes:
    """One second of H.264 in MP4, the way phones record, made here with PyAV."""
    import io

    import av
    from PIL import Image

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 25, 120, 200)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


@pytest.fixture(scope="module")
def quick_retry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own whose failed thumbnails give up in seconds, not minutes."""
    from tests.helpers.server import start_server

    own = start_server(tmp_path_factory.mktemp("quick"), "sqlite", {"THUMBNAIL_RETRY_DELAY": "1s"})
    yield own
    own.stop()
    assert "Traceback" not in own.log_text(), own.log_text()[-4000:]


def upload(device: Device, record: dict[str, Any], body: bytes) -> None:
    record.update(checksum_sha256=hashlib.sha256(body).hexdigest(), file_size=len(body))
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
    response = device.http.put(
        f"/api/sync/photos/{record['photos_uuid']}/original",
        content=body,
        headers={"x-content-sha256": record["checksum_sha256"]},
    )
    assert response.status_code == 200, response.text


def test_videos_play_in_the_lightbox_and_failed_previews_are_marked(
    browser: Browser, quick_retry_server: Server
) -> None:
    server = quick_retry_server
    made = Accounts(server)
    device = made.device()
    video = photo_record(
        filename="CLIP.MP4",
        content_type="video/mp4",
        media_type="video",
        width=64,
        height=48,
        taken_at="2024-06-02T10:00:00+02:00",
    )
    broken = photo_record(filename="BROKEN.JPG", taken_at="2024-06-01T10:00:00+02:00")
    upload(device, video, tiny_video())
    upload(device, broken, b"this is not a JPEG at all" * 100)
    wait_for_thumbnails(device.owner.http, server.url, timeout=120)
    listing = walk(device.owner.http)
    assert [p["filename"] for p in listing] == ["CLIP.MP4", "BROKEN.JPG"]
    context = new_context(browser, server.url)
    watched = Watched(context.new_page())
    p = watched.page
    try:
        sign_in(p, device.owner.username, device.owner.password)
        expect(p.locator(".grid-end.is-done")).to_be_visible()
        tiles = tile_states(p)
        for tile, photo in zip(tiles, listing, strict=True):
            assert f"is-{expected_state(photo)}" in tile["cls"], (
                photo["filename"],
                photo["thumbnail_status"],
            )
            assert tile["mark"] == (photo["thumbnail_status"] == "failed")
        expect(p.locator(".tile").nth(0).locator(".badge")).to_have_text("▶ Video")
        snap(p, "failed-and-video")
        p.locator(".tile").nth(0).click()
        expect(p.locator(OPEN)).to_be_visible()
        player = p.locator(".pswp video")
        expect(player).to_have_count(1)
        playback = device.owner.http.get(f"/api/photos/{listing[0]['id']}/playback").json()
        path = playback["url"].split("?")[0]  # the playback version, pre-signed (each time anew)
        expect(player).to_have_attribute("src", re.compile(rf"^{re.escape(path)}\?"))
        wait_until(
            lambda: player.evaluate("v => v.readyState >= 1 && v.duration > 0.5"),
            timeout=15,
            what="the video's metadata",
        )
        snap(p, "lightbox-video")
        p.keyboard.press("ArrowRight")
        expect(p.locator(".pswp-cap-name")).to_contain_text("BROKEN.JPG")
        if listing[1]["thumbnail_status"] == "failed":
            expect(p.locator(".pswp-note").last).to_contain_text("could not be made")
        watched.assert_clean()
    finally:
        context.close()
        made.close()
