"""Share… in a real Chromium: on a set's page and in the lightbox the chosen preset's renditions
reach the share sheet as files (navigator.share stubbed in the page to capture them: names in the
set's order, JPEG, no metadata); where the browser cannot share files, they download instead."""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path
from typing import Any

import pytest
import pyvips
from playwright.sync_api import Page, expect

from tests.helpers.browser import chromium, new_context, sign_in
from tests.helpers.publish import jpeg, metadata_fields, photo_ids, send_photo
from tests.helpers.server import Accounts

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)

# The share sheet as a page sees it, recording what it is handed (canShare says yes to files).
SHARE_STUB = """
window.__shared = [];
Object.defineProperty(navigator, "canShare", { configurable: true,
  value: (data) => Array.isArray(data?.files) && data.files.every((f) => f instanceof File) });
Object.defineProperty(navigator, "share", { configurable: true, value: async (data) => {
  const read = (f) => new Promise((done) => {
    const reader = new FileReader();
    reader.onload = () => done({ name: f.name, type: f.type, data: String(reader.result).split(",")[1] });
    reader.readAsDataURL(f);
  });
  window.__shared.push({ title: data.title, files: await Promise.all(data.files.map(read)) });
} });
"""
# A browser with the Web Share API that cannot share files.
NO_FILES_STUB = """
Object.defineProperty(navigator, "canShare", { configurable: true, value: () => false });
Object.defineProperty(navigator, "share", { configurable: true,
  value: async () => { throw new Error("no files"); } });
"""


def _shared(page: Page) -> list[dict[str, Any]]:
    page.wait_for_function("() => window.__shared.length > 0")
    return page.evaluate("() => window.__shared")


def _clean_jpeg(data: bytes, size: tuple[int, int]) -> None:
    assert data[:3] == b"\xff\xd8\xff"
    image = pyvips.Image.new_from_buffer(data, "")
    assert (image.width, image.height) == size
    assert metadata_fields(data) == [] and b"Secret" not in data and b"CameraMaker" not in data


def _library(accounts: Accounts) -> tuple[Any, list[str], str]:
    device = accounts.device()
    records = [
        send_photo(
            device, jpeg(1400, 1000, colour=(60 * i, 120, 200)), taken_at=f"2026-11-01T1{i}:00:00+00:00"
        )
        for i in range(3)
    ]
    ids = photo_ids(device, records)
    order = [ids[1], ids[2], ids[0]]
    http = device.owner.http
    set_id = http.post("/api/publish-sets", json={"title": "Beach day", "photo_ids": order}).json()["id"]
    return device.owner, order, set_id


@SQLITE
def test_share_on_a_sets_page_hands_its_renditions_in_order_to_the_share_sheet(accounts: Accounts) -> None:
    owner, order, set_id = _library(accounts)
    with chromium() as (_, browser):
        context = new_context(browser, accounts.server.url, phone=True)
        context.add_init_script(SHARE_STUB)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, owner.username, owner.password, path=f"/sets/{set_id}")
        form = page.locator("form.download")
        form.get_by_label("Preset").select_option("square-1080")
        form.get_by_role("button", name="Share…").click()
        (shared,) = _shared(page)
        expect(form.locator(".share-state")).to_have_text("Shared.")
        assert shared["title"] == "Beach day"
        assert [f["name"] for f in shared["files"]] == [
            "beach-day-01.jpg",
            "beach-day-02.jpg",
            "beach-day-03.jpg",
        ]
        assert {f["type"] for f in shared["files"]} == {"image/jpeg"}
        reds = []
        for file in shared["files"]:
            data = base64.b64decode(file["data"])
            _clean_jpeg(data, (1000, 1000))  # 1400 x 1000 cropped square, not enlarged
            reds.append(pyvips.Image.new_from_buffer(data, "").extract_band(0).avg())
        # the set's order: the second photo (red 60), the third (120), the first (0)
        assert all(abs(got - want) < 12 for got, want in zip(reds, [60, 120, 0], strict=True)), reds
        context.close()
    assert errors == []


@SQLITE
def test_share_in_the_lightbox_hands_the_photo_in_the_chosen_preset(accounts: Accounts) -> None:
    owner, order, _ = _library(accounts)
    with chromium() as (_, browser):
        context = new_context(browser, accounts.server.url, phone=True)
        context.add_init_script(SHARE_STUB)
        page = context.new_page()
        sign_in(page, owner.username, owner.password)
        page.locator(".tile").first.click()  # the newest photo
        expect(page.locator(".pswp[data-state=open]")).to_have_count(1)
        page.get_by_role("button", name="Share…").click()
        page.locator(".pswp-share").get_by_role("button", name="web-2048").click()
        (shared,) = _shared(page)
        assert [f["name"] for f in shared["files"]] == ["img_0001-01.jpg"]
        _clean_jpeg(base64.b64decode(shared["files"][0]["data"]), (1400, 1000))
        context.close()


@SQLITE
def test_where_files_cannot_be_shared_the_set_and_the_photo_download(
    accounts: Accounts, scratch: Path
) -> None:
    owner, _, set_id = _library(accounts)
    with chromium() as (_, browser):
        context = new_context(browser, accounts.server.url)
        context.add_init_script(NO_FILES_STUB)
        page = context.new_page()
        sign_in(page, owner.username, owner.password, path=f"/sets/{set_id}")
        form = page.locator("form.download")
        form.get_by_label("Preset").select_option("square-1080")
        with page.expect_download() as zipped:
            form.get_by_role("button", name="Share…").click()
        expect(form.locator(".share-state")).to_contain_text("downloading instead")
        saved = scratch / "set.zip"
        zipped.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            names = archive.namelist()
        assert names[:3] == ["beach-day-01.jpg", "beach-day-02.jpg", "beach-day-03.jpg"]
        assert names[3:] == ["REPORT.txt"]  # 1000 px squares: smaller than 1080, not enlarged
        context.close()

        # Debian's Chromium on Linux has no Web Share at all: the lightbox downloads the file.
        context = new_context(browser, accounts.server.url)
        page = context.new_page()
        sign_in(page, owner.username, owner.password)
        assert page.evaluate("() => typeof navigator.share") == "undefined"
        page.locator(".tile").first.click()
        page.get_by_role("button", name="Share…").click()
        with page.expect_download() as one:
            page.locator(".pswp-share").get_by_role("button", name="web-2048").click()
        assert one.value.suggested_filename == "img_0001-01.jpg"
        photo = scratch / "photo.jpg"
        one.value.save_as(photo)
        _clean_jpeg(photo.read_bytes(), (1400, 1000))
        context.close()
