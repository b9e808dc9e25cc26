"""The gallery on sharp screens and phones: tiles load a thumbnail big enough for their device
pixels (and no bigger than needed), and a 390 px phone gets 3-5 columns and no sideways scrolling."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.helpers.browser import DESKTOP, PHONE, chromium, sign_in
from tests.helpers.server import Accounts, Server
from tests.helpers.thumbnails import jpeg, put_original, wait_settled

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)
THUMBNAIL_WIDTHS = {"small": 200, "medium": 600, "large": 1200, "avif400": 400, "avif640": 640}
# What a browser that shows AVIF loads for a tile, by width: the small JPEG where it is enough, the
# AVIF ones between (640 rather than the 600 px JPEG: a third of its bytes), then the large JPEG.
GRID_LADDER = {"small": 200, "avif400": 400, "avif640": 640, "large": 1200}
PROFILES = {
    "desktop-1x": {"viewport": DESKTOP, "device_scale_factor": 1},
    "desktop-2x": {"viewport": DESKTOP, "device_scale_factor": 2},
    "phone-2x": {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True},
    "phone-3x": {"viewport": PHONE, "device_scale_factor": 3, "is_mobile": True, "has_touch": True},
}
WIDTH, HEIGHT = 2400, 1600
# srcset with w descriptors makes naturalWidth the density-corrected width; currentSrc says which file
VISIBLE_IMAGES = """() => [...document.querySelectorAll('.tile img')]
  .filter((i) => { const r = i.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; })
  .map((i) => ({ complete: i.complete, natural: i.naturalWidth, src: i.currentSrc,
                 shown: i.getBoundingClientRect().width, tall: i.getBoundingClientRect().height,
                 ratio: devicePixelRatio }))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as (_, launched):
        yield launched


def open_context(browser: Browser, server: Server, profile: dict[str, Any]) -> BrowserContext:
    context = browser.new_context(base_url=server.url, **profile)
    context.set_default_timeout(15_000)
    return context


def new_photos(http: httpx.Client, count: int) -> set[str]:
    """Photos as a phone sends them: metadata with their size, then a 2400 x 1600 original."""
    records = [
        {
            "photos_uuid": str(uuid.uuid4()).upper(),
            "filename": f"IMG_{n}.JPG",
            "content_type": "image/jpeg",
            "media_type": "photo",
            "taken_at": f"2024-05-01T10:{n:02d}:00+00:00",
            "width": WIDTH,
            "height": HEIGHT,
        }
        for n in range(count)
    ]
    created = http.post("/api/sync/photos", json={"photos": records})
    assert created.status_code == 200, created.text
    data = jpeg(WIDTH, HEIGHT)
    for record in records:
        assert put_original(http, record, data).status_code == 200
    return {str(r["id"]) for r in created.json()["results"]}


def loaded_size(image: dict[str, Any]) -> str:
    match = re.search(r"/thumbnail/(\w+)", image["src"])
    assert match and match.group(1) in THUMBNAIL_WIDTHS, image
    return match.group(1)


def visible_images(page: Page) -> list[dict[str, Any]]:
    page.wait_for_function(
        f"() => {{ const all = ({VISIBLE_IMAGES})();"
        " return all.length > 0 && all.every(i => i.complete && i.natural > 0); }"
    )
    images: list[dict[str, Any]] = page.evaluate(VISIBLE_IMAGES)
    return images


@SQLITE
def test_tiles_load_the_smallest_thumbnail_that_covers_their_device_pixels(
    browser: Browser, server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    ids = new_photos(device.http, 8)
    wait_settled(device.owner.http, ids)
    picked: dict[str, set[str]] = {}
    for name, profile in PROFILES.items():
        context = open_context(browser, server, profile)
        try:
            page = context.new_page()
            sign_in(page, device.owner.username, device.owner.password)
            expect(page.locator(".tile img")).to_have_count(8)
            for image in visible_images(page):
                # object-fit: cover: the image must span the tile's width (3:2 photos, so height × 1.5 too)
                need = max(image["shown"], image["tall"] * WIDTH / HEIGHT) * image["ratio"]
                enough = [size for size, width in GRID_LADDER.items() if width >= need]
                expected = enough[0] if enough else "large"
                assert loaded_size(image) == expected, (name, need, image)
                assert image["natural"] > 0
                picked.setdefault(name, set()).add(loaded_size(image))
        finally:
            context.close()
    assert set(picked) == set(PROFILES), picked
    # on sharp screens the tiles are AVIF ones, which the browser decoded (natural > 0 above)
    assert all(picked[name] <= {"avif400", "avif640"} for name in PROFILES if name != "desktop-1x"), picked


PHONE_PAGES = ["/", "/albums", "/sync", "/devices", "/sets", "/account"]
SMALL_TARGETS = """() => [...document.querySelectorAll('button, nav a, [role=button]')]
  .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; })
  .filter((e) => { const r = e.getBoundingClientRect(); return r.width < 44 || r.height < 44; })
  .map((e) => { const r = e.getBoundingClientRect();
                return `${e.tagName} "${e.textContent.trim().slice(0, 30)}" ${r.width}x${r.height}`; })"""


@SQLITE
def test_a_phone_gets_three_to_five_columns_big_targets_and_no_sideways_scrolling(
    browser: Browser, server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    wait_settled(device.owner.http, new_photos(device.http, 7))
    context = open_context(browser, server, PROFILES["phone-3x"])
    try:
        page = context.new_page()
        sign_in(page, device.owner.username, device.owner.password)
        expect(page.locator(".tile img")).to_have_count(7)
        columns = page.locator(".grid > .row").first.locator(".tile").count()
        assert 3 <= columns <= 5, columns
        # the lightbox fills the phone's 390 px at ratio 3: only the large thumbnail is enough
        page.locator(".tile").first.click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.pswp__img:not(.pswp__img--placeholder)')]"
            ".some(i => i.complete && i.currentSrc.includes('/thumbnail/large'))"
        )
        page.keyboard.press("Escape")
        # views and filters fold away behind one button: the first screen is photos
        views, toggle = page.locator("nav.views"), page.locator(".refine-toggle")
        expect(views).to_be_hidden()
        assert page.locator(".tile").first.bounding_box()["y"] < PHONE["height"] / 2  # type: ignore[index]
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        views.get_by_role("link", name="Favorites").click()
        expect(page).to_have_url(re.compile(r"view=favorites"))
        expect(toggle).to_have_text("Filters (1)")
        expect(views).to_be_hidden()
        for path in PHONE_PAGES:
            page.goto(path)
            page.locator("main h1").first.wait_for()
            page.wait_for_load_state("networkidle")
            width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            assert width[0] <= width[1], (path, width)
            small = page.evaluate(SMALL_TARGETS)
            assert small == [], (path, small)
    finally:
        context.close()
