"""The gallery as an installed app: a manifest, and a service worker that opens it offline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.helpers.browser import chromium, new_context, sign_in
from tests.helpers.server import Accounts, Server
from tests.helpers.thumbnails import jpeg, new_photo, wait_settled

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as (_, launched):
        yield launched


@SQLITE
def test_manifest_and_service_worker_are_served(server: Server) -> None:
    with server.client() as http:
        manifest = http.get("/static/manifest.webmanifest")
        worker = http.get("/sw.js")
        assert manifest.status_code == 200 and manifest.headers["content-type"].startswith(
            "application/manifest+json"
        )
        body = manifest.json()
        assert body["display"] == "standalone" and body["start_url"] == "/" and body["theme_color"]
        for icon in body["icons"]:
            assert http.get(icon["src"]).status_code == 200
        sizes = {icon["sizes"] for icon in body["icons"]}
        assert {"192x192", "512x512"} <= sizes
        assert worker.status_code == 200 and worker.headers["content-type"].startswith("text/javascript")
        assert "__BUILD__" not in worker.text and worker.headers["cache-control"] == "no-cache"
        page = http.get("/login").text
        assert 'rel="manifest"' in page and 'name="theme-color"' in page


@SQLITE
@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_gallery_opens_offline_with_the_shell_and_the_thumbnails_it_saw(
    browser: Browser, server: Server, accounts: Accounts, phone: bool
) -> None:
    device = accounts.device()
    ids = {new_photo(device.http, jpeg(640, 480), f"IMG_{n}.JPG") for n in range(3)}
    wait_settled(device.owner.http, ids)
    # on the desktop the tiles show the small JPEGs; on the phone (ratio 2) the 400 px AVIF ones
    expected = "/thumbnail/avif400" if phone else "/thumbnail/small"
    context = new_context(browser, server.url, phone=phone)
    try:
        page = context.new_page()
        sign_in(page, device.owner.username, device.owner.password)
        page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now the worker controls the page and sees its requests
        page.wait_for_function("!!navigator.serviceWorker.controller")
        tiles = page.locator(".tile img")
        expect(tiles).to_have_count(3)
        page.wait_for_function(
            "[...document.querySelectorAll('.tile img')].every(i => i.complete && i.naturalWidth > 0)"
        )

        context.set_offline(True)
        page.reload()
        expect(page.locator("header.top")).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="offline")).to_be_visible()
        expect(tiles).to_have_count(3)
        page.wait_for_function(
            "[...document.querySelectorAll('.tile img')].every(i => i.complete && i.naturalWidth > 0)"
        )
        shown = page.evaluate("[...document.querySelectorAll('.tile img')].map(i => i.currentSrc)")
        assert all(expected in src for src in shown), shown
    finally:
        context.close()
