"""Colour contrast of every piece of text on the gallery's pages, light and dark, in a real
Chromium: at least 4.5:1 against what is behind it (3:1 for large text), WCAG AA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import chromium, sign_in, wait_for_thumbnails
from tests.helpers.library import copy_library, sync_library
from tests.helpers.server import Accounts, Server, User

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)

# Every shown element with text of its own whose contrast is under AA: its text, colours and ratio.
# The background is the element's and its ancestors' colours laid over each other; text over a
# picture (a tile's badge) is left out, as are disabled controls (WCAG exempts them).
LOW_CONTRAST = """() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const mix = (top, under, k) => top[k] * top.a + under[k] * (1 - top.a);
  const over = (top, under) =>
    ({ r: mix(top, under, "r"), g: mix(top, under, "g"), b: mix(top, under, "b"), a: 1 });
  const lum = ({ r, g, b }) => [r, g, b].map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const canvas = matchMedia("(prefers-color-scheme: dark)").matches ? { r: 18, g: 18, b: 18, a: 1 }
    : { r: 255, g: 255, b: 255, a: 1 };
  // The lightbox's backdrop is a layer of its own (.pswp__bg), not an ancestor of its controls.
  const pswpBg = document.querySelector(".pswp__bg");
  const backdrop = (el) => {
    const layers = [];
    const base = el.closest(".pswp") && pswpBg ? parse(getComputedStyle(pswpBg).backgroundColor) : canvas;
    const top = el.closest(".pswp")?.parentElement ?? null; // the lightbox covers the page
    for (let e = el; e && e !== top; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== "none" || e.matches(".tile, .pswp__img")) return null;
      const c = parse(s.backgroundColor);
      if (c && c.a > 0) layers.push(c);
      if (c && c.a >= 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), base);
  };
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const skipped = el.closest("[hidden], [aria-hidden=true], noscript, script, style, .tile");
    if (!own || skipped || el.disabled) continue;
    const s = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2 || s.visibility === "hidden" || Number(s.opacity) === 0) continue;
    const bg = backdrop(el);
    const fg = parse(s.color);
    if (!bg || !fg) continue;
    const text = over(fg, bg);
    const [hi, lo] = [lum(text), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      found.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${s.color} on `
        + `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)}): ${ratio.toFixed(2)}`);
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def owner(server: Server, fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[User]:
    made = Accounts(server)
    device = made.device()
    path = copy_library(fixtures_dir, "Test-14.0.0.photoslibrary", tmp_path_factory.mktemp("contrast"))
    sync_library(device.http, path)
    wait_for_thumbnails(device.owner.http, server.url)
    yield device.owner
    made.close()


@SQLITE
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_on_every_page_meets_aa_contrast(server: Server, owner: User, scheme: str) -> None:
    photos = owner.http.get("/api/photos", params={"limit": 3}).json()["photos"]
    album = owner.http.get("/api/albums").json()["albums"][0]
    made = owner.http.post(
        "/api/publish-sets", json={"title": "Picks", "photo_ids": [p["id"] for p in photos]}
    )
    pages = [
        "/",
        "/albums",
        f"/albums/{album['id']}",
        "/sets",
        f"/sets/{made.json()['id']}",
        "/sync",
        "/devices",
        "/account",
        "/?view=hidden",
    ]
    low: dict[str, list[str]] = {}
    with chromium() as (_, browser):
        context = browser.new_context(
            base_url=server.url, color_scheme=scheme, viewport={"width": 1280, "height": 860}
        )
        page = context.new_page()
        sign_in(page, owner.username, owner.password)
        for path in pages:
            page.goto(path)
            expect(page.locator("main [aria-busy=true]")).to_have_count(0)
            page.wait_for_load_state("networkidle")
            found = page.evaluate(LOW_CONTRAST)
            if found:
                low[path] = found
        page.goto("/")
        page.locator(".tile").first.click()
        expect(page.locator(".pswp[data-state=open]")).to_have_count(1)
        page.keyboard.press("i")
        page.wait_for_load_state("networkidle")
        found = page.evaluate(LOW_CONTRAST)
        if found:
            low["lightbox"] = found
        context.close()
    assert low == {}
