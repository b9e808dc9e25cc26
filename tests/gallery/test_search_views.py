"""Search, filters, views, the scrubber and the info panel in a real Chromium against a real
server (SQLite; the API tests cover PostgreSQL), on synthetic photos with facts as Photos has them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.browser import chromium, new_context, sign_in, wait_until
from tests.helpers.records import photo_record
from tests.helpers.server import Accounts, Device, Server

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


@dataclass
class Facts:
    device: Device
    paris: list[str]  # photos_uuids of the photos that match "pari"
    hidden: str
    deleted: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as (_, launched):
        yield launched


@pytest.fixture(scope="module")
def facts(server: Server) -> Iterator[Facts]:
    """Photos over six years; three of them in Paris with titles, keywords and people."""
    made = Accounts(server)
    device = made.device()
    records = [
        photo_record(
            taken_at=f"{2019 + i // 40}-{1 + (i % 40) // 4:02d}-{1 + i % 27:02d}T12:00:00Z",
            filename=f"IMG_{i:04d}.JPG",
            width=(4032, 3024, 4000)[i % 3],
            height=(3024, 4032, 2250)[i % 3],
        )
        for i in range(240)
    ]
    paris = records[200:203]
    paris[0].update(title="Crème brûlée à Paris", keywords=["dessert", "café"], persons=["Zoé Martin"])
    paris[1].update(place={"name": "Paris", "city": "Paris", "country": "France"}, persons=["Zoé Martin"])
    paris[2].update(description="Evening by the Seine in PARIS", keywords=["river"])
    records[10].update(is_hidden=True, title="A secret in Paris")
    for start in range(0, len(records), 100):
        response = device.http.post("/api/sync/photos", json={"photos": records[start : start + 100]})
        assert response.status_code == 200, response.text
    gone = records[20]["photos_uuid"]
    response = device.http.post("/api/sync/photos/deleted", json={"photos_uuids": [gone]})
    assert response.status_code == 200, response.text
    yield Facts(device, [r["photos_uuid"] for r in paris], records[10]["photos_uuid"], gone)
    made.close()


@pytest.fixture
def page(browser: Browser, server: Server, facts: Facts) -> Iterator[Page]:
    context = new_context(browser, server.url)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(opened, facts.device.owner.username, facts.device.owner.password)
    yield opened
    context.close()
    assert errors == []


def shown_uuids(page: Page, facts: Facts) -> set[str]:
    ids = set(page.eval_on_selector_all(".tile", "ts => ts.map(t => t.dataset.id)"))
    listing = facts.device.owner.http.get("/api/photos", params={"limit": 500}).json()["photos"]
    hidden = facts.device.owner.http.get("/api/photos", params={"hidden": "true"}).json()["photos"]
    return {p["photos_uuid"] for p in listing + hidden if p["id"] in ids}


@SQLITE
def test_typing_a_search_narrows_the_grid_and_back_undoes_it(page: Page, facts: Facts) -> None:
    expect(page.locator(".tile").first).to_be_visible()
    page.get_by_label("Search photos").press_sequentially("pari", delay=60)
    page.wait_for_url(re.compile(r"[?&]q=pari"))
    expect(page.locator(".grid-end.is-done")).to_contain_text("3 photos")
    assert shown_uuids(page, facts) == set(facts.paris)  # not the hidden one, though it says Paris
    expect(page.get_by_label("Search photos")).to_be_focused()
    page.get_by_label("Search photos").fill("zoe mar")  # accents and case do not matter
    page.get_by_label("Search photos").press("Enter")
    page.wait_for_url(re.compile(r"q=zoe"))
    expect(page.locator(".grid-end.is-done")).to_contain_text("2 photos")
    page.go_back()
    page.wait_for_url(lambda url: "q=" not in url)
    expect(page.get_by_label("Search photos")).to_have_value("")
    expect(page.locator(".tile").first).to_be_visible()
    assert page.locator(".tile").count() > 3


@SQLITE
def test_the_scrubber_jumps_to_a_year_and_scrolling_up_comes_back(page: Page, facts: Facts) -> None:
    expect(page.locator(".tile").first).to_be_visible()
    first = page.locator(".tile").first.get_attribute("data-id")
    year = page.locator('.scrubber .year[data-year="2020"]')
    expect(year).to_be_visible()
    year.click()
    newest_of_2020 = facts.device.owner.http.get(
        "/api/photos", params={"to": "2020-12-31", "limit": 1}
    ).json()
    target = newest_of_2020["photos"][0]
    expect(page.locator('.group-title[data-group^="2021-01"]').first).to_be_attached()  # loaded above
    # The rail names the month jumped to, shown at the top of the screen under the page's header
    # (newer photos load above it, off screen).
    expect(page.locator(".scrubber")).to_have_attribute("data-current", target["taken_at"][:7])
    expect(page.locator(f'.tile[data-id="{target["id"]}"]')).to_be_in_viewport()
    heading = page.locator(f'.group-title[data-group^="{target["taken_at"][:7]}"]').first
    header_bottom = page.evaluate("document.querySelector('header.top').getBoundingClientRect().bottom")
    assert abs(heading.bounding_box()["y"] - header_bottom) < 40  # type: ignore[index]
    page.mouse.wheel(0, 400)  # scrolling on names the months it passes, still from the same place
    page.wait_for_timeout(300)
    expect(page.locator(".scrubber")).to_have_attribute("data-current", re.compile(r"^2020-"))
    for _ in range(60):  # newer pages load above as one scrolls up
        if page.locator(f'.tile[data-id="{first}"]').count():
            break
        page.mouse.wheel(0, -2000)
        page.wait_for_timeout(100)
    expect(page.locator(f'.tile[data-id="{first}"]')).to_have_count(1)


@SQLITE
def test_the_rail_names_the_utc_month_it_counted_a_photo_in(browser: Browser, server: Server) -> None:
    made = Accounts(server)
    device = made.device()
    evening = photo_record(taken_at="2021-03-31T22:00:00-05:00", filename="EVENING.JPG")  # April in UTC
    older = [photo_record(taken_at=at) for at in ("2021-02-10T12:00:00Z", "2020-05-10T12:00:00Z")]
    assert device.http.post("/api/sync/photos", json={"photos": [evening, *older]}).status_code == 200
    months = device.owner.http.get("/api/photos/months").json()["months"]
    assert [m["month"] for m in months] == ["2021-04", "2021-02", "2020-05"]
    context = new_context(browser, server.url)
    page = context.new_page()
    try:
        sign_in(page, device.owner.username, device.owner.password)
        expect(page.locator(".tile").first).to_be_visible()
        expect(page.locator(".group-title").first).to_contain_text("March")  # the photo's own day
        expect(page.locator(".scrubber")).to_have_attribute("data-current", "2021-04")  # counted there
    finally:
        context.close()
        made.close()


@SQLITE
def test_hidden_and_recently_deleted_with_restore(page: Page, facts: Facts) -> None:
    http = facts.device.owner.http
    ids = {
        p["photos_uuid"]: p["id"] for p in http.get("/api/photos", params={"hidden": "true"}).json()["photos"]
    }
    page.get_by_role("link", name="Hidden", exact=True).click()
    page.wait_for_url(re.compile(r"view=hidden"))
    expect(page.locator(".tile")).to_have_count(1)
    expect(page.locator(".tile")).to_have_attribute("data-id", ids[facts.hidden])
    page.get_by_role("link", name="Recently Deleted").click()
    page.wait_for_url(re.compile(r"view=deleted"))
    expect(page.locator(".tile")).to_have_count(1)
    page.locator(".tile").click()
    expect(page.locator('.pswp[data-state="open"]')).to_be_visible()
    page.get_by_role("button", name="Restore").click()
    wait_until(
        lambda: not http.get("/api/photos", params={"deleted": "true"}).json()["photos"],
        timeout=10,
        what="the restore",
    )
    expect(page.get_by_role("button", name="Restore")).to_be_hidden()
    expect(page.locator(".tile")).to_have_count(0)  # gone from the open grid at once, with no reload
    page.keyboard.press("Escape")  # the lightbox has the focus back: the next key reaches it
    expect(page.locator(".pswp")).to_have_count(0)
    expect(page.locator(".tile")).to_have_count(0)
    expect(page.locator(".grid-end.is-done")).to_have_text("Nothing was deleted recently.")
    assert "view=deleted" in page.url
    listed = {p["photos_uuid"] for p in http.get("/api/photos", params={"limit": 500}).json()["photos"]}
    assert facts.deleted in listed and facts.hidden not in listed


@SQLITE
def test_the_info_panel_shows_title_keywords_and_people(page: Page, facts: Facts) -> None:
    page.goto("/?q=creme")
    expect(page.locator(".tile")).to_have_count(1)
    page.locator(".tile").click()
    expect(page.locator('.pswp[data-state="open"]')).to_be_visible()
    page.keyboard.press("i")
    panel = page.get_by_role("complementary", name="Info")
    expect(panel.locator(".info-title")).to_have_text("Crème brûlée à Paris")
    expect(panel.locator(".info-keywords li")).to_have_text(["dessert", "café"])
    expect(panel.locator(".info-people li")).to_have_text(["Zoé Martin"])
    expect(panel.get_by_role("link", name="Open in map")).to_have_attribute(
        "href", re.compile("openstreetmap")
    )
    page.keyboard.press("i")
    expect(panel).to_be_hidden()


@SQLITE
def test_people_and_places_open_their_photos(page: Page, facts: Facts) -> None:
    page.get_by_role("link", name="People", exact=True).click()
    page.wait_for_url(re.compile(r"/people$"))
    card = page.locator(".view-card", has_text="Zoé Martin")
    expect(card).to_contain_text("2 photos")
    card.click()
    expect(page.locator(".grid-end.is-done")).to_contain_text("2 photos")
    page.goto("/places")
    expect(page.locator(".view-card", has_text="Paris, France")).to_contain_text("1 photo")


@SQLITE
def test_the_page_keeps_a_bounded_number_of_elements_over_a_long_scroll(
    browser: Browser, server: Server
) -> None:
    made = Accounts(server)
    device = made.device()
    count = 3000
    for start in range(0, count, 100):
        batch = [
            photo_record(taken_at=f"20{10 + i // 300}-01-01T00:00:00Z", filename=f"B_{i}.JPG")
            for i in range(start, start + 100)
        ]
        assert device.http.post("/api/sync/photos", json={"photos": batch}).status_code == 200
    context = new_context(browser, server.url)
    page = context.new_page()
    try:
        sign_in(page, device.owner.username, device.owner.password)
        page.locator(".tile").first.wait_for()
        most = 0
        for _ in range(400):
            if page.locator(".grid-end.is-done").count():
                break
            page.keyboard.press("End")
            page.wait_for_timeout(30)
            most = max(most, page.evaluate("document.getElementsByTagName('*').length"))
        expect(page.locator(".grid-end.is-done")).to_contain_text(f"{count:,} photos")
        assert most < 1500, most
        assert page.locator(".tile").count() < 300
    finally:
        context.close()
        made.close()
