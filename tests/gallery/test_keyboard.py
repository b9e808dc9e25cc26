"""The gallery by keyboard alone, in a real Chromium: Tab, Enter and Escape walk through Photos, the
lightbox (with its Share… menu) and back, Albums, an album and back; every control on the way is
reached and shows a focus ring (its computed outline or box-shadow under :focus-visible), and
every image has a text alternative."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import chromium, new_context, sign_in, wait_for_thumbnails
from tests.helpers.library import copy_library, sync_library
from tests.helpers.server import Accounts, Server, User

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)

# What has the focus, whether it shows a ring, and whether it can be seen; marks it as walked.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  el.dataset.walked = "1";
  const s = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
  const shadow = s.boxShadow !== "none";
  const name = (el.getAttribute("aria-label") || el.textContent || el.title || el.alt || el.value || "")
    .trim();
  return { tag: el.tagName, type: el.type ?? null, id: el.id,
           style: `${s.outlineStyle} ${s.outlineWidth} / ${s.boxShadow}`,
           cls: String(el.className), name: name.slice(0, 40),
           ring: el.matches(":focus-visible, :is(input, select, textarea):focus-within")
             && (outline || shadow),
           seen: box.width > 0 && box.height > 0, tile: el.matches(".tile"),
           index: el.dataset.index ?? null };
}"""
# Controls that can take the focus, are shown, and were never focused by the walk (before `stop`).
UNWALKED = """([scope, stop]) => {
  const end = stop ? document.querySelector(stop) : null;
  const controls = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])";
  return [...document.querySelector(scope).querySelectorAll(controls)]
    .filter((el) => !el.disabled && !el.closest("[hidden], [inert]") && el.getClientRects().length > 0)
    .filter((el) => getComputedStyle(el).visibility !== "hidden")
    .filter((el) => !end || el === end
      || (el.compareDocumentPosition(end) & Node.DOCUMENT_POSITION_FOLLOWING))
    .filter((el) => el !== end && !el.dataset.walked)
    .map((el) => el.outerHTML.slice(0, 120));
}"""
NAMELESS = """() => [...document.querySelectorAll("img")]
    .filter((i) => !i.hasAttribute("alt")).map((i) => i.outerHTML)
  .concat([...document.querySelectorAll(".tile img, .pswp__img:not(.pswp__img--placeholder)")]
    .filter((i) => !i.alt.trim()).map((i) => i.outerHTML))
  .concat([...document.querySelectorAll("a[href], button")]
    .filter((c) => c.getClientRects().length && !(c.getAttribute("aria-label") || c.textContent.trim()
      || c.title || [...c.querySelectorAll("img")].some((i) => i.alt.trim())
      || c.querySelector("[role=img][aria-label]")))
    .map((c) => c.outerHTML.slice(0, 120)))"""


