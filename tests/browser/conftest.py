"""Browser fixtures: one headless Chromium for the whole session (`chromium`), handed to each
test wiped clean (`browser`), and `serve` for the app it visits. Without a Chromium the tests
skip, saying what is missing; under CI=true they fail instead, as CI must run them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from aiohttp import web

from tests.browser.harness import Browser, serve_in_thread, start_chromium


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """The session's one Chromium, started on first use (tests that need none pay nothing)."""
    try:
        started = start_chromium()
    except Exception as error:  # A missing binary, or one that will not start: say which.
        reason = f"no browser for tests/browser: {error}".splitlines()[0]
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: CI must run the browser tests)", pytrace=False)
        pytest.skip(reason)
    yield started
    started.quit()


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Browser]:
    """The session's Chromium as new: one blank tab, desktop size (1280 × 900), JavaScript
    on, no cookies or storage from an earlier test; wiped again after this one."""
    chromium.reset()
    yield chromium
    chromium.reset()


@pytest.fixture
def serve() -> Iterator[Callable[[web.Application], str]]:
    """`serve(app)` serves an aiohttp app on 127.0.0.1 at a free port, in its own thread and
    event loop (Selenium's calls block the test's), until the test ends; returns its root URL."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_in_thread(app))
