"""What the browser harness promises the desk's tests, checked in the real Chromium: a
Content-Security-Policy is enforced, JavaScript goes off and on, phone and desktop widths are
exact (and so are their screenshots), and each test starts with no cookies or storage."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from tests.browser.harness import DESKTOP, PHONE, Browser

Serve = Callable[[web.Application], str]

PAGE = """<!doctype html>
<html><head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>untouched</title>
<script>document.title = "inline ran";</script>
<script src="/external.js"></script>
</head><body><p>Tipline</p></body></html>"""


def pages(csp: str | None = None) -> web.Application:
    """`/`: a page with an inline script and a same-origin one, each changing its title,
    served under `csp` when given; `/external.js`, the same-origin script; `/cookie`, a page
    that sets a cookie as the desk's login does; `/plain`, a page that does nothing."""

    async def page(request: web.Request) -> web.Response:
        headers = {"Content-Security-Policy": csp} if csp else {}
        return web.Response(text=PAGE, content_type="text/html", headers=headers)

    async def external(request: web.Request) -> web.Response:
        script = 'document.title += " + external ran"; localStorage.setItem("seen", "yes");'
        return web.Response(text=script, content_type="application/javascript")

    async def cookie(request: web.Request) -> web.Response:
        response = web.Response(text="<title>cookie</title>", content_type="text/html")
        response.set_cookie("desk_session", "s3cret", httponly=True, samesite="Strict")
        return response

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="<title>plain</title>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/external.js", external)
    app.router.add_get("/cookie", cookie)
    app.router.add_get("/plain", plain)
    return app


@pytest.mark.parametrize(
    ("csp", "title"),
    [
        (None, "inline ran + external ran"),
        ("script-src 'self'", "untouched + external ran"),
    ],
)
def test_csp_blocks_the_inline_script_and_runs_the_same_origin_one(
    browser: Browser, serve: Serve, csp: str | None, title: str
) -> None:
    browser.driver.get(serve(pages(csp)) + "/")
    assert browser.driver.title == title


def test_javascript_goes_off_and_on(browser: Browser, serve: Serve) -> None:
    root = serve(pages())
    browser.javascript(False)
    browser.driver.get(root + "/")
    assert browser.driver.title == "untouched"
    browser.javascript(True)
    browser.driver.get(root + "/")
    assert browser.driver.title == "inline ran + external ran"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_phone_and_desktop_widths_and_their_screenshots(
    browser: Browser, serve: Serve, tmp_path: Path
) -> None:
    browser.driver.get(serve(pages()) + "/")
    size = "return [innerWidth, innerHeight, matchMedia('(pointer: coarse)').matches]"
    assert browser.driver.execute_script(size) == [*DESKTOP, False]
    browser.phone()
    assert browser.driver.execute_script(size) == [*PHONE, True]
    shot = browser.screenshot(tmp_path / "shots" / "phone.png")
    assert png_size(shot.read_bytes()) == PHONE
    browser.desktop()
    assert browser.driver.execute_script(size) == [*DESKTOP, False]
    assert png_size(browser.screenshot(tmp_path / "desktop.png").read_bytes()) == DESKTOP


def test_reset_leaves_no_cookie_or_storage(browser: Browser, serve: Serve) -> None:
    root = serve(pages())
    browser.driver.get(root + "/cookie")
    browser.driver.get(root + "/")
    assert browser.driver.get_cookie("desk_session") is not None
    assert browser.driver.execute_script("return localStorage.getItem('seen')") == "yes"
    browser.reset()
    assert browser.driver.window_handles == [browser.driver.current_window_handle]
    browser.driver.get(root + "/plain")
    assert browser.driver.get_cookies() == []
    assert browser.driver.execute_script("return localStorage.getItem('seen')") is None
