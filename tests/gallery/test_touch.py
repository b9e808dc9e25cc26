"""The gallery by touch and on a phone: the lightbox zooms into the full image, swipes between
photos and closes on a pull down; the info panel is a bottom sheet; a pinch or the Columns
control sets the tiles a row (remembered); the navigation sits at the bottom, within a thumb's reach,
and the account a tap away in the header; the info sheet closes when pulled down.

Gestures are real touch input: Chromium's DevTools protocol (Input.dispatchTouchEvent) feeds them
through the browser's own input pipeline, so the page sees the touch and pointer events a phone
sends."""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, expect

from tests.helpers.browser import DESKTOP, PHONE, chromium, sign_in, snap
from tests.helpers.server import Accounts, Server
from tests.helpers.thumbnails import jpeg, put_original, wait_settled

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)
PHONE_3X = {"viewport": PHONE, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
DESKTOP_1X = {"viewport": DESKTOP, "device_scale_factor": 1}
WIDTH, HEIGHT = 2400, 1600
SHOWN = """() => { const i = [...document.querySelectorAll('.pswp__item')]
  .find((e) => e.getAttribute('aria-hidden') !== 'true')
  ?.querySelector('.pswp__img:not(.pswp__img--placeholder)');
  return i ? { src: i.currentSrc, complete: i.complete, sizes: parseInt(i.sizes, 10) || 0 } : null; }"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as (_, launched):
        yield launched


def open_context(browser: Browser, server: Server, profile: dict[str, Any]) -> BrowserContext:
    context = browser.new_context(base_url=server.url, **profile)
    context.set_default_timeout(15_000)
    return context


def heic(width: int, height: int) -> bytes:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(out, "HEIF")
    return out.getvalue()


def send_photos(
    http: httpx.Client, files: list[tuple[str, str, bytes]], edits: dict[int, bytes] | None = None
) -> list[str]:
    """Photos as a phone sends them (name, type, 2400 x 1600 bytes), a minute apart, the first
    oldest, with an edited JPEG where `edits` has one (by position); returns their ids in order."""
    edits = edits or {}
    records: list[dict[str, Any]] = [
        {
            "photos_uuid": str(uuid.uuid4()).upper(),
            "filename": name,
            "content_type": content_type,
            "media_type": "photo",
            "taken_at": f"2024-05-01T10:{n:02d}:00+00:00",
            "width": WIDTH,
            "height": HEIGHT,
        }
        for n, (name, content_type, _) in enumerate(files)
    ]
    for n, edit in edits.items():
        records[n].update(
            edited_sha256=hashlib.sha256(edit).hexdigest(), edited_filename="FullSizeRender.jpg"
        )
    created = http.post("/api/sync/photos", json={"photos": records})
    assert created.status_code == 200, created.text
    for n, (record, (_, _, data)) in enumerate(zip(records, files, strict=True)):
        assert put_original(http, record, data).status_code == 200
        if n in edits:
            stored = http.put(
                f"/api/sync/photos/{record['photos_uuid']}/edited",
                content=edits[n],
                headers={"x-content-sha256": hashlib.sha256(edits[n]).hexdigest()},
            )
            assert stored.status_code == 200, stored.text
    return [str(r["id"]) for r in created.json()["results"]]


def jpegs(http: httpx.Client, count: int) -> list[str]:
    data = jpeg(WIDTH, HEIGHT)
    return send_photos(http, [(f"IMG_{n}.JPG", "image/jpeg", data) for n in range(count)])


def touch(cdp: CDPSession, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]},
    )


def gesture(
    cdp: CDPSession, start: list[tuple[float, float]], end: list[tuple[float, float]], *, hold: float = 0
) -> None:
    """Fingers down at `start` (for `hold` seconds), moved in steps to `end`, lifted: a swipe, a
    pull or a pinch."""
    touch(cdp, "touchStart", start[:1])
    if len(start) > 1:
        touch(cdp, "touchStart", start)
    time.sleep(hold)
    steps = 12
    for step in range(1, steps + 1):
        at = [
            (x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)
            for (x0, y0), (x1, y1) in zip(start, end, strict=True)
        ]
        touch(cdp, "touchMove", at)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def wait_shown(page: Page, url_part: str) -> None:
    """Wait until the lightbox's current photo shows the image whose URL has `url_part`."""
    page.wait_for_function(
        f"() => {{ const s = ({SHOWN})(); return s && s.complete && s.src.includes('{url_part}'); }}"
    )


def caption(page: Page) -> str:
    return page.locator(".pswp-cap-name").inner_text().strip()


def open_lightbox(page: Page, index: int = 0) -> None:
    page.locator(".tile").nth(index).click()
    page.locator('.pswp[data-state="open"]').wait_for()


@SQLITE
def test_the_lightbox_zooms_from_the_large_thumbnail_into_the_full_image_but_not_into_a_heic(
    browser: Browser, server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    edited_id, jpeg_id, heic_id = send_photos(
        device.http,
        [
            ("IMG_0.JPG", "image/jpeg", jpeg(WIDTH, HEIGHT)),
            ("IMG_1.JPG", "image/jpeg", jpeg(WIDTH, HEIGHT)),
            ("IMG_2.HEIC", "image/heic", heic(WIDTH, HEIGHT)),
        ],
        edits={0: jpeg(1800, 1200)},
    )
    wait_settled(device.owner.http, {edited_id, jpeg_id, heic_id})
    context = open_context(browser, server, PHONE_3X)
    try:
        page = context.new_page()
        downloads: list[str] = []
        page.on("request", lambda r: downloads.append(r.url) if "/download" in r.url else None)
        sign_in(page, device.owner.username, device.owner.password)
        expect(page.locator(".tile img")).to_have_count(3)

        open_lightbox(page, 1)  # the JPEG (oldest, second)
        assert caption(page).startswith("IMG_1.JPG")
        # 390 px wide at ratio 3: 1170 device px, the large thumbnail is the one
        wait_shown(page, "/thumbnail/large")
        page.wait_for_timeout(1000)
        assert downloads == []
        page.keyboard.press("z")
        wait_shown(page, f"/api/photos/{jpeg_id}/download")
        assert any(f"/api/photos/{jpeg_id}/download" in url for url in downloads), downloads

        page.keyboard.press("z")  # back to fit, then to the HEIC
        page.keyboard.press("ArrowLeft")
        expect(page.locator(".pswp-cap-name")).to_contain_text("IMG_2.HEIC")
        wait_shown(page, f"/{heic_id}/thumbnail/large")
        page.keyboard.press("z")
        page.wait_for_function(f"() => ({SHOWN})().sizes >= 1000")  # zoomed in (PhotoSwipe's sizes)
        page.wait_for_timeout(500)
        shown = page.evaluate(SHOWN)
        assert f"/{heic_id}/thumbnail/large" in shown["src"], shown
        assert not any(heic_id in url for url in downloads), downloads

        page.keyboard.press("Escape")  # an edited photo zooms into its edit, not its original
        expect(page.locator(".pswp")).to_have_count(0)
        open_lightbox(page, 2)
        assert caption(page).startswith("IMG_0.JPG")
        wait_shown(page, f"/{edited_id}/thumbnail/large")
        page.keyboard.press("z")
        wait_shown(page, f"/api/photos/{edited_id}/download/edited")
        assert not any(url.endswith(f"/api/photos/{edited_id}/download?redirect=true") for url in downloads)
    finally:
        context.close()


@SQLITE
def test_a_sharp_desktop_screen_gets_the_full_image_after_the_large_thumbnail(
    browser: Browser, server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    (photo_id,) = jpegs(device.http, 1)
    wait_settled(device.owner.http, {photo_id})
    # 1280 x 860: the 2400 x 1600 photo opens 1280 px wide, 1280 device px at ratio 1 (the large
    # thumbnail stretched 1.07 x: kept), 2560 at ratio 2 (more than twice: the full image follows)
    for ratio, full in ((1, False), (2, True)):
        context = open_context(browser, server, {"viewport": DESKTOP, "device_scale_factor": ratio})
        try:
            page = context.new_page()
            asked: list[str] = []
            page.on("request", lambda r, asked=asked: asked.append(r.url) if photo_id in r.url else None)
            sign_in(page, device.owner.username, device.owner.password)
            open_lightbox(page, 0)
            if full:
                wait_shown(page, f"/api/photos/{photo_id}/download")
                large = next(n for n, url in enumerate(asked) if "/thumbnail/large" in url)
                download = next(n for n, url in enumerate(asked) if "/download" in url)
                assert large < download, asked
            else:
                wait_shown(page, "/thumbnail/large")
                page.wait_for_timeout(1000)
                assert not any("/download" in url for url in asked), asked
                assert "/thumbnail/large" in page.evaluate(SHOWN)["src"]
        finally:
            context.close()


@SQLITE
def test_a_swipe_goes_between_photos_and_a_pull_down_closes_the_lightbox(
    browser: Browser, server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    wait_settled(device.owner.http, set(jpegs(device.http, 3)))
    context = open_context(browser, server, PHONE_3X)
    try:
        page = context.new_page()
        sign_in(page, device.owner.username, device.owner.password)
        expect(page.locator(".tile img")).to_have_count(3)
        cdp = context.new_cdp_session(page)
        open_lightbox(page, 0)
        assert caption(page) == "IMG_2.JPG"
        middle = PHONE["height"] / 2
        gesture(cdp, [(330, middle)], [(40, middle)])  # right to left: the next (older) photo
        expect(page.locator(".pswp-cap-name")).to_have_text("IMG_1.JPG")
        gesture(cdp, [(330, middle)], [(40, middle)])
        expect(page.locator(".pswp-cap-name")).to_have_text("IMG_0.JPG")
        gesture(cdp, [(60, middle)], [(350, middle)])  # left to right: back
        expect(page.locator(".pswp-cap-name")).to_have_text("IMG_1.JPG")
        expect(page.locator(".pswp")).to_have_count(1)
        gesture(cdp, [(195, 300)], [(195, 700)])  # pulled down: closed
        expect(page.locator(".pswp")).to_have_count(0)
        expect(page.locator(".tile").nth(1)).to_be_focused()
    finally:
        context.close()


@SQLITE
def test_the_info_panel_is_a_bottom_sheet_on_a_phone(
    browser: Browser, server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    wait_settled(device.owner.http, set(jpegs(device.http, 1)))
    for profile, sheet in ((PHONE_3X, True), (DESKTOP_1X, False)):
        context = open_context(browser, server, profile)
        try:
            page = context.new_page()
            sign_in(page, device.owner.username, device.owner.password)
            open_lightbox(page, 0)
            page.keyboard.press("i")
            panel = page.locator(".pswp-info")
            expect(panel.locator(".info-title")).to_have_text("IMG_0.JPG")
            box = panel.bounding_box()
            assert box is not None
            view = page.viewport_size
            assert view is not None
            bottom = box["y"] + box["height"]
            assert abs(bottom - view["height"]) <= 1, (box, view)
            snap(page, f"info-panel-{'phone' if sheet else 'desktop'}")
            if sheet:  # across the whole width, in the lower part, the photo still showing above
                assert box["x"] == 0 and box["width"] == view["width"], box
                assert box["y"] >= view["height"] * 0.35, box
                close = panel.locator(".info-close").bounding_box()
                assert close is not None and close["width"] >= 44 and close["height"] >= 44, close
            else:  # a column at the right, full height below the toolbar
                assert box["width"] < view["width"] / 2 and box["x"] + box["width"] == view["width"], box
            panel.locator(".info-close").click()
            expect(panel).to_be_hidden()
        finally:
            context.close()


@SQLITE
def test_on_a_phone_the_info_sheet_closes_when_pulled_down(
    browser: Browser, server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    wait_settled(device.owner.http, set(jpegs(device.http, 1)))
    context = open_context(browser, server, PHONE_3X)
    try:
        page = context.new_page()
        sign_in(page, device.owner.username, device.owner.password)
        cdp = context.new_cdp_session(page)
        open_lightbox(page, 0)
        page.keyboard.press("i")
        panel = page.locator(".pswp-info")
        expect(panel.locator(".info-title")).to_have_text("IMG_0.JPG")
        top = panel.bounding_box()["y"]  # type: ignore[index]
        gesture(cdp, [(195, top + 20)], [(195, top + 45)])  # a short pull springs back
        page.wait_for_timeout(400)
        expect(panel).to_be_visible()
        assert abs(panel.bounding_box()["y"] - top) <= 1  # type: ignore[index]
        gesture(cdp, [(195, top + 20)], [(195, top + 220)])  # pulled well down: the sheet closes
        expect(panel).to_be_hidden()
        expect(page.locator('.pswp[data-state="open"]')).to_have_count(1)  # the photo stays open
        page.keyboard.press("i")  # and opens again where it was
        expect(panel).to_be_visible()
        page.wait_for_timeout(400)
        assert abs(panel.bounding_box()["y"] - top) <= 1  # type: ignore[index]
    finally:
        context.close()


def tiles_per_row(page: Page) -> list[int]:
    counts: list[int] = page.evaluate(
        "() => [...document.querySelectorAll('.grid > .row')].sort((a, b) => a.offsetTop - b.offsetTop)"
        ".map((r) => r.querySelectorAll('.tile').length)"
    )
    return counts


@SQLITE
def test_the_columns_control_and_a_pinch_set_the_tiles_a_row_and_are_remembered(
    browser: Browser, server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    wait_settled(device.owner.http, set(jpegs(device.http, 12)))
    context = open_context(browser, server, PHONE_3X)
    try:
        page = context.new_page()
        sign_in(page, device.owner.username, device.owner.password)
        expect(page.locator(".tile img")).to_have_count(12)
        assert tiles_per_row(page) == [3, 3, 3, 3]
        columns = page.get_by_role("group", name="Columns")
        expect(columns.get_by_role("button", name="3 columns")).to_have_attribute("aria-pressed", "true")
        for button in columns.get_by_role("button").all():
            box = button.bounding_box()
            assert box is not None and box["width"] >= 44 and box["height"] >= 44, box

        columns.get_by_role("button", name="5 columns").click()
        assert tiles_per_row(page) == [5, 5, 2]
        page.reload()
        expect(page.locator(".tile img")).to_have_count(12)
        assert tiles_per_row(page) == [5, 5, 2]
        expect(columns.get_by_role("button", name="5 columns")).to_have_attribute("aria-pressed", "true")
        # rows end flush with the grid, nothing sticks out sideways
        width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], width

        cdp = context.new_cdp_session(page)
        grid = page.locator(".grid").bounding_box()
        assert grid is not None
        y = grid["y"] + 60
        # fingers apart: bigger tiles; held as long as a long press, which selects no photo
        gesture(cdp, [(170, y), (220, y)], [(60, y), (320, y)], hold=0.8)
        page.wait_for_function(
            "() => document.querySelector('.grid > .row').querySelectorAll('.tile').length === 4"
        )
        assert tiles_per_row(page) == [4, 4, 4]
        gesture(cdp, [(60, y), (320, y)], [(170, y), (220, y)])  # together: smaller ones
        page.wait_for_function(
            "() => document.querySelector('.grid > .row').querySelectorAll('.tile').length === 5"
        )
        assert page.evaluate("() => localStorage.getItem('ia.columns')") == "5"
        expect(page.locator(".pswp")).to_have_count(0)  # a pinch opens no photo, selects none
        expect(page.locator(".tile.is-selected")).to_have_count(0)
        gesture(cdp, [(100, y)], [(100, y)], hold=0.8)  # one finger held: that photo is selected
        expect(page.locator(".tile.is-selected")).to_have_count(1)
    finally:
        context.close()


@SQLITE
def test_on_a_phone_the_navigation_is_at_the_bottom_and_covers_nothing(
    browser: Browser, server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    wait_settled(device.owner.http, set(jpegs(device.http, 30)))
    context = open_context(browser, server, PHONE_3X)
    try:
        page = context.new_page()
        sign_in(page, device.owner.username, device.owner.password)
        expect(page.locator(".grid-end.is-done")).to_be_visible()
        nav = page.get_by_role("navigation", name="Gallery")
        for scrolled in (0, 100_000):
            page.evaluate(f"window.scrollTo(0, {scrolled})")
            box = nav.bounding_box()
            assert box is not None and abs(box["y"] + box["height"] - PHONE["height"]) <= 1, (scrolled, box)
            assert box["x"] == 0 and box["width"] == PHONE["width"], box
        for link in nav.get_by_role("link").all():
            link_box = link.bounding_box()
            assert link_box is not None and link_box["height"] >= 44 and link_box["width"] >= 44, link_box
            assert link_box["x"] >= 0 and link_box["x"] + link_box["width"] <= PHONE["width"], link_box
        # at the end of the page, the last row and the end line show above the bar
        nav_top = nav.bounding_box()["y"]  # type: ignore[index]
        end = page.locator(".grid-end").bounding_box()
        assert end is not None and end["y"] + end["height"] <= nav_top, (end, nav_top)
        width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], width
        snap(page, "phone-bottom-nav")

        nav.get_by_role("link", name="Albums").tap()
        page.wait_for_url("**/albums")
        expect(nav.get_by_role("link", name="Albums")).to_have_attribute("aria-current", "page")

        page.evaluate("window.scrollTo(0, 0)")  # the header, with the account, is at the top
        account = page.get_by_role("link", name=device.owner.username)
        expect(account).to_be_visible()
        box = account.bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"], box
        account.tap()
        page.wait_for_url("**/account")
        expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    finally:
        context.close()
