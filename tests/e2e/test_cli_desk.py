"""The web desk as a deployment serves it: on the webhook's own server, on TIPLINE_DESK_LISTEN
beside `tipline run`, with links made by `tipline desk-link`, in real processes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from aiohttp import ClientSession, CookieJar

from tests.e2e.conftest import free_port, spawn_bot
from tests.e2e.test_cli import SECRET, clean_env, stop_bot, tipline
from tests.fake_telegram import FakeTelegramAPI


async def _page(session: ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


async def _until_serving(url: str) -> None:
    """Wait for the server to answer (it starts after the migrations)."""
    async with ClientSession() as session:
        for _ in range(600):
            try:
                await _page(session, url)
                return
            except OSError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


async def test_desk_link_needs_to_know_where_the_desk_is(tmp_path: Path) -> None:
    await tipline(tmp_path, "officer", "invite", "--name", "An", "--scope", "an-thuy")
    code, out, err = await tipline(tmp_path, "desk-link", "--officer", "1")
    assert (code, out) == (2, "") and "TIPLINE_DESK_URL" in err and err.count("\n") == 1
    env = clean_env(tmp_path, TIPLINE_DESK_URL="https://tips.example.org")
    code, out, err = await tipline(tmp_path, "desk-link", "--officer", "7", env=env)
    assert code == 2 and "no active officer 7" in err


async def test_the_webhook_serves_the_desk_and_a_revoked_officer_is_signed_out(
    tmp_path: Path,
) -> None:
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    await tipline(tmp_path, "officer", "invite", "--name", "An", "--scope", "an-thuy")
    async with FakeTelegramAPI() as api:
        env = clean_env(
            tmp_path, TIPLINE_TELEGRAM_TOKEN=api.token, TIPLINE_TELEGRAM_API_URL=api.root
        )
        process = await spawn_bot(
            "webhook", "--listen", f"127.0.0.1:{port}", "--url", f"{root}/tg", cwd=tmp_path,
            env=env,
        )  # fmt: skip
        await _until_serving(f"{root}/desk/")
        desk_env = clean_env(tmp_path, TIPLINE_DESK_URL=root)
        code, out, err = await tipline(tmp_path, "desk-link", "--officer", "1", env=desk_env)
        assert code == 0, err
        link = re.search(r"(http://\S+/desk/in/([0-9a-f]{64}))", out)
        assert link is not None
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
            status, page = await _page(browser, link.group(1))
            assert status == 200 and 'id="sign-in"' in page
            async with browser.post(f"{root}/desk/in", data={"token": link.group(2)}) as done:
                assert done.status == 200 and 'action="/desk/out"' in await done.text()
            code, _, err = await tipline(tmp_path, "officer", "revoke", "1", env=desk_env)
            assert code == 0, err
            status, _ = await _page(browser, f"{root}/desk/")
            assert status == 401
        await stop_bot(process)
    assert SECRET not in out


async def test_run_serves_the_desk_where_told(tmp_path: Path) -> None:
    port = free_port()
    async with FakeTelegramAPI() as api:
        env = clean_env(
            tmp_path,
            TIPLINE_TELEGRAM_TOKEN=api.token,
            TIPLINE_TELEGRAM_API_URL=api.root,
            TIPLINE_DESK_LISTEN=f"127.0.0.1:{port}",
        )
        process = await spawn_bot("run", cwd=tmp_path, env=env)
        await _until_serving(f"http://127.0.0.1:{port}/desk/")
        async with ClientSession() as browser, browser.get(f"http://127.0.0.1:{port}/desk/") as got:
            assert got.status == 401
            assert "script-src 'self'" in got.headers["Content-Security-Policy"]
        await stop_bot(process)
