"""Accounts in the browser: first run, People (admins), Your account, Add a device, /welcome."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.helpers.browser import chromium, new_context, sign_in
from tests.helpers.server import ADMIN_PASSWORD, Accounts, Server, base_env

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as (_, launched):
        yield launched


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    made = new_context(browser, server.url)
    yield made
    made.close()


def _errors(page: Page) -> list[str]:
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def test_the_first_run_form_then_never_again(browser: Browser, tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    server = Server(url="", env=base_env(data_dir), data_dir=data_dir, backend="sqlite")
    server.start()
    try:
        first = new_context(browser, server.url)
        page = first.new_page()
        errors = _errors(page)
        page.goto("/")
        expect(page.get_by_role("heading", name="Create the first account")).to_be_visible()
        expect(page.get_by_label("Setup code")).to_have_count(0)  # from loopback, no code needed
        page.get_by_label("Username").fill("owner")
        page.get_by_label("Password").fill("short")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("alert")).to_contain_text("at least")
        page.get_by_label("Password").fill("owner password 1")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(re.compile(r"/$"))
        expect(page.locator("header.top")).to_contain_text("owner")
        expect(
            page.get_by_role("navigation", name="Gallery").get_by_role("link", name="People")
        ).to_be_visible()  # an administrator
        first.close()

        later = new_context(browser, server.url)
        page = later.new_page()
        page.goto("/login")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.get_by_role("heading", name="Create the first account")).to_have_count(0)
        later.close()
        assert errors == []
    finally:
        server.stop()


@SQLITE
def test_an_admin_invites_disables_and_enables_a_person(
    browser: Browser, context: BrowserContext, server: Server, accounts: Accounts
) -> None:
    admin = context.new_page()
    errors = _errors(admin)
    sign_in(admin, "admin", ADMIN_PASSWORD, path="/admin/accounts")
    name = f"p{uuid.uuid4().hex[:8]}"
    admin.get_by_label("Username").fill(name)
    admin.get_by_role("button", name="Add", exact=True).click()
    link = admin.get_by_label(f"Link for {name}").input_value()
    assert "/welcome#" in link
    expect(admin.locator(f'tr[data-username="{name}"]')).to_contain_text("invited")

    person_context = new_context(browser, server.url)
    person = person_context.new_page()
    person.goto(link)
    expect(person.locator(".username")).to_have_text(name)
    person.get_by_label("Password").fill("person password 1")
    person.get_by_label("Again").fill("person password 1")
    person.get_by_role("button", name="Create my password").click()
    person.wait_for_url(re.compile(r"/$"))
    expect(person.locator("header.top")).to_contain_text(name)
    # The link works once.
    again = person_context.new_page()
    again.goto(link)
    expect(again.get_by_role("alert")).to_contain_text("used already")

    row = admin.locator(f'tr[data-username="{name}"]')
    admin.reload()
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Disable").click()
    expect(row).to_contain_text("disabled")
    person.goto("/albums")  # the open session is refused at once
    person.wait_for_url(re.compile(r"/login"))
    row.get_by_role("button", name="Enable").click()
    expect(row).to_contain_text("active")
    sign_in(person, name, "person password 1")
    person_context.close()
    assert errors == []


@SQLITE
def test_changing_the_password_signs_out_the_other_browser(
    browser: Browser, context: BrowserContext, server: Server, accounts: Accounts
) -> None:
    user = accounts.user()
    page = context.new_page()
    sign_in(page, user.username, user.password, path="/account")
    other_context = new_context(browser, server.url)
    other = other_context.new_page()
    sign_in(other, user.username, user.password)
    page.reload()
    expect(page.locator("table.sessions tbody tr")).to_have_count(3)  # the API login, and two browsers
    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password").fill("a new password 1")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.get_by_label("Current password").fill(user.password)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Password changed")
    expect(page.locator("table.sessions tbody tr")).to_have_count(1)
    other.goto("/albums")
    other.wait_for_url(re.compile(r"/login"))
    other_context.close()


@SQLITE
def test_add_a_device_shows_the_code_of_an_agent_that_registers_meanwhile(
    context: BrowserContext, server: Server, accounts: Accounts
) -> None:
    user = accounts.user()
    page = context.new_page()
    sign_in(page, user.username, user.password, path="/devices")
    page.get_by_role("link", name="Add a device").click()
    page.wait_for_url(re.compile(r"/devices/add$"))
    expect(page.locator("pre.commands")).to_contain_text(f"--server {server.url} --username {user.username}")
    expect(page.locator(".waiting")).to_contain_text("Waiting for the agent")
    page.wait_for_timeout(2500)  # the page has seen the devices as they were
    device_id = accounts.register(user)
    code = accounts.code_for(user, device_id)
    expect(page.locator(".waiting .code")).to_have_text(code, timeout=10_000)
