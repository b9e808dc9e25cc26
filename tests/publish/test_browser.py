"""Publishing in a real Chromium: select photos in the grid, make a set, share it, and open the
link anonymously: the set shows, the lightbox opens, the zip downloads."""

from __future__ import annotations

import re
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import chromium, new_context, sign_in, snap
from tests.helpers.publish import jpeg, send_photo
from tests.helpers.server import Accounts

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


@SQLITE
def test_select_make_a_set_share_it_and_open_the_link_anonymously(accounts: Accounts, scratch: Path) -> None:
    device = accounts.device()
    for i in range(4):
        picture = jpeg(1400, 1000, colour=(60 * i, 120, 200))
        send_photo(device, picture, taken_at=f"2026-11-01T1{i}:00:00+00:00")
    owner = device.owner
    with chromium() as (_, browser):
        context = new_context(browser, accounts.server.url)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, owner.username, owner.password)
        tiles = page.locator(".tile")
        expect(tiles).to_have_count(4)
        page.get_by_role("button", name="Select").click()
        tiles.nth(0).click()
        tiles.nth(2).click(modifiers=["Shift"])
        expect(page.locator(".tile.is-selected")).to_have_count(3)
        tiles.nth(3).focus()
        page.keyboard.press("x")
        expect(page.locator(".select-bar .count")).to_have_text("4 photos selected")
        page.keyboard.press("x")
        expect(page.locator(".select-bar .count")).to_have_text("3 photos selected")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("x")  # the focus moved to the third photo: it leaves the selection
        expect(page.locator(".select-bar .count")).to_have_text("2 photos selected")
        page.locator(".group-title").first.click()  # select the day
        expect(page.locator(".select-bar .count")).to_have_text("4 photos selected")
        page.get_by_label("New set title").fill("Shoot 2026-11-01")
        page.get_by_role("button", name="Create set").click()
        page.wait_for_url(re.compile(r"/sets/[0-9a-f-]{36}$"))
        expect(page.locator(".set-photo .order")).to_have_text(["1", "2", "3", "4"])
        snap(page, "publish-set-page")
        share = page.locator("form.share")
        share.get_by_label("Preset").select_option("web-2048")
        share.get_by_role("button", name="Create share link").click()
        url = share.locator(".share-url a").get_attribute("href")
        assert url and "/s/" in url
        expect(page.locator(".share-list tbody tr")).to_have_count(1)

        anonymous = new_context(browser, accounts.server.url)
        viewer = anonymous.new_page()
        viewer.goto(url)
        expect(viewer.get_by_role("heading", name="Shoot 2026-11-01")).to_be_visible()
        expect(viewer.locator(".share-tile img")).to_have_count(4)
        assert viewer.locator("header.top").count() == 0  # nothing of the owner's gallery
        viewer.locator(".share-tile").first.click()
        expect(viewer.locator(".pswp img.pswp__img").first).to_be_visible()
        snap(viewer, "publish-share-lightbox")
        viewer.keyboard.press("Escape")
        with viewer.expect_download() as download:
            viewer.get_by_role("link", name=re.compile("Download all")).click()
        saved = scratch / "set.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            assert sorted(archive.namelist()) == [f"shoot-2026-11-01-0{n}.jpg" for n in range(1, 5)]
        anonymous.close()
        page.reload()
        expect(page.locator(".share-list tbody tr .views")).to_have_text("1")
        context.close()
        assert errors == []  # no script failed on the way