@pytest.fixture(scope="module")
def owner(server: Server, fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[User]:
    made = Accounts(server)
    device = made.device()
    path = copy_library(fixtures_dir, "Test-14.0.0.photoslibrary", tmp_path_factory.mktemp("keys"))
    sync_library(device.http, path)
    wait_for_thumbnails(device.owner.http, server.url)
    yield device.owner
    made.close()


def tab_until(page: Page, done: Any, *, back: bool = False, limit: int = 80) -> list[dict[str, Any]]:
    """Press Tab (Shift+Tab) until `done(focused)`; every stop on the way, each checked for a ring."""
    walked = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        walked.append(focused)
        assert focused["seen"], f"the focus went to something not shown: {focused}"
        assert focused["ring"], f"no visible focus ring on {focused}"
        if done(focused):
            return walked
    raise AssertionError(f"not reached in {limit} presses; walked: {[w['name'] or w['cls'] for w in walked]}")


def open_and_close_lightbox(page: Page, index: str, *, share: bool) -> None:
    page.keyboard.press("Enter")
    expect(page.locator(".pswp[data-state=open]")).to_have_count(1)
    expect(page.locator(".pswp__img:not(.pswp__img--placeholder)").first).to_be_visible()
    seen: list[str] = []
    for _ in range(30):  # Tab around the lightbox until the focus comes back to where it began
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or "pswp" == focused["cls"].split(" ")[0] and not seen:
            continue
        key = focused["cls"] + focused["name"]
        if key in seen:
            break
        seen.append(key)
        if focused["cls"].startswith("pswp ") or focused["cls"] == "pswp":
            continue  # the lightbox itself takes the focus between rounds
        assert focused["ring"] and focused["seen"], focused
    assert page.evaluate(UNWALKED, [".pswp", None]) == [], "a lightbox control the Tab key never reached"
    assert page.evaluate(NAMELESS) == []
    if (
        share
    ):  # Share… opens its menu on Enter, the focus on the first preset; Escape closes it, then the lightbox.
        page.locator(".pswp__button--share").focus()
        page.keyboard.press("Enter")
        expect(page.locator(".pswp-share button").first).to_be_focused()
        assert page.evaluate(FOCUSED)["ring"]
        page.keyboard.press("Escape")
        expect(page.locator(".pswp-share")).to_be_hidden()
        expect(page.locator(".pswp__button--share")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(".pswp")).to_have_count(0)
    expect(page.locator(f".tile[data-index='{index}']")).to_be_focused()


@SQLITE
def test_photos_albums_and_the_lightbox_by_keyboard_alone(server: Server, owner: User) -> None:
    with chromium() as (_, browser):
        context = new_context(browser, server.url)
        page = context.new_page()
        sign_in(page, owner.username, owner.password)
        expect(page.locator(".tile img").first).to_be_visible()
        # The first page of photos, preloaded by the HTML, is the one the grid uses: asked once.
        first_pages: list[str] = []
        warnings: list[str] = []
        page.on(
            "request",
            lambda r: first_pages.append(r.url) if r.url.endswith("/api/photos?limit=100") else None,
        )
        page.on("console", lambda m: warnings.append(m.text) if "preload" in m.text else None)
        page.reload()
        expect(page.locator(".tile img").first).to_be_visible()
        page.wait_for_timeout(3500)  # Chromium warns of an unused preload after 3 s
        assert len(first_pages) == 1 and warnings == [], (first_pages, warnings)
        page.locator("body").focus()

        # Photos: from the top of the page to the first photo, every control on the way.
        walked = tab_until(page, lambda f: f["tile"])
        assert walked[0]["name"] == "Skip to content"
        assert {"Photos", "Albums", "Sets", "Sign out"} <= {w["name"] for w in walked}
        assert page.evaluate(UNWALKED, ["body", ".tile"]) == []
        assert page.evaluate(NAMELESS) == []
        page.keyboard.press("ArrowRight")
        tile = page.evaluate(FOCUSED)
        assert tile["tile"] and tile["index"] == "1" and tile["ring"]
        page.keyboard.press("ArrowLeft")
        open_and_close_lightbox(page, "0", share=True)

        # Back up to Albums, into an album, a photo of it, and back to Albums.
        tab_until(page, lambda f: f["name"] == "Albums" and f["tag"] == "A", back=True)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/albums$"))
        expect(page.locator(".album-card").first).to_be_visible()
        assert page.evaluate(NAMELESS) == []
        tab_until(page, lambda f: "album-card" in f["cls"])
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/albums/[0-9a-f-]{36}$"))
        expect(page.locator(".tile").first).to_be_visible()
        tab_until(page, lambda f: f["tile"])
        assert page.evaluate(NAMELESS) == []
        open_and_close_lightbox(page, "0", share=False)
        tab_until(
            page, lambda f: f["name"] == "Albums" and "crumbs" not in f["cls"] and f["tag"] == "A", back=True
        )
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/albums$"))
        context.close()
