"""Playwright helpers for the gallery's browser tests: Debian's Chromium, sign-in, screenshots.

Playwright's own browser download does not work here (and CI must not depend on it), so
the browser is always the system's /usr/bin/chromium, started with the flags that keep it
off the network it cannot reach.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator[tuple[Playwright, Browser]]:
    """Headless Debian Chromium under Playwright."""
    if not Path(CHROMIUM).is_file():
        raise RuntimeError(f"{CHROMIUM} is missing: `scripts/install test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield playwright, browser
        finally:
            browser.close()


def new_context(browser: Browser, base_url: str, *, phone: bool = False) -> BrowserContext:
    options: dict[str, Any] = {"base_url": base_url, "viewport": PHONE if phone else DESKTOP}
    if phone:
        options.update(device_scale_factor=2, is_mobile=True, has_touch=True)
    context = browser.new_context(**options, accept_downloads=True)
    context.set_default_timeout(15_000)
    return context


def sign_in(page: Page, username: str, password: str, *, path: str = "/") -> None:
    """Sign in through the form, as a person would, and land on `path`."""
    page.goto(path)
    page.wait_for_url(re.compile(r"/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.locator("header.top").wait_for()


def snap(page: Page, name: str, *, full_page: bool = False) -> Path:
    """A screenshot in test-artifacts/ (kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def thumbnail_pipeline_running(base_url: str) -> bool:
    """Whether the server makes thumbnails (the queue appears in /health once it does)."""
    health = httpx.get(f"{base_url}/health", timeout=10).json()
    return health.get("queue") not in (None, "not configured")


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def wait_for_thumbnails(http: httpx.Client, base_url: str, *, timeout: float = 180) -> dict[str, int]:
    """With a thumbnail pipeline, wait until nothing is pending or processing; else return at once.

    Returns the user's thumbnail counts as the API reports them at the end.
    """

    def counts() -> dict[str, int]:
        return dict(http.get("/api/sync/status").json()["thumbnails"])

    if thumbnail_pipeline_running(base_url):
        wait_until(
            lambda: (lambda c: c["pending"] + c["processing"] == 0)(counts()),
            timeout=timeout,
            what="thumbnails to be made",
        )
    return counts()
