"""The officers' desk in a real Chromium, as an officer at 7 am uses it: a link from the bot,
the queue, a tip's page, a status with its confirmation and undo, a question answered by the
tipster, a duplicate linked; and what must never work: another commune's tip by its address,
a spent or stale link, a script in a tip, a form posted from another page.

The desk runs in the test's event loop (its database is the test's); Selenium's blocking
calls go through a thread, so the server answers while the browser waits."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from bot.desk.app import mount_desk
from bot.runtime import Runtime
from handlers.common.types import Media, MediaKind
from handlers.conversation.buttons import AnswerQuestion
from storage.models import ThreadMessage, Tip, TipStatus
from tests.browser.harness import Browser
from tests.conftest import FakeClock, Person, file_tip
from tests.fake_telegram import FakeTelegramAPI
from tests.messages import filled, says
from tests.test_desk_files import desk_on, file_with, tiny_png
from tests.test_desk_overview import plant
from tests.test_map import catalog_from, province_map
from tests.test_officers import officer, tip_id

T = TypeVar("T")
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the desk's SQL is the same on PostgreSQL and is tested there in
    tests/test_desk.py; here the browser is what is tested."""
    return f"sqlite+aiosqlite:///{tmp_path / 'tipline.db'}"


class Officer:
    """An officer at the desk in Chromium."""

    def __init__(self, browser: Browser, server: TestServer) -> None:
        self.browser = browser
        self.server = server

    async def _do(self, work: Callable[[], T]) -> T:
        return await asyncio.to_thread(work)

    async def open(self, path: str) -> None:
        """Type an address of the desk."""
        await self._do(lambda: self.browser.driver.get(str(self.server.make_url(path))))

    async def click(self, css: str) -> None:
        """Click what `css` finds (a link or a form's button), and wait for the page it opens."""
        await self._do(lambda: self._click_and_wait(css))

    def _click_and_wait(self, css: str) -> None:
        driver = self.browser.driver
        before = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(By.CSS_SELECTOR, css).click()
        wait = WebDriverWait(driver, 10)
        wait.until(staleness_of(before))
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    async def type(self, css: str, words: str) -> None:
        """Type into the field `css` finds."""
        await self._do(
            lambda: self.browser.driver.find_element(By.CSS_SELECTOR, css).send_keys(words)
        )

    async def choose(self, css: str, value: str) -> None:
        """Pick an option of the list `css` finds."""
        element = await self.find(css)
        await self._do(lambda: Select(element).select_by_value(value))

    async def keys(self, words: str) -> None:
        """Press keys on the page (not in a field); the last may open another page."""
        body = await self.find("body")
        await self._do(lambda: body.send_keys(words))
        await self._do(
            lambda: WebDriverWait(self.browser.driver, 10).until(
                lambda d: d.execute_script("return document.readyState") == "complete"
            )
        )

    async def find(self, css: str) -> WebElement:
        """The element `css` finds."""
        return await self._do(lambda: self.browser.driver.find_element(By.CSS_SELECTOR, css))

    async def found(self, css: str) -> list[WebElement]:
        """Every element `css` finds."""
        return await self._do(lambda: self.browser.driver.find_elements(By.CSS_SELECTOR, css))

    async def text(self, css: str = "body") -> str:
        """What a person reads in the element `css` finds (the whole page by default)."""
        element = await self.find(css)
        return await self._do(lambda: element.text)

    async def shows(self, key: str, /, **values: Any) -> bool:
        """Whether the page shows the catalogue message `key`: in the officer's Vietnamese, or
        before signing in, in this Chromium's language (English: it is started with en-US)."""
        page = await self.text()
        return says(page, key, **values) or says(page, key, lang="en", **values)

    async def script(self, source: str) -> Any:
        """What a script run in the page returns (the test's, not the page's)."""
        return await self._do(lambda: self.browser.driver.execute_script(source))

    async def screenshot(self, path: Path) -> None:
        """Save what the screen shows."""
        await self._do(lambda: self.browser.screenshot(path))

    async def texts(self, css: str) -> list[str]:
        """What a person reads in each element `css` finds."""
        return list(
            await self.script(
                f"return [...document.querySelectorAll({css!r})].map(e => e.innerText)"
            )
        )

    async def sign_in(self, person: Person) -> None:
        """Open the link the bot gave for /desk, and press the sign-in button."""
        await self.open(await link_for(person))
        await self.click("#sign-in")
        assert await self.shows("desk.queue.count"), await self.text()


