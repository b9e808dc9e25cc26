"""Edited videos and edited Live Photos in a real Chromium: the lightbox plays the edit (through
its H.264 playback rendition: Chromium plays no HEVC nor QuickTime) and "Show original" the
original; the grid's Live motion is the edited one. Clips are made in the test with PyAV, the
edit a different size from its original, so `videoWidth` tells which one plays."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.helpers.browser import chromium, new_context, sign_in, wait_until
from tests.helpers.server import Accounts, Device, Server
from tests.helpers.thumbnails import jpeg
from tests.helpers.videos import make_video
from tests.thumbnails.test_playback import declare_edit, played_width, send_video

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)
OPEN = '.pswp[data-state="open"]'
ORIGINAL_SIZE, EDITED_SIZE = (320, 240), (256, 144)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as (_, launched):
        yield launched


@pytest.fixture
def device(server: Server) -> Iterator[Device]:
    made = Accounts(server)
    yield made.device()
    made.close()


def signed_in(browser: Browser, server: Server, device: Device) -> Page:
    page = new_context(browser, server.url).new_page()
    sign_in(page, device.owner.username, device.owner.password)
    return page


def plays_at_width(video: Locator, width: int) -> None:
    """The video shows `width` pixels and its time advances once played (muted: autoplay rules)."""
    wait_until(lambda: video.evaluate("v => v.videoWidth") == width, timeout=20, what=f"a {width} px video")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    wait_until(lambda: video.evaluate("v => v.currentTime > 0.3"), timeout=20, what="the video to play")


@SQLITE
def test_an_edited_video_plays_its_edit_and_show_original_plays_the_original(
    browser: Browser, server: Server, device: Device
) -> None:
    clip = {"frames": 48, "fps": 24, "audio": False}
    photo_id = send_video(device, make_video(width=320, height=240, **clip), "IMG_0001.MOV")
    declare_edit(device, photo_id, "edited", make_video(width=256, height=144, **clip))
    http = device.owner.http
    played_width(http, photo_id, "edited")
    played_width(http, photo_id, "original", version="original")
    page = signed_in(browser, server, device)
    try:
        page.locator(f'.tile[data-id="{photo_id}"]').click()
        expect(page.locator(OPEN)).to_be_visible()
        plays_at_width(page.locator(".pswp__item video").first, EDITED_SIZE[0])
        page.get_by_role("button", name="Show original").click()
        original = page.locator('.pswp-video[data-version="original"] video')
        expect(original).to_have_count(1)
        plays_at_width(original, ORIGINAL_SIZE[0])
        page.get_by_role("button", name="Show edited").click()
        plays_at_width(page.locator('.pswp-video[data-version="current"] video'), EDITED_SIZE[0])
    finally:
        page.context.close()


@SQLITE
def test_an_edited_live_photo_moves_with_its_edited_motion(
    browser: Browser, server: Server, device: Device
) -> None:
    live = make_video(width=320, height=240, frames=48, audio=False)
    photo_id = send_video(device, jpeg(320, 240), "IMG_0002.HEIC", live=live)
    live_sha256 = hashlib.sha256(live).hexdigest()
    declare_edit(device, photo_id, "edited", jpeg(320, 240), live_video_sha256=live_sha256)
    edit = make_video(width=256, height=144, frames=48, audio=False)
    edited_sha256 = hashlib.sha256(jpeg(320, 240)).hexdigest()
    declare_edit(
        device,
        photo_id,
        "edited_live_video",
        edit,
        live_video_sha256=live_sha256,
        edited_sha256=edited_sha256,
    )
    http = device.owner.http
    played_width(http, photo_id, "edited", kind="live_video")
    played_width(http, photo_id, "original", kind="live_video", version="original")
    wait_until(
        lambda: bool(http.get(f"/api/photos/{photo_id}").json()["thumbnails"]["large"]),
        timeout=60,
        what="the thumbnails",
    )
    page = signed_in(browser, server, device)
    try:
        tile = page.locator(f'.tile[data-id="{photo_id}"]')
        tile.hover()
        wait_until(
            lambda: tile.locator("video.live-motion").evaluate("v => v.videoWidth") == EDITED_SIZE[0],
            timeout=20,
            what="the edited motion in the grid",
        )
        tile.click()
        expect(page.locator(OPEN)).to_be_visible()
        page.get_by_role("button", name="Show original").click()
        slide = page.locator('.pswp__item[aria-hidden="false"] .pswp__zoom-wrap')
        slide.locator("img.pswp__img").last.hover()
        wait_until(
            lambda: slide.locator("video.live-motion").count() == 1
            and slide.locator("video.live-motion").evaluate("v => v.videoWidth") == ORIGINAL_SIZE[0],
            timeout=20,
            what="the original motion under Show original",
        )
    finally:
        page.context.close()
