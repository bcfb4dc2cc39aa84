"""The aiohttp transport under python-telegram-bot: uploads arrive whole, slow answers time out."""

from __future__ import annotations

import json

import pytest
from telegram import Bot, InputFile
from telegram.error import Forbidden, NetworkError, TimedOut

from bot.channels.aiohttp_request import AiohttpRequest, JsonFields
from tests.fake_telegram import FakeTelegramAPI, Upload


async def test_an_upload_arrives_byte_for_byte() -> None:
    content = bytes(range(256)) * 400  # 100 kB, every byte value
    async with FakeTelegramAPI() as api:
        bot = Bot(api.token, base_url=f"{api.root}/bot", request=AiohttpRequest())
        async with bot:
            await bot.send_document(4242, InputFile(content, filename="tips.xlsx"), caption="x")
    (call,) = api.calls_to("sendDocument")
    upload = call.params["document"]
    assert isinstance(upload, Upload) and upload.data == content
    assert upload.filename == "tips.xlsx" and call.params["caption"] == "x"


async def test_a_slow_answer_times_out_and_a_dead_server_is_a_network_error() -> None:
    async with FakeTelegramAPI(latency=1.0) as api:
        request = AiohttpRequest(read_timeout=0.2)
        bot = Bot(api.token, base_url=f"{api.root}/bot", request=request)
        await request.initialize()
        with pytest.raises(TimedOut):
            await bot.send_message(4242, "hello")
        root = api.root
        await request.shutdown()
    request = AiohttpRequest(connect_timeout=1)
    await request.initialize()
    with pytest.raises(NetworkError):
        await Bot("1:x", base_url=f"{root}/bot", request=request).send_message(1, "hi")
    await request.shutdown()


async def test_json_fields_arrive_as_sent_and_refusals_are_telegram_errors() -> None:
    keyboard = {"inline_keyboard": [[{"text": "Có ✅", "callback_data": "yes"}]]}
    fields = {"chat_id": 4242, "text": "Xin chào", "reply_markup": keyboard}
    async with FakeTelegramAPI() as api:
        request = AiohttpRequest()
        await request.initialize()
        url = f"{api.root}/bot{api.token}/sendMessage"
        message = await request.post(url, request_data=JsonFields(fields))
        (call,) = api.calls_to("sendMessage")
        assert call.params == fields and isinstance(message, dict)
        api.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked")
        with pytest.raises(Forbidden, match="blocked"):
            await request.post(url, request_data=JsonFields(fields))
        await request.shutdown()


def test_json_fields_read_as_form_fields_by_any_other_request() -> None:
    keyboard = {"inline_keyboard": [[{"text": "Có", "callback_data": "yes"}]]}
    data = JsonFields({"chat_id": 4242, "text": "Xin chào", "reply_markup": keyboard})
    assert data.json_parameters == {
        "chat_id": "4242",
        "text": "Xin chào",
        "reply_markup": json.dumps(keyboard),
    }
    assert data.parameters["reply_markup"] == keyboard and not data.contains_files
