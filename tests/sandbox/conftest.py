from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import SESSION_TLS, require_tool

# As root Chromium needs --no-sandbox; the rest keep it off this machine's closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium", "chromium")
    with sync_playwright() as p:
        # The sandbox's certificate is trusted by this browser alone, by its key (sandbox/tls.py).
        browser = p.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, SESSION_TLS.chromium_flag])
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()
