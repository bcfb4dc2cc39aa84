"""The Zalo Official Account seam against a fake OA server: signatures, events, rotating tokens."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.channels.zalo_oa import TokenFile, ZaloOAChannel, ZaloOAClient, signature_ok
from bot.runtime import Runtime
from handlers.common.types import Kind
from tests.e2e.conftest import free_port, quick_answers
from tests.fake_zalo_oa import APP_ID, SECRET_KEY, FakeZaloOA, oa_event, post_event, signed

USER = "8877665544332211"


@pytest.fixture
def token_file(tmp_path: Path) -> TokenFile:
    tokens = TokenFile(tmp_path / "zalo-oa-tokens.json")
    tokens.save("access-1", "refresh-1")
    return tokens


@pytest.fixture
async def oa(token_file: TokenFile) -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA(lambda: token_file.path.read_text("utf-8")) as fake:
        yield fake


@pytest.fixture
async def webhook(
    runtime: Runtime, oa: FakeZaloOA, token_file: TokenFile
) -> AsyncIterator[tuple[ZaloOAChannel, str]]:
    client = ZaloOAClient(APP_ID, SECRET_KEY, token_file, api_root=oa.root, oauth_root=oa.root)
    channel = ZaloOAChannel(runtime, client, answers=quick_answers(runtime))
    await channel.start()
    app = web.Application()
    channel.add_webhook(app, "/zalo-oa")
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield channel, f"http://127.0.0.1:{port}/zalo-oa"
    await runner.cleanup()
    await channel.stop()


async def texts_to(oa: FakeZaloOA, user: str, count: int) -> list[str]:
    for _ in range(200):
        sent = [text for to, text in oa.state.sent if to == user]
        if len(sent) >= count:
            return sent
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} texts to {user}: {oa.state.sent}")


def test_the_signature_is_sha256_of_app_id_body_timestamp_and_secret() -> None:
    body, signature = signed(oa_event("user_send_text", USER, {"msg_id": "1", "text": "hi"}))
    assert signature_ok(body, signature, secret=SECRET_KEY)
    assert not signature_ok(body, signature, secret=SECRET_KEY + "x")
    assert not signature_ok(body + b" ", signature, secret=SECRET_KEY)
    assert not signature_ok(body, "mac=" + "0" * 64, secret=SECRET_KEY)
    assert not signature_ok(b"not json", signature, secret=SECRET_KEY)


async def test_signed_events_are_answered_and_forged_ones_refused(
    webhook: tuple[ZaloOAChannel, str], oa: FakeZaloOA
) -> None:
    _, url = webhook
    body, signature = signed(oa_event("follow", USER))
    assert await post_event(url, body, None) == 403
    assert await post_event(url, body, signature.replace("a", "b", 1) + "0") == 403
    assert await post_event(url, body, signature) == 200
    (greeting,) = await texts_to(oa, USER, 1)
    assert "113" in greeting and "1. " in greeting
    menu = oa_event("user_send_text", USER, {"msg_id": "m1", "text": "gui tin bao"})
    assert await post_event(url, *signed(menu)) == 200
    categories = (await texts_to(oa, USER, 2))[-1]
    assert "Ma túy" in categories  # "gui tin bao" picked the menu's "📝 Gửi tin báo"


async def test_receipts_are_never_answered(
    webhook: tuple[ZaloOAChannel, str], oa: FakeZaloOA
) -> None:
    _, url = webhook
    for name in ("user_received_message", "user_seen_message", "unfollow"):
        assert await post_event(url, *signed(oa_event(name, USER, {"msg_id": "r"}))) == 200
    await asyncio.sleep(0.3)
    assert oa.state.sent == []


def test_text_location_and_image_events_become_incoming(
    webhook: tuple[ZaloOAChannel, str],
) -> None:
    channel, _ = webhook
    pin = {"msg_id": "p", "attachments": [{"type": "location", "payload": {
        "coordinates": {"latitude": "17.2", "longitude": "106.8"}}}]}  # fmt: skip
    image = {"msg_id": "i", "text": "xe lạ", "attachments": [{"type": "image", "payload": {
        "url": "https://photo.zalo.example/abc.jpg"}}]}  # fmt: skip
    located = channel.to_incoming(oa_event("user_send_location", USER, pin))
    pictured = channel.to_incoming(oa_event("user_send_image", USER, image))
    assert located is not None and located.kind is Kind.LOCATION and located.location
    assert (located.location.latitude, located.location.longitude) == (17.2, 106.8)
    assert pictured is not None and pictured.kind is Kind.MEDIA and pictured.caption == "xe lạ"
    assert pictured.media[0].ref == "https://photo.zalo.example/abc.jpg"
    assert USER not in located.sender and USER not in located.dedupe_key


async def test_an_expired_token_is_refreshed_and_saved_before_it_is_used(
    webhook: tuple[ZaloOAChannel, str], oa: FakeZaloOA, token_file: TokenFile
) -> None:
    _, url = webhook
    oa.expire_access()
    assert await post_event(url, *signed(oa_event("follow", USER))) == 200
    await texts_to(oa, USER, 1)
    assert oa.state.refreshes == 1
    assert token_file.load() == ("access-2", "refresh-2")
    saved_then = json.loads(oa.state.file_at_first_use["access-2"])
    assert saved_then["refresh_token"] == "refresh-2"  # persisted before the token was used
    assert oct(token_file.path.stat().st_mode & 0o777) == "0o600"
    oa.expire_access()
    again = oa_event("user_send_text", USER, {"msg_id": "m2", "text": "/help"})
    assert await post_event(url, *signed(again)) == 200
    await texts_to(oa, USER, 2)
    assert oa.state.refreshes == 2 and token_file.load()[1] == "refresh-3"
