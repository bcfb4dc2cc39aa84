"""A real Chromium for the officers' desk tests: Debian's `chromium` driven through its
`chromedriver` by Selenium, headless, one per test session, its state wiped between tests; and
an aiohttp app served from a thread of its own, since Selenium's calls block."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

PHONE = (390, 844)
DESKTOP = (1280, 900)


def find_chromium() -> tuple[str, str]:
    """Paths of `chromium` and `chromedriver` on PATH; RuntimeError naming what is missing."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path]
    if browser is None or driver is None:
        raise RuntimeError(
            f"{' and '.join(missing)} not on PATH (Debian: apt-get install chromium "
            "chromium-driver, as .ci/chromium does)"
        )
    return browser, driver


def start_chromium() -> Browser:
    """Headless Chromium under chromedriver. The driver's path is given, so Selenium Manager
    (which would download a driver) never runs: the tests need no internet."""
    browser, driver = find_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    options.add_argument("--headless=new")
    # Chromium refuses to run as root with its sandbox on; a container's /dev/shm may be small.
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    options.add_argument("--disable-dev-shm-usage")
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    options.add_argument("--lang=en-US")
    service = Service(executable_path=driver, log_output=os.devnull)
    try:
        return Browser(webdriver.Chrome(options=options, service=service))
    except WebDriverException as error:
        said = (error.msg or repr(error)).removeprefix("Message: ").split("; For documentation")[0]
        raise RuntimeError(f"{browser} did not start under {driver}: {said}") from error


class Browser:
    """A started Chromium. `driver` is the whole Selenium API; the rest sets what a desk test
    varies: the viewport, JavaScript on or off, and screenshots."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver
        self.version = str(driver.capabilities.get("browserVersion", "?"))

    def cdp(self, command: str, **params: Any) -> dict[str, Any]:
        """A Chrome DevTools Protocol command on the current tab."""
        result: dict[str, Any] = self.driver.execute_cdp_cmd(command, params)
        return result

    def viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        """Lay pages out at exactly width × height CSS pixels. `mobile` is a phone's: a page
        is laid out as its `<meta name="viewport">` says (980 px wide without one), and touch
        is the pointer."""
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            width=width, height=height, deviceScaleFactor=1, mobile=mobile,
        )  # fmt: skip
        self.cdp("Emulation.setTouchEmulationEnabled", enabled=mobile)

    def phone(self) -> None:
        """A phone's screen: 390 × 844, mobile."""
        self.viewport(*PHONE, mobile=True)

    def desktop(self) -> None:
        """A desktop's window: 1280 × 900 (what every test starts with)."""
        self.viewport(*DESKTOP)

    def javascript(self, enabled: bool) -> None:
        """Run pages' scripts or not, from the next page loaded in this tab on."""
        self.cdp("Emulation.setScriptExecutionDisabled", value=not enabled)

    def screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Save what the viewport shows as a PNG at `path` (folders made); returns it."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not self.driver.save_screenshot(str(target)):
            raise RuntimeError(f"Chromium took no screenshot for {target}")
        return target

    def reset(self) -> None:
        """Back to a fresh start: one blank tab at desktop size with JavaScript on, and no
        cookies, cache or storage left from any page this tab visited."""
        driver = self.driver
        first, *others = driver.window_handles
        for handle in others:
            driver.switch_to.window(handle)
            driver.close()
        driver.switch_to.window(first)
        history = self.cdp("Page.getNavigationHistory")["entries"]
        origins = {
            f"{parts.scheme}://{parts.netloc}"
            for entry in history
            if (parts := urlsplit(entry["url"])).scheme in {"http", "https"}
        }
        driver.get("about:blank")
        self.cdp("Network.clearBrowserCookies")
        self.cdp("Network.clearBrowserCache")
        for origin in sorted(origins):
            self.cdp("Storage.clearDataForOrigin", origin=origin, storageTypes="all")
        self.cdp("Page.resetNavigationHistory")
        self.cdp("Emulation.clearDeviceMetricsOverride")
        self.javascript(True)
        self.desktop()

    def quit(self) -> None:
        """Stop Chromium and chromedriver."""
        self.driver.quit()


@contextmanager
def serve_in_thread(app: web.Application) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at a free port from a thread with its own event loop, while
    inside; yields its root URL. The app's startup and cleanup run in that loop, so whatever
    it opens there (a database engine) belongs to it."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)

    async def start() -> str:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    thread = threading.Thread(target=loop.run_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