@SQLITE
def test_share_an_album_from_its_page_see_the_views_and_revoke(accounts: Accounts) -> None:
    device = accounts.device()
    records = [send_photo(device, jpeg(1200, 900, colour=(30 * i, 90, 160))) for i in range(2)]
    album = {
        "photos_uuid": str(uuid.uuid4()),
        "title": "Harbour",
        "photos": [r["photos_uuid"] for r in records],
    }
    device.http.post("/api/sync/albums", json={"albums": [album]})
    album_id = device.owner.http.get("/api/albums").json()["albums"][0]["id"]
    owner = device.owner
    with chromium() as (_, browser):
        context = new_context(browser, accounts.server.url)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, owner.username, owner.password, path=f"/albums/{album_id}")
        expect(page.get_by_role("heading", name="Harbour")).to_be_visible()
        page.get_by_role("button", name="Share…").click()
        panel = page.locator(".album-share")
        expect(panel.get_by_text("No links yet.")).to_be_visible()
        panel.get_by_label("Link for").select_option("604800")
        panel.get_by_label("Preset").select_option("square-1080")
        panel.get_by_role("button", name="Create album link").click()
        url = panel.locator(".share-url a").get_attribute("href")
        assert url and "/s/" in url
        expect(panel.locator(".share-url .until")).to_contain_text("until")
        rows = panel.locator(".share-list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.locator(".views")).to_have_text("0")
        expires = device.owner.http.get(f"/api/albums/{album_id}/shares").json()["shares"][0]["expires_at"]
        made = datetime.fromisoformat(expires) - datetime.now(UTC)
        assert timedelta(days=6, hours=23) < made <= timedelta(days=7)  # the expiry chosen on the page

        anonymous = new_context(browser, accounts.server.url)
        viewer = anonymous.new_page()
        viewer.goto(url)
        expect(viewer.get_by_role("heading", name="Harbour")).to_be_visible()
        expect(viewer.locator(".share-tile img")).to_have_count(2)
        snap(page, "album-share-panel")
        page.reload()
        page.get_by_role("button", name="Share…").click()
        expect(panel.locator(".share-list tbody tr .views")).to_have_text("1")
        panel.get_by_role("button", name="Revoke").click()
        expect(panel.locator(".share-list tbody tr .state")).to_have_text("revoked")
        expect(panel.get_by_role("button", name="Revoke")).to_have_count(0)
        viewer.reload()
        expect(viewer.get_by_role("heading", name="This link has ended")).to_be_visible()
        anonymous.close()
        context.close()
        assert errors == []


@SQLITE
def test_make_and_delete_a_preset_on_its_page_with_clear_errors(accounts: Accounts) -> None:
    owner = accounts.user()
    http = owner.http
    with chromium() as (_, browser):
        context = new_context(browser, accounts.server.url)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())
        sign_in(page, owner.username, owner.password, path="/sets")
        page.get_by_role("link", name="Export presets").click()
        page.wait_for_url(re.compile(r"/sets/presets$"))
        rows = page.locator(".preset-list tbody tr")
        expect(rows).to_have_count(5)  # the built-in ones, none deletable
        expect(page.locator(".preset-list button.delete")).to_have_count(0)
        form = page.locator("form.new-preset")
        alert = form.get_by_role("alert")

        form.get_by_label("Name", exact=True).fill("shop-1600")
        form.get_by_label("Crop to an exact size").check()
        form.get_by_label("Height (px)").fill("")
        form.get_by_role("button", name="Create preset").click()
        expect(alert).to_have_text(re.compile("a crop needs a height"))
        form.get_by_label("Height (px)").fill("1200")
        form.get_by_label("File name pattern").fill("{set}-{day}")
        form.get_by_role("button", name="Create preset").click()
        expect(alert).to_have_text(re.compile(r"needs \{n\}"))
        form.get_by_label("File name pattern").fill("{date}-{n}-{preset}")
        form.get_by_label("JPEG quality").fill("101")
        form.get_by_role("button", name="Create preset").click()
        expect(alert).to_have_text(re.compile("quality must be 1-100"))
        assert [p["name"] for p in http.get("/api/presets").json()["presets"] if not p["builtin"]] == []

        form.get_by_label("JPEG quality").fill("77")
        form.get_by_role("button", name="Create preset").click()
        expect(rows).to_have_count(6)
        expect(alert).to_be_hidden()
        expect(page.locator('tr[data-name="shop-1600"]')).to_contain_text("Crop to 1600 × 1200")
        own = [p for p in http.get("/api/presets").json()["presets"] if not p["builtin"]]
        assert own == [
            {
                "name": "shop-1600",
                "mode": "crop",
                "width": 1600,
                "height": 1200,
                "quality": 77,
                "filename_pattern": "{date}-{n}-{preset}",
                "builtin": False,
            }
        ]
        form.get_by_label("Name", exact=True).fill("shop-1600")
        form.get_by_role("button", name="Create preset").click()
        expect(alert).to_have_text(re.compile("already have a preset 'shop-1600'"))
        expect(rows).to_have_count(6)
        snap(page, "publish-presets")

        page.get_by_role("button", name="Delete preset shop-1600").click()
        expect(rows).to_have_count(5)
        page.reload()  # the page's own address opens it
        expect(page).to_have_title(re.compile("^Presets"))
        expect(rows).to_have_count(5)
        assert [p for p in http.get("/api/presets").json()["presets"] if not p["builtin"]] == []
        context.close()
        assert errors == []
