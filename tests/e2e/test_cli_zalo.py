"""`tipline run` and `tipline webhook` serving Telegram and Zalo at once, in real processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.channels.zalo_oa import TokenFile
from tests.e2e.conftest import free_port, spawn_bot
from tests.e2e.test_cli import SECRET, clean_env, stop_bot
from tests.fake_telegram import FakeTelegramAPI
from tests.fake_zalo import TOKEN, FakeZaloBotAPI
from tests.fake_zalo_oa import APP_ID, SECRET_KEY, FakeZaloOA, oa_event, post_event, signed


async def start_both(
    tmp_path: Path,
    telegram: FakeTelegramAPI,
    zalo: FakeZaloBotAPI,
    *args: str,
    **settings: str,
) -> asyncio.subprocess.Process:
    env = clean_env(
        tmp_path,
        TIPLINE_TELEGRAM_TOKEN=telegram.token,
        TIPLINE_TELEGRAM_API_URL=telegram.root,
        TIPLINE_ZALO_TOKEN=TOKEN,
        TIPLINE_ZALO_API_URL=zalo.root,
        TIPLINE_SECRET_KEY=SECRET,
        **settings,
    )
    return await spawn_bot(*args, cwd=tmp_path, env=env)


async def test_tipline_run_serves_telegram_and_zalo_together(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as telegram, FakeZaloBotAPI() as zalo:
        process = await start_both(tmp_path, telegram, zalo, "run")
        telegram.push(telegram.text_update(telegram.user(31337, "Tele Person"), "/start"))
        zalo.push(zalo.text_update("8800", "/start"))
        await telegram.wait_calls("sendMessage", chat_id=31337, timeout=60)
        (greeting,) = await zalo.wait_texts("8800", 1, timeout=60)
        logs = await stop_bot(process)
    assert "113" in greeting and "1. " in greeting  # the menu as numbered lines
    assert "update=telegram:" in logs and "update=zalo:" in logs
    assert "8800" not in logs and "31337" not in logs


async def test_tipline_webhook_mounts_zalo_and_the_official_account_beside_telegram(
    tmp_path: Path,
) -> None:
    port = free_port()
    tokens = TokenFile(tmp_path / "oa-tokens.json")
    tokens.save("access-1", "refresh-1")
    async with (
        FakeTelegramAPI() as telegram,
        FakeZaloBotAPI() as zalo,
        FakeZaloOA(lambda: tokens.path.read_text("utf-8")) as oa,
    ):
        url = f"http://127.0.0.1:{port}/tg-hook"
        process = await start_both(
            tmp_path, telegram, zalo, "webhook", "--listen", f"127.0.0.1:{port}", "--url", url,
            TIPLINE_ZALO_OA_APP_ID=APP_ID, TIPLINE_ZALO_OA_SECRET_KEY=SECRET_KEY,
            TIPLINE_ZALO_OA_TOKEN_FILE=str(tokens.path), TIPLINE_ZALO_OA_API_URL=oa.root,
        )  # fmt: skip
        await telegram.wait_calls("setWebhook", timeout=60)
        for _ in range(600):
            if zalo.webhook:
                break
            await asyncio.sleep(0.05)
        assert zalo.webhook["url"] == f"http://127.0.0.1:{port}/zalo"
        secret = str(zalo.webhook["secret_token"])
        assert len(secret) >= 32 and SECRET not in secret
        update = zalo.text_update("8900", "/help")
        hook = zalo.webhook["url"]
        assert await zalo.post_webhook(hook, update, None) == 403
        assert await zalo.post_webhook(hook, update, secret[:-1]) == 403
        assert await zalo.post_webhook(hook, update, secret) == 200
        (answer,) = await zalo.wait_texts("8900", 1)  # delivered after the commit
        assert "/status" in answer
        oa_hook = f"http://127.0.0.1:{port}/zalo-oa"
        body, signature = signed(oa_event("follow", "7766"))
        assert await post_event(oa_hook, body, None) == 403
        assert await post_event(oa_hook, body, signature) == 200
        for _ in range(200):
            if oa.state.sent:
                break
            await asyncio.sleep(0.05)
        await stop_bot(process)
    assert oa.state.sent and oa.state.sent[0][0] == "7766" and "113" in oa.state.sent[0][1]