async def link_for(person: Person) -> str:
    """The path of the one-time link an officer gets from the bot with /desk."""
    await person.send("/desk")
    link = filled(person.said(), "desk.link")["link"]
    return "/desk/" + link.split("/desk/", 1)[1]


@pytest.fixture
async def desk(runtime: Runtime) -> AsyncIterator[TestServer]:
    """The desk on a local server in the test's event loop."""
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    mount_desk(app, runtime, public_url="http://127.0.0.1")
    await server.start_server()
    runtime.desk_url = str(server.make_url("")).rstrip("/")
    yield server
    await server.close()


@pytest.fixture
def at_desk(browser: Browser, desk: TestServer) -> Officer:
    """Chromium pointed at the desk, signed in as nobody yet."""
    return Officer(browser, desk)


async def test_an_officer_triages_from_the_link_to_the_next_tip(
    runtime: Runtime, at_desk: Officer, clock: FakeClock
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    first, _ = await file_tip(resident, area="an thuy", story="Trộm xe máy ở chợ An Thủy")
    urgent, _ = await file_tip(
        resident, area="an thuy", story="Đánh nhau trước quán, có dao", urgent=True, contact=True
    )
    an = await officer(runtime, "An", "an-thuy")
    await at_desk.sign_in(an)
    # The search box, accents left out, narrows the list; the address keeps it.
    await at_desk.type("#filters input[name=q]", "danh nhau truoc quan")
    await at_desk.click("#filter-go")
    assert await at_desk.texts("#queue .row .code") == [urgent]
    assert "q=danh+nhau+truoc+quan" in await at_desk._do(lambda: at_desk.browser.driver.current_url)
    await at_desk.open("/desk/")
    # Urgent first; j moves to it, o opens it.
    assert await at_desk.texts("#queue .row .code") == [urgent, first]
    await at_desk.keys("jo")
    assert urgent in await at_desk.text("h1")
    # A status the tipster would hear of: asked first, then done, then undone within 30 s.
    tip = await tip_id(runtime, urgent)
    await at_desk.choose("#status-choice", "verifying")
    await at_desk.click("#set-status button")
    assert await at_desk.shows("desk.confirm_status", code=urgent)
    await at_desk.click("#confirm-yes")
    assert await at_desk.shows("status.changed", code=urgent)
    assert await at_desk.text("#status") == "Đang xác minh"
    await at_desk.click("#undo button")
    assert await at_desk.shows("desk.undone", code=urgent)
    assert await at_desk.text("#status") == "Đã tiếp nhận"
    # Ask the tipster; their answer arrives on the page.
    await at_desk.type("#ask textarea", "Có ai bị thương không?")
    await at_desk.click("#ask button")
    await at_desk.click("#confirm-yes")
    assert await at_desk.shows("question.relayed", code=urgent)
    async with runtime.db.transaction() as db:
        question = await db.scalar(select(ThreadMessage.id).where(ThreadMessage.tip_id == tip))
    assert question is not None
    await resident.choose(AnswerQuestion(question).pack())
    await resident.send("Một người bị thương ở tay")
    await at_desk.open(f"/desk/tip/{tip}")
    assert "Một người bị thương ở tay" in await at_desk.text("#thread")
    # Link it as a duplicate of the other tip; then the next tip is that one.
    await at_desk.type("#duplicate input[name=original]", first)
    await at_desk.click("#duplicate button")
    await at_desk.click("#confirm-yes")
    assert await at_desk.shows("duplicate.done", code=urgent, original=first)
    await at_desk.click("#next")
    assert first in await at_desk.text("h1")
    clock.advance(seconds=31)
    async with runtime.db.transaction() as db:
        status = await db.scalar(select(Tip.status).where(Tip.id == tip))
    assert status is TipStatus.CLOSED_DUPLICATE


async def test_an_officer_closes_ticked_tips_at_once_and_takes_it_back(
    runtime: Runtime, at_desk: Officer
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    for story in ("Cho vay tiền nhanh, gọi ngay", "Cá độ bóng đá, vào link", "Trộm gà đêm qua"):
        await file_tip(resident, area="an thuy", story=story)
    await at_desk.sign_in(await officer(runtime, "An", "an-thuy"))
    boxes = await at_desk.found("#queue .row input[type=checkbox]")
    for box in boxes[:2]:
        await at_desk._do(box.click)
    await at_desk.choose("#bulk-choice", "closed_spam")
    await at_desk.type("#bulk input[name=note]", "Quảng cáo")
    await at_desk.click("#bulk-go")
    assert await at_desk.shows("desk.bulk.closed", count="2")
    assert await at_desk.texts("#queue .excerpt") == ["Trộm gà đêm qua"]
    await at_desk.click("#undo button")
    assert await at_desk.shows("desk.bulk.undone", count="2")
    assert len(await at_desk.texts("#queue .excerpt")) == 3


async def test_what_must_never_work_does_not(
    runtime: Runtime, at_desk: Officer, desk: TestServer, clock: FakeClock
) -> None:
    resident = Person(runtime, user="r1", chat="r1")
    theirs, _ = await file_tip(resident, area="cam thuy", story="Chuyện ở Cam Thủy")
    hostile = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'
    mine, _ = await file_tip(resident, area="an thuy", story=hostile)
    an = await officer(runtime, "An", "an-thuy")
    spent = await link_for(an)
    await at_desk.open(spent)
    await at_desk.click("#sign-in")
    # A spent link, and a link older than ten minutes: refused.
    await at_desk.open(spent)
    await at_desk.click("#sign-in")
    assert await at_desk.shows("desk.link_refused")
    stale = await link_for(an)
    clock.advance(minutes=11)
    await at_desk.open(stale)
    await at_desk.click("#sign-in")
    assert await at_desk.shows("desk.link_refused")
    # Another commune's tip by its address: as if there were none.
    await at_desk.open(f"/desk/tip/{await tip_id(runtime, theirs)}")
    assert await at_desk.shows("desk.no_tip") and "Cam Thủy" not in await at_desk.text()
    # A script in a tip is text on the page, and runs nowhere.
    await at_desk.open(f"/desk/tip/{await tip_id(runtime, mine)}")
    assert await at_desk.text("#story") == hostile
    assert await at_desk.script("return document.title") != "pwned"
    assert await at_desk.script("return document.images.length") == 0
    # A form posted from another page (another port of this computer: the same site, so the
    # cookie goes with it) lacks the form token: refused, nothing changed.
    tip = await tip_id(runtime, mine)
    attacker = web.Application()
    target = desk.make_url(f"/desk/tip/{tip}")

    async def trap(_: web.Request) -> web.Response:
        form = (
            f'<form id="f" method="post" action="{target}">'
            '<input name="action" value="status"><input name="status" value="handled">'
            '<button id="go">go</button></form>'
        )
        return web.Response(text=form, content_type="text/html")

    attacker.router.add_get("/", trap)
    trap_server = TestServer(attacker, host="127.0.0.1")
    await trap_server.start_server()
    try:
        await at_desk._do(lambda: at_desk.browser.driver.get(str(trap_server.make_url("/"))))
        await at_desk.click("#go")
        assert await at_desk.shows("desk.stale_form")
    finally:
        await trap_server.close()
    await at_desk.open(f"/desk/tip/{tip}")
    assert await at_desk.text("#status") == "Đã tiếp nhận"


async def test_the_desk_fits_a_phone_and_a_desktop(
    runtime: Runtime, at_desk: Officer, clock: FakeClock, tmp_path: Path
) -> None:
    """At 390 px nothing runs off the side and every action is reachable; at both widths the
    screens are saved (into docs/ with TIPLINE_SCREENSHOTS=docs, for the README)."""
    shots = DOCS if os.environ.get("TIPLINE_SCREENSHOTS") == "docs" else tmp_path
    resident = Person(runtime, user="r1", chat="r1")
    stories = [
        ("an thuy", "Có nhóm thanh niên tụ tập đua xe trên đường liên thôn sau 22 giờ", False),
        ("an thuy", "Đánh nhau trước quán karaoke, có người cầm dao", True),
        ("an thuy", "Nghi có người bán ma túy gần trường học, thường lúc tan trường", False),
    ]
    for area, story, urgent in stories:
        await file_tip(resident, area=area, story=story, urgent=urgent, contact=True)
        clock.advance(hours=5)
    await at_desk.sign_in(await officer(runtime, "Nguyễn Văn An", "an-thuy"))
    for width, name in ((None, "desktop"), (390, "phone")):
        if width is not None:
            await asyncio.to_thread(at_desk.browser.phone)
            await at_desk.open("/desk/")
        await at_desk.screenshot(shots / f"desk-queue-{name}.png")
        await at_desk.click("#queue .row a.open")
        await at_desk.screenshot(shots / f"desk-tip-{name}.png")
        if width is not None:
            assert await at_desk.script("return document.documentElement.scrollWidth") <= width
            edges = await at_desk.script(
                "return [...document.querySelectorAll('.actions form')]"
                ".map(f => [f.getBoundingClientRect().left, f.getBoundingClientRect().right])"
            )
            assert edges and all(left >= 0 and right <= width for left, right in edges)


async def test_a_photo_from_telegram_shows_on_the_tip_page(
    runtime: Runtime, browser: Browser
) -> None:
    """Fetched by the server from the (fake) Bot API, drawn by Chromium under the desk's CSP."""
    async with FakeTelegramAPI() as api, desk_on(runtime, api) as server:
        api.keep_file("AgACphoto", tiny_png(), "photos/file_1.jpg")
        resident = Person(runtime, user="r1", chat="r1", channel="telegram")
        code = await file_with(resident, Media(MediaKind.PHOTO, "AgACphoto"))
        at_desk = Officer(browser, server)
        await at_desk.sign_in(await officer(runtime, "An", "an-thuy"))
        await at_desk.open(f"/desk/tip/{await tip_id(runtime, code)}")
        picture = "document.querySelector('#files img')"
        await at_desk._do(
            lambda: WebDriverWait(browser.driver, 10).until(
                lambda d: d.execute_script(f"return {picture}.complete")
            )
        )
        assert await at_desk.script(f"return {picture}.naturalWidth") == 2
        assert api.token not in await at_desk.script("return document.documentElement.outerHTML")


async def test_the_overview_fits_a_phone_with_its_chart_and_map(
    runtime: Runtime, at_desk: Officer, clock: FakeClock, tmp_path: Path
) -> None:
    """At 390 px the overview's page does not scroll sideways (its wide tables scroll inside
    their own box), and the chart and the map are drawn, scaled to the screen; both widths are
    saved as the queue's are."""
    shots = DOCS if os.environ.get("TIPLINE_SCREENSHOTS") == "docs" else tmp_path
    runtime.catalog = catalog_from(tmp_path, province_map())
    await plant(runtime, clock)
    await at_desk.sign_in(await officer(runtime, "Trần Văn Bình", "cum-bac"))
    await at_desk.click("a[href='/desk/overview']")
    assert await at_desk.shows("desk.overview.counts")
    await at_desk.screenshot(shots / "desk-overview-desktop.png")
    await asyncio.to_thread(at_desk.browser.phone)
    await at_desk.open("/desk/overview")
    assert await at_desk.script("return document.documentElement.scrollWidth") <= 390
    boxes = await at_desk.script(
        "return ['svg.chart', 'svg.map', '#counts .scroll', '#response .scroll'].map(css => {"
        " const box = document.querySelector(css).getBoundingClientRect();"
        " return [box.left, box.right, box.height]; })"
    )
    assert all(left >= 0 and right <= 390 and height > 50 for left, right, height in boxes)
    # A part of a bar per category and day: 19/11 drugs; 20/11 drugs, theft; 21/11 drugs; ...
    assert len(await at_desk.found("svg.chart g.bar rect")) == 7
    counts = "return [...document.querySelectorAll('.map .cluster text')].map(e => e.textContent)"
    assert await at_desk.script(counts) == ["3"]
    await at_desk.screenshot(shots / "desk-overview-phone.png")
